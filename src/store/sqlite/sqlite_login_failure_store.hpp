#pragma once
// SQLite implementation of LoginFailureStore (migration domain "logins"): table login_failures(scope, key,
// at) with indexes for the window scan at start and the per-key clear.
#include <memory>

#include "store/login_failure_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {

class SqliteLoginFailureStore final : public LoginFailureStore {
 public:
  // Applies the "logins" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteLoginFailureStore>> open(SqliteDb& db);

  // LoginFailureStore
  Status record_failures(const std::vector<LoginFailureRow>& rows) override;
  Status clear_failures(const std::string& scope, const std::string& key) override;
  Result<std::vector<LoginFailureRow>> failures_since(Millis since) override;
  Result<std::vector<Millis>> failures_of(const std::string& scope, const std::string& key, Millis since) override;
  Result<std::int64_t> prune_failures(Millis before) override;

 private:
  explicit SqliteLoginFailureStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace webstream::store
