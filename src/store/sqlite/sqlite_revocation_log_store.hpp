#pragma once
// SQLite implementation of RevocationLogStore (migration domain "revocation_log"): one row per (kind,
// subject), re-stamped when it is recorded again with a larger value, indexed by at_ms (incremental reads)
// and relevant_until (pruning).
#include <memory>

#include "core/clock.hpp"
#include "store/revocation_log_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {

class SqliteRevocationLogStore final : public RevocationLogStore {
 public:
  // Applies the "revocation_log" migrations. `clock` stamps entries and pages.
  static Result<std::unique_ptr<SqliteRevocationLogStore>> open(SqliteDb& db, const Clock& clock);

  // RevocationLogStore
  Status append(const RevocationEntry& entry) override;
  Result<RevocationPage> since(Millis since_ms, std::size_t limit) override;
  Result<std::int64_t> prune(std::int64_t before_s) override;

 private:
  SqliteRevocationLogStore(SqliteDb& db, const Clock& clock) : db_(db), clock_(clock) {}
  SqliteDb& db_;
  const Clock& clock_;
};

}  // namespace webstream::store
