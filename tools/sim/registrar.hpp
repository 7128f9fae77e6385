#pragma once
// Registrar: one simulated host's side of the backend registry (CONTRACT §4): register at start (retried),
// heartbeat on a period, unregister on exit. Results land in HostState::registration and as events.
// Thread rules: the sim's io_context thread only; the owner keeps the Registrar alive while run() runs.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>

#include "gateway_client.hpp"
#include "host_state.hpp"
#include "sim_options.hpp"

namespace webstream::sim {

class Registrar {
 public:
  Registrar(boost::asio::any_io_executor ex, const SimOptions& options, HostState& state, const GatewayClient& client);

  // Registers (up to register_attempts tries, register_retry apart), then heartbeats every
  // heartbeat_interval until stop(). Heartbeats go on even if registration gave up: the contract makes a
  // heartbeat from an unknown serverUrl register it.
  boost::asio::awaitable<void> run();

  // One registration attempt; resumes heartbeats. True on a 2xx answer.
  boost::asio::awaitable<bool> register_once();
  // One unregister call; pauses heartbeats (a heartbeat would register the host again). True on 2xx.
  boost::asio::awaitable<bool> unregister();
  // Sends a heartbeat as soon as the loop is free (e.g. after /sim/status changed what it reports).
  void heartbeat_now();
  // Ends run() at its next wait.
  void stop();

  std::string register_body() const;
  std::string heartbeat_body() const;

 private:
  boost::asio::awaitable<void> send_heartbeat();
  boost::asio::awaitable<void> wait(std::int64_t ms);  // returns early on heartbeat_now() or stop()

  const SimOptions& options_;
  HostState& state_;
  const GatewayClient& client_;
  boost::asio::steady_timer wake_;
  bool heartbeat_requested_ = false;
  bool paused_ = false;
  bool stopping_ = false;
};

}  // namespace webstream::sim
