#pragma once
// SeatRegistry: streamer seats under the licence (CONTRACT §5).
//
//   check-in of a streamer holding an active seat here → refresh in memory only (no store write; the
//     refreshed lastSeen is written in batches by expire_silent(), every flush interval);
//   check-in of any other streamer → ONE store transaction that counts the active seats and inserts, so two
//     gateways sharing a store cannot oversell; 409 capacity_reached when `maxStreamers` are active;
//   a licence that does not allow streaming → 403 license_invalid (unreadable, unparseable, unsigned, unknown
//     key, tampered, not yet valid) or 403 license_expired, for every check-in, refreshes included;
//   a streamer silent for the streamer timeout (45 s = 3 × the 15 s check-in) loses its seat: expire_silent()
//     deletes it, and until then it no longer counts as active nor refreshes in memory;
//   checkout deletes the seat (idempotent).
// Seats live in the store, so a restarted gateway picks them up (open() loads the active ones).
//
// Thread rules: every method may be called from any thread. try_checkin_in_memory() never blocks on the
// store (it takes a short in-memory lock) and is meant for I/O threads; checkin(), checkout(),
// expire_silent() and reload_licence() block (store writes fsync, the licence file is read) and belong on
// runtime::BlockingPool. Lock order: store_mutex_ before seats_mutex_; no lock is held across a callback.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "licence/licence_file.hpp"
#include "observability/metrics.hpp"
#include "store/licence_store.hpp"

namespace webstream::licence {

struct SeatOptions {
  std::string licence_file;             // license.file, absolute; "" = evaluation licence
  Millis streamer_timeout_ms = 45'000;  // license.streamerTimeout: silence that frees a seat
  Millis flush_interval_ms = 2'000;     // how often the sweeper writes refreshes and expires seats
};

struct CheckinAnswer {
  std::int64_t active = 0;  // activeStreamers
  std::int64_t max = 0;     // maxStreamers
};

struct SweepOutcome {
  std::int64_t flushed = 0;  // refreshed seats written
  std::int64_t expired = 0;  // seats deleted from the store for silence
  std::int64_t lost = 0;     // seats this gateway refreshed whose row another gateway had expired, not retaken
  std::int64_t active = 0;
};

class SeatRegistry {
 public:
  // Checks the licence file (logging the outcome) and loads the active seats from the store.
  static Result<std::unique_ptr<SeatRegistry>> open(store::LicenceStore& store, const Clock& clock, SeatOptions options,
                                                    const KeyRing& keys = KeyRing::built_in());
  SeatRegistry(const SeatRegistry&) = delete;
  SeatRegistry& operator=(const SeatRegistry&) = delete;

  // Answers without the store when it can: the licence refuses (403), or `guid` holds an active seat here
  // (refresh, 200). nullopt: a store transaction is needed — call checkin() off the I/O thread.
  // `guid` must be canonical (canonical_guid()).
  std::optional<Result<CheckinAnswer>> try_checkin_in_memory(const std::string& guid);

  // The whole check-in (200 answer, 403, 409 capacity_reached, 500 on a store failure). Blocks.
  Result<CheckinAnswer> checkin(const std::string& guid);

  // Many check-ins at once (group commit): those that need a seat share ONE store transaction, each still
  // counted against maxStreamers in turn. One answer per guid, in order. Blocks. ClaimBatcher feeds it.
  std::vector<Result<CheckinAnswer>> checkin_many(const std::vector<std::string>& guids);

  // Frees the seat of `guid` if it has one; returns the active seats after. Idempotent. Blocks.
  Result<std::int64_t> checkout(const std::string& guid);

  // Writes batched refreshes, deletes seats silent for the streamer timeout, updates the gauges. Blocks.
  // The sweeper calls it every flush interval; call it once more at shutdown so refreshes are not lost.
  Result<SweepOutcome> expire_silent();

  // SIGHUP: checks the licence file again (a new path when given) and logs the outcome. Seats already taken
  // stay; a smaller maxStreamers only refuses new streamers until enough have left. Blocks (reads a file).
  LicenceCheck reload_licence();
  LicenceCheck reload_licence(std::string path);

  // The licence as last loaded (its state at load time; check-ins evaluate the dates again).
  std::shared_ptr<const LicenceCheck> licence() const { return licence_.load(); }
  std::int64_t active_count() const { return active_.load(std::memory_order_relaxed); }
  // The licence's maxStreamers, 0 when no licence could be verified.
  std::int64_t max_streamers() const;
  Millis streamer_timeout_ms() const { return options_.streamer_timeout_ms; }
  Millis flush_interval_ms() const { return options_.flush_interval_ms; }
  // Seats held in this gateway's memory (tests, diagnostics).
  std::size_t seats_in_memory() const;

 private:
  struct Seat {
    Millis last_seen = 0;
    bool dirty = false;  // refreshed since the last flush
  };

  SeatRegistry(store::LicenceStore& store, const Clock& clock, SeatOptions options, const KeyRing& keys);
  LicenceCheck load_licence(const std::string& path);
  LicenceCheck reload_unlocked();  // REQUIRES(reload_mutex_)
  // 403 when the licence does not allow streaming at `now`.
  std::optional<Error> refusal(Millis now) const;
  // The oldest lastSeen of an active seat at `now`: a streamer silent for the whole timeout is out.
  Millis stale_before(Millis now) const { return now - options_.streamer_timeout_ms + 1; }
  void publish_gauges(Millis now);

  store::LicenceStore& store_;
  const Clock& clock_;
  SeatOptions options_;
  const KeyRing& keys_;
  std::mutex reload_mutex_;
  std::string licence_path_;  // GUARDED_BY(reload_mutex_) after open()
  std::atomic<std::shared_ptr<const LicenceCheck>> licence_;
  std::atomic<std::int64_t> active_{0};
  std::atomic<LicenceState> time_state_{LicenceState::kInvalid};  // last state logged (expiry while running)

  std::mutex store_mutex_;  // serialises this registry's store calls, so active_ follows commit order
  mutable std::mutex seats_mutex_;
  std::unordered_map<std::string, Seat> seats_;  // GUARDED_BY(seats_mutex_)

  metrics::Gauge& active_gauge_;
  metrics::Gauge& max_gauge_;
  metrics::Counter& store_claims_;
  metrics::Counter& store_flushes_;
  metrics::Counter& store_rows_flushed_;
  metrics::Counter& expired_seats_;
};

// "{ABCDEF01-…}" / "ABCDEF01-…" → "abcdef01-…" (so one streamer is one seat however it spells its GUID);
// nullopt when `text` is not a GUID (core/ids is_uuid).
std::optional<std::string> canonical_guid(std::string_view text);

}  // namespace webstream::licence
