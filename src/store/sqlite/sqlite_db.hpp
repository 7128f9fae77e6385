#pragma once
// SqliteDb: one SQLite connection (WAL, synchronous=FULL so an acknowledged write survives kill -9 and
// power loss) behind a mutex. Every domain store (registry, iam, sessions, licence) runs its SQL through
// locked() or transaction(); statements are prepared once and cached per connection.
//
// Thread rules: any thread may call; calls serialise on the mutex. SQLite calls block (fsync), so
// callers on I/O threads go through runtime::BlockingPool.
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.hpp"

namespace webstream::store {

class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  // Binding is 1-based like SQLite. Each returns *this for chaining.
  Statement& bind(int index, std::string_view text);
  Statement& bind(int index, const std::string& text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  Statement& bind(int index, double value);
  Statement& bind_null(int index);
  Statement& bind(int index, const std::optional<std::string>& text);
  // Advances: true while a row is available; false when done. Throws StoreError on failure.
  bool step();
  // Runs a statement that returns no rows; returns sqlite3_changes.
  int run();
  std::string text(int column) const;
  std::int64_t integer(int column) const;
  double real(int column) const;
  bool is_null(int column) const;
  void reset();

 private:
  sqlite3_stmt* stmt_;
};

// Thrown only inside a transaction body to abort it; transaction() turns it into an Error.
struct StoreError {
  int sqlite_code;
  std::string message;
};

class SqliteDb {
 public:
  // Opens (creating if needed) the database at `path` (":memory:" for tests). Error names the file. A new
  // file is created mode 0600 whatever the umask (store/sqlite/private_files.hpp); its directory must exist.
  static Result<std::unique_ptr<SqliteDb>> open(const std::string& path);
  ~SqliteDb();
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  // Applies the not yet applied steps of one domain's migrations, each in its own transaction.
  // Step i (0-based) is version i+1; versions are recorded in schema_migrations(domain, version).
  Status migrate(std::string_view domain, const std::vector<std::string>& steps);

  // Runs fn(*this) holding the mutex, outside a transaction (reads).
  template <class F>
  auto locked(F&& fn) -> decltype(fn(*this)) {
    std::lock_guard lock(mutex_);
    return fn(*this);
  }

  // Runs fn(*this) inside BEGIN IMMEDIATE … COMMIT holding the mutex. fn returns Status or Result<T>;
  // an error result, or a thrown StoreError, rolls back. Only for use from locked()/transaction() callers'
  // own thread (not re-entrant).
  template <class F>
  auto transaction(F&& fn) -> decltype(fn(*this)) {
    std::lock_guard lock(mutex_);
    exec_unlocked("BEGIN IMMEDIATE");
    try {
      auto result = fn(*this);
      if (result.ok()) {
        exec_unlocked("COMMIT");
      } else {
        exec_unlocked("ROLLBACK");
      }
      return result;
    } catch (const StoreError& e) {
      exec_unlocked("ROLLBACK");
      return Error::internal("store: " + e.message);
    }
  }

  // Inside locked()/transaction(): a cached prepared statement, reset and with bindings cleared.
  Statement& prepare(std::string_view sql);
  // Inside locked()/transaction(): runs SQL text with no results. Throws StoreError.
  void exec_unlocked(std::string_view sql);
  // Inside locked()/transaction(): the integer a one-parameter query such as
  // "SELECT COUNT(*) FROM t WHERE id=?" answers for `key` (the stores' existence and limit checks).
  std::int64_t count(std::string_view sql, const std::string& key);
  sqlite3* handle() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  std::mutex mutex_;
  sqlite3* db_;
  struct CachedStatement {
    sqlite3_stmt* raw = nullptr;
    std::unique_ptr<Statement> wrapper;
  };
  std::unordered_map<std::string, CachedStatement> statements_;
};

}  // namespace webstream::store
