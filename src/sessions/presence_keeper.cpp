#include "sessions/presence_keeper.hpp"

#include "observability/log.hpp"

namespace webstream::sessions {

void PresenceKeeper::start() {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void PresenceKeeper::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  service_.leave_presence();
}

void PresenceKeeper::run(std::stop_token stop) {
  std::mutex m;
  std::condition_variable_any wake;
  std::unique_lock lock(m);
  bool failing = false;
  while (!stop.stop_requested()) {
    auto renewed = service_.renew_presence();
    // Logged once per outage, not every 5 s: the store's own gauge and messages say the rest.
    if (!renewed && !failing) {
      log::warn("gateway liveness not renewed; retrying", {{"error", renewed.error().message}});
    } else if (renewed && failing) {
      log::info("gateway liveness renewed again", {{"gatewayId", service_.gateway_id()}});
    }
    failing = !renewed;
    // Returns early only when a stop is requested (the predicate never holds).
    (void)wake.wait_for(lock, stop, store::kGatewayRenewPeriod, [] { return false; });
  }
}

}  // namespace webstream::sessions
