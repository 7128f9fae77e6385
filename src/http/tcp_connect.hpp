#pragma once
// Opening an outgoing TCP connection — to a session host (HTTP forwarder, WebSocket relay), the
// access-management service (iam::AmClient) or a health-check URL (registry::BeastHealthProbe): an IP literal
// is connected directly; a name goes through the system resolver first (bounded by the resolver's own
// timeouts: asio cannot interrupt getaddrinfo). The connect attempt (every resolved address in turn) has
// the deadline. TCP_NODELAY is set on success: the gateway writes whole messages and must not wait for Nagle.
//
// Thread rules: none beyond the stream's (one coroutine uses it).
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace webstream::http {

// Connects `stream` (not yet open) to host:port. Returns the error (beast::error::timeout after `timeout`),
// or success; the stream's deadline is cleared either way.
boost::asio::awaitable<boost::system::error_code> connect_tcp(boost::beast::tcp_stream& stream, const std::string& host,
                                                              std::uint16_t port, std::chrono::milliseconds timeout);

// "host:port" with IPv6 literals in brackets, as a Host header needs it.
std::string host_port(std::string_view host, std::uint16_t port);

}  // namespace webstream::http
