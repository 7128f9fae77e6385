#pragma once
// ExpirySweeper: once a second, expires sessions whose reservation or disconnect grace ran out
// (SessionService::expire_due) and ends revoked ones (SessionService::end_revoked: the selecting token or its
// user revoked, every second; the entitlement gone, every 2 s). The store writes and the entitlement
// resolution run on the blocking pool, never on the I/O thread.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <memory>

#include "runtime/blocking_pool.hpp"
#include "sessions/session_service.hpp"

namespace webstream::sessions {

class ExpirySweeper {
 public:
  ExpirySweeper(SessionService& service, runtime::BlockingPool& blocking) : service_(service), blocking_(blocking) {}
  void start(boost::asio::any_io_executor executor);
  void stop();
  // Ends the current wait: the next pass runs now (a change notification, store/change_feed.hpp). Any thread.
  void wake();

 private:
  SessionService& service_;
  runtime::BlockingPool& blocking_;
  std::shared_ptr<boost::asio::steady_timer> timer_;
  std::shared_ptr<std::atomic<bool>> stopped_ = std::make_shared<std::atomic<bool>>(false);
};

}  // namespace webstream::sessions
