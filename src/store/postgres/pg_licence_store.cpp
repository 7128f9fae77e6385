// PostgreSQL: licence seats. Every writing transaction first takes the licence's advisory lock, deletes the
// silent rows (last_seen before the stale line, on the database's timeline) and counts the rest, so the
// count it decides on is exact across every gateway; per-seat writes go in pipeline mode.
#include <set>

#include "store/postgres/pg_stores.hpp"

namespace webstream::store::pg {
namespace {

constexpr const char* kTouch = "UPDATE licence_seats SET last_seen=GREATEST(last_seen, $1) WHERE guid=$2";
constexpr const char* kInsert =
    "INSERT INTO licence_seats(guid, first_seen, last_seen) VALUES($1,$2,$2)"
    " ON CONFLICT(guid) DO UPDATE SET last_seen=GREATEST(licence_seats.last_seen, excluded.last_seen)";

// Locks the licence, deletes silent rows; returns {deleted, active}.
std::pair<std::int64_t, std::int64_t> lock_and_expire(PgConnection& c, Millis stale_before_db) {
  c.exec("SELECT pg_advisory_xact_lock($1, 0)", Params().add(kLockLicence));
  const auto deleted =
      c.exec("DELETE FROM licence_seats WHERE last_seen < $1", Params().add(stale_before_db)).affected();
  const auto active = c.exec("SELECT COUNT(*) FROM licence_seats").integer(0, 0);
  return {deleted, active};
}

}  // namespace

Result<std::vector<SeatClaim>> PgLicenceStore::claim_seats(const std::vector<std::string>& guids, Millis now,
                                                           Millis stale_before, std::int64_t max) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::vector<SeatClaim>> {
    const Millis skew = timeline_.skew(c);
    auto [deleted, active] = lock_and_expire(c, stale_before + skew);
    (void)deleted;
    // Refresh every guid that holds a seat (one pipeline); the rest are new.
    std::vector<PgQuery> touches;
    touches.reserve(guids.size());
    for (const auto& g : guids) touches.push_back({kTouch, Params().add(now + skew).add(g)});
    const auto touched = c.pipeline(touches);
    std::set<std::string> held;
    for (std::size_t i = 0; i < guids.size(); ++i) {
      if (touched[i].affected() > 0) held.insert(guids[i]);
    }
    std::vector<SeatClaim> out;
    out.reserve(guids.size());
    std::vector<PgQuery> inserts;
    for (const auto& g : guids) {
      SeatClaim claim;
      if (held.count(g) > 0) {
        claim.granted = true;
        claim.existing = true;
      } else if (active < max) {
        inserts.push_back({kInsert, Params().add(g).add(now + skew)});
        held.insert(g);
        claim.granted = true;
        ++active;
      }
      claim.active = active;
      out.push_back(claim);
    }
    c.pipeline(inserts);
    return out;
  });
}

Result<std::int64_t> PgLicenceStore::release_seat(const std::string& guid, Millis stale_before) {
  return pool_.transaction([&](PgConnection& c) -> Result<std::int64_t> {
    const Millis skew = timeline_.skew(c);
    c.exec("SELECT pg_advisory_xact_lock($1, 0)", Params().add(kLockLicence));
    c.exec("DELETE FROM licence_seats WHERE guid=$1", Params().add(guid));
    c.exec("DELETE FROM licence_seats WHERE last_seen < $1", Params().add(stale_before + skew));
    return c.exec("SELECT COUNT(*) FROM licence_seats").integer(0, 0);
  });
}

Result<SeatFlush> PgLicenceStore::flush_and_expire(const std::vector<SeatTouch>& touches, Millis stale_before,
                                                   std::int64_t max) {
  return pool_.transaction([&](PgConnection& c) -> Result<SeatFlush> {
    const Millis skew = timeline_.skew(c);
    c.exec("SELECT pg_advisory_xact_lock($1, 0)", Params().add(kLockLicence));
    std::vector<PgQuery> batch;
    batch.reserve(touches.size());
    for (const auto& t : touches) batch.push_back({kTouch, Params().add(t.last_seen + skew).add(t.guid)});
    const auto results = c.pipeline(batch);
    SeatFlush out;
    out.expired =
        c.exec("DELETE FROM licence_seats WHERE last_seen < $1", Params().add(stale_before + skew)).affected();
    out.active = c.exec("SELECT COUNT(*) FROM licence_seats").integer(0, 0);
    // A seat this gateway held whose row vanished (another gateway's sweep expired it between two of our
    // flushes): take it again only where a seat is free, so the count never goes over `max`.
    std::vector<PgQuery> inserts;
    for (std::size_t i = 0; i < touches.size(); ++i) {
      if (results[i].affected() > 0) continue;
      const auto& t = touches[i];
      if (t.last_seen >= stale_before && out.active < max) {
        inserts.push_back({kInsert, Params().add(t.guid).add(t.last_seen + skew)});
        ++out.active;
      } else {
        out.lost.push_back(t.guid);
      }
    }
    c.pipeline(inserts);
    return out;
  });
}

Result<std::vector<SeatRecord>> PgLicenceStore::active_seats(Millis stale_before) {
  return pool_.read([&](PgConnection& c) -> Result<std::vector<SeatRecord>> {
    const Millis skew = timeline_.skew(c);
    auto q = c.exec(
        "SELECT guid, first_seen, last_seen FROM licence_seats WHERE last_seen >= $1 ORDER BY guid COLLATE \"C\"",
        Params().add(stale_before + skew));
    std::vector<SeatRecord> out;
    for (int i = 0; i < q.rows(); ++i) {
      out.push_back(SeatRecord{q.text(i, 0), q.integer(i, 1) - skew, q.integer(i, 2) - skew});
    }
    return out;
  });
}

}  // namespace webstream::store::pg
