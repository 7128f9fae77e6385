// PostgreSQL: signing keys, revoked tokens, the revocation log, login failures.
#include <algorithm>

#include "core/encoding.hpp"
#include "core/ids.hpp"
#include "store/postgres/pg_stores.hpp"

namespace webstream::store::pg {

// ---- keys

Result<std::vector<SigningKeyRow>> PgKeyStore::load_keys() {
  return pool_.read([](PgConnection& c) -> Result<std::vector<SigningKeyRow>> {
    auto r = c.exec(
        "SELECT kid, algorithm, public_key, secret_key, created_at FROM signing_keys ORDER BY created_at, kid COLLATE "
        "\"C\"");
    std::vector<SigningKeyRow> out;
    for (int i = 0; i < r.rows(); ++i) {
      SigningKeyRow row;
      row.kid = r.text(i, 0);
      row.algorithm = r.text(i, 1);
      auto pub = base64url_decode(r.text(i, 2));
      auto sec = base64url_decode(r.text(i, 3));
      if (!pub || !sec) return Error::internal("store: signing key " + row.kid + " is not readable");
      row.public_key = std::move(*pub);
      row.secret_key = std::move(*sec);
      row.created_at = r.integer(i, 4);
      out.push_back(std::move(row));
    }
    return out;
  });
}

Status PgKeyStore::insert_key(const SigningKeyRow& key) {
  auto s = pool_.transaction([&](PgConnection& c) -> Status {
    c.exec("INSERT INTO signing_keys(kid, algorithm, public_key, secret_key, created_at) VALUES($1,$2,$3,$4,$5)",
           Params()
               .add(key.kid)
               .add(key.algorithm)
               .add(base64url_encode(key.public_key))
               .add(base64url_encode(key.secret_key))
               .add(key.created_at));
    return Status::success();
  });
  // The interface: a duplicate kid is a store failure (it cannot happen with fresh random keys).
  if (!s && s.error().status == 409) return Error::internal("store: duplicate signing key id");
  return s;
}

// ---- revoked tokens

Status PgTokenStore::revoke(const RevokedToken& token) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    c.exec(
        "INSERT INTO revoked_tokens(jti, expires_at) VALUES($1,$2) "
        "ON CONFLICT(jti) DO UPDATE SET expires_at=GREATEST(revoked_tokens.expires_at, excluded.expires_at)",
        Params().add(token.jti).add(token.expires_at));
    return Status::success();
  });
}

Result<std::vector<RevokedToken>> PgTokenStore::revoked_since(std::int64_t now_s) {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<RevokedToken>> {
    auto r = c.exec("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at >= $1 ORDER BY expires_at",
                    Params().add(now_s));
    std::vector<RevokedToken> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(RevokedToken{r.text(i, 0), r.integer(i, 1)});
    return out;
  });
}

Result<std::int64_t> PgTokenStore::prune_revoked(std::int64_t before_s) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::int64_t> {
    return c.exec("DELETE FROM revoked_tokens WHERE expires_at < $1", Params().add(before_s)).affected();
  });
}

// ---- revocation log

namespace {
int kind_code(RevocationKind kind) { return kind == RevocationKind::kToken ? 1 : 2; }
}  // namespace

Status PgRevocationLogStore::append(const RevocationEntry& entry) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    c.exec("SELECT pg_advisory_xact_lock($1, 0)", Params().add(kLockRevocations));
    c.exec(
        "INSERT INTO revocation_log(kind, subject, value, relevant_until, at_ms)"
        " SELECT $1, $2, $3, $4, GREATEST($5::bigint, high_water) FROM revocation_log_clock WHERE id=1"
        " ON CONFLICT(kind, subject) DO UPDATE SET value=excluded.value,"
        " relevant_until=excluded.relevant_until, at_ms=excluded.at_ms WHERE excluded.value > revocation_log.value",
        Params()
            .add(kind_code(entry.kind))
            .add(entry.subject)
            .add(entry.value)
            .add(entry.relevant_until)
            .add(clock_.now_ms()));
    return Status::success();
  });
}

Result<RevocationPage> PgRevocationLogStore::since(Millis since_ms, std::size_t limit) {
  return pool_.transaction([&](PgConnection& c) -> Result<RevocationPage> {
    c.exec("SELECT pg_advisory_xact_lock($1, 0)", Params().add(kLockRevocations));
    RevocationPage page;
    page.now_ms = clock_.now_ms();
    auto r = c.exec(
        "SELECT kind, subject, value, relevant_until, at_ms FROM revocation_log"
        " WHERE at_ms >= $1 AND relevant_until >= $2 ORDER BY at_ms, kind, subject COLLATE \"C\"",
        Params().add(since_ms).add(page.now_ms / 1000));
    const std::size_t cap = std::max<std::size_t>(limit, 1);
    for (int i = 0; i < r.rows(); ++i) {
      const Millis at = r.integer(i, 4);
      if (page.entries.size() >= cap && at != page.entries.back().at_ms) {
        page.more = true;
        page.now_ms = page.entries.back().at_ms + 1;
        break;
      }
      RevocationEntry e;
      e.kind = r.integer(i, 0) == 1 ? RevocationKind::kToken : RevocationKind::kUserCutoff;
      e.subject = r.text(i, 1);
      e.value = r.integer(i, 2);
      e.relevant_until = r.integer(i, 3);
      e.at_ms = at;
      page.entries.push_back(std::move(e));
    }
    c.exec("UPDATE revocation_log_clock SET high_water=GREATEST(high_water, $1) WHERE id=1", Params().add(page.now_ms));
    return page;
  });
}

Result<std::int64_t> PgRevocationLogStore::prune(std::int64_t before_s) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::int64_t> {
    return c.exec("DELETE FROM revocation_log WHERE relevant_until < $1", Params().add(before_s)).affected();
  });
}

// ---- login failures

Status PgLoginFailureStore::record_failures(const std::vector<LoginFailureRow>& rows) {
  if (rows.empty()) return Status::success();
  // Not retried on its own: a serialization failure cannot happen at READ COMMITTED for plain inserts,
  // so a retry (the only way a row could be written twice) does not occur.
  return pool_.transaction([&](PgConnection& c) -> Status {
    const Millis skew = timeline_.skew(c);
    for (const auto& row : rows) {
      c.exec("INSERT INTO login_failures(scope, key, at) VALUES($1,$2,$3)",
             Params().add(row.scope).add(row.key).add(row.at + skew));
    }
    return Status::success();
  });
}

Status PgLoginFailureStore::clear_failures(const std::string& scope, const std::string& key) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    c.exec("DELETE FROM login_failures WHERE scope=$1 AND key=$2", Params().add(scope).add(key));
    return Status::success();
  });
}

Result<std::vector<Millis>> PgLoginFailureStore::failures_of(const std::string& scope, const std::string& key,
                                                             Millis since) {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<Millis>> {
    const Millis skew = timeline_.skew(c);
    auto r = c.exec("SELECT at FROM login_failures WHERE scope = $1 AND key = $2 AND at >= $3 ORDER BY at, id",
                    Params().add(scope).add(key).add(since + skew));
    std::vector<Millis> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.integer(i, 0) - skew);
    return out;
  });
}

Result<std::vector<LoginFailureRow>> PgLoginFailureStore::failures_since(Millis since) {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<LoginFailureRow>> {
    const Millis skew = timeline_.skew(c);
    auto r =
        c.exec("SELECT scope, key, at FROM login_failures WHERE at >= $1 ORDER BY at, id", Params().add(since + skew));
    std::vector<LoginFailureRow> out;
    for (int i = 0; i < r.rows(); ++i)
      out.push_back(LoginFailureRow{r.text(i, 0), r.text(i, 1), r.integer(i, 2) - skew});
    return out;
  });
}

namespace {

std::vector<Millis> failure_times(PgConnection& c, const char* scope, const std::string& key, Millis since_db,
                                  Millis skew) {
  auto r = c.exec("SELECT at FROM login_failures WHERE scope = $1 AND key = $2 AND at >= $3 ORDER BY at, id",
                  Params().add(scope).add(key).add(since_db));
  std::vector<Millis> out;
  for (int i = 0; i < r.rows(); ++i) out.push_back(r.integer(i, 0) - skew);
  return out;
}

// The transaction's locks on a login's scopes, taken by claiming and by settling alike: always the username (when
// there is one) before the address, so two attempts never wait on each other in a cycle. Held to COMMIT.
void lock_login_scopes(PgConnection& c, const std::string& user_key, const std::string& ip_key) {
  if (!user_key.empty()) {
    c.exec("SELECT pg_advisory_xact_lock($1, hashtext($2))", Params().add(kLockLogin).add("user:" + user_key));
  }
  c.exec("SELECT pg_advisory_xact_lock($1, hashtext($2))", Params().add(kLockLogin).add("ip:" + ip_key));
}

}  // namespace

Result<AttemptClaim> PgLoginFailureStore::claim_attempt(const std::string& user_key, const std::string& ip_key,
                                                        Millis since, int max_user, int max_ip, Millis at) {
  const std::string id = random_id("la-");  // the same on a retry: the rolled-back insert is gone
  return pool_.transaction([&](PgConnection& c) -> Result<AttemptClaim> {
    const Millis skew = timeline_.skew(c);
    // Held to COMMIT, so no other gateway counts either scope until this attempt is in flight or refused.
    lock_login_scopes(c, user_key, ip_key);
    c.exec("DELETE FROM login_attempts WHERE started_at < $1", Params().add(at + skew - kLoginAttemptInFlightMs));
    AttemptClaim claim;
    claim.ip_failures = failure_times(c, "ip", ip_key, since + skew, skew);
    const std::int64_t ip_in_flight =
        c.exec("SELECT COUNT(*) FROM login_attempts WHERE ip_key=$1", Params().add(ip_key)).integer(0, 0);
    bool admitted = static_cast<std::int64_t>(claim.ip_failures.size()) + ip_in_flight < max_ip;
    if (!user_key.empty()) {
      claim.user_failures = failure_times(c, "user", user_key, since + skew, skew);
      const std::int64_t user_in_flight =
          c.exec("SELECT COUNT(*) FROM login_attempts WHERE user_key=$1", Params().add(user_key)).integer(0, 0);
      admitted = admitted && static_cast<std::int64_t>(claim.user_failures.size()) + user_in_flight < max_user;
    }
    if (admitted) {
      c.exec("INSERT INTO login_attempts(id, user_key, ip_key, started_at) VALUES($1,$2,$3,$4)",
             Params().add(id).add(user_key).add(ip_key).add(at + skew));
      claim.id = id;
    }
    claim.admitted = admitted;
    return claim;
  });
}

Status PgLoginFailureStore::settle_attempt(const std::string& id, const std::string& user_key,
                                           const std::string& ip_key, bool failed, Millis at) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    // The same locks as claim_attempt, in the same order. A claim counts the failures and the attempts in flight
    // in two statements, each with its own snapshot (READ COMMITTED): a settle committing between them moved this
    // attempt from in flight to failed where neither count saw it, and one attempt too many was admitted (e2e
    // test_cluster_lockout let 6 password checks through for a limit of 5 on the asan build, 2026-12-04 15:30 UTC).
    lock_login_scopes(c, user_key, ip_key);
    const Millis skew = timeline_.skew(c);
    c.exec("DELETE FROM login_attempts WHERE id=$1", Params().add(id));
    if (failed) {
      c.exec("INSERT INTO login_failures(scope, key, at) VALUES('ip',$1,$2)", Params().add(ip_key).add(at + skew));
      if (!user_key.empty()) {
        c.exec("INSERT INTO login_failures(scope, key, at) VALUES('user',$1,$2)",
               Params().add(user_key).add(at + skew));
      }
    }
    return Status::success();
  });
}

Result<std::int64_t> PgLoginFailureStore::prune_failures(Millis before) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::int64_t> {
    const Millis skew = timeline_.skew(c);
    return c.exec("DELETE FROM login_failures WHERE at < $1", Params().add(before + skew)).affected();
  });
}

}  // namespace webstream::store::pg
