#include "store/sqlite/sqlite_login_failure_store.hpp"

namespace webstream::store {
namespace {

const std::vector<std::string> kLoginFailureMigrations = {
    "CREATE TABLE login_failures(scope TEXT NOT NULL, key TEXT NOT NULL, at INTEGER NOT NULL);"
    "CREATE INDEX login_failures_at ON login_failures(at);"
    "CREATE INDEX login_failures_key ON login_failures(scope, key);",
};

}  // namespace

Result<std::unique_ptr<SqliteLoginFailureStore>> SqliteLoginFailureStore::open(SqliteDb& db) {
  if (auto s = db.migrate("logins", kLoginFailureMigrations); !s) return s.error();
  return std::unique_ptr<SqliteLoginFailureStore>(new SqliteLoginFailureStore(db));
}

Status SqliteLoginFailureStore::record_failures(const std::vector<LoginFailureRow>& rows) {
  if (rows.empty()) return Status::success();
  return db_.transaction([&](SqliteDb& db) -> Status {
    for (const auto& row : rows) {
      db.prepare("INSERT INTO login_failures(scope, key, at) VALUES(?,?,?)")
          .bind(1, row.scope)
          .bind(2, row.key)
          .bind(3, row.at)
          .run();
    }
    return Status::success();
  });
}

Status SqliteLoginFailureStore::clear_failures(const std::string& scope, const std::string& key) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    db.prepare("DELETE FROM login_failures WHERE scope=? AND key=?").bind(1, scope).bind(2, key).run();
    return Status::success();
  });
}

Result<std::vector<Millis>> SqliteLoginFailureStore::failures_of(const std::string& scope, const std::string& key,
                                                                 Millis since) {
  return db_.locked([&](SqliteDb& db) -> Result<std::vector<Millis>> {
    try {
      auto& q = db.prepare("SELECT at FROM login_failures WHERE scope = ? AND key = ? AND at >= ? ORDER BY at");
      q.bind(1, scope).bind(2, key).bind(3, since);
      std::vector<Millis> out;
      while (q.step()) out.push_back(q.integer(0));
      q.reset();
      return out;
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

Result<std::vector<LoginFailureRow>> SqliteLoginFailureStore::failures_since(Millis since) {
  return db_.locked([&](SqliteDb& db) -> Result<std::vector<LoginFailureRow>> {
    try {
      auto& q = db.prepare("SELECT scope, key, at FROM login_failures WHERE at >= ? ORDER BY at");
      q.bind(1, since);
      std::vector<LoginFailureRow> out;
      while (q.step()) out.push_back(LoginFailureRow{q.text(0), q.text(1), q.integer(2)});
      q.reset();
      return out;
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

Result<std::int64_t> SqliteLoginFailureStore::prune_failures(Millis before) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::int64_t> {
    return static_cast<std::int64_t>(db.prepare("DELETE FROM login_failures WHERE at < ?").bind(1, before).run());
  });
}

}  // namespace webstream::store
