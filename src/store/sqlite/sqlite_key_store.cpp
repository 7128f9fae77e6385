#include "store/sqlite/sqlite_key_store.hpp"

#include "core/encoding.hpp"

namespace webstream::store {
namespace {

const std::vector<std::string> kKeyMigrations = {
    "CREATE TABLE signing_keys("
    " kid TEXT PRIMARY KEY, algorithm TEXT NOT NULL, public_key TEXT NOT NULL, secret_key TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);",
};

}  // namespace

Result<std::unique_ptr<SqliteKeyStore>> SqliteKeyStore::open(SqliteDb& db) {
  if (auto s = db.migrate("keys", kKeyMigrations); !s) return s.error();
  return std::unique_ptr<SqliteKeyStore>(new SqliteKeyStore(db));
}

Result<std::vector<SigningKeyRow>> SqliteKeyStore::load_keys() {
  return db_.locked([](SqliteDb& db) -> Result<std::vector<SigningKeyRow>> {
    try {
      auto& q = db.prepare(
          "SELECT kid, algorithm, public_key, secret_key, created_at FROM signing_keys ORDER BY created_at, kid");
      std::vector<SigningKeyRow> out;
      while (q.step()) {
        SigningKeyRow row;
        row.kid = q.text(0);
        row.algorithm = q.text(1);
        auto pub = base64url_decode(q.text(2));
        auto sec = base64url_decode(q.text(3));
        if (!pub || !sec) {
          q.reset();
          return Error::internal("store: signing key " + row.kid + " is not readable");
        }
        row.public_key = std::move(*pub);
        row.secret_key = std::move(*sec);
        row.created_at = q.integer(4);
        out.push_back(std::move(row));
      }
      q.reset();
      return out;
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

Status SqliteKeyStore::insert_key(const SigningKeyRow& key) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    db.prepare("INSERT INTO signing_keys(kid, algorithm, public_key, secret_key, created_at) VALUES(?,?,?,?,?)")
        .bind(1, key.kid)
        .bind(2, key.algorithm)
        .bind(3, base64url_encode(key.public_key))
        .bind(4, base64url_encode(key.secret_key))
        .bind(5, key.created_at)
        .run();
    return Status::success();
  });
}

}  // namespace webstream::store
