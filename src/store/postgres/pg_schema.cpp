#include "store/postgres/pg_schema.hpp"

namespace webstream::store::pg {
namespace {

// Timestamps are epoch milliseconds (bigint) like the SQLite store's, so `store copy` moves them as they
// are and the interfaces stay one. Every table that lists in creation order has a `seq` for stable ties.
const std::vector<std::string> kMigrations = {
    // 1: every domain of the first PostgreSQL release.
    "CREATE TABLE iam_orgs("
    " seq bigserial NOT NULL, id text PRIMARY KEY, name text NOT NULL UNIQUE, max_sessions bigint,"
    " created_at bigint NOT NULL, updated_at bigint NOT NULL);"
    "CREATE TABLE iam_users("
    " seq bigserial NOT NULL, id text PRIMARY KEY, org_id text NOT NULL REFERENCES iam_orgs(id),"
    " username text NOT NULL, password_hash text NOT NULL, roles text NOT NULL,"
    " display_name text NOT NULL DEFAULT '', email text NOT NULL DEFAULT '', disabled boolean NOT NULL DEFAULT false,"
    " credentials_changed_at bigint NOT NULL DEFAULT 0, created_at bigint NOT NULL, updated_at bigint NOT NULL);"
    "CREATE UNIQUE INDEX iam_users_username ON iam_users(lower(username));"
    "CREATE INDEX iam_users_org ON iam_users(org_id, created_at, seq);"
    "CREATE TABLE iam_objects("
    " seq bigserial NOT NULL, id text PRIMARY KEY, type text NOT NULL, org_id text NOT NULL REFERENCES iam_orgs(id),"
    " name text NOT NULL, doc jsonb NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,"
    " UNIQUE(type, org_id, name));"
    "CREATE INDEX iam_objects_list ON iam_objects(type, org_id, created_at, seq);"
    "CREATE TABLE iam_group_members("
    " seq bigserial NOT NULL, group_id text NOT NULL REFERENCES iam_objects(id) ON DELETE CASCADE,"
    " user_id text NOT NULL REFERENCES iam_users(id) ON DELETE CASCADE, added_at bigint NOT NULL,"
    " PRIMARY KEY(group_id, user_id));"
    "CREATE INDEX iam_group_members_user ON iam_group_members(user_id);"
    "CREATE TABLE iam_entitlements("
    " seq bigserial NOT NULL, id text PRIMARY KEY, org_id text NOT NULL REFERENCES iam_orgs(id),"
    " subject_type text NOT NULL, subject_id text NOT NULL,"
    " workspace_id text NOT NULL REFERENCES iam_objects(id) ON DELETE CASCADE, app_ids text NOT NULL,"
    " policy_id text REFERENCES iam_objects(id), created_at bigint NOT NULL, updated_at bigint NOT NULL,"
    " UNIQUE(subject_type, subject_id, workspace_id));"
    "CREATE INDEX iam_entitlements_subject ON iam_entitlements(subject_id);"
    "CREATE INDEX iam_entitlements_org ON iam_entitlements(org_id, created_at, seq);"
    "CREATE INDEX iam_entitlements_policy ON iam_entitlements(policy_id);"
    "CREATE TABLE iam_audit("
    " seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, at bigint NOT NULL, actor text NOT NULL,"
    " actor_name text NOT NULL, action text NOT NULL, object_type text NOT NULL, object_id text NOT NULL,"
    " org_id text NOT NULL);"
    "CREATE INDEX iam_audit_org ON iam_audit(org_id, seq);"
    "CREATE TABLE signing_keys("
    " kid text PRIMARY KEY, algorithm text NOT NULL, public_key text NOT NULL, secret_key text NOT NULL,"
    " created_at bigint NOT NULL);"
    "CREATE TABLE revoked_tokens(jti text PRIMARY KEY, expires_at bigint NOT NULL);"
    "CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);"
    "CREATE TABLE revocation_log("
    " kind int NOT NULL, subject text NOT NULL, value bigint NOT NULL, relevant_until bigint NOT NULL,"
    " at_ms bigint NOT NULL, PRIMARY KEY(kind, subject));"
    "CREATE INDEX revocation_log_at ON revocation_log(at_ms);"
    "CREATE INDEX revocation_log_relevance ON revocation_log(relevant_until);"
    "CREATE TABLE revocation_log_clock(id int PRIMARY KEY CHECK (id = 1), high_water bigint NOT NULL);"
    "INSERT INTO revocation_log_clock VALUES(1, 0);"
    "CREATE TABLE login_failures(id bigserial PRIMARY KEY, scope text NOT NULL, key text NOT NULL, at bigint NOT NULL);"
    "CREATE INDEX login_failures_at ON login_failures(at);"
    "CREATE INDEX login_failures_key ON login_failures(scope, key);"
    "CREATE TABLE backends("
    " id text PRIMARY KEY, server_url text NOT NULL UNIQUE, max_sessions bigint NOT NULL,"
    " instance_type text NOT NULL, ec2_instance_id text NOT NULL, tags text NOT NULL, capabilities text NOT NULL,"
    " version text NOT NULL, status text NOT NULL, active_sessions bigint NOT NULL, cpu_usage double precision NOT "
    "NULL,"
    " memory_usage double precision NOT NULL, registered_at bigint NOT NULL, last_heartbeat_at bigint NOT NULL,"
    " owner_key text NOT NULL);"
    "CREATE TABLE sessions("
    " id text PRIMARY KEY, user_id text NOT NULL, username text NOT NULL, org_id text NOT NULL,"
    " workspace_id text NOT NULL, workspace_name text NOT NULL, workspace_type text NOT NULL,"
    " app_id text NOT NULL, app_exe text NOT NULL, app_args text NOT NULL, policy_json text NOT NULL,"
    " backend_id text NOT NULL, state text NOT NULL, created_at bigint NOT NULL,"
    " last_activity_at bigint NOT NULL, ended_at bigint NOT NULL DEFAULT 0);"
    "CREATE INDEX sessions_live_user ON sessions(user_id) WHERE state IN ('reserved','active');"
    "CREATE INDEX sessions_live_org ON sessions(org_id) WHERE state IN ('reserved','active');"
    "CREATE INDEX sessions_live_backend ON sessions(backend_id) WHERE state IN ('reserved','active');"
    "CREATE INDEX sessions_activity ON sessions(last_activity_at);"
    "CREATE TABLE session_secret(id int PRIMARY KEY CHECK (id = 1), secret text NOT NULL);"
    "CREATE TABLE licence_seats(guid text PRIMARY KEY, first_seen bigint NOT NULL, last_seen bigint NOT NULL);"
    "CREATE INDEX licence_seats_last_seen ON licence_seats(last_seen);",
    // 2: gateway liveness and WebSocket presence (pg_presence_store.cpp). Times in database milliseconds.
    "CREATE TABLE gateways(id text PRIMARY KEY, label text NOT NULL, started_at bigint NOT NULL,"
    " renewed_at bigint NOT NULL);"
    "CREATE INDEX gateways_renewed ON gateways(renewed_at);"
    "CREATE TABLE session_presence(gateway_id text NOT NULL, session_id text NOT NULL, since bigint NOT NULL,"
    " PRIMARY KEY(gateway_id, session_id));"
    "CREATE INDEX session_presence_session ON session_presence(session_id);",
    // 3: login attempts in flight (PgLoginFailureStore::claim_attempt), started_at in database milliseconds.
    "CREATE TABLE login_attempts(id text PRIMARY KEY, user_key text NOT NULL, ip_key text NOT NULL,"
    " started_at bigint NOT NULL);"
    "CREATE INDEX login_attempts_user ON login_attempts(user_key);"
    "CREATE INDEX login_attempts_ip ON login_attempts(ip_key);"
    "CREATE INDEX login_attempts_started ON login_attempts(started_at);",
    // 4: the versioned change table (store/change_feed.hpp, pg_change_listener.cpp): every statement that
    // changes a topic's tables bumps the topic's version in its own transaction and notifies at commit. The
    // registry's writes bump theirs explicitly, first thing in their transaction (PgRegistryStore), so that
    // the version row is always locked before any backend's lock.
    "CREATE TABLE change_versions(topic text PRIMARY KEY, version bigint NOT NULL);"
    "INSERT INTO change_versions VALUES('revocations', 0), ('iam', 0), ('registry', 0);"
    "CREATE FUNCTION webstream_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
    " UPDATE change_versions SET version = version + 1 WHERE topic = TG_ARGV[0];"
    " PERFORM pg_notify('webstream_changes', TG_ARGV[0]); RETURN NULL; END $$;"
    "CREATE TRIGGER revocation_log_changed AFTER INSERT OR UPDATE OR DELETE ON revocation_log"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('revocations');"
    "CREATE TRIGGER revoked_tokens_changed AFTER INSERT OR UPDATE OR DELETE ON revoked_tokens"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('revocations');"
    "CREATE TRIGGER iam_orgs_changed AFTER INSERT OR UPDATE OR DELETE ON iam_orgs"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('iam');"
    "CREATE TRIGGER iam_users_changed AFTER INSERT OR UPDATE OR DELETE ON iam_users"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('iam');"
    "CREATE TRIGGER iam_objects_changed AFTER INSERT OR UPDATE OR DELETE ON iam_objects"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('iam');"
    "CREATE TRIGGER iam_group_members_changed AFTER INSERT OR UPDATE OR DELETE ON iam_group_members"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('iam');"
    "CREATE TRIGGER iam_entitlements_changed AFTER INSERT OR UPDATE OR DELETE ON iam_entitlements"
    " FOR EACH STATEMENT EXECUTE FUNCTION webstream_changed('iam');",
};

Error migration_error(std::int64_t version, const std::string& why) {
  return Error::internal("store migration to schema version " + std::to_string(version) + ": " + why);
}

}  // namespace

const std::vector<std::string>& schema_migrations() { return kMigrations; }
std::int64_t schema_version() { return static_cast<std::int64_t>(kMigrations.size()); }

Result<std::int64_t> database_schema_version(PgPool& pool) {
  return pool.read([](PgConnection& c) -> Result<std::int64_t> {
    auto exists = c.exec("SELECT to_regclass('webstream_schema') IS NOT NULL");
    if (!exists.boolean(0, 0)) return std::int64_t{0};
    return c.exec("SELECT COALESCE(MAX(version), 0) FROM webstream_schema").integer(0, 0);
  });
}

Status migrate(PgPool& pool, const std::vector<std::string>& steps) {
  const auto known = static_cast<std::int64_t>(steps.size());
  return pool.read([&](PgConnection& c) -> Status {
    // A session-level lock: held across the per-step transactions, released below or when the connection
    // drops (a gateway killed mid-migration leaves no lock behind; its step's transaction rolls back).
    c.exec("SELECT pg_advisory_lock($1)", Params().add(kMigrationLockKey));
    struct Unlock {
      PgConnection& c;
      ~Unlock() {
        try {
          c.exec("SELECT pg_advisory_unlock($1)", Params().add(kMigrationLockKey));
        } catch (const PgError&) {}
      }
    } unlock{c};
    c.exec_script(
        "CREATE TABLE IF NOT EXISTS webstream_schema(version bigint PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())");
    const std::int64_t current = c.exec("SELECT COALESCE(MAX(version), 0) FROM webstream_schema").integer(0, 0);
    if (current > known) {
      return Error::internal("the database schema version " + std::to_string(current) +
                             " is newer than this gateway's schema version " + std::to_string(known) +
                             "; run a gateway of the newer release");
    }
    for (std::int64_t v = current + 1; v <= known; ++v) {
      try {
        c.exec_script("BEGIN");
        c.exec_script(steps[static_cast<std::size_t>(v - 1)]);
        c.exec("INSERT INTO webstream_schema(version) VALUES($1)", Params().add(v));
        c.exec_script("COMMIT");
      } catch (const PgError& e) {
        if (c.healthy()) {
          try {
            c.exec_script("ROLLBACK");
          } catch (const PgError&) {}
        }
        return migration_error(v, e.message);
      }
    }
    return Status::success();
  });
}

}  // namespace webstream::store::pg
