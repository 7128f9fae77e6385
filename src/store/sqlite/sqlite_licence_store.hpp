#pragma once
// SQLite implementation of LicenceStore (migration domain "licence"): table licence_seats with an index on
// last_seen so counting active seats is a range scan.
#include <memory>

#include "store/licence_store.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store {

class SqliteLicenceStore final : public LicenceStore {
 public:
  // Applies the "licence" migrations. Error names the store problem.
  static Result<std::unique_ptr<SqliteLicenceStore>> open(SqliteDb& db);

  // LicenceStore
  Result<std::vector<SeatClaim>> claim_seats(const std::vector<std::string>& guids, Millis now, Millis stale_before,
                                             std::int64_t max) override;
  Result<std::int64_t> release_seat(const std::string& guid, Millis stale_before) override;
  Result<SeatFlush> flush_and_expire(const std::vector<SeatTouch>& touches, Millis stale_before,
                                     std::int64_t max) override;
  Result<std::vector<SeatRecord>> active_seats(Millis stale_before) override;

 private:
  explicit SqliteLicenceStore(SqliteDb& db) : db_(db) {}
  SqliteDb& db_;
};

}  // namespace webstream::store
