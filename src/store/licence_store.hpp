#pragma once
// LicenceStore: streamer seats (CONTRACT §5). A seat is a row {streamerGuid, firstSeen, lastSeen}; it is
// active while lastSeen >= stale_before (now − streamer timeout). Taking a seat is ONE transaction that counts
// the active seats and inserts, so several gateways sharing one store can never sell more than `max`.
// Refreshes of seats this gateway already holds are batched by the caller and written with flush_and_expire.
//
// Thread rules: any thread; every call blocks on the store (fsync), so I/O threads call through
// runtime::BlockingPool.
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

struct SeatRecord {
  std::string guid;  // canonical: lowercase, no braces
  Millis first_seen = 0;
  Millis last_seen = 0;
};

struct SeatClaim {
  bool granted = false;     // false: `max` seats are active and this streamer holds none (capacity reached)
  bool existing = false;    // the streamer already held an active seat (another gateway's, or a lost refresh)
  std::int64_t active = 0;  // active seats after the claim
};

struct SeatTouch {
  std::string guid;
  Millis last_seen = 0;
};

struct SeatFlush {
  std::vector<std::string> lost;  // touched seats whose row was gone and could not be taken again (full)
  std::int64_t expired = 0;       // rows deleted because lastSeen < stale_before
  std::int64_t active = 0;        // active seats after the flush
};

class LicenceStore {
 public:
  virtual ~LicenceStore() = default;

  // In ONE transaction (group commit: one fsync for the lot), for each guid in order: an active seat of
  // `guid` → lastSeen = now, granted (existing); else, when fewer than `max` seats are active → inserted,
  // granted; else not granted. A stale row of `guid` is replaced. One SeatClaim per guid, in order; each
  // claim's `active` is the count right after it.
  virtual Result<std::vector<SeatClaim>> claim_seats(const std::vector<std::string>& guids, Millis now,
                                                     Millis stale_before, std::int64_t max) = 0;

  // claim_seats for one streamer.
  Result<SeatClaim> claim_seat(const std::string& guid, Millis now, Millis stale_before, std::int64_t max) {
    auto claims = claim_seats({guid}, now, stale_before, max);
    if (!claims) return claims.error();
    return claims->front();
  }

  // Deletes the seat of `guid` (idempotent). Returns the active seats after.
  virtual Result<std::int64_t> release_seat(const std::string& guid, Millis stale_before) = 0;

  // In one transaction: writes each touch's lastSeen (a touched row that is gone is taken again only while
  // fewer than `max` seats are active; otherwise it is reported lost), then deletes every row with
  // lastSeen < stale_before.
  virtual Result<SeatFlush> flush_and_expire(const std::vector<SeatTouch>& touches, Millis stale_before,
                                             std::int64_t max) = 0;

  // The active seats (lastSeen >= stale_before), to rebuild memory at start.
  virtual Result<std::vector<SeatRecord>> active_seats(Millis stale_before) = 0;
};

}  // namespace webstream::store
