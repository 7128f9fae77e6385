#include "store/sqlite/sqlite_revocation_log_store.hpp"

#include <algorithm>

namespace webstream::store {
namespace {

const std::vector<std::string> kRevocationLogMigrations = {
    "CREATE TABLE revocation_log("
    " kind INTEGER NOT NULL, subject TEXT NOT NULL, value INTEGER NOT NULL, relevant_until INTEGER NOT NULL,"
    " at_ms INTEGER NOT NULL, PRIMARY KEY(kind, subject)) WITHOUT ROWID;"
    "CREATE INDEX revocation_log_at ON revocation_log(at_ms);"
    "CREATE INDEX revocation_log_relevance ON revocation_log(relevant_until);",
};

int kind_code(RevocationKind kind) { return kind == RevocationKind::kToken ? 1 : 2; }

}  // namespace

Result<std::unique_ptr<SqliteRevocationLogStore>> SqliteRevocationLogStore::open(SqliteDb& db, const Clock& clock) {
  if (auto s = db.migrate("revocation_log", kRevocationLogMigrations); !s) return s.error();
  return std::unique_ptr<SqliteRevocationLogStore>(new SqliteRevocationLogStore(db, clock));
}

Status SqliteRevocationLogStore::append(const RevocationEntry& entry) {
  return db_.transaction([&](SqliteDb& db) -> Status {
    // Stamped under the store's lock: a reader that takes "now" under the same lock sees every entry
    // stamped before it (see since()).
    const Millis at = clock_.now_ms();
    db.prepare(
          "INSERT INTO revocation_log(kind, subject, value, relevant_until, at_ms) VALUES(?,?,?,?,?) "
          "ON CONFLICT(kind, subject) DO UPDATE SET value=excluded.value, relevant_until=excluded.relevant_until,"
          " at_ms=excluded.at_ms WHERE excluded.value > revocation_log.value")
        .bind(1, kind_code(entry.kind))
        .bind(2, entry.subject)
        .bind(3, entry.value)
        .bind(4, entry.relevant_until)
        .bind(5, at)
        .run();
    return Status::success();
  });
}

Result<RevocationPage> SqliteRevocationLogStore::since(Millis since_ms, std::size_t limit) {
  return db_.locked([&](SqliteDb& db) -> Result<RevocationPage> {
    try {
      RevocationPage page;
      page.now_ms = clock_.now_ms();
      auto& q = db.prepare(
          "SELECT kind, subject, value, relevant_until, at_ms FROM revocation_log"
          " WHERE at_ms >= ? AND relevant_until >= ? ORDER BY at_ms");
      q.bind(1, since_ms);
      q.bind(2, page.now_ms / 1000);
      while (q.step()) {
        const Millis at = q.integer(4);
        if (page.entries.size() >= std::max<std::size_t>(limit, 1) && at != page.entries.back().at_ms) {
          page.more = true;
          page.now_ms = page.entries.back().at_ms + 1;
          break;
        }
        RevocationEntry e;
        e.kind = q.integer(0) == 1 ? RevocationKind::kToken : RevocationKind::kUserCutoff;
        e.subject = q.text(1);
        e.value = q.integer(2);
        e.relevant_until = q.integer(3);
        e.at_ms = q.integer(4);
        page.entries.push_back(std::move(e));
      }
      q.reset();
      return page;
    } catch (const StoreError& e) {
      return Error::internal("store: " + e.message);
    }
  });
}

Result<std::int64_t> SqliteRevocationLogStore::prune(std::int64_t before_s) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::int64_t> {
    return static_cast<std::int64_t>(
        db.prepare("DELETE FROM revocation_log WHERE relevant_until < ?").bind(1, before_s).run());
  });
}

}  // namespace webstream::store
