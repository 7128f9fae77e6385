#pragma once
// The PostgreSQL implementations of every store interface (schema: pg_schema.cpp; opened by PgProvider,
// which applies the migrations first). Each runs its SQL through PgPool::read/transaction, so it is
// thread-safe and blocks on the network (call through runtime::BlockingPool).
//
// Counts are decided by the database, in ONE transaction each, serialised per scope with
// pg_advisory_xact_lock(class, hashtext(id)) — released at COMMIT/ROLLBACK, and so by a gateway's death —
// so that any number of gateways on the database never exceed a limit:
//   sessions: the session id, then user, org and backend (kLockSession/kLockUser/kLockOrg/kLockBackend, in
//   that order: the id so that two users racing for one X-Session-ID get one session and one conflict);
//   licence seats: one lock for the licence (kLockLicence);
//   revocation log: writers exclusive, readers shared (kLockRevocations), see PgRevocationLogStore;
//   login attempts: the username, then the address (kLockLogin), see PgLoginFailureStore::claim_attempt.
// Instants the gateway passes are put on the database's clock by PgTimeline (pg_timeline.hpp).
// A transaction that hits a serialization failure or a deadlock is retried by the pool; every write here
// is idempotent for that (upserts, deletes, inserts guarded by the lock and a re-read).
#include <memory>

#include "store/iam_store.hpp"
#include "store/key_store.hpp"
#include "store/licence_store.hpp"
#include "store/login_failure_store.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/postgres/pg_timeline.hpp"
#include "store/presence_store.hpp"
#include "store/registry_store.hpp"
#include "store/revocation_log_store.hpp"
#include "store/session_store.hpp"
#include "store/string_list_json.hpp"
#include "store/token_store.hpp"

namespace webstream::store::pg {

// Advisory-lock classes (the first key of pg_advisory_xact_lock(int, int)).
inline constexpr int kLockUser = 101;
inline constexpr int kLockOrg = 102;
inline constexpr int kLockBackend = 103;
inline constexpr int kLockLicence = 104;
inline constexpr int kLockRevocations = 105;
inline constexpr int kLockServerUrl = 106;
inline constexpr int kLockSession = 108;
inline constexpr int kLockLogin = 109;

class PgKeyStore final : public KeyStore {
 public:
  explicit PgKeyStore(PgPool& pool) : pool_(pool) {}
  Result<std::vector<SigningKeyRow>> load_keys() override;
  Status insert_key(const SigningKeyRow& key) override;

 private:
  PgPool& pool_;
};

class PgTokenStore final : public TokenStore {
 public:
  explicit PgTokenStore(PgPool& pool) : pool_(pool) {}
  Status revoke(const RevokedToken& token) override;
  Result<std::vector<RevokedToken>> revoked_since(std::int64_t now_s) override;
  Result<std::int64_t> prune_revoked(std::int64_t before_s) override;

 private:
  PgPool& pool_;
};

// at_ms and the page's now_ms are on the writing/reading process's Clock, as with SQLite, but made safe
// for several processes whose clocks disagree: every read records the now_ms it hands out as a high-water
// mark, and every write stamps GREATEST(its clock, that mark). So a cursor returned by any reader is never
// ahead of a later stamp, and "an entry stamped before the read is seen by the read" holds across
// processes. Writers and readers serialise on kLockRevocations (readers write the mark).
class PgRevocationLogStore final : public RevocationLogStore {
 public:
  PgRevocationLogStore(PgPool& pool, const Clock& clock) : pool_(pool), clock_(clock) {}
  Status append(const RevocationEntry& entry) override;
  Result<RevocationPage> since(Millis since_ms, std::size_t limit) override;
  Result<std::int64_t> prune(std::int64_t before_s) override;

 private:
  PgPool& pool_;
  const Clock& clock_;
};

class PgLoginFailureStore final : public LoginFailureStore {
 public:
  PgLoginFailureStore(PgPool& pool, PgTimeline& timeline) : pool_(pool), timeline_(timeline) {}
  Status record_failures(const std::vector<LoginFailureRow>& rows) override;
  Status clear_failures(const std::string& scope, const std::string& key) override;
  Result<std::vector<LoginFailureRow>> failures_since(Millis since) override;
  Result<std::vector<Millis>> failures_of(const std::string& scope, const std::string& key, Millis since) override;
  Result<std::int64_t> prune_failures(Millis before) override;
  Result<AttemptClaim> claim_attempt(const std::string& user_key, const std::string& ip_key, Millis since, int max_user,
                                     int max_ip, Millis at) override;
  Status settle_attempt(const std::string& id, const std::string& user_key, const std::string& ip_key, bool failed,
                        Millis at) override;

 private:
  PgPool& pool_;
  PgTimeline& timeline_;
};

// upsert() sends its rows in pipeline mode (one round trip for a batch of heartbeats).
class PgRegistryStore final : public RegistryStore {
 public:
  PgRegistryStore(PgPool& pool, PgTimeline& timeline) : pool_(pool), timeline_(timeline) {}
  Status upsert(const std::vector<BackendRow>& rows) override;
  Status remove(const std::string& id) override;
  Result<std::vector<BackendRow>> load_all() override;

 private:
  PgPool& pool_;
  PgTimeline& timeline_;
};

class PgSessionStore final : public SessionStore {
 public:
  PgSessionStore(PgPool& pool, PgTimeline& timeline) : pool_(pool), timeline_(timeline) {}
  Result<ReserveOutcome> reserve(const SessionRecord& session, const ReserveLimits& limits) override;
  std::optional<SessionRecord> get(const std::string& id) override;
  Result<bool> set_state(const std::string& id, const std::string& state, Millis at) override;
  Status touch(const std::string& id, Millis at) override;
  Result<std::vector<SessionRecord>> live_sessions() override;
  Result<std::vector<std::string>> end_for_backend(const std::string& backend_id, Millis at) override;
  std::vector<SessionRecord> recent_sessions(Millis since) override;
  Result<std::string> connect_token_secret() override;

 private:
  PgPool& pool_;
  PgTimeline& timeline_;
};

// Liveness rows (gateways) and presence rows (session_presence), pg_presence_store.cpp. Every "alive" and
// "dead" is decided by the database's now(); a death is folded into the sessions' last_activity_at in the
// same transaction that deletes the dead gateway's rows.
class PgPresenceStore final : public PresenceStore {
 public:
  PgPresenceStore(PgPool& pool, PgTimeline& timeline) : pool_(pool), timeline_(timeline) {}
  Result<std::vector<DeadGateway>> renew(const std::string& gateway_id, const std::string& label,
                                         const std::vector<std::string>& holding) override;
  Status hold(const std::string& gateway_id, const std::string& session_id) override;
  Status let_go(const std::string& gateway_id, const std::string& session_id, Millis at) override;
  Result<std::unordered_map<std::string, SessionPresence>> others(const std::string& gateway_id) override;
  Status leave(const std::string& gateway_id, Millis at) override;

 private:
  PgPool& pool_;
  PgTimeline& timeline_;
};

// flush_and_expire() writes the refreshes in pipeline mode (one round trip for a batch of check-ins).
class PgLicenceStore final : public LicenceStore {
 public:
  PgLicenceStore(PgPool& pool, PgTimeline& timeline) : pool_(pool), timeline_(timeline) {}
  Result<std::vector<SeatClaim>> claim_seats(const std::vector<std::string>& guids, Millis now, Millis stale_before,
                                             std::int64_t max) override;
  Result<std::int64_t> release_seat(const std::string& guid, Millis stale_before) override;
  Result<SeatFlush> flush_and_expire(const std::vector<SeatTouch>& touches, Millis stale_before,
                                     std::int64_t max) override;
  Result<std::vector<SeatRecord>> active_seats(Millis stale_before) override;

 private:
  PgPool& pool_;
  PgTimeline& timeline_;
};

class PgIamStore final : public IamStore {
 public:
  explicit PgIamStore(PgPool& pool) : pool_(pool) {}
  Result<bool> is_empty() override;
  Status create_org(const OrgRow& org, const AuditRow& audit) override;
  Result<OrgRow> get_org(const std::string& id) override;
  Result<OrgRow> find_org_by_name(const std::string& name) override;
  Result<PageOf<OrgRow>> list_orgs(const ListQuery& query) override;
  Status update_org(const OrgRow& org, const AuditRow& audit) override;
  Status delete_org(const std::string& id, const AuditRow& audit) override;
  Status create_user(const UserRow& user, const AuditRow& audit) override;
  Result<UserRow> get_user(const std::string& id) override;
  Result<UserRow> find_user_by_username(const std::string& username) override;
  Result<PageOf<UserRow>> list_users(const ListQuery& query) override;
  Status update_user(const UserRow& user, const AuditRow& audit) override;
  Status modify_user(const std::string& id, const UserChange& change, const AuditRow& audit) override;
  Status set_user_password(const std::string& id, const std::string& password_hash, std::int64_t credentials_changed_at,
                           Millis updated_at, const AuditRow& audit) override;
  Status delete_user(const std::string& id, const AuditRow& audit) override;
  Status create_object(const ObjectRow& object, const AuditRow& audit) override;
  Result<ObjectRow> get_object(const std::string& type, const std::string& id) override;
  Result<PageOf<ObjectRow>> list_objects(const std::string& type, const ListQuery& query) override;
  Status update_object(const ObjectRow& object, const AuditRow& audit) override;
  Status delete_object(const std::string& type, const std::string& id, const AuditRow& audit) override;
  Status add_member(const std::string& group_id, const std::string& user_id, Millis at, const AuditRow& audit) override;
  Status remove_member(const std::string& group_id, const std::string& user_id, const AuditRow& audit) override;
  Result<PageOf<MemberRow>> list_members(const std::string& group_id, std::int64_t limit, std::int64_t offset) override;
  Result<std::vector<std::string>> groups_of(const std::string& user_id) override;
  Status create_entitlement(const EntitlementRow& e, const AuditRow& audit) override;
  Result<EntitlementRow> get_entitlement(const std::string& id) override;
  Result<PageOf<EntitlementRow>> list_entitlements(const ListQuery& query) override;
  Status update_entitlement(const EntitlementRow& e, const AuditRow& audit) override;
  Status delete_entitlement(const std::string& id, const AuditRow& audit) override;
  Result<std::vector<EntitlementRow>> entitlements_of(const std::string& org_id, const std::string& user_id,
                                                      const std::vector<std::string>& group_ids) override;
  Result<PageOf<AuditRow>> list_audit(const ListQuery& query) override;
  Status append_audit(const AuditRow& audit) override;

 private:
  PgPool& pool_;
};

// Shared by the store files.
void write_audit(PgConnection& c, const AuditRow& audit);
// Whether `sql` returns a row.
inline bool exists(PgConnection& c, const char* sql, const Params& p) { return !c.exec(sql, p).empty(); }

}  // namespace webstream::store::pg
