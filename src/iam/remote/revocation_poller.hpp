#pragma once
// RevocationPoller: the gateway's side of revocation in accessManagement.mode=standalone|external
// (docs/access-management.md). Every `interval` (2 s) it asks the access-management service
// GET /iam/internal/revocations?since=<ms> and hands each revoked token and each user cutoff to the sink
// (the gateway's auth::Authenticator: revoke_token_id / apply_cutoff), so a logout, a disabled or deleted
// user, or a password/role change done AT the service is refused by this gateway within about one interval
// (plus the WebSocket re-check, 1 s, for open relays).
//
// - The first poll asks since=0 (every entry still relevant); later ones since = the previous answer's
//   "now" minus `overlap_ms`, so an entry is never missed at the boundary (the sink is idempotent). An
//   answer with "more":true is one page of a longer feed: the next page is asked at once, from its "now"
//   exactly (the service cuts pages between two stamps).
// - poke() polls at once instead of waiting for the timer (after a change proxied through this gateway).
// - synced(): the whole feed was read at least once since start (every page). fresh(): the last success is at most
//   `max_staleness_ms` old. The gateway refuses to vouch for tokens (503) while not fresh: it cannot know
//   whether they were revoked (docs/access-management.md, "When the service is down").
// - Failures are logged once when they start and once when polling recovers, not every 2 s.
//
// Thread rules: start()/stop()/poke() from any thread; the loop runs on the given executor (one strand of
// work: one coroutine); the sink is called on it. synced()/fresh() any thread. The loop keeps its state
// alive by itself; the sink must stay valid until stop() has been called and the executor has stopped.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "iam/remote/am_client.hpp"

namespace webstream::iam {

struct RevocationSink {
  std::function<void(const std::string& jti, std::int64_t expires_at)> revoke;
  std::function<void(const std::string& user_id, std::int64_t not_before)> cutoff;
};

struct RevocationPollerOptions {
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{2000};  // per poll
  Millis overlap_ms = 2000;
  Millis max_staleness_ms = 60'000;
};

class RevocationPoller {
 public:
  RevocationPoller(AmClient client, RevocationSink sink, const Clock& clock, RevocationPollerOptions options = {});
  ~RevocationPoller();
  RevocationPoller(const RevocationPoller&) = delete;
  RevocationPoller& operator=(const RevocationPoller&) = delete;

  void start(boost::asio::any_io_executor executor);
  void stop();
  void poke();

  // Polls now, blocking the calling thread up to the timeout per page (start-up), until the last page.
  Status poll_blocking();
  // Applies one answer body of GET /iam/internal/revocations; error 502 when it is not one. (Tests.)
  Status apply(std::string_view body);

  bool synced() const;
  bool fresh() const;
  Millis next_since() const;

  struct Core;  // shared with the loop (revocation_poller.cpp)

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace webstream::iam
