#pragma once
// The PostgreSQL schema: one ordered list of migrations for every domain (version N = the first N steps
// applied), recorded in webstream_schema(version, applied_at).
//
// migrate() runs under pg_advisory_lock(kMigrationLockKey) on a dedicated connection, so any number of
// gateways starting at the same moment on an empty database apply each step exactly once: the first holds
// the lock and migrates, the others wait, then find nothing left to do. Each step is its own transaction.
// A database whose version is newer than this binary's (a newer gateway migrated it) is refused: the
// error names both versions, and the gateway exits 2 rather than run against a schema it does not know.
//
// Thread rules: start-up only; blocks on the database.
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "store/postgres/pg_pool.hpp"

namespace webstream::store::pg {

inline constexpr std::int64_t kMigrationLockKey = 0x7765627374726d31;  // "webstrm1"
// Held by a starting gateway from before its migrations until its first-start work is done (StoreProvider).
inline constexpr std::int64_t kStartupLockKey = 0x7765627374726d32;  // "webstrm2"

// The migrations of this binary, oldest first.
const std::vector<std::string>& schema_migrations();
// The schema version this binary writes and reads (= schema_migrations().size()).
std::int64_t schema_version();

// Applies the missing migrations of `steps` (default: this binary's). Errors: 500 naming the failing
// version; "database schema version X is newer than this gateway's Y" when the database is ahead.
Status migrate(PgPool& pool, const std::vector<std::string>& steps = schema_migrations());

// The version recorded in the database (0: never migrated).
Result<std::int64_t> database_schema_version(PgPool& pool);

}  // namespace webstream::store::pg
