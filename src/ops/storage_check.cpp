#include "ops/storage_check.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "store/postgres/pg_pool.hpp"
#include "store/postgres/pg_schema.hpp"

namespace webstream::ops {
namespace {

namespace fs = std::filesystem;

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Reads the file's header: a SQLite database starts with "SQLite format 3\0" (an empty file is one too, not yet
// initialised). The file is not opened through SQLite: even a read-only connection to a WAL database creates
// its -wal and -shm files, owned by whoever runs the check (root, often), which the gateway's user could then
// not open.
Status check_header(const std::string& path) {
  static constexpr char kMagic[] = "SQLite format 3";  // 16 bytes with the terminating NUL
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::internal("cannot read the store " + path);
  char header[sizeof kMagic] = {};
  in.read(header, sizeof header);
  const auto got = in.gcount();
  if (got == 0) return Status::success();
  if (got != static_cast<std::streamsize>(sizeof header) || std::memcmp(header, kMagic, sizeof header) != 0) {
    return Error::internal("the store " + path + " is not a SQLite database");
  }
  return Status::success();
}

}  // namespace

Status check_sqlite_storage(const std::string& path, std::vector<std::string>& warnings) {
  std::error_code ec;
  const fs::path file(path);
  const auto status = fs::status(file, ec);
  if (fs::exists(status)) {
    if (!fs::is_regular_file(status)) return Error::internal("the store " + path + " is not a regular file");
    if (::access(path.c_str(), R_OK | W_OK) != 0) {
      return Error::internal("the store " + path + " is not readable and writable by this user (uid " +
                             std::to_string(::geteuid()) + ")");
    }
    const auto dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return Error::internal("the store's directory " + dir.string() +
                             " is not writable by this user (SQLite keeps its -wal and -shm files there)");
    }
    if (auto s = check_header(path); !s) return s;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0) {
      warnings.push_back("storage.path: " + path + " has mode " + octal_mode(st.st_mode) +
                         ": it holds password hashes and signing keys; make it 0600");
    }
    return Status::success();
  }
  // No file yet: a start creates it (and the directories above it). The nearest existing ancestor must be a
  // directory this user can create entries in.
  fs::path ancestor = file.parent_path();
  while (!ancestor.empty() && !fs::exists(ancestor, ec)) {
    if (ancestor == ancestor.parent_path()) break;
    ancestor = ancestor.parent_path();
  }
  if (ancestor.empty()) ancestor = ".";
  if (!fs::is_directory(ancestor, ec)) {
    return Error::internal("the store " + path + " cannot be created: " + ancestor.string() + " is not a directory");
  }
  if (::access(ancestor.c_str(), W_OK | X_OK) != 0) {
    return Error::internal("the store " + path + " cannot be created: " + ancestor.string() +
                           " is not writable by this user (uid " + std::to_string(::geteuid()) + ")");
  }
  warnings.push_back("storage.path: " + path +
                     " does not exist yet: the first start creates an empty store (org default, user admin)");
  return Status::success();
}

Status check_postgres_storage(const std::string& connection, std::vector<std::string>& warnings) {
  auto pool = store::pg::PgPool::open(connection, 1);
  if (!pool) return pool.error();  // "storage.connection: cannot connect to PostgreSQL: <libpq's reason>"
  auto version = store::pg::database_schema_version(**pool);
  if (!version) return Error::internal("storage.connection: " + version.error().message);
  if (*version > store::pg::schema_version()) {
    return Error::internal("storage.connection: the database schema version " + std::to_string(*version) +
                           " is newer than this gateway's schema version " +
                           std::to_string(store::pg::schema_version()));
  }
  if (*version == 0) {
    warnings.push_back("storage.connection: the database has no WebStream schema yet: the first start creates it");
  } else if (*version < store::pg::schema_version()) {
    warnings.push_back("storage.connection: schema version " + std::to_string(*version) + " will be migrated to " +
                       std::to_string(store::pg::schema_version()) + " at the next start");
  }
  return Status::success();
}

Status check_storage(const config::Config& config, std::vector<std::string>& warnings) {
  const auto& storage = config.storage;
  Status result = Status::success();
  if (storage.provider == "sqlite") {
    result = check_sqlite_storage(storage.path, warnings);
  } else if (storage.provider == "postgresql") {
    if (auto s = check_postgres_storage(storage.connection, warnings); !s) {
      return Error::internal(config.source_path + ": " + s.error().message);
    }
  } else {
    // A provider that config::load_xml accepts but that has no reachability check here yet: say so rather
    // than pretend it was checked.
    warnings.push_back("storage.provider " + storage.provider + ": reachability is not checked by config check");
  }
  if (!result) return Error::internal(config.source_path + ": storage.path: " + result.error().message);
  return result;
}

}  // namespace webstream::ops
