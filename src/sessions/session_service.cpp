#include "sessions/session_service.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <boost/json.hpp>
#include <mutex>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "core/time_format.hpp"
#include "observability/log.hpp"

namespace webstream::sessions {

namespace json = boost::json;

namespace {

core::Principal restored_selector(const store::SessionRecord& r) {
  core::Principal p;
  p.user_id = r.user_id;
  p.username = r.username;
  p.org_id = r.org_id;
  p.issued_at = r.created_at / 1000;
  return p;
}

}  // namespace

SessionService::SessionService(const config::SessionsConfig& config, store::SessionStore& store,
                               EntitlementResolver& resolver, BackendRouting& routing, const Clock& clock)
    : config_(config), store_(store), resolver_(resolver), routing_(routing), clock_(clock) {}

Status SessionService::load() {
  // Connect tokens are HMACs under this secret: a missing or short one would make them forgeable, so it
  // is an error, never an empty key.
  auto secret = store_.connect_token_secret();
  if (!secret) return Error::internal("the connect-token secret cannot be read or created: " + secret.error().message);
  if (secret->size() != kConnectTokenSecretBytes) {
    return Error::internal("the connect-token secret in the store is not " + std::to_string(kConnectTokenSecretBytes) +
                           " bytes");
  }
  {
    std::unique_lock lock(mutex_);
    token_secret_ = std::move(secret.value());
  }
  auto sessions = store_.live_sessions();
  if (!sessions) return Error::internal("the live sessions cannot be read: " + sessions.error().message);
  std::unique_lock lock(mutex_);
  for (auto& r : *sessions) restore_locked(std::move(r));
  if (!live_.empty()) log::info("sessions restored from the store", {{"live", live_.size()}});
  return Status::success();
}

std::shared_ptr<LiveSession> SessionService::restore_locked(store::SessionRecord r) {
  auto live = std::make_shared<LiveSession>();
  live->connect_token = make_connect_token(r);
  live->selector = restored_selector(r);
  live->last_activity.store(r.last_activity_at);
  live->active.store(r.state == store::kActive);
  routing_.add_pinned(r.backend_id, 1);
  live->in_memory_since = clock_.now_ms();
  live->record = std::move(r);
  auto& slot = live_[live->record.id];
  slot = std::move(live);
  return slot;
}

bool SessionService::knows(const std::string& session_id) const {
  std::shared_lock lock(mutex_);
  return live_.count(session_id) > 0;
}

std::shared_ptr<LiveSession> SessionService::adopt(const std::string& session_id, const std::string& user_id) {
  {
    std::shared_lock lock(mutex_);
    if (auto it = live_.find(session_id); it != live_.end()) {
      return user_id.empty() || it->second->record.user_id == user_id ? it->second : nullptr;
    }
  }
  if (!shared_) return nullptr;
  auto stored = store_.get(session_id);
  if (!stored || !stored->live() || (!user_id.empty() && stored->user_id != user_id)) return nullptr;
  std::unique_lock lock(mutex_);
  if (auto it = live_.find(session_id); it != live_.end()) return it->second;  // adopted meanwhile
  return restore_locked(std::move(*stored));
}

void SessionService::set_presence(store::PresenceStore* presence, std::string gateway_id, std::string label) {
  presence_ = presence;
  gateway_id_ = std::move(gateway_id);
  gateway_label_ = std::move(label);
}

Status SessionService::renew_presence() {
  if (!presence_) return Status::success();
  std::vector<std::string> holding;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, s] : live_) {
      if (s->open_websockets.load() > 0) holding.push_back(id);
    }
  }
  auto renewed = presence_->renew(gateway_id_, gateway_label_, holding);
  if (!renewed) return renewed.error();
  for (const auto& dead : *renewed) {
    log::warn("gateway declared dead", {{"gatewayId", dead.id}, {"label", dead.label}, {"sessions", dead.sessions}});
  }
  return Status::success();
}

void SessionService::leave_presence() {
  if (!presence_) return;
  if (auto s = presence_->leave(gateway_id_, clock_.now_ms()); !s) {
    log::warn("gateway liveness row not removed at stop", {{"error", s.error().message}});
  }
}

Status SessionService::sync_with_store() {
  if (!shared_) return Status::success();
  // Presence first: a session is never read as idle while a WebSocket of it is open on a live gateway.
  std::unordered_map<std::string, store::SessionPresence> others;
  if (presence_) {
    auto read = presence_->others(gateway_id_);
    if (!read) return read.error();  // an outage: keep every session as it is (open relays go on)
    others = std::move(read.value());
  }
  const Millis read_at = clock_.now_ms();
  auto rows = store_.live_sessions();
  if (!rows) return rows.error();
  std::unordered_map<std::string, store::SessionRecord> stored;
  for (auto& r : *rows) stored.emplace(r.id, std::move(r));
  std::vector<std::string> gone;
  {
    std::unique_lock lock(mutex_);
    for (auto& [id, r] : stored) {
      auto it = live_.find(id);
      const auto live = it == live_.end() ? restore_locked(r) : it->second;
      LiveSession& s = *live;
      if (r.state == store::kActive) s.active.store(true);
      if (r.last_activity_at > s.last_activity.load()) s.last_activity.store(r.last_activity_at);
      // Held by a gateway that died and is not declared yet: its grace runs from that death.
      if (auto p = others.find(id); p != others.end() && p->second.dead_at > s.last_activity.load()) {
        s.last_activity.store(p->second.dead_at);
      }
    }
    for (const auto& [id, s] : live_) {
      // Taken into memory after the read began (a select committing meanwhile): not gone.
      if (!stored.count(id) && s->in_memory_since <= read_at) gone.push_back(id);
    }
  }
  // Released, expired or ended through another gateway: its WebSockets here close too.
  for (const auto& id : gone) forget(id);
  std::erase_if(others, [](const auto& entry) { return !entry.second.held; });
  held_elsewhere_ = std::move(others);
  return Status::success();
}

bool is_connect_token_shaped(std::string_view token) {
  constexpr std::string_view kPrefix = "ct.";
  constexpr std::size_t kMacChars = 43;  // base64url of 32 bytes, no padding
  if (token.size() != kPrefix.size() + kMacChars || token.substr(0, kPrefix.size()) != kPrefix) return false;
  return std::all_of(token.begin() + kPrefix.size(), token.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

std::string SessionService::make_connect_token(const store::SessionRecord& r) const {
  // A connect token is an HMAC of the session's identity under a secret kept in the store: it needs no
  // storage of its own, survives a restart, and cannot be forged or moved to another session.
  const std::string message = r.id + '\n' + r.user_id + '\n' + std::to_string(r.created_at);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), token_secret_.data(), static_cast<int>(token_secret_.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac, &len);
  return "ct." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), len));
}

json::object SessionService::answer(const LiveSession& s) const {
  const auto& r = s.record;
  json::object o;
  o["sessionId"] = r.id;
  o["state"] = s.active.load() ? store::kActive : store::kReserved;
  o["workspaceId"] = r.workspace_id;
  o["appId"] = r.app_id.empty() ? json::value(nullptr) : json::value(r.app_id);
  o["backendId"] = r.backend_id;
  o["connectToken"] = s.connect_token;
  o["expiresAt"] = iso8601(r.created_at + static_cast<Millis>(config_.reservation_timeout_s) * 1000);
  return o;
}

Result<json::object> SessionService::select(const core::Principal& who, const std::string& session_id,
                                            const SelectRequest& request) {
  // Fast path: the same live session again answers the same, with no second slot.
  {
    std::shared_lock lock(mutex_);
    auto it = live_.find(session_id);
    if (it != live_.end()) {
      const auto& r = it->second->record;
      if (r.user_id != who.user_id) return Error{409, "session_conflict", "this session id belongs to another user"};
      if (r.workspace_id == request.workspace_id && (!request.app_id || *request.app_id == r.app_id)) {
        return answer(*it->second);
      }
      return Error{409, "session_conflict", "this session id is already running another workspace or app"};
    }
  }
  if (token_secret_.size() != kConnectTokenSecretBytes) {
    return Error::internal("sessions are not loaded: no connect-token secret");
  }
  auto resolution = resolver_.resolve(who.user_id, request.workspace_id, request.app_id);
  if (!resolution) return resolution.error();
  auto& res = resolution.value();
  // The app's exe and args come from the IAM, never from the browser.
  const std::string exe = res.app ? res.app->exe : "";
  const std::string args = res.app ? res.app->args : "";
  if ((request.app_exe && *request.app_exe != exe) || (request.app_args && *request.app_args != args)) {
    return Error{403, "app_mismatch", "appExe/appArgs differ from the application defined in the IAM"};
  }
  std::int64_t user_max = 1;
  if (auto it = res.policy.find("maxConcurrentSessions"); it != res.policy.end() && it->value().is_number()) {
    user_max = it->value().to_number<std::int64_t>();
  }
  store::SessionRecord record;
  record.id = session_id;
  record.user_id = who.user_id;
  record.username = who.username;
  record.org_id = who.org_id;
  record.workspace_id = res.workspace.id;
  record.workspace_name = res.workspace.name;
  record.workspace_type = res.workspace.type;
  record.app_id = res.app ? res.app->id : "";
  record.app_exe = exe;
  record.app_args = args;
  record.policy_json = json::serialize(res.policy);
  record.created_at = clock_.now_ms();

  const BackendRequirements requirements{.tags = res.workspace.required_tags,
                                         .capabilities = res.workspace.required_capabilities};
  const std::string affinity_key = who.user_id + '\n' + res.workspace.id;
  std::vector<std::string> exclude;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto picked = routing_.pick(requirements, affinity_key, exclude);
    if (!picked) return picked.error();
    record.backend_id = picked->id;
    store::ReserveLimits limits{.user_max = user_max,
                                .org_max = res.org_max_concurrent_sessions,
                                .backend_max = picked->max_sessions,
                                .backend_reported_load = picked->reported_load};
    auto reserved = store_.reserve(record, limits);
    if (!reserved) {
      // The backend filled up between the snapshot and the transaction: try another one.
      if (reserved.error().status == 503) {
        exclude.push_back(picked->id);
        continue;
      }
      return reserved.error();
    }
    auto live = std::make_shared<LiveSession>();
    live->record = reserved->session;
    live->connect_token = make_connect_token(live->record);
    // The same session found in the store (another gateway, or before a restart) keeps the selecting token
    // it was created with as far as this gateway can know it: the user, from the session's creation on.
    live->selector = reserved->existing ? restored_selector(live->record) : who;
    live->last_activity.store(live->record.last_activity_at);
    live->active.store(live->record.state == store::kActive);
    if (!reserved->existing) {
      routing_.add_pinned(live->record.backend_id, 1);
      routing_.remember_affinity(affinity_key, live->record.backend_id);
    }
    {
      std::unique_lock lock(mutex_);
      live->in_memory_since = clock_.now_ms();
      live_[session_id] = live;
    }
    log::info("session reserved", {{"sessionId", session_id},
                                   {"userId", who.user_id},
                                   {"workspaceId", record.workspace_id},
                                   {"backendId", live->record.backend_id}});
    return answer(*live);
  }
  return store::no_backend_available();
}

void SessionService::forget(const std::string& session_id) {
  std::shared_ptr<LiveSession> gone;
  {
    std::unique_lock lock(mutex_);
    auto it = live_.find(session_id);
    if (it == live_.end()) return;
    gone = std::move(it->second);
    live_.erase(it);
  }
  routing_.add_pinned(gone->record.backend_id, -1);
}

Status SessionService::release(const core::Principal& who, const std::string& session_id) {
  auto live = lookup(session_id, who.user_id);
  if (!live) {
    auto stored = store_.get(session_id);
    if (!stored || stored->user_id != who.user_id) {
      return Error::not_found("session_not_found", "no such session");
    }
    if (!stored->live()) return Status::success();  // already released, expired or ended: releasing again is fine
    // Live but selected through another gateway (a shared store): released here all the same.
  }
  auto changed = store_.set_state(session_id, store::kReleased, clock_.now_ms());
  if (!changed) return changed.error();
  forget(session_id);
  log::info("session released", {{"sessionId", session_id}, {"userId", who.user_id}});
  return Status::success();
}

Result<json::object> SessionService::status(const core::Principal& who, const std::string& session_id) {
  store::SessionRecord r;
  std::string state;
  Millis last_activity = 0;
  // Shared store: another gateway may have used, released or ended it since this one last looked, so the
  // store answers — unless it cannot (an outage; rows are never deleted), when memory does as below.
  std::optional<store::SessionRecord> stored;
  if (shared_) stored = store_.get(session_id);
  if (stored) {
    if (stored->user_id != who.user_id) return Error::not_found("session_not_found", "no such session");
    r = *stored;
    state = r.state;
    last_activity = r.last_activity_at;
    if (auto live = lookup(session_id, who.user_id)) {
      if (!r.live()) {
        forget(session_id);
      } else {
        if (live->active.load()) state = store::kActive;
        last_activity = std::max(last_activity, live->last_activity.load());
      }
    }
  } else if (auto live = lookup(session_id, who.user_id)) {
    r = live->record;
    state = live->active.load() ? store::kActive : store::kReserved;
    last_activity = live->last_activity.load();
  } else {
    // One gateway: an ended session is only in the store. (Shared: the store was asked above.)
    auto row = shared_ ? std::optional<store::SessionRecord>() : store_.get(session_id);
    if (!row || row->user_id != who.user_id) return Error::not_found("session_not_found", "no such session");
    r = *row;
    state = r.state;
    last_activity = r.last_activity_at;
  }
  auto location = routing_.locate(r.backend_id);
  json::object o;
  o["sessionId"] = r.id;
  o["state"] = state;
  o["workspaceId"] = r.workspace_id;
  o["appId"] = r.app_id.empty() ? json::value(nullptr) : json::value(r.app_id);
  o["backendId"] = r.backend_id;
  o["backendHealthy"] = location && location->healthy;
  o["createdAt"] = iso8601(r.created_at);
  o["lastActivityAt"] = iso8601(last_activity);
  return o;
}

std::shared_ptr<LiveSession> SessionService::lookup(const std::string& session_id, const std::string& user_id) const {
  std::shared_lock lock(mutex_);
  auto it = live_.find(session_id);
  if (it == live_.end() || it->second->record.user_id != user_id) return nullptr;
  return it->second;
}

std::shared_ptr<LiveSession> SessionService::lookup_by_connect_token(const std::string& session_id,
                                                                     const std::string& token) const {
  std::shared_lock lock(mutex_);
  auto it = live_.find(session_id);
  if (it == live_.end() || !constant_time_equals(it->second->connect_token, token)) return nullptr;
  return it->second;
}

void SessionService::mark_used(const std::shared_ptr<LiveSession>& s) {
  const auto now = clock_.now_ms();
  s->last_activity.store(now);
  if (!s->active.exchange(true)) {
    writer_([this, id = s->record.id, now] { (void)store_.set_state(id, store::kActive, now); });
  }
}

void SessionService::websocket_opened(const std::shared_ptr<LiveSession>& s) {
  const bool first = s->open_websockets.fetch_add(1) == 0;
  mark_used(s);
  // Its first WebSocket here: this gateway holds the session's presence (the next renewal writes it again if
  // this write loses a race with a close).
  if (first && presence_) writer_([this, id = s->record.id] { (void)presence_->hold(gateway_id_, id); });
}

void SessionService::websocket_closed(const std::shared_ptr<LiveSession>& s) {
  const bool last = s->open_websockets.fetch_sub(1) == 1;
  const auto now = clock_.now_ms();
  s->last_activity.store(now);
  // Persisted so that a restarted gateway, or another one, counts the disconnect grace from the real last
  // activity; the last WebSocket here also gives up this gateway's presence (one transaction).
  if (last && presence_) {
    writer_([this, id = s->record.id, now] { (void)presence_->let_go(gateway_id_, id, now); });
  } else {
    writer_([this, id = s->record.id, now] { (void)store_.touch(id, now); });
  }
}

bool SessionService::is_due(const LiveSession& s, Millis now) const {
  if (!s.active.load()) {
    return now - s.record.created_at >= static_cast<Millis>(config_.reservation_timeout_s) * 1000;
  }
  return s.open_websockets.load() == 0 &&
         now - s.last_activity.load() >= static_cast<Millis>(config_.disconnect_grace_s) * 1000;
}

std::size_t SessionService::expire_due() {
  const auto now = clock_.now_ms();
  std::vector<std::string> due;
  {
    std::shared_lock lock(mutex_);
    for (const auto& [id, s] : live_) {
      if (is_due(*s, now)) due.push_back(id);
    }
  }
  if (shared_) {
    // Another gateway may have used it since the last sync: the store's latest word decides.
    std::erase_if(due, [&](const std::string& id) {
      auto stored = store_.get(id);
      if (!stored) return true;  // unreadable: decide on a later pass
      std::shared_ptr<LiveSession> s;
      {
        std::shared_lock lock(mutex_);
        auto it = live_.find(id);
        if (it == live_.end()) return true;
        s = it->second;
      }
      if (!stored->live()) {
        forget(id);  // ended through another gateway
        return true;
      }
      if (stored->state == store::kActive) s->active.store(true);
      if (stored->last_activity_at > s->last_activity.load()) s->last_activity.store(stored->last_activity_at);
      if (held_elsewhere_.count(id)) return true;  // a live gateway relays it
      return !is_due(*s, now);
    });
  }
  std::size_t expired = 0;
  for (const auto& id : due) {
    auto changed = store_.set_state(id, store::kExpired, now);
    if (!changed) continue;  // a store error: a later pass decides
    if (!*changed) {
      // Not live in the store any more, or (shared store) a live gateway holds a WebSocket of it since the last
      // sync: one gateway forgets it; several leave it to the next sync, which knows which.
      if (!shared_) forget(id);
      continue;
    }
    forget(id);
    ++expired;
    log::info("session expired", {{"sessionId", id}});
  }
  return expired;
}

std::size_t SessionService::end_revoked(Millis entitlement_recheck) {
  const auto now = clock_.now_ms();
  const bool check_entitlements =
      entitlements_changed_.exchange(false) || now - last_entitlement_check_ >= entitlement_recheck;
  if (check_entitlements) last_entitlement_check_ = now;
  std::vector<std::shared_ptr<LiveSession>> sessions;
  {
    std::shared_lock lock(mutex_);
    sessions.reserve(live_.size());
    for (const auto& [id, s] : live_) sessions.push_back(s);
  }
  // One resolution per (user, workspace, app) per pass.
  std::unordered_map<std::string, bool> entitled;
  std::size_t ended = 0;
  for (const auto& s : sessions) {
    const auto& r = s->record;
    const char* reason = nullptr;
    if (!selector_still_valid(*s)) {
      reason = "the token that selected it was revoked, or its user was disabled, deleted or changed password";
    } else if (check_entitlements) {
      const std::string key = r.user_id + '\n' + r.workspace_id + '\n' + r.app_id;
      auto it = entitled.find(key);
      if (it == entitled.end()) {
        const std::optional<std::string> app = r.app_id.empty() ? std::nullopt : std::optional<std::string>(r.app_id);
        auto resolved = resolver_.resolve(r.user_id, r.workspace_id, app);
        // Only a definite "no" ends a session; an unreachable IAM or a store error leaves it for the next pass.
        const bool no = !resolved && (resolved.error().status == 403 || resolved.error().status == 404);
        it = entitled.emplace(key, !no).first;
      }
      if (!it->second) reason = "its user is no longer entitled to the workspace or app";
    }
    if (!reason) continue;
    auto changed = store_.set_state(r.id, store::kEnded, now);
    if (!changed) {
      log::error("could not end a revoked session", {{"sessionId", r.id}, {"error", changed.error().message}});
      continue;
    }
    forget(r.id);
    ++ended;
    log::info("session ended: revoked", {{"sessionId", r.id}, {"userId", r.user_id}, {"reason", reason}});
  }
  return ended;
}

void SessionService::end_for_backend(const std::string& backend_id) {
  auto ended = store_.end_for_backend(backend_id, clock_.now_ms());
  if (!ended) {
    log::error("could not end the sessions of an unregistered backend",
               {{"backendId", backend_id}, {"error", ended.error().message}});
    return;
  }
  for (const auto& id : ended.value()) forget(id);
  if (!ended->empty())
    log::info("sessions ended: backend unregistered", {{"backendId", backend_id}, {"count", ended->size()}});
}

std::size_t SessionService::live_count() const {
  std::shared_lock lock(mutex_);
  return live_.size();
}

SessionService::LiveCounts SessionService::live_counts() const {
  LiveCounts out;
  std::shared_lock lock(mutex_);
  for (const auto& entry : live_) {
    if (entry.second->active.load()) {
      ++out.active;
    } else {
      ++out.reserved;
    }
  }
  return out;
}

json::array SessionService::describe() const {
  json::array out;
  std::shared_lock lock(mutex_);
  for (const auto& [id, s] : live_) {
    json::object o;
    o["sessionId"] = id;
    o["state"] = s->active.load() ? store::kActive : store::kReserved;
    o["userId"] = s->record.user_id;
    o["username"] = s->record.username;
    o["orgId"] = s->record.org_id;
    o["workspaceId"] = s->record.workspace_id;
    o["appId"] = s->record.app_id;
    o["backendId"] = s->record.backend_id;
    o["openWebSockets"] = s->open_websockets.load();
    o["createdAt"] = iso8601(s->record.created_at);
    o["lastActivityAt"] = iso8601(s->last_activity.load());
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace webstream::sessions
