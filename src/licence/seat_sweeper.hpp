#pragma once
// SeatSweeper: every flush interval (2 s by default) runs SeatRegistry::expire_silent() on the blocking pool:
// batched refreshes reach the store (so a restarted gateway sees current lastSeen times and a full house
// stays full) and streamers silent past the timeout free their seats.
//
// Thread rules: start() once, from any thread; stop() from any thread, idempotent. The loop runs on the
// executor given to start(); the store work on the BlockingPool. Call SeatRegistry::expire_silent() once
// more after stop() at shutdown to write the last refreshes.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>

#include "licence/seat_registry.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::licence {

class SeatSweeper {
 public:
  SeatSweeper(SeatRegistry& seats, runtime::BlockingPool& blocking) : seats_(seats), blocking_(blocking) {}
  ~SeatSweeper() { stop(); }
  SeatSweeper(const SeatSweeper&) = delete;
  SeatSweeper& operator=(const SeatSweeper&) = delete;

  void start(boost::asio::any_io_executor executor);
  void stop();

 private:
  SeatRegistry& seats_;
  runtime::BlockingPool& blocking_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace webstream::licence
