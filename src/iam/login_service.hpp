#pragma once
// LoginService: POST /iam/auth/login without the HTTP (CONTRACT §6): lockout check, user lookup,
// argon2id verification, token issue, failure bookkeeping.
//
// Every failure answers the same 401 `invalid_credentials` — unknown user, wrong password, disabled user,
// a user without a password — and costs the same: the unknown user's password is checked against the
// hasher's dummy hash, a disabled user's against their real one. Lockout (login_limiter.hpp) answers 429
// `locked_out` with Retry-After before any password is looked at.
//
// Persistence of failures (store/login_failure_store.hpp), so a restart does not reset a lockout:
//  - per address: always;
//  - per username: only when the username belongs to a user. A name that is no user's is tracked in memory
//    only: there is no account to protect, and the store never receives a text that may be a password
//    typed into the wrong field. (A restart therefore resets lockouts of non-existent names only.)
// Store errors while recording a failure are logged and do not change the answer.
//
// Metrics: webstream_login_failures_total, webstream_login_lockouts_total{scope="user"|"ip"} (lockouts that
// began), webstream_login_locked_attempts_total (attempts answered 429), webstream_logins_total (successes).
// Logs never carry the typed username or password: a failure logs the user id when the name is a user's.
//
// Two steps, so that a lockout costs no pool slot and a login refused for want of a hashing thread leaves no
// trace: begin() (cheap, never blocks: the lockout check, may run on an I/O thread) then exactly one of
// finish() (the password check, BLOCKS) or abandon() (the attempt never ran). login() is both steps in one.
//
// Thread rules: any thread; login(), finish() and load() BLOCK (argon2id, store): call them from a pool
// (runtime::BoundedPool for logins, runtime::BlockingPool), never from an I/O thread.
#include <atomic>
#include <optional>
#include <string>
#include <string_view>

#include "auth/authenticator.hpp"
#include "auth/user_directory.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "iam/login_limiter.hpp"
#include "iam/passwords.hpp"
#include "iam/token_service.hpp"
#include "store/login_failure_store.hpp"

namespace webstream::metrics {
class Counter;
}

namespace webstream::iam {

struct LoginResult {
  IssuedToken token;
  auth::UserRecord user;  // password_hash cleared
};

class LoginService {
 public:
  LoginService(auth::UserDirectory& users, const PasswordHasher& passwords, const TokenService& tokens,
               auth::Authenticator& authenticator, LoginLimiter& limiter, store::LoginFailureStore& failures,
               const Clock& clock);

  // Restores the failures of the last window into the limiter and prunes older rows. Blocks.
  Status load();
  // Several gateways on one store (CONTRACT §12: "5 failures per username and 50 per IP, wherever they were
  // made", exact under any concurrency): before the password is checked, the store admits the attempt in one
  // transaction (LoginFailureStore::claim_attempt: the username's and the address's failures, as every
  // gateway recorded them, plus the attempts in flight on every gateway) or refuses it with 429; the
  // password check runs after that transaction, and its outcome settles the attempt. Unknown names are never
  // written to the store (only the address counts there).
  void set_shared_store(bool shared) { shared_ = shared; }

  // 200 → the token and the user; 401 invalid_credentials; 429 locked_out (retry_after set). Blocks.
  Result<LoginResult> login(std::string_view username, std::string_view password, std::string_view client_ip);

  // A login under way: what begin() let through.
  struct Pending {
    LoginLimiter::Attempt attempt;
    std::string username;
    std::string client_ip;
  };
  // The lockout check: 429 locked_out (retry_after set), or the attempt, counted in flight. Never blocks.
  Result<Pending> begin(std::string_view username, std::string_view client_ip);
  // The rest of login() for an attempt begin() let through. Blocks.
  Result<LoginResult> finish(const Pending& pending, std::string_view password);
  // The attempt will not run (no hashing thread free): it stops being in flight, nothing is counted.
  void abandon(const Pending& pending);

 private:
  // `claim_id`: the attempt's in-flight row on a shared store ("" otherwise).
  void record_failure(const LoginLimiter::Attempt& attempt, const std::optional<auth::UserRecord>& user,
                      const std::string& claim_id);

  auth::UserDirectory& users_;
  const PasswordHasher& passwords_;
  const TokenService& tokens_;
  auth::Authenticator& authenticator_;
  LoginLimiter& limiter_;
  store::LoginFailureStore& failures_;
  const Clock& clock_;
  std::atomic<Millis> last_prune_ms_{0};
  bool shared_ = false;

  metrics::Counter& logins_;
  metrics::Counter& failed_;
  metrics::Counter& locked_attempts_;
  metrics::Counter& user_lockouts_;
  metrics::Counter& ip_lockouts_;
};

}  // namespace webstream::iam
