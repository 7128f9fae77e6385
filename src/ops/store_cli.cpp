#include "ops/store_cli.hpp"

#include <cstdio>
#include <cstring>
#include <string>

#include "config/config.hpp"
#include "store/sqlite/sqlite_backup.hpp"

namespace webstream::ops {
namespace {

constexpr const char* kStoreUsage =
    "usage: webstream store backup --to FILE [--config PATH | --from SQLITE_FILE]\n"
    "\n"
    "  backup   an online, consistent copy of the SQLite store (storage.path of --config, default\n"
    "           ./app.config.xml; or the file given with --from) while the gateway runs. FILE is created\n"
    "           mode 0600 and never overwritten. Restore: stop the gateway, put the copy at storage.path\n"
    "           (no -wal/-shm files beside it), start it. PostgreSQL stores are backed up with pg_dump.\n"
    "  Exit codes: 0 done, 1 the backup failed, 2 usage or configuration error.\n";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "webstream store: %s\n%s", message.c_str(), kStoreUsage);
  return 2;
}

int run_backup(int argc, char** argv) {
  std::string config_path = "app.config.xml";
  std::string from;
  std::string to;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--to" && has_value) {
      to = argv[++i];
    } else if (arg == "--config" && has_value) {
      config_path = argv[++i];
    } else if (arg == "--from" && has_value) {
      from = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kStoreUsage, stdout);
      return 0;
    } else {
      return usage_error("unknown or incomplete argument '" + arg + "'");
    }
  }
  if (to.empty()) return usage_error("backup needs --to FILE");
  if (from.empty()) {
    config::Config c;
    try {
      c = config::load_xml(config_path);
    } catch (const config::ConfigError& e) {
      std::fprintf(stderr, "webstream store backup: %s\n", e.what());
      return 2;
    }
    if (c.storage.provider != "sqlite") {
      std::fprintf(stderr,
                   "webstream store backup: %s: storage.provider is %s: back it up with that database's own tools "
                   "(PostgreSQL: pg_dump, docs/operator-guide.md)\n",
                   config_path.c_str(), c.storage.provider.c_str());
      return 2;
    }
    from = c.storage.path;
  }
  auto info = store::backup_sqlite(from, to);
  if (!info) {
    std::fprintf(stderr, "webstream store backup: %s\n", info.error().message.c_str());
    return 1;
  }
  std::printf("backup: %s -> %s: %lld pages, %lld bytes, consistent, mode 0600\n", from.c_str(), to.c_str(),
              static_cast<long long>(info.value().pages), static_cast<long long>(info.value().bytes));
  return 0;
}

}  // namespace

int run_store_cli(int argc, char** argv) {
  if (argc < 2) return usage_error("a command is needed");
  const std::string command = argv[1];
  if (command == "--help" || command == "-h") {
    std::fputs(kStoreUsage, stdout);
    return 0;
  }
  if (command == "backup") return run_backup(argc, argv);
  return usage_error("unknown command '" + command + "'");
}

}  // namespace webstream::ops
