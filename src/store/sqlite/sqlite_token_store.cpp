#include "store/sqlite/sqlite_token_store.hpp"

namespace webstream::store {
namespace {

const std::vector<std::string> kTokenMigrations = {
    "CREATE TABLE revoked_tokens(jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX revoked_tokens_expiry ON revoked_tokens(expires_at);",
};

}  // namespace

Result<std::unique_ptr<SqliteTokenStore>> SqliteTokenStore::open(SqliteDb& db) {
  if (auto s = db.migrate("tokens", kTokenMigrations); !s) return s.error();
  return std::unique_ptr<SqliteTokenStore>(new SqliteTokenStore(db));
}

Status SqliteTokenStore::revoke(const RevokedToken& token) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    db.prepare(
          "INSERT INTO revoked_tokens(jti, expires_at) VALUES(?,?) "
          "ON CONFLICT(jti) DO UPDATE SET expires_at=MAX(expires_at, excluded.expires_at)")
        .bind(1, token.jti)
        .bind(2, token.expires_at)
        .run();
    return Status::success();
  });
}

Result<std::vector<RevokedToken>> SqliteTokenStore::revoked_since(std::int64_t now_s) {
  return db_.locked([&](SqliteDb& db) -> Result<std::vector<RevokedToken>> {
    try {
      auto& q = db.prepare("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at >= ? ORDER BY expires_at");
      q.bind(1, now_s);
      std::vector<RevokedToken> out;
      while (q.step()) out.push_back(RevokedToken{q.text(0), q.integer(1)});
      q.reset();
      return out;
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

Result<std::int64_t> SqliteTokenStore::prune_revoked(std::int64_t before_s) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::int64_t> {
    return static_cast<std::int64_t>(
        db.prepare("DELETE FROM revoked_tokens WHERE expires_at < ?").bind(1, before_s).run());
  });
}

}  // namespace webstream::store
