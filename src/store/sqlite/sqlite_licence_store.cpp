#include "store/sqlite/sqlite_licence_store.hpp"

namespace webstream::store {
namespace {

const std::vector<std::string> kMigrations = {
    "CREATE TABLE licence_seats("
    " guid TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX licence_seats_last_seen ON licence_seats(last_seen);",
};

std::int64_t count_active(SqliteDb& db, Millis stale_before) {
  auto& q = db.prepare("SELECT COUNT(*) FROM licence_seats WHERE last_seen >= ?");
  q.bind(1, stale_before);
  q.step();
  const auto n = q.integer(0);
  q.reset();
  return n;
}

// lastSeen of `guid`'s row, or -1 when there is none.
Millis last_seen_of(SqliteDb& db, const std::string& guid) {
  auto& q = db.prepare("SELECT last_seen FROM licence_seats WHERE guid=?");
  q.bind(1, guid);
  const Millis out = q.step() ? q.integer(0) : -1;
  q.reset();
  return out;
}

void upsert(SqliteDb& db, const std::string& guid, Millis seen) {
  db.prepare(
        "INSERT INTO licence_seats(guid,first_seen,last_seen) VALUES(?,?,?) "
        "ON CONFLICT(guid) DO UPDATE SET first_seen=excluded.first_seen, last_seen=excluded.last_seen")
      .bind(1, guid)
      .bind(2, seen)
      .bind(3, seen)
      .run();
}

}  // namespace

Result<std::unique_ptr<SqliteLicenceStore>> SqliteLicenceStore::open(SqliteDb& db) {
  if (auto s = db.migrate("licence", kMigrations); !s) return s.error();
  return std::unique_ptr<SqliteLicenceStore>(new SqliteLicenceStore(db));
}

Result<SeatClaim> SqliteLicenceStore::claim_seat(const std::string& guid, Millis now, Millis stale_before,
                                                 std::int64_t max) {
  return db_.transaction([&](SqliteDb& db) -> Result<SeatClaim> {
    SeatClaim claim;
    const Millis seen = last_seen_of(db, guid);
    if (seen >= stale_before) {
      db.prepare("UPDATE licence_seats SET last_seen=MAX(last_seen,?) WHERE guid=?").bind(1, now).bind(2, guid).run();
      claim.granted = true;
      claim.existing = true;
      claim.active = count_active(db, stale_before);
      return claim;
    }
    const auto active = count_active(db, stale_before);
    if (active >= max) {
      claim.active = active;
      return claim;  // not granted; nothing written (commit of an empty transaction)
    }
    upsert(db, guid, now);
    claim.granted = true;
    claim.active = active + 1;
    return claim;
  });
}

Result<std::int64_t> SqliteLicenceStore::release_seat(const std::string& guid, Millis stale_before) {
  return db_.transaction([&](SqliteDb& db) -> Result<std::int64_t> {
    db.prepare("DELETE FROM licence_seats WHERE guid=?").bind(1, guid).run();
    return count_active(db, stale_before);
  });
}

Result<SeatFlush> SqliteLicenceStore::flush_and_expire(const std::vector<SeatTouch>& touches, Millis stale_before,
                                                       std::int64_t max) {
  return db_.transaction([&](SqliteDb& db) -> Result<SeatFlush> {
    SeatFlush out;
    std::vector<const SeatTouch*> missing;
    for (const auto& t : touches) {
      auto& q = db.prepare("UPDATE licence_seats SET last_seen=MAX(last_seen,?) WHERE guid=?");
      q.bind(1, t.last_seen).bind(2, t.guid);
      if (q.run() == 0) missing.push_back(&t);
    }
    auto& del = db.prepare("DELETE FROM licence_seats WHERE last_seen < ?");
    del.bind(1, stale_before);
    out.expired = del.run();
    out.active = count_active(db, stale_before);
    // A seat this gateway held whose row vanished (another gateway's sweeper expired it between two of our
    // flushes): take it again only where a seat is free, so the count never goes over `max`.
    for (const SeatTouch* t : missing) {
      if (t->last_seen >= stale_before && out.active < max) {
        upsert(db, t->guid, t->last_seen);
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
