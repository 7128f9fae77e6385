#pragma once
// SQLite implementation of TokenStore (migration domain "tokens"): table revoked_tokens(jti, expires_at)
// with an index on expires_at so pruning is a range delete.
#include <memory>

#include "store/sqlite/sqlite_db.hpp"
#include "store/token_store.hpp"

namespace webstream::store {

class SqliteTokenStore final : public TokenStore {
 public:
  // Applies the "tokens" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteTokenStore>> open(SqliteDb& db);

  // TokenStore
  Status revoke(const RevokedToken& token) override;
  Result<std::vector<RevokedToken>> revoked_since(std::int64_t now_s) override;
  Result<std::int64_t> prune_revoked(std::int64_t before_s) override;

 private:
  explicit SqliteTokenStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace webstream::store
