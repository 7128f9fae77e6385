#include "store/sqlite/sqlite_db.hpp"

#include "store/sqlite/private_files.hpp"

namespace webstream::store {
namespace {
[[noreturn]] void fail(sqlite3* db, int rc) { throw StoreError{rc, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)}; }
}  // namespace

Statement& Statement::bind(int index, std::string_view text) {
  const int rc = sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  const int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}

Statement& Statement::bind(int index, double value) {
  const int rc = sqlite3_bind_double(stmt_, index, value);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}

Statement& Statement::bind_null(int index) {
  const int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK) fail(sqlite3_db_handle(stmt_), rc);
  return *this;
}

Statement& Statement::bind(int index, const std::optional<std::string>& text) {
  return text ? bind(index, std::string_view(*text)) : bind_null(index);
}

bool Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  fail(sqlite3_db_handle(stmt_), rc);
}

int Statement::run() {
  while (step()) {}
  return sqlite3_changes(sqlite3_db_handle(stmt_));
}

std::string Statement::text(int column) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column))) : std::string();
}

std::int64_t Statement::integer(int column) const { return sqlite3_column_int64(stmt_, column); }
double Statement::real(int column) const { return sqlite3_column_double(stmt_, column); }
bool Statement::is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Result<std::unique_ptr<SqliteDb>> SqliteDb::open(const std::string& path) {
  // The store holds secrets: the file is created 0600 before SQLite opens it (SQLite gives its -wal and -shm
  // files the main file's mode). An existing file keeps its mode; the gateway warns at start when it is exposed.
  if (path != ":memory:" && path.rfind("file:", 0) != 0) {
    if (auto created = create_private_file(path); !created) {
      return Error::internal("cannot open store " + path + ": " + created.error().message);
    }
  }
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close(raw);
    return Error::internal("cannot open store " + path + ": " + why);
  }
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  try {
    sqlite3_busy_timeout(raw, 5000);
    if (path != ":memory:") db->exec_unlocked("PRAGMA journal_mode=WAL");
    db->exec_unlocked("PRAGMA synchronous=FULL");
    db->exec_unlocked("PRAGMA foreign_keys=ON");
    db->exec_unlocked(
        "CREATE TABLE IF NOT EXISTS schema_migrations(domain TEXT NOT NULL, version INTEGER NOT NULL, "
        "applied_at INTEGER NOT NULL DEFAULT (strftime('%s','now')), PRIMARY KEY(domain, version))");
  } catch (const StoreError& e) {
    return Error::internal("cannot open store " + path + ": " + e.message);
  }
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.raw);
  sqlite3_close(db_);
}

Status SqliteDb::migrate(std::string_view domain, const std::vector<std::string>& steps) {
  std::int64_t applied = 0;
  {
    std::lock_guard lock(mutex_);
    try {
      auto& q = prepare("SELECT COALESCE(MAX(version),0) FROM schema_migrations WHERE domain=?");
      q.bind(1, domain);
      if (q.step()) applied = q.integer(0);
      q.reset();
    } catch (const StoreError& e) {
      return Error::internal("store migration " + std::string(domain) + ": " + e.message);
    }
  }
  for (std::size_t i = static_cast<std::size_t>(applied); i < steps.size(); ++i) {
    auto status = transaction([&](SqliteDb& db) -> Status {
      db.exec_unlocked(steps[i]);
      db.prepare("INSERT INTO schema_migrations(domain, version) VALUES(?,?)")
          .bind(1, domain)
          .bind(2, static_cast<std::int64_t>(i + 1))
          .run();
      return Status::success();
    });
    if (!status) return status;
  }
  return Status::success();
}

Statement& SqliteDb::prepare(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    if (rc != SQLITE_OK) fail(db_, rc);
    CachedStatement cached;
    cached.raw = raw;
    cached.wrapper = std::make_unique<Statement>(raw);
    it = statements_.emplace(std::string(sql), std::move(cached)).first;
  }
  it->second.wrapper->reset();
  return *it->second.wrapper;
}

std::int64_t SqliteDb::count(std::string_view sql, const std::string& key) {
  auto& q = prepare(sql);
  q.bind(1, key);
  q.step();
  const auto n = q.integer(0);
  q.reset();
  return n;
}

void SqliteDb::exec_unlocked(std::string_view sql) {
  char* message = nullptr;
  const std::string text(sql);
  const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message);
  if (rc != SQLITE_OK) {
    std::string why = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    throw StoreError{rc, why};
  }
}

}  // namespace webstream::store
