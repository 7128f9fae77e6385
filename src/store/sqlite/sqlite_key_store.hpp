#pragma once
// SQLite implementation of KeyStore (migration domain "keys"): table signing_keys. Key bytes are stored
// base64url-encoded as text.
#include <memory>

#include "store/key_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {

class SqliteKeyStore final : public KeyStore {
 public:
  // Applies the "keys" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteKeyStore>> open(SqliteDb& db);

  // KeyStore
  Result<std::vector<SigningKeyRow>> load_keys() override;
  Status insert_key(const SigningKeyRow& key) override;

 private:
  explicit SqliteKeyStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace webstream::store
