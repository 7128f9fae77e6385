#pragma once
// PgTimeline: puts the instants a gateway passes to the store on the database's clock.
//
// The store interfaces take times from the gateway's Clock (SessionStore, LicenceStore, LoginFailureStore:
// `now`, `stale_before`, `at`). With several gateways on one database their clocks may disagree, and an
// expiry decided by comparing one gateway's `now` with a row another gateway stamped would free a seat
// early or keep it too long. So the PostgreSQL stores write and compare `to_db(t)` = t + skew, where skew =
// the database's now() − this gateway's clock, measured with one query and measured again every 30 s of
// real time: every row is stamped on, and every expiry decided on, the database's timeline whichever
// gateway asks; the durations the caller meant (a 45 s seat timeout, a 15 min lockout window) are kept.
// Reads map back with from_db() so each gateway sees its own timeline. A FakeClock in tests gives a
// fixed skew, so the same tests hold for SQLite and PostgreSQL.
//
// Thread rules: thread-safe; skew() may run one query (blocking) when the measurement is due.
#include <atomic>
#include <chrono>
#include <mutex>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/postgres/pg_connection.hpp"

namespace webstream::store::pg {

class PgTimeline {
 public:
  explicit PgTimeline(const Clock& clock) : clock_(clock) {}

  // The skew, measured on `c` when due. Call inside the transaction that uses it.
  Millis skew(PgConnection& c) {
    const auto now = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (!measured_ || now - measured_at_ > std::chrono::seconds(30)) {
      const Millis db_now = c.exec("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint").integer(0, 0);
      // Rounded to whole seconds: the raw difference carries the query's latency (a millisecond or so,
      // different on every gateway and every measurement), and instants read back through it must be the
      // same on every gateway — a session's created_at is part of its connect token, which any gateway
      // checks. Expiries are decided to within half a second either way.
      const Millis raw = db_now - clock_.now_ms();
      skew_ = (raw >= 0 ? raw + 500 : raw - 500) / 1000 * 1000;
      measured_at_ = now;
      measured_ = true;
    }
    return skew_;
  }
  const Clock& clock() const { return clock_; }

 private:
  const Clock& clock_;
  std::mutex mutex_;
  bool measured_ = false;                              // GUARDED_BY(mutex_)
  std::chrono::steady_clock::time_point measured_at_;  // GUARDED_BY(mutex_)
  Millis skew_ = 0;                                    // GUARDED_BY(mutex_)
};

}  // namespace webstream::store::pg
