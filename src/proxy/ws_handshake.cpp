#include "proxy/ws_handshake.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/serialize.hpp>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

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

std::string make_key() {
  std::array<unsigned char, 16> raw{};
  if (RAND_bytes(raw.data(), static_cast<int>(raw.size())) != 1) throw std::runtime_error("RAND_bytes failed");
  return base64_encode(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
}

std::string accept_for(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";  // RFC 6455 §1.3
  std::string input(key);
  input += kGuid;
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &size, EVP_sha1(), nullptr) != 1) {
    throw std::runtime_error("SHA-1 failed");
  }
  return base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()), size));
}

std::string backend_request(const std::string& host_port, const std::string& path_and_query, std::string_view key,
                            const bhttp::fields& extra) {
  std::string out;
  out.reserve(512);
  out += "GET ";
  out += path_and_query.empty() ? "/" : path_and_query;
  out += " HTTP/1.1\r\nHost: ";
  out += host_port;
  out += "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ";
  out += key;
  out += "\r\nSec-WebSocket-Version: 13\r\n";
  for (const auto& f : extra) {
    out += f.name_string();
    out += ": ";
    out += f.value();
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

boost::system::error_code check_backend_answer(const websocket::response_type& answer, std::string_view key,
                                               const http::Request& browser_upgrade) {
  if (answer.result() != bhttp::status::switching_protocols) return websocket::error::upgrade_declined;
  if (answer.version() != 11) return websocket::error::bad_http_version;
  if (!bhttp::token_list{answer[bhttp::field::connection]}.exists("upgrade")) {
    return websocket::error::no_connection_upgrade;
  }
  if (!beast::iequals(answer[bhttp::field::upgrade], "websocket")) return websocket::error::no_upgrade_websocket;
  if (answer[bhttp::field::sec_websocket_accept] != accept_for(key)) return websocket::error::bad_sec_accept;
  if (answer.count(bhttp::field::sec_websocket_extensions) != 0) return websocket::error::bad_sec_accept;
  const auto protocol = answer[bhttp::field::sec_websocket_protocol];
  if (!protocol.empty() && !offered(browser_upgrade, std::string_view(protocol.data(), protocol.size()))) {
    return websocket::error::bad_sec_accept;
  }
  return {};
}

std::string switching_protocols(const http::Request& browser_upgrade, std::string_view protocol) {
  const auto key = browser_upgrade[bhttp::field::sec_websocket_key];
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nServer: "
      "WebStream\r\nSec-WebSocket-Accept: ";
  out += accept_for(std::string_view(key.data(), key.size()));
  out += "\r\n";
  if (!protocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += protocol;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
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
