#pragma once
// SessionStore: sessions and their pins. reserve() is the one transaction that checks every limit and
// writes the session, so the same code stays right for several gateways sharing one store.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/session_identity.hpp"

namespace webstream::store {

// A session's states (CONTRACT §7). reserved and active hold a concurrency slot; the others do not.
inline constexpr const char* kReserved = "reserved";
inline constexpr const char* kActive = "active";
inline constexpr const char* kReleased = "released";
inline constexpr const char* kExpired = "expired";
inline constexpr const char* kEnded = "ended";

inline constexpr std::size_t kConnectTokenSecretBytes = 32;

// A session: its identity (user, org, workspace, app, policy: core::SessionIdentity, which the proxy's
// Identity shares) and where and how far it is.
struct SessionRecord : core::SessionIdentity {
  std::string id;  // the browser's X-Session-ID
  std::string backend_id;
  std::string state = kReserved;
  Millis created_at = 0;
  Millis last_activity_at = 0;
  Millis ended_at = 0;
  bool live() const { return state == kReserved || state == kActive; }
};

struct ReserveLimits {
  std::int64_t user_max = 1;               // user's effective maxConcurrentSessions
  std::optional<std::int64_t> org_max;     // the org's maxConcurrentSessions, if set
  std::int64_t backend_max = 0;            // the backend's maxSessions
  std::int64_t backend_reported_load = 0;  // the backend's last reported activeSessions
};

// The answer when no session host has room: 503 no_backend_available with Retry-After 5 s. One definition
// for every place that gives it: reserve()'s backend limit (session_admission.hpp), the registry's balancer,
// SessionService when every candidate refused.
inline constexpr int kNoBackendRetryAfterS = 5;
inline Error no_backend_available() {
  Error e{503, "no_backend_available", "no session host has capacity; try again shortly"};
  e.retry_after = kNoBackendRetryAfterS;
  return e;
}

// What reserve() did.
struct ReserveOutcome {
  SessionRecord session;
  bool existing = false;  // the same live session was already there (idempotent re-select)
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // In one transaction: a live session with this id for the same user → returned as is; for another
  // user → 409 session_conflict; else checks user, org and backend limits (409 concurrency_limit, 503
  // no_backend_available) and writes the session as reserved.
  virtual Result<ReserveOutcome> reserve(const SessionRecord& session, const ReserveLimits& limits) = 0;
  virtual std::optional<SessionRecord> get(const std::string& id) = 0;
  // Moves a session to `state` (and ended_at when it stops being live). Returns false if unknown.
  virtual Result<bool> set_state(const std::string& id, const std::string& state, Millis at) = 0;
  virtual Status touch(const std::string& id, Millis at) = 0;
  // Every live session (for the in-memory index at start, and each sync of a gateway on a shared store).
  // Error when the store cannot answer: never an empty list for an outage (that would end every session).
  virtual Result<std::vector<SessionRecord>> live_sessions() = 0;
  // Ends every live session pinned to `backend_id`; returns their ids.
  virtual Result<std::vector<std::string>> end_for_backend(const std::string& backend_id, Millis at) = 0;
  // The most recent session per (user, workspace) newer than `since` (to seed affinity after a restart).
  virtual std::vector<SessionRecord> recent_sessions(Millis since) = 0;
  // A 32-byte secret kept in the store for connect tokens (created on first use). Error — never an empty or
  // short secret — when it cannot be read or created (store error, no randomness) or the stored one is damaged.
  virtual Result<std::string> connect_token_secret() = 0;
};

}  // namespace webstream::store
