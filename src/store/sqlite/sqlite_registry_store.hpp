#pragma once
// SqliteRegistryStore: RegistryStore on the shared SqliteDb (table `backends`, migrations domain
// "registry"). Tags and capabilities are stored as JSON arrays of strings.
#include <memory>

#include "store/registry_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {

class SqliteRegistryStore final : public RegistryStore {
 public:
  // Applies the "registry" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteRegistryStore>> open(SqliteDb& db);

  // RegistryStore
  Status upsert(const std::vector<BackendRow>& rows) override;
  Status remove(const std::string& id) override;
  Result<std::vector<BackendRow>> load_all() override;

 private:
  explicit SqliteRegistryStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace webstream::store
