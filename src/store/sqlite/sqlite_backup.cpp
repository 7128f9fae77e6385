#include "store/sqlite/sqlite_backup.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>

namespace webstream::store {
namespace {

namespace fs = std::filesystem;

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

std::string errno_text() { return std::strerror(errno); }

Result<DbHandle> open_db(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) return Error::internal(path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(raw, 10000);
  return db;
}

Status exec(sqlite3* db, const char* sql, const std::string& path) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errmsg(db);
    sqlite3_free(message);
    return Error::internal(path + ": " + why);
  }
  return Status::success();
}

Status quick_check(sqlite3* db, const std::string& path) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &stmt, nullptr) != SQLITE_OK) {
    return Error::internal(path + ": " + sqlite3_errmsg(db));
  }
  std::string result;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    result = text ? text : "";
  }
  sqlite3_finalize(stmt);
  if (result != "ok") return Error::internal(path + ": the copy fails PRAGMA quick_check: " + result);
  return Status::success();
}

Status fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Error::internal(path + ": " + errno_text());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Error::internal(path + ": fsync: " + errno_text());
  return Status::success();
}

// Copies source → the (empty, 0600) file at `partial`; returns the page count.
Result<std::int64_t> copy_into(const std::string& source, const std::string& partial) {
  auto src = open_db(source, SQLITE_OPEN_READWRITE);  // never CREATE: a mistyped path is an error, not a new store
  if (!src) return src.error();
  auto dst = open_db(partial, SQLITE_OPEN_READWRITE);
  if (!dst) return dst.error();
  sqlite3_backup* backup = sqlite3_backup_init(dst.value().get(), "main", src.value().get(), "main");
  if (!backup) return Error::internal(partial + ": " + sqlite3_errmsg(dst.value().get()));
  int rc = SQLITE_OK;
  // One step copies every page inside one read transaction: a consistent snapshot. BUSY/LOCKED (a writer
  // holding an exclusive lock, e.g. a checkpoint) is retried for up to ~30 s.
  for (int attempt = 0; attempt < 300; ++attempt) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  const std::int64_t pages = sqlite3_backup_pagecount(backup);
  const int finish = sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE) return Error::internal(source + ": backup failed: " + sqlite3_errstr(rc));
  if (finish != SQLITE_OK) return Error::internal(partial + ": " + sqlite3_errmsg(dst.value().get()));
  // A stand-alone file: rollback journal, so the copy is one file (the gateway turns WAL back on when it opens
  // a restored store).
  if (auto s = exec(dst.value().get(), "PRAGMA journal_mode=DELETE", partial); !s) return s.error();
  if (auto s = quick_check(dst.value().get(), partial); !s) return s.error();
  return pages;
}

}  // namespace

Result<BackupInfo> backup_sqlite(const std::string& source, const std::string& destination) {
  std::error_code ec;
  if (!fs::is_regular_file(source, ec)) return Error::internal(source + ": no such store file");
  if (fs::exists(destination, ec)) return Error::invalid(destination + ": already exists; not overwritten");
  const fs::path dest_path = fs::absolute(destination, ec);
  const std::string dir = dest_path.parent_path().string();
  const std::string partial = destination + ".partial-" + std::to_string(::getpid());

  // 0600 whatever the umask: create it empty here, SQLite then writes into the existing file.
  const int fd = ::open(partial.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return Error::internal(partial + ": " + errno_text());
  const int chmod_rc = ::fchmod(fd, 0600);
  ::close(fd);
  auto cleanup = [&] {
    fs::remove(partial, ec);
    fs::remove(partial + "-journal", ec);
  };
  if (chmod_rc != 0) {
    cleanup();
    return Error::internal(partial + ": " + errno_text());
  }
  auto pages = copy_into(source, partial);
  if (!pages) {
    cleanup();
    return pages.error();
  }
  if (auto s = fsync_path(partial, O_RDONLY); !s) {
    cleanup();
    return s.error();
  }
  // link() fails if the destination appeared meanwhile: never overwrite.
  if (::link(partial.c_str(), destination.c_str()) != 0) {
    const std::string why = errno_text();
    cleanup();
    return Error::internal(destination + ": " + why);
  }
  cleanup();
  (void)fsync_path(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);
  BackupInfo info;
  info.pages = pages.value();
  info.bytes = static_cast<std::int64_t>(fs::file_size(destination, ec));
  return info;
}

}  // namespace webstream::store
