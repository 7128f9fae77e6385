#pragma once
// Host: one simulated session host: a listening socket on the bind address, one coroutine per connection
// (HTTP keep-alive, or a WebSocket after an upgrade), its HostState, and, when registering, a Registrar.
// Thread rules: the sim's io_context thread only. Every coroutine holds a shared_ptr to its Host, so the
// Host lives until the last of them ends (or the io_context is destroyed).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <vector>

#include "core/error.hpp"
#include "gateway_client.hpp"
#include "host_state.hpp"
#include "registrar.hpp"
#include "sim_options.hpp"
#include "ws_endpoints.hpp"

namespace webstream::sim {

class Host : public std::enable_shared_from_this<Host> {
 public:
  // Binds and listens on options.bind_address:port (port 0: OS-picked). `client` is null with --no-register.
  static Result<std::shared_ptr<Host>> create(boost::asio::io_context& io, const SimOptions& options,
                                              const GatewayClient* client, int index, int port);

  // Prints host_ready, starts accepting and (when registering) the Registrar.
  void start();
  // Stops accepting and closes every open WebSocket with 1001 (going away).
  void stop_accepting_and_close();
  // Unregisters from the gateway when this host registers; returns at once otherwise.
  boost::asio::awaitable<void> unregister();

  HostState& state() { return state_; }
  const SimOptions& options() const { return options_; }
  Registrar* registrar() { return registrar_.get(); }  // null with --no-register

  // Called by the connection coroutine for a WebSocket it accepted, so shutdown can close it.
  void track(const std::shared_ptr<WsConn>& conn);

  Host(boost::asio::io_context& io, const SimOptions& options, const GatewayClient* client, int index);

 private:
  static boost::asio::awaitable<void> accept_loop(std::shared_ptr<Host> self);
  static boost::asio::awaitable<void> serve(std::shared_ptr<Host> self, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const SimOptions& options_;
  boost::asio::ip::tcp::acceptor acceptor_;
  HostState state_;
  std::unique_ptr<Registrar> registrar_;
  std::vector<std::weak_ptr<WsConn>> websockets_;
  bool stopping_ = false;
};

}  // namespace webstream::sim
