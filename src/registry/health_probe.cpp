#include "registry/health_probe.hpp"

#include <openssl/ssl.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

#include "http/tcp_connect.hpp"

namespace webstream::registry {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

constexpr auto kToken = net::as_tuple(net::use_awaitable);
constexpr std::size_t kMaxHeaderBytes = 16 * 1024;

struct Target {
  bool tls = false;
  std::string host;       // without IPv6 brackets
  std::string host_port;  // for the Host header
  std::uint16_t port = 80;
  std::string path;  // encoded request-target
};

bool parse_target(const std::string& url, Target& t) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed) return false;
  const auto& u = *parsed;
  if (u.scheme_id() == boost::urls::scheme::https) {
    t.tls = true;
  } else if (u.scheme_id() != boost::urls::scheme::http) {
    return false;
  }
  t.host = u.host_address();
  if (t.host.empty()) return false;
  t.port = u.has_port() ? u.port_number() : (t.tls ? 443 : 80);
  if (t.port == 0) return false;
  t.host_port = u.encoded_host_and_port();
  t.path = u.encoded_path().empty() ? "/" : std::string(u.encoded_path());
  return true;
}

// Writes the GET and reads the answer's status line and headers; true for 2xx.
template <class Stream>
net::awaitable<bool> exchange(Stream& stream, const Target& t) {
  bhttp::request<bhttp::empty_body> req{bhttp::verb::get, t.path, 11};
  req.set(bhttp::field::host, t.host_port);
  req.set(bhttp::field::user_agent, "webstream-gateway-health-probe");
  req.set(bhttp::field::connection, "close");
  auto [wec, wn] = co_await bhttp::async_write(stream, req, kToken);
  if (wec) co_return false;
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::empty_body> parser;
  parser.header_limit(kMaxHeaderBytes);
  parser.skip(true);  // the body is not needed
  auto [rec, rn] = co_await bhttp::async_read_header(stream, buffer, parser, kToken);
  if (rec) co_return false;
  const unsigned status = parser.get().result_int();
  co_return status >= 200 && status < 300;
}

}  // namespace

BeastHealthProbe::BeastHealthProbe() : tls_(net::ssl::context::tls_client) {
  tls_.set_verify_mode(net::ssl::verify_none);  // see the header: probes do not authenticate backends
}

net::awaitable<bool> BeastHealthProbe::probe(const std::string& url, std::chrono::milliseconds timeout) {
  Target t;
  if (!parse_target(url, t)) co_return false;
  beast::tcp_stream stream(co_await net::this_coro::executor);
  // One deadline for connect, handshake, write and read together.
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (auto cec = co_await http::connect_tcp(stream, t.host, t.port, timeout); cec) co_return false;
  stream.expires_at(deadline);

  if (!t.tls) {
    const bool ok = co_await exchange(stream, t);
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return ok;
  }

  beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), tls_);
  boost::system::error_code literal;
  net::ip::make_address(t.host, literal);
  if (literal) SSL_set_tlsext_host_name(tls.native_handle(), t.host.c_str());  // SNI for names only
  auto [hec] = co_await tls.async_handshake(net::ssl::stream_base::client, kToken);
  if (hec) co_return false;
  const bool ok = co_await exchange(tls, t);
  boost::system::error_code ignored;
  beast::get_lowest_layer(tls).socket().shutdown(tcp::socket::shutdown_both, ignored);
  co_return ok;
}

}  // namespace webstream::registry
