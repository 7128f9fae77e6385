#pragma once
// One connection, one straight-line coroutine (docs/architecture.md, "One connection"): optional TLS
// handshake, then requests read with the limits of CONTRACT §11, routed, answered; a WebSocket upgrade hands
// the stream over to the route's upgrade handler.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>

#include "config/config.hpp"
#include "http/lifecycle.hpp"
#include "http/router.hpp"

namespace webstream::http {

struct ConnectionEnv {
  const Router* router;
  const config::LimitsConfig* limits;
  Lifecycle* lifecycle;
  ListenerKind listener;
  bool dev_mode;  // no HTTPS listener: the HTTP listener serves public routes too
  // Keeps the connection counted against the listener's caps while held (listener.cpp).
  std::shared_ptr<void> ticket{};
};

boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket, std::string remote_ip,
                                              ConnectionEnv env,
                                              std::shared_ptr<boost::asio::ssl::context> tls /* null: plain */);

}  // namespace webstream::http
