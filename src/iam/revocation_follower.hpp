#pragma once
// RevocationFollower: "revocation everywhere" for several gateways on one store (CONTRACT §12). Each gateway
// records its logouts and user cutoffs in the store's revocation log (RevocationFeed, the same log a separate
// access-management service serves); this follower reads that log every `period` and applies what the other
// gateways recorded to this gateway's Authenticator (revoke_token_id, apply_cutoff: memory only, idempotent).
// So a token logged out on one gateway is refused by every other within about `period` plus a query, even
// when it sits in their token caches, and the session sweeper then ends that user's sessions here (1008).
//
// Reading: since = the previous page's now minus `overlap` (entries stamped just before a read that committed
// just after it are read on the next round; applying one twice costs nothing). A page with `more` is followed
// at once. The first round reads every relevant entry (since 0). A failed read (an outage) is retried next
// round from the same point: nothing is skipped.
//
// wake(): read now rather than at the end of the period (several gateways on PostgreSQL: a change
// notification, store/change_feed.hpp). With such a feed the period is only a safety net.
//
// Thread rules: start()/stop() from one thread; wake() from any; the follower runs on its own thread and
// blocks only there.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/revocation_log_store.hpp"

namespace webstream::iam {

struct RevocationTargets {
  std::function<void(const std::string& jti, std::int64_t expires_at)> revoke_token;
  std::function<void(const std::string& user_id, std::int64_t not_before)> cutoff;
};

class RevocationFollower {
 public:
  struct Options {
    std::chrono::milliseconds period{1000};
    Millis overlap_ms = 2000;
    std::size_t page_entries = 10000;
  };

  RevocationFollower(store::RevocationLogStore& log, RevocationTargets targets, Options options);
  RevocationFollower(store::RevocationLogStore& log, RevocationTargets targets)
      : RevocationFollower(log, std::move(targets), Options{}) {}
  ~RevocationFollower() { stop(); }
  RevocationFollower(const RevocationFollower&) = delete;
  RevocationFollower& operator=(const RevocationFollower&) = delete;

  // One round: reads and applies every entry since the last round. Error: the read failed (nothing applied
  // from it; the next round starts from the same point). Blocks on the store.
  Status poll_once();

  void start();
  void stop();
  // Reads at once (or right after the read under way). Never blocks.
  void wake();

 private:
  store::RevocationLogStore& log_;
  const RevocationTargets targets_;
  const Options options_;
  Millis since_ms_ = 0;  // only the follower's thread (or a test's poll_once) touches it
  std::mutex wake_mutex_;
  std::condition_variable_any wake_cv_;
  bool woken_ = false;  // GUARDED_BY(wake_mutex_)
  std::jthread thread_;
};

}  // namespace webstream::iam
