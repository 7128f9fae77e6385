#include "store/sqlite/sqlite_licence_store.hpp"

namespace webstream::store {
namespace {

const std::vector<std::string> kLicenceMigrations = {
    "CREATE TABLE licence_seats("
    " guid TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX licence_seats_last_seen ON licence_seats(last_seen);",
    // The number of rows, kept by triggers, so taking a seat never scans the table (COUNT(*) over 100,000
    // seats costs milliseconds per transaction). Every writing transaction deletes the silent rows first, so
    // after that the number of rows is the number of active seats.
    "CREATE TABLE licence_seat_count(id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);"
    "INSERT INTO licence_seat_count(id, n) SELECT 1, COUNT(*) FROM licence_seats;"
    "CREATE TRIGGER licence_seats_insert_counted AFTER INSERT ON licence_seats"
    " BEGIN UPDATE licence_seat_count SET n = n + 1 WHERE id = 1; END;"
    "CREATE TRIGGER licence_seats_delete_counted AFTER DELETE ON licence_seats"
    " BEGIN UPDATE licence_seat_count SET n = n - 1 WHERE id = 1; END;",
};

// Deletes the rows of streamers silent since before `stale_before` (an index range); returns how many.
std::int64_t delete_silent(SqliteDb& db, Millis stale_before) {
  auto& q = db.prepare("DELETE FROM licence_seats WHERE last_seen < ?");
  q.bind(1, stale_before);
  return q.run();
}

// Rows in the table (trigger-maintained): the active seats once delete_silent() has run in this transaction.
std::int64_t row_count(SqliteDb& db) {
  auto& q = db.prepare("SELECT n FROM licence_seat_count WHERE id = 1");
  const std::int64_t n = q.step() ? q.integer(0) : 0;
  q.reset();
  return n;
}

bool has_row(SqliteDb& db, const std::string& guid) {
  auto& q = db.prepare("SELECT 1 FROM licence_seats WHERE guid=?");
  q.bind(1, guid);
  const bool found = q.step();
  q.reset();
  return found;
}

void insert(SqliteDb& db, const std::string& guid, Millis seen) {
  db.prepare("INSERT INTO licence_seats(guid,first_seen,last_seen) VALUES(?,?,?)")
      .bind(1, guid)
      .bind(2, seen)
      .bind(3, seen)
      .run();
}

void touch(SqliteDb& db, const std::string& guid, Millis seen, int* changed = nullptr) {
  auto& q = db.prepare("UPDATE licence_seats SET last_seen=MAX(last_seen,?) WHERE guid=?");
  q.bind(1, seen).bind(2, guid);
  const int n = q.run();
  if (changed) *changed = n;
}

}  // namespace

Result<std::unique_ptr<SqliteLicenceStore>> SqliteLicenceStore::open(SqliteDb& db) {
  if (auto s = db.migrate("licence", kLicenceMigrations); !s) return s.error();
  return std::unique_ptr<SqliteLicenceStore>(new SqliteLicenceStore(db));
}

Result<std::vector<SeatClaim>> SqliteLicenceStore::claim_seats(const std::vector<std::string>& guids, Millis now,
                                                               Millis stale_before, std::int64_t max) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::vector<SeatClaim>> {
    delete_silent(db, stale_before);
    std::int64_t active = row_count(db);
    std::vector<SeatClaim> out;
    out.reserve(guids.size());
    for (const auto& guid : guids) {
      SeatClaim claim;
      if (has_row(db, guid)) {  // active: silent rows are gone
        touch(db, guid, now);
        claim.granted = true;
        claim.existing = true;
      } else if (active < max) {
        insert(db, guid, now);
        claim.granted = true;
        ++active;
      }
      claim.active = active;
      out.push_back(claim);
    }
    return out;
  });
}

Result<std::int64_t> SqliteLicenceStore::release_seat(const std::string& guid, Millis stale_before) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::int64_t> {
    db.prepare("DELETE FROM licence_seats WHERE guid=?").bind(1, guid).run();
    delete_silent(db, stale_before);
    return row_count(db);
  });
}

Result<SeatFlush> SqliteLicenceStore::flush_and_expire(const std::vector<SeatTouch>& touches, Millis stale_before,
                                                       std::int64_t max) {
  return db_.transaction([&](SqliteDb& db) -> Result<SeatFlush> {
    SeatFlush out;
    std::vector<const SeatTouch*> missing;
    for (const auto& t : touches) {
      int changed = 0;
      touch(db, t.guid, t.last_seen, &changed);
      if (changed == 0) missing.push_back(&t);
    }
    out.expired = delete_silent(db, stale_before);
    out.active = row_count(db);
    // A seat this gateway held whose row vanished (another gateway's sweep expired it between two of our
    // flushes): take it again only where a seat is free, so the count never goes over `max`.
    for (const SeatTouch* t : missing) {
      if (t->last_seen >= stale_before && out.active < max) {
        insert(db, t->guid, t->last_seen);
        ++out.active;
      } else {
        out.lost.push_back(t->guid);
      }
    }
    return out;
  });
}

Result<std::vector<SeatRecord>> SqliteLicenceStore::active_seats(Millis stale_before) {
  try {
    return db_.locked([&](SqliteDb& db) -> Result<std::vector<SeatRecord>> {
      std::vector<SeatRecord> out;
      auto& q = db.prepare("SELECT guid, first_seen, last_seen FROM licence_seats WHERE last_seen >= ?");
      q.bind(1, stale_before);
      while (q.step()) out.push_back(SeatRecord{q.text(0), q.integer(1), q.integer(2)});
      q.reset();
      return out;
    });
  } catch (const StoreError& e) {
    return Error::internal("store: " + e.message);
  }
}

}  // namespace webstream::store
