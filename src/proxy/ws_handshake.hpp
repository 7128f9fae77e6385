#pragma once
// The HTTP side of a WebSocket relay, before any 101: checking the browser's upgrade request, turning a
// backend's failed handshake into the browser's answer (CONTRACT §8), and writing that answer as plain HTTP
// on a stream that is then closed. Pure functions apart from refuse().
//
// Thread rules: none (caller-owned objects; refuse() runs on the stream's executor).
#include <boost/asio/awaitable.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "http/router.hpp"
#include "http/types.hpp"

namespace webstream::proxy::ws_handshake {

// A plain HTTP answer instead of 101. status 0: no refusal.
struct Refusal {
  unsigned status = 0;
  std::string code;     // the contract's error code
  std::string message;  // human text; never names the backend
};

// The browser's upgrade request, checked before any backend is touched (Beast's accept checks the same,
// but only after the backend side would have been opened): 400 for a request that is not a valid version-13
// upgrade (method, HTTP/1.1, Host, Connection/Upgrade tokens, a Sec-WebSocket-Key of 16 bytes), 426 (with
// Sec-WebSocket-Version: 13) for another version.
Refusal check_upgrade(const http::Request& req);

// What a failed backend handshake becomes: the backend's status for 2xx-4xx answers (its headers and body are
// dropped: they may describe the backend), 502 backend_unavailable for 5xx, 1xx, an invalid 101 and any
// connect/transport failure, 504 backend_timeout when it did not answer in time.
Refusal backend_refusal(const boost::system::error_code& ec,
                        const boost::beast::websocket::response_type& backend_answer);

// RFC 6455 §4.1: true when `chosen` is one of the subprotocols the browser offered (exact match).
bool offered(const http::Request& req, std::string_view chosen);

// A fresh Sec-WebSocket-Key (16 random bytes, base64) and the Sec-WebSocket-Accept that answers a key
// (RFC 6455 §4.2.2: base64 of SHA-1 over the key and the protocol's GUID).
std::string make_key();
std::string accept_for(std::string_view key);

// The gateway's own handshake request to the backend: request line, Host, the upgrade fields with `key`, then
// `extra` (apply_websocket's fields) as they are. Written as one buffer.
std::string backend_request(const std::string& host_port, const std::string& path_and_query, std::string_view key,
                            const boost::beast::http::fields& extra);

// The backend's answer to backend_request: no error for a valid 101 (Upgrade: websocket, Connection: upgrade,
// the right Sec-WebSocket-Accept, no extension, a subprotocol only if the browser offered it), else the error
// backend_refusal() turns into the browser's answer (upgrade_declined for any other status).
boost::system::error_code check_backend_answer(const boost::beast::websocket::response_type& answer,
                                               std::string_view key, const http::Request& browser_upgrade);

// The 101 the browser gets: Sec-WebSocket-Accept for its key, the backend's subprotocol if any.
std::string switching_protocols(const http::Request& browser_upgrade, std::string_view protocol);

// The refusal as a response: {"error":{"code","message"}}, Connection: close, no-store.
http::Response refusal_response(const Refusal& refusal, unsigned version);

// Writes the refusal, then closes the connection (TLS: close_notify first), each step within `timeout`.
boost::asio::awaitable<void> refuse(http::PlainStream& stream, const Refusal& refusal, unsigned version,
                                    std::chrono::milliseconds timeout);
boost::asio::awaitable<void> refuse(http::TlsStream& stream, const Refusal& refusal, unsigned version,
                                    std::chrono::milliseconds timeout);

}  // namespace webstream::proxy::ws_handshake
