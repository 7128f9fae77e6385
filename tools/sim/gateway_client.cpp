#include "gateway_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

namespace webstream::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

Result<GatewayEndpoint> parse_gateway_url(std::string_view url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return Error::invalid("--gateway: '" + std::string(url) + "' is not an absolute URL");
  if (parsed->scheme() != "http") {
    return Error::invalid("--gateway: only http:// is supported (the registry listener is plain HTTP)");
  }
  if (!parsed->has_authority() || parsed->host().empty()) return Error::invalid("--gateway: the URL has no host");
  GatewayEndpoint e;
  e.host = parsed->host_address();
  if (!e.host.empty() && e.host.front() == '[') e.host = e.host.substr(1, e.host.size() - 2);
  e.port = parsed->has_port() ? std::string(parsed->port()) : "80";
  e.base_path = parsed->path();
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  return e;
}

net::awaitable<HttpReply> GatewayClient::post_json(std::string path, std::string body) const {
  constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
  HttpReply reply;
  auto ex = co_await net::this_coro::executor;
  tcp::resolver resolver(ex);
  auto [rec, results] = co_await resolver.async_resolve(endpoint_.host, endpoint_.port, kNoThrow);
  if (rec) {
    reply.error = "resolve " + endpoint_.host + ": " + rec.message();
    co_return reply;
  }
  beast::tcp_stream stream(ex);
  stream.expires_after(timeout_);
  auto [cec, ep] = co_await stream.async_connect(results, kNoThrow);
  if (cec) {
    reply.error = "connect: " + cec.message();
    co_return reply;
  }
  http::request<http::string_body> req{http::verb::post, endpoint_.base_path + path, 11};
  req.set(http::field::host, endpoint_.host + ":" + endpoint_.port);
  req.set(http::field::user_agent, "webstream-sim");
  req.set(http::field::content_type, "application/json");
  req.set(http::field::connection, "close");
  if (!backend_key_.empty()) req.set("X-Backend-Key", backend_key_);
  req.body() = std::move(body);
  req.prepare_payload();
  auto [wec, wn] = co_await http::async_write(stream, req, kNoThrow);
  if (wec) {
    reply.error = "write: " + wec.message();
    co_return reply;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  auto [rdec, rn] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  if (rdec) {
    reply.error = "read: " + rdec.message();
    co_return reply;
  }
  reply.status = static_cast<int>(parser.get().result_int());
  reply.body = std::move(parser.get().body());
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return reply;
}

}  // namespace webstream::sim
