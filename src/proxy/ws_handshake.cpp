#include "proxy/ws_handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include "core/encoding.hpp"

namespace webstream::proxy::ws_handshake {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

net::awaitable<void> close_transport(http::PlainStream& stream, std::chrono::milliseconds) {
  boost::system::error_code ignored;
  stream.socket().shutdown(net::socket_base::shutdown_send, ignored);
  stream.close();
  co_return;
}

net::awaitable<void> close_transport(http::TlsStream& stream, std::chrono::milliseconds timeout) {
  beast::get_lowest_layer(stream).expires_after(timeout);
  [[maybe_unused]] auto [ec] = co_await stream.async_shutdown(kNoThrow);
  beast::get_lowest_layer(stream).close();
}

template <class Stream>
net::awaitable<void> write_and_close(Stream& stream, const Refusal& refusal, unsigned version,
                                     std::chrono::milliseconds timeout) {
  auto res = refusal_response(refusal, version);
  beast::get_lowest_layer(stream).expires_after(timeout);
  [[maybe_unused]] auto [ec, written] = co_await bhttp::async_write(stream, res, kNoThrow);
  co_await close_transport(stream, timeout);
}

}  // namespace

http::Response refusal_response(const Refusal& refusal, unsigned version) {
  http::Response res{static_cast<bhttp::status>(refusal.status), version};
  boost::json::object inner{{"code", refusal.code}, {"message", refusal.message}};
  boost::json::object body{{"error", std::move(inner)}};
  res.set(bhttp::field::content_type, "application/json");
  res.set(bhttp::field::cache_control, "no-store");
  if (refusal.status == 426) res.set(bhttp::field::sec_websocket_version, "13");
  res.body() = boost::json::serialize(body);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

Refusal check_upgrade(const http::Request& req) {
  if (!websocket::is_upgrade(req) || req.version() != 11 || req.find(bhttp::field::host) == req.end()) {
    return {400, "invalid_request", "not a WebSocket upgrade request"};
  }
  const auto key = req[bhttp::field::sec_websocket_key];
  const auto decoded = base64_decode(key);
  if (!decoded || decoded->size() != 16) return {400, "invalid_request", "bad Sec-WebSocket-Key"};
  if (req[bhttp::field::sec_websocket_version] != "13") {
    return {426, "upgrade_required", "only WebSocket version 13 is supported"};
  }
  return {};
}

Refusal backend_refusal(const boost::system::error_code& ec, const websocket::response_type& res) {
  if (ec == websocket::error::upgrade_declined) {
    const unsigned status = res.result_int();
    if (status >= 500 || status < 200) {
      return {502, "backend_unavailable", "the session host failed the WebSocket upgrade"};
    }
    return {status, "upgrade_refused", "the session host refused the WebSocket upgrade"};
  }
  if (ec == beast::error::timeout) {
    return {504, "backend_timeout", "the session host did not answer the WebSocket upgrade in time"};
  }
  return {502, "backend_unavailable", "the session host is not reachable"};
}

bool offered(const http::Request& req, std::string_view chosen) {
  for (const auto& f : req) {
    if (f.name() != bhttp::field::sec_websocket_protocol) continue;
    for (auto token : bhttp::token_list{f.value()}) {
      if (std::string_view(token.data(), token.size()) == chosen) return true;
    }
  }
  return false;
}

net::awaitable<void> refuse(http::PlainStream& stream, const Refusal& refusal, unsigned version,
                            std::chrono::milliseconds timeout) {
  co_await write_and_close(stream, refusal, version, timeout);
}

net::awaitable<void> refuse(http::TlsStream& stream, const Refusal& refusal, unsigned version,
                            std::chrono::milliseconds timeout) {
  co_await write_and_close(stream, refusal, version, timeout);
}

}  // namespace webstream::proxy::ws_handshake
