// PostgreSQL: the backend registry and the sessions.
#include <openssl/rand.h>

#include <algorithm>

#include "core/encoding.hpp"
#include "store/postgres/pg_stores.hpp"
#include "store/session_admission.hpp"

namespace webstream::store::pg {

// ---- registry

namespace {
// The registry's change (store/change_feed.hpp): its version bumped, the gateways notified at commit.
constexpr const char* kBumpRegistry =
    "WITH bumped AS (UPDATE change_versions SET version = version + 1 WHERE topic = 'registry' RETURNING topic)"
    " SELECT pg_notify('webstream_changes', topic) FROM bumped";
}  // namespace

Status PgRegistryStore::upsert(const std::vector<BackendRow>& rows) {
  if (rows.empty()) return Status::success();
  // serverUrl is the identity: lock each URL (sorted, so two batches never wait on each other in a cycle),
  // drop a row an older id left for it, then upsert by id. The whole batch goes in one pipeline.
  std::vector<const BackendRow*> sorted;
  for (const auto& r : rows) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(),
            [](const BackendRow* a, const BackendRow* b) { return a->server_url < b->server_url; });
  return pool_.transaction([&](PgConnection& c) -> Status {
    // Times go to the database's timeline (pg_timeline.hpp): another gateway compares them with its own now.
    const Millis skew = timeline_.skew(c);
    const auto to_db = [skew](Millis t) { return t == 0 ? Millis{0} : t + skew; };
    std::vector<PgQuery> batch;
    batch.reserve(sorted.size() * 3 + 1);
    batch.push_back({kBumpRegistry, Params()});  // first: the version row before any backend's lock
    for (const BackendRow* r : sorted) {
      batch.push_back(
          {"SELECT pg_advisory_xact_lock($1, hashtext($2))", Params().add(kLockServerUrl).add(r->server_url)});
      batch.push_back({"DELETE FROM backends WHERE server_url=$1 AND id<>$2", Params().add(r->server_url).add(r->id)});
      // A gateway's older view never overwrites a newer heartbeat another gateway wrote.
      batch.push_back(
          {"INSERT INTO backends(id,server_url,max_sessions,instance_type,ec2_instance_id,tags,capabilities,version,"
           "status,active_sessions,cpu_usage,memory_usage,registered_at,last_heartbeat_at,owner_key) "
           "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) "
           "ON CONFLICT(id) DO UPDATE SET server_url=excluded.server_url, max_sessions=excluded.max_sessions,"
           " instance_type=excluded.instance_type, ec2_instance_id=excluded.ec2_instance_id, tags=excluded.tags,"
           " capabilities=excluded.capabilities, version=excluded.version, status=excluded.status,"
           " active_sessions=excluded.active_sessions, cpu_usage=excluded.cpu_usage,"
           " memory_usage=excluded.memory_usage, registered_at=excluded.registered_at,"
           " last_heartbeat_at=excluded.last_heartbeat_at, owner_key=excluded.owner_key"
           " WHERE backends.last_heartbeat_at <= excluded.last_heartbeat_at",
           Params()
               .add(r->id)
               .add(r->server_url)
               .add(r->max_sessions)
               .add(r->instance_type)
               .add(r->ec2_instance_id)
               .add(encode_strings(r->tags))
               .add(encode_strings(r->capabilities))
               .add(r->version)
               .add(r->status)
               .add(r->active_sessions)
               .add(r->cpu_usage)
               .add(r->memory_usage)
               .add(to_db(r->registered_at))
               .add(to_db(r->last_heartbeat_at))
               .add(r->owner_key)});
    }
    c.pipeline(batch);
    return Status::success();
  });
}

Status PgRegistryStore::remove(const std::string& id) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    c.exec(kBumpRegistry);
    c.exec("DELETE FROM backends WHERE id=$1", Params().add(id));
    return Status::success();
  });
}

Result<std::vector<BackendRow>> PgRegistryStore::load_all() {
  return pool_.read([this](PgConnection& c) -> Result<std::vector<BackendRow>> {
    const Millis skew = timeline_.skew(c);
    const auto from_db = [skew](Millis t) { return t == 0 ? Millis{0} : t - skew; };
    auto q = c.exec(
        "SELECT id,server_url,max_sessions,instance_type,ec2_instance_id,tags,capabilities,version,status,"
        "active_sessions,cpu_usage,memory_usage,registered_at,last_heartbeat_at,owner_key FROM backends ORDER BY id "
        "COLLATE \"C\"");
    std::vector<BackendRow> out;
    for (int i = 0; i < q.rows(); ++i) {
      BackendRow r;
      r.id = q.text(i, 0);
      r.server_url = q.text(i, 1);
      r.max_sessions = q.integer(i, 2);
      r.instance_type = q.text(i, 3);
      r.ec2_instance_id = q.text(i, 4);
      r.tags = decode_strings(q.text(i, 5));
      r.capabilities = decode_strings(q.text(i, 6));
      r.version = q.text(i, 7);
      r.status = q.text(i, 8);
      r.active_sessions = q.integer(i, 9);
      r.cpu_usage = q.real(i, 10);
      r.memory_usage = q.real(i, 11);
      r.registered_at = from_db(q.integer(i, 12));
      r.last_heartbeat_at = from_db(q.integer(i, 13));
      r.owner_key = q.text(i, 14);
      out.push_back(std::move(r));
    }
    return out;
  });
}

// ---- sessions

namespace {

constexpr const char* kSessionColumns =
    "id,user_id,username,org_id,workspace_id,workspace_name,workspace_type,app_id,app_exe,app_args,policy_json,"
    "backend_id,state,created_at,last_activity_at,ended_at";

SessionRecord read_session(const PgResult& q, int i, Millis skew) {
  SessionRecord r;
  r.id = q.text(i, 0);
  r.user_id = q.text(i, 1);
  r.username = q.text(i, 2);
  r.org_id = q.text(i, 3);
  r.workspace_id = q.text(i, 4);
  r.workspace_name = q.text(i, 5);
  r.workspace_type = q.text(i, 6);
  r.app_id = q.text(i, 7);
  r.app_exe = q.text(i, 8);
  r.app_args = q.text(i, 9);
  r.policy_json = q.text(i, 10);
  r.backend_id = q.text(i, 11);
  r.state = q.text(i, 12);
  r.created_at = q.integer(i, 13) - skew;
  r.last_activity_at = q.integer(i, 14) - skew;
  const Millis ended = q.integer(i, 15);
  r.ended_at = ended == 0 ? 0 : ended - skew;
  return r;
}

std::int64_t count_live(PgConnection& c, const char* column, const std::string& key) {
  return c
      .exec(std::string("SELECT COUNT(*) FROM sessions WHERE ") + column + "=$1 AND state IN ('reserved','active')",
            Params().add(key))
      .integer(0, 0);
}

void lock(PgConnection& c, int lock_class, const std::string& key) {
  c.exec("SELECT pg_advisory_xact_lock($1, hashtext($2))", Params().add(lock_class).add(key));
}

}  // namespace

Result<ReserveOutcome> PgSessionStore::reserve(const SessionRecord& s, const ReserveLimits& limits) {
  return pool_.transaction([&](PgConnection& c) -> Result<ReserveOutcome> {
    const Millis skew = timeline_.skew(c);
    // Every scope this reservation counts against, always in this order (user, org, backend): held to
    // COMMIT, so no other gateway counts the same scope until this row is written or rolled back.
    lock(c, kLockSession, s.id);
    lock(c, kLockUser, s.user_id);
    if (limits.org_max) lock(c, kLockOrg, s.org_id);
    lock(c, kLockBackend, s.backend_id);
    auto existing =
        c.exec(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id=$1 FOR UPDATE", Params().add(s.id));
    if (!existing.empty()) {
      auto row = read_session(existing, 0, skew);
      auto verdict = admit_existing(row, s);
      if (!verdict) return verdict.error();
      if (*verdict == ExistingSession::kReturnAsIs) return ReserveOutcome{.session = row, .existing = true};
    }
    const auto count = [&c](const char* column, const std::string& value) { return count_live(c, column, value); };
    if (auto refusal = limit_refusal(s, limits, count)) return *refusal;
    c.exec(
        "INSERT INTO sessions(id,user_id,username,org_id,workspace_id,workspace_name,workspace_type,app_id,app_exe,"
        "app_args,policy_json,backend_id,state,created_at,last_activity_at,ended_at) "
        "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'reserved',$13,$13,0) "
        "ON CONFLICT(id) DO UPDATE SET user_id=excluded.user_id, username=excluded.username, org_id=excluded.org_id,"
        " workspace_id=excluded.workspace_id, workspace_name=excluded.workspace_name,"
        " workspace_type=excluded.workspace_type, app_id=excluded.app_id, app_exe=excluded.app_exe,"
        " app_args=excluded.app_args, policy_json=excluded.policy_json, backend_id=excluded.backend_id,"
        " state='reserved', created_at=excluded.created_at, last_activity_at=excluded.last_activity_at, ended_at=0",
        Params()
            .add(s.id)
            .add(s.user_id)
            .add(s.username)
            .add(s.org_id)
            .add(s.workspace_id)
            .add(s.workspace_name)
            .add(s.workspace_type)
            .add(s.app_id)
            .add(s.app_exe)
            .add(s.app_args)
            .add(s.policy_json)
            .add(s.backend_id)
            .add(s.created_at + skew));
    SessionRecord written = s;
    written.state = kReserved;
    written.last_activity_at = s.created_at;
    written.ended_at = 0;
    return ReserveOutcome{.session = written, .existing = false};
  });
}

std::optional<SessionRecord> PgSessionStore::get(const std::string& id) {
  auto r = pool_.read([&](PgConnection& c) -> Result<std::optional<SessionRecord>> {
    const Millis skew = timeline_.skew(c);
    auto q = c.exec(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE id=$1", Params().add(id));
    if (q.empty()) return std::optional<SessionRecord>();
    return std::optional<SessionRecord>(read_session(q, 0, skew));
  });
  return r ? r.value() : std::nullopt;
}

Result<bool> PgSessionStore::set_state(const std::string& id, const std::string& state, Millis at) {
  return pool_.transaction([&](PgConnection& c) -> Result<bool> {
    const Millis skew = timeline_.skew(c);
    const bool live = state == kReserved || state == kActive;
    // A session that stopped being live never comes back (a late background "active" write after a release).
    // An expiry is refused while a live gateway holds a WebSocket of the session (store/presence_store.hpp):
    // a reconnect through another gateway that committed its presence since the expiring gateway last read
    // it wins.
    std::string sql =
        "UPDATE sessions SET state=$1, last_activity_at=GREATEST(last_activity_at, $2), ended_at=$3 "
        "WHERE id=$4 AND state IN ('reserved','active')";
    if (state == std::string(kExpired)) {
      sql +=
          " AND NOT EXISTS (SELECT 1 FROM session_presence p JOIN gateways g ON g.id = p.gateway_id"
          " WHERE p.session_id = sessions.id AND g.renewed_at >= (extract(epoch FROM now()) * 1000)::bigint - " +
          std::to_string(std::chrono::milliseconds(kGatewayDeadAfter).count()) + ")";
    }
    return c.exec(sql, Params().add(state).add(at + skew).add(live ? Millis{0} : at + skew).add(id)).affected() > 0;
  });
}

Status PgSessionStore::touch(const std::string& id, Millis at) {
  return pool_.transaction([&](PgConnection& c) -> Status {
    const Millis skew = timeline_.skew(c);
    c.exec("UPDATE sessions SET last_activity_at=GREATEST(last_activity_at, $1) WHERE id=$2",
           Params().add(at + skew).add(id));
    return Status::success();
  });
}

Result<std::vector<SessionRecord>> PgSessionStore::live_sessions() {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<SessionRecord>> {
    const Millis skew = timeline_.skew(c);
    auto q = c.exec(std::string("SELECT ") + kSessionColumns + " FROM sessions WHERE state IN ('reserved','active')");
    std::vector<SessionRecord> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(read_session(q, i, skew));
    return out;
  });
}

Result<std::vector<std::string>> PgSessionStore::end_for_backend(const std::string& backend_id, Millis at) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::vector<std::string>> {
    const Millis skew = timeline_.skew(c);
    auto q = c.exec(
        "UPDATE sessions SET state='ended', ended_at=$1 WHERE backend_id=$2 AND state IN ('reserved','active')"
        " RETURNING id",
        Params().add(at + skew).add(backend_id));
    std::vector<std::string> ids;
    for (int i = 0; i < q.rows(); ++i) ids.push_back(q.text(i, 0));
    std::sort(ids.begin(), ids.end());
    return ids;
  });
}

std::vector<SessionRecord> PgSessionStore::recent_sessions(Millis since) {
  auto r = pool_.read([&](PgConnection& c) -> Result<std::vector<SessionRecord>> {
    const Millis skew = timeline_.skew(c);
    auto q = c.exec(std::string("SELECT ") + kSessionColumns +
                        " FROM sessions WHERE last_activity_at >= $1 ORDER BY last_activity_at ASC, id",
                    Params().add(since + skew));
    std::vector<SessionRecord> out;
    for (int i = 0; i < q.rows(); ++i) out.push_back(read_session(q, i, skew));
    return out;
  });
  return r ? std::move(r.value()) : std::vector<SessionRecord>{};
}

Result<std::string> PgSessionStore::connect_token_secret() {
  std::string fresh(kConnectTokenSecretBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(fresh.data()), static_cast<int>(fresh.size())) != 1) {
    return Error::internal("no random bytes for the connect-token secret (RAND_bytes failed)");
  }
  // Whoever inserts first wins; every gateway then reads the same secret (a connectToken works on all).
  return pool_.transaction([&](PgConnection& c) -> Result<std::string> {
    c.exec("INSERT INTO session_secret(id, secret) VALUES(1, $1) ON CONFLICT(id) DO NOTHING",
           Params().add(base64url_encode(fresh)));
    auto q = c.exec("SELECT secret FROM session_secret WHERE id=1");
    auto stored = base64url_decode(q.text(0, 0));
    if (!stored || stored->size() != kConnectTokenSecretBytes) {
      return Error::internal("the stored connect-token secret is damaged (not 32 bytes of base64url)");
    }
    return std::move(*stored);
  });
}

}  // namespace webstream::store::pg
