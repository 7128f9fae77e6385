#pragma once
// copy_sqlite_to_postgres: moves a single gateway's SQLite store into an empty PostgreSQL database
// (`webstream store copy`, CONTRACT §12 "Moving from one gateway to several"). Every table is copied row
// for row — users with their password hashes, the signing keys (tokens already issued stay valid), the
// connect-token secret (connect tokens stay valid), revocations, login failures, backends, sessions and
// pins, licence seats, the audit log (in its order) — in ONE PostgreSQL transaction: all or nothing.
// The target must be migrated (the caller opens it through open_postgres_provider or migrate()) and empty:
// a target holding any row in these tables is refused (409), so a copy never merges two stores.
// Timestamps move as they are (epoch ms from the old gateway's clock).
//
// Thread rules: a command-line tool; blocks on both databases.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/sqlite/sqlite_db.hpp"

namespace webstream::store::pg {

struct CopySummary {
  std::vector<std::pair<std::string, std::int64_t>> tables;  // table → rows copied, in copy order
  std::int64_t rows = 0;
};

Result<CopySummary> copy_sqlite_to_postgres(SqliteDb& from, PgPool& to);

}  // namespace webstream::store::pg
