#pragma once
// Storage reachability for `webstream config check`, without writing anything.
//
// The seam for other storage providers: check_storage() dispatches on storage.provider. A provider adds one
// function here (e.g. PostgreSQL: connect with storage.connection, read the schema version, disconnect) and one
// line in check_storage(); the report format stays the same.
//
// Thread rules: pure functions of the file system (and, for PostgreSQL, one short connection).
#include <string>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"

namespace webstream::ops {

// Error: the store a start would open cannot be opened or created (message names the path, never a secret).
// `warnings` gets what a start would tolerate but an operator should know.
Status check_storage(const config::Config& config, std::vector<std::string>& warnings);

// PostgreSQL: connects with storage.connection (errors name the setting, never its value), reads the schema
// version and disconnects; writes nothing. Error: unreachable, or a schema newer than this binary's. Warning:
// an empty database (the first start creates the schema).
Status check_postgres_storage(const std::string& connection, std::vector<std::string>& warnings);

// SQLite: an existing file must carry SQLite's header and be writable by this user; a missing
// file must have a directory (or nearest existing ancestor) this user can create it in.
Status check_sqlite_storage(const std::string& path, std::vector<std::string>& warnings);

}  // namespace webstream::ops
