#include "ops/store_cli.hpp"

#include <cstdio>
#include <cstring>
#include <string>

#include <filesystem>

#include "config/config.hpp"
#include "store/postgres/pg_copy.hpp"
#include "store/postgres/pg_schema.hpp"
#include "store/sqlite/sqlite_backup.hpp"

namespace webstream::ops {
namespace {

constexpr const char* kStoreUsage =
    "usage: webstream store backup --to FILE [--config PATH | --from SQLITE_FILE]\n"
    "       webstream store copy --from SQLITE_FILE [--config PATH]\n"
    "\n"
    "  backup   an online, consistent copy of the SQLite store (storage.path of --config, default\n"
    "           ./app.config.xml; or the file given with --from) while the gateway runs. FILE is created\n"
    "           mode 0600 and never overwritten. Restore: stop the gateway, put the copy at storage.path\n"
    "           (no -wal/-shm files beside it), start it. PostgreSQL stores are backed up with pg_dump.\n"
    "  copy     copies a SQLite store (a stopped single gateway's storage.path) into the PostgreSQL database\n"
    "           of --config (storage provider=\"postgresql\"): users, keys (issued tokens stay valid), sessions,\n"
    "           backends, seats, audit. The database must be empty; the copy is all or nothing.\n"
    "  Exit codes: 0 done, 1 the backup or copy failed, 2 usage or configuration error.\n";

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

int run_copy(int argc, char** argv) {
  std::string config_path = "app.config.xml";
  std::string from;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--from" && has_value) {
      from = argv[++i];
    } else if (arg == "--config" && has_value) {
      config_path = argv[++i];
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kStoreUsage, stdout);
      return 0;
    } else {
      return usage_error("unknown or incomplete argument '" + arg + "'");
    }
  }
  if (from.empty()) return usage_error("copy needs --from SQLITE_FILE");
  config::Config c;
  try {
    c = config::load_xml(config_path);
  } catch (const config::ConfigError& e) {
    std::fprintf(stderr, "webstream store copy: %s\n", e.what());
    return 2;
  }
  if (c.storage.provider != "postgresql") {
    std::fprintf(stderr, "webstream store copy: %s: storage.provider is %s: copy needs provider=\"postgresql\"\n",
                 config_path.c_str(), c.storage.provider.c_str());
    return 2;
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(from, ec)) {
    std::fprintf(stderr, "webstream store copy: --from %s: no such SQLite file\n", from.c_str());
    return 2;
  }
  auto source = store::SqliteDb::open(from);
  if (!source) {
    std::fprintf(stderr, "webstream store copy: %s\n", source.error().message.c_str());
    return 1;
  }
  // The connection string is a secret: errors name storage.connection, never its value.
  auto pool = store::pg::PgPool::open(c.storage.connection, 1);
  if (!pool) {
    std::fprintf(stderr, "webstream store copy: %s: %s\n", config_path.c_str(), pool.error().message.c_str());
    return 2;
  }
  if (auto s = store::pg::migrate(**pool); !s) {
    std::fprintf(stderr, "webstream store copy: %s: storage.connection: %s\n", config_path.c_str(),
                 s.error().message.c_str());
    return 1;
  }
  auto copied = store::pg::copy_sqlite_to_postgres(**source, **pool);
  if (!copied) {
    std::fprintf(stderr, "webstream store copy: %s\n", copied.error().message.c_str());
    return 1;
  }
  for (const auto& [table, rows] : copied->tables)
    std::printf("copy: %-18s %lld rows\n", table.c_str(), static_cast<long long>(rows));
  std::printf("copy: %s -> PostgreSQL (storage.connection of %s): %lld rows, one transaction\n", from.c_str(),
              config_path.c_str(), static_cast<long long>(copied->rows));
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
  if (command == "copy") return run_copy(argc, argv);
  return usage_error("unknown command '" + command + "'");
}

}  // namespace webstream::ops
