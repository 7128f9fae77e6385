#pragma once
// SqliteProvider: StoreProvider on one SqliteDb (the single-gateway default). db() gives the file's
// connection to tools that need SQLite itself (backup, store copy).
#include <memory>

#include "store/sqlite/sqlite_db.hpp"
#include "store/store_provider.hpp"

namespace webstream::store {

class SqliteProvider final : public StoreProvider {
 public:
  SqliteProvider(std::unique_ptr<SqliteDb> db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}
  std::string name() const override { return "sqlite"; }
  std::string location() const override { return path_; }
  SqliteDb& db() { return *db_; }

  Result<std::unique_ptr<IamStore>> iam() override;
  Result<std::unique_ptr<KeyStore>> keys() override;
  Result<std::unique_ptr<TokenStore>> tokens() override;
  Result<std::unique_ptr<RevocationLogStore>> revocation_log(const Clock& clock) override;
  Result<std::unique_ptr<LoginFailureStore>> login_failures() override;
  Result<std::unique_ptr<RegistryStore>> registry() override;
  Result<std::unique_ptr<SessionStore>> sessions() override;
  Result<std::unique_ptr<LicenceStore>> licence() override;

 private:
  std::unique_ptr<SqliteDb> db_;
  std::string path_;
};

}  // namespace webstream::store
