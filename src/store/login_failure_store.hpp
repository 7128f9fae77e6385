#pragma once
// LoginFailureStore: failed logins (CONTRACT §6 lockout), so a restart does not hand an attacker a fresh
// set of guesses. A row is (scope, key, at): scope "user" or "ip", key an opaque digest of the username or
// client address (never the name typed: a user who types a password into the username field must not
// find it in the database), at in ms. Rows older than the lockout window are pruned.
//
// Thread rules: implementations are thread-safe; calls block on the store (call from BlockingPool).
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

// A login attempt as several gateways' store admitted it (LoginFailureStore::claim_attempt).
struct AttemptClaim {
  bool admitted = false;
  std::string id;                     // its in-flight row, when admitted
  std::vector<Millis> user_failures;  // the username's failures in the window, every gateway's, oldest first
  std::vector<Millis> ip_failures;    // the address's
};

// An attempt in flight counts for this long at most (a gateway killed while hashing leaves its row behind).
inline constexpr Millis kLoginAttemptInFlightMs = 30'000;

struct LoginFailureRow {
  std::string scope;  // "user" | "ip"
  std::string key;    // digest (hex)
  Millis at = 0;
};

class LoginFailureStore {
 public:
  virtual ~LoginFailureStore() = default;
  // Records failures (one login's username and address) in one transaction.
  virtual Status record_failures(const std::vector<LoginFailureRow>& rows) = 0;
  // Forgets every failure of (scope, key): a successful login clears its username's failures.
  virtual Status clear_failures(const std::string& scope, const std::string& key) = 0;
  // Failures with at >= since, oldest first.
  virtual Result<std::vector<LoginFailureRow>> failures_since(Millis since) = 0;
  // The times of (scope, key)'s failures with at >= since, oldest first: what every gateway sharing the
  // store recorded for one username or address.
  virtual Result<std::vector<Millis>> failures_of(const std::string& scope, const std::string& key, Millis since) = 0;
  // Deletes failures with at < before; returns how many.
  virtual Result<std::int64_t> prune_failures(Millis before) = 0;

  // Several gateways on one store (CONTRACT §12: lockout exact under any concurrency). In ONE transaction,
  // under the username's and the address's locks: counts their failures since `since` plus the attempts in
  // flight on every gateway; at `max_user` (username) or `max_ip` (address) the attempt is refused
  // (admitted false), else it is recorded as in flight. `user_key` empty: the name is no user's (only the
  // address counts; an unknown name is never written). The caller checks the password AFTER this returns
  // (never under the lock), then calls settle_attempt() exactly once. Stores of one gateway (SQLite) do not
  // support it (that gateway counts its attempts in flight in memory): 500.
  virtual Result<AttemptClaim> claim_attempt(const std::string& user_key, const std::string& ip_key, Millis since,
                                             int max_user, int max_ip, Millis at) {
    return Error::internal("this store does not admit login attempts for several gateways");
  }
  // The claimed attempt `id` is over at `at`: failed, it becomes a failure of its address (and username) in
  // the same transaction; else it only stops being in flight.
  virtual Status settle_attempt(const std::string& id, const std::string& user_key, const std::string& ip_key,
                                bool failed, Millis at) {
    return Error::internal("this store does not admit login attempts for several gateways");
  }
};

}  // namespace webstream::store
