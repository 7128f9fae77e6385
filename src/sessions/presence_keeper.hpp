#pragma once
// PresenceKeeper: several gateways on one store (CONTRACT §12). Renews this gateway's liveness row and the
// presence of the WebSockets it holds every kGatewayRenewPeriod (5 s), and declares the gateways the
// database found dead (SessionService::renew_presence). Its own thread, so a busy BlockingPool (argon2
// hashes, a select storm) never makes a live gateway look dead: three renewals may be missed before the
// others count it dead. stop() removes this gateway's rows (a clean stop is no death to wait 15 s for).
//
// Thread rules: start() and stop() from one thread; the renewals run on the keeper's thread (store calls
// block: never an I/O thread).
#include <condition_variable>
#include <mutex>
#include <thread>

#include "sessions/session_service.hpp"

namespace webstream::sessions {

class PresenceKeeper {
 public:
  explicit PresenceKeeper(SessionService& service) : service_(service) {}
  ~PresenceKeeper() { stop(); }
  void start();
  // Stops renewing and leaves (idempotent).
  void stop();

 private:
  void run(std::stop_token stop);

  SessionService& service_;
  std::jthread thread_;
};

}  // namespace webstream::sessions
