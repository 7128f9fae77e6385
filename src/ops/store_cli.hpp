#pragma once
// `webstream store …`: commands on the configured store that run beside (or without) a gateway.
//   webstream store backup --to FILE [--config PATH | --from SQLITE_FILE]
// An online, consistent copy of the SQLite store (store/sqlite/sqlite_backup.hpp), mode 0600; never overwrites.
// Exit codes: 0 done, 1 the backup failed (the reason on stderr), 2 usage or configuration error.
// Other store commands (e.g. `store copy`) add their sub-command here.
namespace webstream::ops {

int run_store_cli(int argc, char** argv);  // argv[0] == "store"

}  // namespace webstream::ops
