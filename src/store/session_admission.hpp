#pragma once
// The admission rules of SessionStore::reserve(), written once for every store. Each store runs them inside
// its own transaction (after taking its locks), so SQLite and PostgreSQL refuse the same requests with the same
// errors; only the counting is theirs.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "store/session_store.hpp"

namespace webstream::store {

// What to do when a session with the wanted id is already stored.
enum class ExistingSession {
  kReplace,     // no longer live: the id may be used again (the store overwrites the row)
  kReturnAsIs,  // the same live session (an idempotent re-select): reserve() returns it unchanged
};

// 409 session_conflict when the id belongs to another user, or is live with another workspace or app.
inline Result<ExistingSession> admit_existing(const SessionRecord& existing, const SessionRecord& wanted) {
  if (existing.user_id != wanted.user_id) {
    return Error{409, "session_conflict", "this session id belongs to another user"};
  }
  if (!existing.live()) return ExistingSession::kReplace;
  if (existing.workspace_id != wanted.workspace_id || existing.app_id != wanted.app_id) {
    return Error{409, "session_conflict", "this session id is already running another workspace or app"};
  }
  return ExistingSession::kReturnAsIs;
}

// The limits in the contract's order: the user's, the org's (only when set), the backend's. `count_live(column,
// value)` counts the live (reserved or active) sessions whose `column` ("user_id", "org_id" or "backend_id")
// equals `value`, inside the caller's transaction. nullopt: the session may be written.
template <class CountLive>
std::optional<Error> limit_refusal(const SessionRecord& s, const ReserveLimits& limits, CountLive&& count_live) {
  const std::int64_t user_live = count_live("user_id", s.user_id);
  if (user_live >= limits.user_max) {
    return Error{409, "concurrency_limit",
                 "you already have " + std::to_string(user_live) + " of " + std::to_string(limits.user_max) +
                     " allowed concurrent sessions"};
  }
  if (limits.org_max && count_live("org_id", s.org_id) >= *limits.org_max) {
    return Error{409, "concurrency_limit", "your organisation has reached its concurrent session limit"};
  }
  const std::int64_t pinned = count_live("backend_id", s.backend_id);
  if (std::max(pinned, limits.backend_reported_load) >= limits.backend_max) return no_backend_available();
  return std::nullopt;
}

}  // namespace webstream::store
