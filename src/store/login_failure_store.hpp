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
};

}  // namespace webstream::store
