#include "licence/seat_registry.hpp"

#include <cctype>

#include "core/ids.hpp"
#include "licence/licence_time.hpp"
#include "observability/log.hpp"

namespace webstream::licence {

namespace {

metrics::Registry& reg() { return metrics::Registry::global(); }

void log_licence(const LicenceCheck& c) {
  if (c.state == LicenceState::kInvalid) {
    log::error("licence invalid: every streamer check-in answers 403 license_invalid",
               {{"path", c.path}, {"reason", to_string(c.reason)}, {"detail", c.detail}});
    return;
  }
  const Licence& l = *c.licence;
  if (l.evaluation) {
    if (c.missing_file) {
      log::warn("licence file not found: running on the evaluation licence",
                {{"path", c.path}, {"maxStreamers", static_cast<long long>(l.max_streamers)}});
    } else {
      log::info("no licence file configured: running on the evaluation licence",
                {{"maxStreamers", static_cast<long long>(l.max_streamers)}});
    }
    return;
  }
  const std::string expires = format_utc_timestamp(l.expires_at);
  const std::string not_before = format_utc_timestamp(l.not_before);
  if (c.state == LicenceState::kExpired) {
    log::error("licence expired: every streamer check-in answers 403 license_expired",
               {{"path", c.path}, {"id", l.id}, {"licensee", l.licensee}, {"expiresAt", expires}});
  } else if (c.state == LicenceState::kNotYetValid) {
    log::error("licence not valid yet: every streamer check-in answers 403 license_invalid until notBefore",
               {{"path", c.path}, {"id", l.id}, {"licensee", l.licensee}, {"notBefore", not_before}});
  } else {
    log::info("licence loaded", {{"path", c.path},
                                 {"id", l.id},
                                 {"licensee", l.licensee},
                                 {"maxStreamers", static_cast<long long>(l.max_streamers)},
                                 {"notBefore", not_before},
                                 {"expiresAt", expires},
                                 {"keyId", l.key_id}});
  }
  if (l.development_key) {
    log::warn("the licence is signed with the DEVELOPMENT key: for tests and demos only", {{"keyId", l.key_id}});
  }
}

}  // namespace

std::optional<std::string> canonical_guid(std::string_view text) {
  if (!is_uuid(text)) return std::nullopt;
  if (text.size() == 38) text = text.substr(1, 36);
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

SeatRegistry::SeatRegistry(store::LicenceStore& store, const Clock& clock, SeatOptions options, const KeyRing& keys)
    : store_(store), clock_(clock), options_(std::move(options)), keys_(keys), licence_path_(options_.licence_file),
      active_gauge_(reg().gauge("webstream_active_streamers", "Streamers holding a licence seat")),
      max_gauge_(reg().gauge("webstream_max_streamers",
                             "Streamer seats the licence allows now (0 while it does not allow streaming)")),
      store_claims_(reg().counter("webstream_licence_store_transactions_total", "Licence store transactions by kind",
                                  {{"kind", "claim"}})),
      store_flushes_(reg().counter("webstream_licence_store_transactions_total", "Licence store transactions by kind",
                                   {{"kind", "flush"}})),
      store_rows_flushed_(reg().counter("webstream_licence_seat_refreshes_written_total",
                                        "Seat refreshes written to the store in batches")),
      expired_seats_(reg().counter("webstream_licence_seats_expired_total",
                                   "Seats freed because their streamer was silent past the timeout")) {}

Result<std::unique_ptr<SeatRegistry>> SeatRegistry::open(store::LicenceStore& store, const Clock& clock,
                                                         SeatOptions options, const KeyRing& keys) {
  std::unique_ptr<SeatRegistry> r(new SeatRegistry(store, clock, std::move(options), keys));
  LicenceCheck first = r->load_licence(r->licence_path_);
  r->time_state_.store(first.state);  // load_licence logged this state
  r->licence_.store(std::make_shared<const LicenceCheck>(std::move(first)));
  const Millis now = clock.now_ms();
  auto seats = store.active_seats(r->stale_before(now));
  if (!seats) return seats.error();
  for (auto& s : seats.value()) r->seats_[s.guid] = Seat{.last_seen = s.last_seen, .dirty = false};
  r->active_.store(static_cast<std::int64_t>(seats->size()));
  if (!seats->empty()) {
    log::info("licence seats restored from the store", {{"activeStreamers", static_cast<long long>(seats->size())}});
  }
  r->publish_gauges(now);
  return r;
}

LicenceCheck SeatRegistry::load_licence(const std::string& path) {
  LicenceCheck c = check_licence_file(path, keys_, clock_.now_ms());
  log_licence(c);
  return c;
}

LicenceCheck SeatRegistry::reload_licence() {
  std::lock_guard lock(reload_mutex_);
  return reload_unlocked();
}

LicenceCheck SeatRegistry::reload_licence(std::string path) {
  std::lock_guard lock(reload_mutex_);
  licence_path_ = std::move(path);
  return reload_unlocked();
}

LicenceCheck SeatRegistry::reload_unlocked() {
  LicenceCheck c = load_licence(licence_path_);
  time_state_.store(c.state);  // load_licence logged this state
  licence_.store(std::make_shared<const LicenceCheck>(c));
  publish_gauges(clock_.now_ms());
  return c;
}

std::int64_t SeatRegistry::max_streamers() const {
  auto c = licence_.load();
  return c->licence ? c->licence->max_streamers : 0;
}

std::size_t SeatRegistry::seats_in_memory() const {
  std::lock_guard lock(seats_mutex_);
  return seats_.size();
}

std::optional<Error> SeatRegistry::refusal(Millis now) const {
  auto c = licence_.load();
  if (!c->licence) {
    return Error{403, "license_invalid",
                 "the gateway's licence is not valid (" + std::string(to_string(c->reason)) + ")"};
  }
  switch (time_state(*c->licence, now)) {
    case LicenceState::kValid: return std::nullopt;
    case LicenceState::kExpired:
      return Error{403, "license_expired",
                   "the gateway's licence expired at " + format_utc_timestamp(c->licence->expires_at)};
    default:
      return Error{403, "license_invalid",
                   "the gateway's licence is not valid before " + format_utc_timestamp(c->licence->not_before)};
  }
}

std::optional<Result<CheckinAnswer>> SeatRegistry::try_checkin_in_memory(const std::string& guid) {
  const Millis now = clock_.now_ms();
  if (auto refused = refusal(now)) return Result<CheckinAnswer>(std::move(*refused));
  {
    std::lock_guard lock(seats_mutex_);
    auto it = seats_.find(guid);
    if (it == seats_.end() || it->second.last_seen < stale_before(now)) return std::nullopt;
    it->second.last_seen = std::max(it->second.last_seen, now);
    it->second.dirty = true;
  }
  return Result<CheckinAnswer>(CheckinAnswer{active_count(), max_streamers()});
}

Result<CheckinAnswer> SeatRegistry::checkin(const std::string& guid) { return std::move(checkin_many({guid}).front()); }

std::vector<Result<CheckinAnswer>> SeatRegistry::checkin_many(const std::vector<std::string>& guids) {
  std::vector<std::optional<Result<CheckinAnswer>>> answers(guids.size());
  std::vector<std::string> claims;
  std::vector<std::size_t> claim_index;
  for (std::size_t i = 0; i < guids.size(); ++i) {
    answers[i] = try_checkin_in_memory(guids[i]);
    if (!answers[i]) {
      claims.push_back(guids[i]);
      claim_index.push_back(i);
    }
  }
  if (!claims.empty()) {
    std::lock_guard store_lock(store_mutex_);
    const Millis now = clock_.now_ms();
    const std::int64_t max = max_streamers();
    auto claimed = store_.claim_seats(claims, now, stale_before(now), max);
    store_claims_.inc();
    if (!claimed) {
      log::error("licence store: seats could not be claimed", {{"error", claimed.error().message}});
      for (std::size_t i : claim_index) answers[i].emplace(claimed.error());
    } else {
      std::int64_t active = active_count();
      {
        std::lock_guard lock(seats_mutex_);
        for (std::size_t k = 0; k < claims.size(); ++k) {
          const store::SeatClaim& c = claimed.value()[k];
          active = c.active;
          if (c.granted) {
            seats_[claims[k]] = Seat{.last_seen = now, .dirty = false};
            answers[claim_index[k]].emplace(CheckinAnswer{c.active, max});
          } else {
            answers[claim_index[k]].emplace(
                Error{409, "capacity_reached", "all " + std::to_string(max) + " licensed streamer seats are in use"});
          }
        }
      }
      active_.store(active, std::memory_order_relaxed);
      active_gauge_.set(active);
    }
  }
  std::vector<Result<CheckinAnswer>> out;
  out.reserve(guids.size());
  for (auto& a : answers) out.push_back(std::move(*a));
  return out;
}

Result<std::int64_t> SeatRegistry::checkout(const std::string& guid) {
  std::lock_guard store_lock(store_mutex_);
  const Millis now = clock_.now_ms();
  auto released = store_.release_seat(guid, stale_before(now));
  if (!released) {
    log::error("licence store: a seat could not be released", {{"error", released.error().message}});
    return released.error();
  }
  {
    std::lock_guard lock(seats_mutex_);
    seats_.erase(guid);
  }
  active_.store(released.value(), std::memory_order_relaxed);
  active_gauge_.set(released.value());
  return released.value();
}

Result<SweepOutcome> SeatRegistry::expire_silent() {
  std::lock_guard store_lock(store_mutex_);
  const Millis now = clock_.now_ms();
  const Millis cutoff = stale_before(now);
  std::vector<store::SeatTouch> touches;
  {
    std::lock_guard lock(seats_mutex_);
    touches.reserve(seats_.size() / 4 + 1);
    for (auto& [guid, seat] : seats_) {
      if (seat.dirty) {
        touches.push_back(store::SeatTouch{guid, seat.last_seen});
        seat.dirty = false;
      }
    }
  }
  auto flushed = store_.flush_and_expire(touches, cutoff, max_streamers());
  store_flushes_.inc();
  if (!flushed) {
    // Keep the refreshes for the next attempt.
    std::lock_guard lock(seats_mutex_);
    for (const auto& t : touches) {
      if (auto it = seats_.find(t.guid); it != seats_.end()) it->second.dirty = true;
    }
    log::error("licence store: seat refreshes could not be written", {{"error", flushed.error().message}});
    return flushed.error();
  }
  store_rows_flushed_.inc(touches.size());
  expired_seats_.inc(static_cast<std::uint64_t>(flushed->expired));
  SweepOutcome out;
  out.flushed = static_cast<std::int64_t>(touches.size());
  out.expired = flushed->expired;
  out.lost = static_cast<std::int64_t>(flushed->lost.size());
  out.active = flushed->active;
  {
    std::lock_guard lock(seats_mutex_);
    for (const auto& guid : flushed->lost) seats_.erase(guid);
    std::erase_if(seats_, [cutoff](const auto& entry) { return entry.second.last_seen < cutoff; });
  }
  active_.store(flushed->active, std::memory_order_relaxed);
  if (out.expired > 0 || out.lost > 0) {
    log::info("silent streamers dropped", {{"expired", static_cast<long long>(out.expired)},
                                           {"lost", static_cast<long long>(out.lost)},
                                           {"activeStreamers", static_cast<long long>(out.active)}});
  }
  publish_gauges(now);
  return out;
}

void SeatRegistry::publish_gauges(Millis now) {
  active_gauge_.set(active_count());
  max_gauge_.set(refusal(now) ? 0 : max_streamers());
  // A licence that reaches its expiresAt (or notBefore) while the gateway runs: say so once, when it happens.
  auto c = licence_.load();
  const LicenceState state = c->licence ? time_state(*c->licence, now) : LicenceState::kInvalid;
  const LicenceState before = time_state_.exchange(state);
  if (before == state || !c->licence) return;
  if (state == LicenceState::kExpired) {
    log::error(
        "licence expired: every streamer check-in answers 403 license_expired",
        {{"path", c->path}, {"id", c->licence->id}, {"expiresAt", format_utc_timestamp(c->licence->expires_at)}});
  } else if (state == LicenceState::kValid && before == LicenceState::kNotYetValid) {
    log::info("licence now valid (notBefore reached)", {{"path", c->path}, {"id", c->licence->id}});
  }
}

}  // namespace webstream::licence
