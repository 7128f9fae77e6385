#pragma once
// Online backup of a SQLite store (`webstream store backup`): a consistent copy of the database file taken
// with SQLite's backup API while a gateway keeps writing to it.
//
// Consistency: the copy is made in one step (sqlite3_backup_step(-1)), i.e. inside one read transaction on
// the source. In WAL mode (the gateway's) a reader never blocks the writer and sees one snapshot, so the copy
// holds every transaction committed before the backup began and no half of any later one. The copy goes to a
// new file beside the destination, created mode 0600 whatever the umask (the store holds password hashes and
// signing keys), is checked with PRAGMA quick_check, synced, and only then linked to the destination name, so
// a failed or interrupted backup never leaves a file that looks like a backup. An existing destination is
// never overwritten.
//
// Thread rules: blocking file I/O; call from a command-line tool or a blocking pool, never an I/O thread.
#include <cstdint>
#include <string>

#include "core/error.hpp"

namespace webstream::store {

struct BackupInfo {
  std::int64_t pages = 0;
  std::int64_t bytes = 0;
};

// Copies the database at `source` (which must exist; it is never created) to the new file `destination`.
// Error names the file and the reason.
Result<BackupInfo> backup_sqlite(const std::string& source, const std::string& destination);

}  // namespace webstream::store
