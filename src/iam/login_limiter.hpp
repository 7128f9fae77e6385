#pragma once
// LoginLimiter: brute-force lockout for POST /iam/auth/login (CONTRACT §6). Pure logic over an injected
// Clock; the login service persists what it records (store/login_failure_store.hpp) and restores it at start.
//
// Rules (sliding window W = 15 min):
//  - per username (case-insensitive): the first 5 failures within W answer 401 as usual; from then on
//    every attempt answers 429 `locked_out`, whatever the password — a correct one does not unlock early —
//    until fewer than 5 failures lie within W, i.e. until the oldest of the last 5 is W old. Retry-After
//    says how many seconds that is. Steady state: at most 5 guesses per W per username.
//  - per client IP: the same with 50 failures (password spraying over many usernames from one address).
//  - refused (429) attempts are not failures: they do not extend the lockout.
//  - a successful login clears its username's failures (not its IP's).
//  - attempts in flight count as failures for the decision, so 100 parallel guesses cannot all slip in
//    before the first failure is recorded; begin() must therefore always be followed by exactly one of
//    failed(), succeeded() or abandoned().
// Usernames and addresses are kept as SHA-256 digests (key_for): memory per tracked key is fixed, and no
// typed text is kept. At most max_tracked_keys per scope: beyond that, expired keys are dropped, then keys
// that are neither locked nor in flight; if every tracked key is locked (an attack from thousands of
// addresses), a new key goes untracked until room frees up.
//
// Thread rules: any thread; one mutex guards everything (held for microseconds, never across I/O).
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::iam {

struct LoginLimits {
  int max_user_failures = 5;
  int max_ip_failures = 50;
  Millis window_ms = 15 * 60 * 1000;
  std::size_t max_tracked_keys = 100'000;  // per scope
};

enum class LimitScope { kUser, kIp };

class LoginLimiter {
 public:
  struct Attempt {
    std::string user_key;  // digests (key_for)
    std::string ip_key;
  };
  struct FailureOutcome {
    bool user_locked = false;  // this failure locked the username
    bool ip_locked = false;    // this failure locked the address
  };

  explicit LoginLimiter(const Clock& clock, LoginLimits limits = {});

  // Before the password is checked: Error 429 `locked_out` (retry_after set, ≥ 1 s) when the username or
  // the address is locked; otherwise an attempt, counted as in flight until finished.
  Result<Attempt> begin(std::string_view username, std::string_view client_ip);
  // The password was wrong (or the user unknown or disabled): a failure for both keys.
  FailureOutcome failed(const Attempt& attempt);
  // The password was right: the username's failures are forgotten. True when there were any.
  bool succeeded(const Attempt& attempt);
  // Neither (e.g. a store error): the attempt stops being in flight, nothing is counted.
  void abandoned(const Attempt& attempt);

  // A failure read back from the store at start (key: a key_for digest).
  void restore(LimitScope scope, const std::string& key, Millis at);
  // Several gateways on one store: (scope, key)'s failures become the store's list (every gateway's,
  // this one's included), replacing what this gateway counted alone. Attempts in flight stay.
  void replace_failures(LimitScope scope, const std::string& key, const std::vector<Millis>& at);
  // 429 locked_out when the recorded failures alone (not attempts in flight, this one included) lock the
  // attempt's username or address: the check made again after replace_failures.
  std::optional<Error> lockout(const Attempt& attempt) const;

  // The digest a username (lowercased) or an address is tracked under; also the store's key.
  static std::string key_for(LimitScope scope, std::string_view value);

  const LoginLimits& limits() const { return limits_; }
  std::size_t tracked(LimitScope scope) const;

 private:
  struct Track {
    std::deque<Millis> failures;  // oldest first, at most the scope's max
    int in_flight = 0;
  };
  using Table = std::unordered_map<std::string, Track>;

  int max_for(LimitScope scope) const;
  Table& table(LimitScope scope) { return scope == LimitScope::kUser ? users_ : ips_; }
  // Seconds until `track` unlocks, 0 when it is not locked.
  std::int64_t locked_for(const Track& track, int max, Millis now) const;
  void drop_old(Track& track, Millis now) const;
  Track* find_or_add(LimitScope scope, const std::string& key, Millis now);
  bool add_failure(LimitScope scope, const std::string& key, Millis at);

  const Clock& clock_;
  const LoginLimits limits_;
  mutable std::mutex mutex_;
  Table users_;  // GUARDED_BY(mutex_)
  Table ips_;    // GUARDED_BY(mutex_)
};

}  // namespace webstream::iam
