#pragma once
// SimStreamer: one simulated streamer of the licence registry (CONTRACT §5): a random UUID that checks in
// every checkin_interval and checks out on exit. Each check-in's answer is printed as an event.
// Thread rules: the sim's io_context thread only; the owner keeps it alive while run() runs.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <string>

#include "gateway_client.hpp"

namespace webstream::sim {

// A random version-4 UUID in the 8-4-4-4-12 lowercase form.
std::string random_uuid();

class SimStreamer {
 public:
  SimStreamer(boost::asio::any_io_executor ex, const GatewayClient& client, std::int64_t interval_ms);

  const std::string& guid() const { return guid_; }
  boost::asio::awaitable<void> run();  // check in now and every interval until stop()
  boost::asio::awaitable<void> check_out();
  void stop();

  int last_status() const { return last_status_; }

 private:
  boost::asio::awaitable<void> check_in();

  const GatewayClient& client_;
  const std::int64_t interval_ms_;
  const std::string guid_;
  boost::asio::steady_timer timer_;
  bool stopping_ = false;
  int last_status_ = 0;
};

}  // namespace webstream::sim
