#include "http/tcp_connect.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace webstream::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

net::awaitable<boost::system::error_code> connect_tcp(boost::beast::tcp_stream& stream, const std::string& host,
                                                      std::uint16_t port, std::chrono::milliseconds timeout) {
  constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(host, ec);
  stream.expires_after(timeout);
  if (!ec) {
    const tcp::endpoint endpoint(address, port);
    auto [cec] = co_await stream.async_connect(endpoint, kNoThrow);
    ec = cec;
  } else {
    tcp::resolver resolver(stream.get_executor());
    const std::string service = std::to_string(port);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, service, kNoThrow);
    ec = rec;
    if (!ec) {
      auto [cec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
      ec = cec;
    }
  }
  stream.expires_never();
  if (!ec) {
    boost::system::error_code ignored;
    stream.socket().set_option(tcp::no_delay(true), ignored);
  }
  co_return ec;
}

std::string host_port(std::string_view host, std::uint16_t port) {
  std::string out;
  const bool v6 = host.find(':') != std::string_view::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

}  // namespace webstream::http
