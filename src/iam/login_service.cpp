#include "iam/login_service.hpp"

#include <algorithm>

#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace webstream::iam {
namespace {

constexpr const char* kUserScope = "user";
constexpr const char* kIpScope = "ip";

metrics::Counter& lockouts(const char* scope) {
  return metrics::Registry::global().counter(
      "webstream_login_lockouts_total",
      "Login lockouts that began (5 failures per username, 50 per address, in 15 min)", {{"scope", scope}});
}

Error invalid_credentials() { return Error{401, "invalid_credentials", "invalid username or password"}; }

}  // namespace

LoginService::LoginService(auth::UserDirectory& users, const PasswordHasher& passwords, const TokenService& tokens,
                           auth::Authenticator& authenticator, LoginLimiter& limiter,
                           store::LoginFailureStore& failures, const Clock& clock)
    : users_(users), passwords_(passwords), tokens_(tokens), authenticator_(authenticator), limiter_(limiter),
      failures_(failures), clock_(clock),
      logins_(metrics::Registry::global().counter("webstream_logins_total", "Successful logins")),
      failed_(metrics::Registry::global().counter("webstream_login_failures_total",
                                                  "Failed logins (answered 401 invalid_credentials)")),
      locked_attempts_(metrics::Registry::global().counter("webstream_login_locked_attempts_total",
                                                           "Login attempts answered 429 locked_out")),
      user_lockouts_(lockouts(kUserScope)), ip_lockouts_(lockouts(kIpScope)) {}

Status LoginService::load() {
  const Millis since = clock_.now_ms() - limiter_.limits().window_ms;
  auto pruned = failures_.prune_failures(since);
  if (!pruned) return pruned.error();
  last_prune_ms_.store(clock_.now_ms(), std::memory_order_relaxed);
  auto rows = failures_.failures_since(since);
  if (!rows) return rows.error();
  for (const auto& r : *rows) {
    limiter_.restore(r.scope == kIpScope ? LimitScope::kIp : LimitScope::kUser, r.key, r.at);
  }
  return Status::success();
}

Result<LoginResult> LoginService::login(std::string_view username, std::string_view password,
                                        std::string_view client_ip) {
  auto pending = begin(username, client_ip);
  if (!pending) return pending.error();
  return finish(*pending, password);
}

Result<LoginService::Pending> LoginService::begin(std::string_view username, std::string_view client_ip) {
  auto attempt = limiter_.begin(username, client_ip);
  if (!attempt) {
    locked_attempts_.inc();
    return attempt.error();
  }
  return Pending{std::move(attempt.value()), std::string(username), std::string(client_ip)};
}

void LoginService::abandon(const Pending& pending) { limiter_.abandoned(pending.attempt); }

Result<LoginResult> LoginService::finish(const Pending& pending, std::string_view password) {
  const LoginLimiter::Attempt& attempt = pending.attempt;
  const std::string& client_ip = pending.client_ip;
  auto found = users_.find_by_username(pending.username);
  if (!found) {
    // The store cannot answer (an outage): not a failed attempt, so it counts towards no lockout.
    limiter_.abandoned(attempt);
    return found.error();
  }
  std::optional<auth::UserRecord> user = std::move(found.value());
  std::string claim_id;  // shared store: this attempt's in-flight row
  if (shared_) {
    // The store admits the attempt in one transaction, counting every gateway's failures and attempts in
    // flight; the password is checked after that transaction, never under its lock.
    const Millis now = clock_.now_ms();
    const auto& limits = limiter_.limits();
    auto claim = failures_.claim_attempt(user ? attempt.user_key : std::string(), attempt.ip_key,
                                         now - limits.window_ms, limits.max_user_failures, limits.max_ip_failures, now);
    if (!claim) {
      limiter_.abandoned(attempt);
      return claim.error();
    }
    limiter_.replace_failures(LimitScope::kIp, attempt.ip_key, claim->ip_failures);
    if (user) limiter_.replace_failures(LimitScope::kUser, attempt.user_key, claim->user_failures);
    if (!claim->admitted) {
      limiter_.abandoned(attempt);
      locked_attempts_.inc();
      if (auto locked = limiter_.lockout(attempt)) return *locked;
      // Not locked yet, but the attempts in flight on the gateways fill the limit: whether it locks is
      // known within a hash's time.
      return Error{429, "locked_out", "too many failed sign-ins: try again later", 1};
    }
    claim_id = claim->id;
  }
  bool password_ok = false;
  if (user && !user->password_hash.empty()) {
    password_ok = passwords_.verify(user->password_hash, password);
  } else {
    passwords_.dummy_verify(password);
  }
  if (!password_ok || user->disabled) {
    record_failure(attempt, user, claim_id);
    return invalid_credentials();
  }
  if (!claim_id.empty()) {
    if (auto s = failures_.settle_attempt(claim_id, attempt.user_key, attempt.ip_key, false, clock_.now_ms()); !s) {
      log::warn("could not clear login failures", {{"userId", user->id}, {"error", s.error().message}});
    }
  }

  if (limiter_.succeeded(attempt)) {
    if (auto s = failures_.clear_failures(kUserScope, attempt.user_key); !s) {
      log::warn("could not clear login failures", {{"userId", user->id}, {"error", s.error().message}});
    }
  }
  const std::int64_t not_before = std::max(user->credentials_changed_at, authenticator_.not_before(user->id));
  LoginResult out;
  out.token = tokens_.issue(*user, not_before);
  out.user = std::move(*user);
  out.user.password_hash.clear();
  logins_.inc();
  log::info("login", {{"userId", out.user.id}, {"remoteIp", client_ip}});
  return out;
}

void LoginService::record_failure(const LoginLimiter::Attempt& attempt, const std::optional<auth::UserRecord>& user,
                                  const std::string& claim_id) {
  const auto outcome = limiter_.failed(attempt);
  failed_.inc();
  if (outcome.user_locked) user_lockouts_.inc();
  if (outcome.ip_locked) ip_lockouts_.inc();

  const Millis now = clock_.now_ms();
  std::vector<store::LoginFailureRow> rows;
  rows.push_back(store::LoginFailureRow{kIpScope, attempt.ip_key, now});
  if (user) rows.push_back(store::LoginFailureRow{kUserScope, attempt.user_key, now});
  // Shared store: the failure ends the attempt's in-flight row in the same transaction.
  const Status persisted =
      claim_id.empty()
          ? failures_.record_failures(rows)
          : failures_.settle_attempt(claim_id, user ? attempt.user_key : std::string(), attempt.ip_key, true, now);
  if (!persisted) {
    log::warn("could not persist a login failure", {{"error", persisted.error().message}});
  }
  const Millis window = limiter_.limits().window_ms;
  if (now - last_prune_ms_.load(std::memory_order_relaxed) >= window) {
    last_prune_ms_.store(now, std::memory_order_relaxed);
    if (auto pruned = failures_.prune_failures(now - window); !pruned) {
      log::warn("could not prune login failures", {{"error", pruned.error().message}});
    }
  }
  // The typed name is never logged (it may be a password typed into the wrong field); a user's id is.
  log::warn("login failed",
            {{"userId", user ? user->id : std::string()}, {"lockedOut", outcome.user_locked || outcome.ip_locked}});
}

}  // namespace webstream::iam
