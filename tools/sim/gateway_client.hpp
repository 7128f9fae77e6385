#pragma once
// GatewayClient: POSTs JSON to the gateway's HTTP (registry) listener, one short connection per call,
// with a deadline on the whole exchange. Used for register / heartbeat / unregister and licence calls.
// Thread rules: call from the sim's io_context thread only.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace webstream::sim {

struct GatewayEndpoint {
  std::string host;       // as written in the URL (name or address)
  std::string port;       // "80" when the URL has none
  std::string base_path;  // the URL's path without a trailing '/', usually ""
};

// Parses an absolute http:// URL. https is refused: the registry listener is plain HTTP (CONTRACT §2).
Result<GatewayEndpoint> parse_gateway_url(std::string_view url);

struct HttpReply {
  int status = 0;  // 0: no HTTP answer (refused, timed out, bad answer); see `error`
  std::string body;
  std::string error;
};

class GatewayClient {
 public:
  GatewayClient(GatewayEndpoint endpoint, std::string backend_key, std::chrono::milliseconds timeout)
      : endpoint_(std::move(endpoint)), backend_key_(std::move(backend_key)), timeout_(timeout) {}

  // POST {base_path}{path} with a JSON body; adds X-Backend-Key when a key is set. Never throws.
  boost::asio::awaitable<HttpReply> post_json(std::string path, std::string body) const;

 private:
  GatewayEndpoint endpoint_;
  std::string backend_key_;  // secret: never logged
  std::chrono::milliseconds timeout_;
};

}  // namespace webstream::sim
