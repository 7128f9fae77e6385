#include "store/sqlite/sqlite_session_store.hpp"

#include <openssl/rand.h>

#include <string_view>

#include "core/encoding.hpp"
#include "store/session_admission.hpp"

namespace webstream::store {
namespace {

const std::vector<std::string> kSessionMigrations = {
    "CREATE TABLE sessions("
    " id TEXT PRIMARY KEY, user_id TEXT NOT NULL, username TEXT NOT NULL, org_id TEXT NOT NULL,"
    " workspace_id TEXT NOT NULL, workspace_name TEXT NOT NULL, workspace_type TEXT NOT NULL,"
    " app_id TEXT NOT NULL, app_exe TEXT NOT NULL, app_args TEXT NOT NULL, policy_json TEXT NOT NULL,"
    " backend_id TEXT NOT NULL, state TEXT NOT NULL, created_at INTEGER NOT NULL,"
    " last_activity_at INTEGER NOT NULL, ended_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX sessions_live_user ON sessions(user_id) WHERE state IN ('reserved','active');"
    "CREATE INDEX sessions_live_org ON sessions(org_id) WHERE state IN ('reserved','active');"
    "CREATE INDEX sessions_live_backend ON sessions(backend_id) WHERE state IN ('reserved','active');"
    "CREATE TABLE session_secret(id INTEGER PRIMARY KEY CHECK (id = 1), secret TEXT NOT NULL);",
};

constexpr const char* kColumns =
    "id,user_id,username,org_id,workspace_id,workspace_name,workspace_type,app_id,app_exe,app_args,policy_json,"
    "backend_id,state,created_at,last_activity_at,ended_at";

SessionRecord read_row(Statement& q) {
  SessionRecord r;
  r.id = q.text(0);
  r.user_id = q.text(1);
  r.username = q.text(2);
  r.org_id = q.text(3);
  r.workspace_id = q.text(4);
  r.workspace_name = q.text(5);
  r.workspace_type = q.text(6);
  r.app_id = q.text(7);
  r.app_exe = q.text(8);
  r.app_args = q.text(9);
  r.policy_json = q.text(10);
  r.backend_id = q.text(11);
  r.state = q.text(12);
  r.created_at = q.integer(13);
  r.last_activity_at = q.integer(14);
  r.ended_at = q.integer(15);
  return r;
}

std::optional<SessionRecord> get_unlocked(SqliteDb& db, const std::string& id) {
  auto& q = db.prepare(std::string("SELECT ") + kColumns + " FROM sessions WHERE id=?");
  q.bind(1, id);
  std::optional<SessionRecord> out;
  if (q.step()) out = read_row(q);
  q.reset();
  return out;
}

}  // namespace

Result<std::unique_ptr<SqliteSessionStore>> SqliteSessionStore::open(SqliteDb& db) {
  if (auto s = db.migrate("sessions", kSessionMigrations); !s) return s.error();
  return std::unique_ptr<SqliteSessionStore>(new SqliteSessionStore(db));
}

Result<ReserveOutcome> SqliteSessionStore::reserve(const SessionRecord& s, const ReserveLimits& limits) {
  return db_.transaction([&](SqliteDb& db) -> Result<ReserveOutcome> {
    if (auto existing = get_unlocked(db, s.id)) {
      auto verdict = admit_existing(*existing, s);
      if (!verdict) return verdict.error();
      if (*verdict == ExistingSession::kReturnAsIs) return ReserveOutcome{.session = *existing, .existing = true};
    }
    const auto count_live = [&db](const char* column, const std::string& value) {
      return db.count(
          std::string("SELECT COUNT(*) FROM sessions WHERE ") + column + "=? AND state IN ('reserved','active')",
          value);
    };
    if (auto refusal = limit_refusal(s, limits, count_live)) return *refusal;
    auto& q = db.prepare(
        "INSERT INTO sessions(id,user_id,username,org_id,workspace_id,workspace_name,workspace_type,app_id,app_exe,"
        "app_args,policy_json,backend_id,state,created_at,last_activity_at,ended_at) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,'reserved',?,?,0) "
        "ON CONFLICT(id) DO UPDATE SET user_id=excluded.user_id, username=excluded.username, org_id=excluded.org_id,"
        " workspace_id=excluded.workspace_id, workspace_name=excluded.workspace_name,"
        " workspace_type=excluded.workspace_type, app_id=excluded.app_id, app_exe=excluded.app_exe,"
        " app_args=excluded.app_args, policy_json=excluded.policy_json, backend_id=excluded.backend_id,"
        " state='reserved', created_at=excluded.created_at, last_activity_at=excluded.last_activity_at, ended_at=0");
    q.bind(1, s.id).bind(2, s.user_id).bind(3, s.username).bind(4, s.org_id).bind(5, s.workspace_id);
    q.bind(6, s.workspace_name).bind(7, s.workspace_type).bind(8, s.app_id).bind(9, s.app_exe).bind(10, s.app_args);
    q.bind(11, s.policy_json).bind(12, s.backend_id).bind(13, s.created_at).bind(14, s.created_at);
    q.run();
    SessionRecord written = s;
    written.state = kReserved;
    written.last_activity_at = s.created_at;
    written.ended_at = 0;
    return ReserveOutcome{.session = written, .existing = false};
  });
}

std::optional<SessionRecord> SqliteSessionStore::get(const std::string& id) {
  return db_.locked([&](SqliteDb& db) { return get_unlocked(db, id); });
}

Result<bool> SqliteSessionStore::set_state(const std::string& id, const std::string& state, Millis at) {
  return db_.transaction([&](SqliteDb& db) -> Result<bool> {
    const bool live = state == kReserved || state == kActive;
    // A session that stopped being live never comes back: a late background "active" write must not undo a
    // release, an expiry or a revocation (a restart would otherwise load the session as live again).
    auto& q = db.prepare(
        "UPDATE sessions SET state=?, last_activity_at=MAX(last_activity_at, ?), ended_at=? "
        "WHERE id=? AND state IN ('reserved','active')");
    q.bind(1, state).bind(2, at).bind(3, live ? Millis{0} : at).bind(4, id);
    return q.run() > 0;
  });
}

Status SqliteSessionStore::touch(const std::string& id, Millis at) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    db.prepare("UPDATE sessions SET last_activity_at=MAX(last_activity_at, ?) WHERE id=?")
        .bind(1, at)
        .bind(2, id)
        .run();
    return Status::success();
  });
}

Result<std::vector<SessionRecord>> SqliteSessionStore::live_sessions() {
  return db_.locked([&](SqliteDb& db) -> Result<std::vector<SessionRecord>> {
    std::vector<SessionRecord> out;
    auto& q = db.prepare(std::string("SELECT ") + kColumns + " FROM sessions WHERE state IN ('reserved','active')");
    while (q.step()) out.push_back(read_row(q));
    q.reset();
    return out;
  });
}

Result<std::vector<std::string>> SqliteSessionStore::end_for_backend(const std::string& backend_id, Millis at) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::vector<std::string>> {
    std::vector<std::string> ids;
    auto& q = db.prepare("SELECT id FROM sessions WHERE backend_id=? AND state IN ('reserved','active')");
    q.bind(1, backend_id);
    while (q.step()) ids.push_back(q.text(0));
    q.reset();
    db.prepare("UPDATE sessions SET state='ended', ended_at=? WHERE backend_id=? AND state IN ('reserved','active')")
        .bind(1, at)
        .bind(2, backend_id)
        .run();
    return ids;
  });
}

std::vector<SessionRecord> SqliteSessionStore::recent_sessions(Millis since) {
  return db_.locked([&](SqliteDb& db) {
    std::vector<SessionRecord> out;
    auto& q = db.prepare(std::string("SELECT ") + kColumns +
                         " FROM sessions WHERE last_activity_at >= ? ORDER BY last_activity_at ASC");
    q.bind(1, since);
    while (q.step()) out.push_back(read_row(q));
    q.reset();
    return out;
  });
}

Result<std::string> SqliteSessionStore::connect_token_secret() {
  return db_.transaction([&](SqliteDb& db) -> Result<std::string> {
    auto& q = db.prepare("SELECT secret FROM session_secret WHERE id=1");
    if (q.step()) {
      auto stored = base64url_decode(q.text(0));
      q.reset();
      if (!stored || stored->size() != kConnectTokenSecretBytes) {
        return Error::internal("the stored connect-token secret is damaged (not 32 bytes of base64url)");
      }
      return std::move(*stored);
    }
    q.reset();
    std::string raw(kConnectTokenSecretBytes, '\0');
    if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(raw.size())) != 1) {
      return Error::internal("no random bytes for the connect-token secret (RAND_bytes failed)");
    }
    db.prepare("INSERT INTO session_secret(id, secret) VALUES(1, ?)").bind(1, base64url_encode(raw)).run();
    return raw;
  });
}

}  // namespace webstream::store
