#pragma once
// WebSocket relay (CONTRACT §8 /capture, /control, /audio): takes over the browser's connection after the
// upgrade request was read and authenticated, opens the backend side, and relays frames both ways.
//
// Steps
//   1. Check the browser's upgrade request (Upgrade/Connection/Sec-WebSocket-Key/-Version): a bad one is
//      answered 400 (426 for a version other than 13) before any backend is touched.
//   2. TCP connect to the backend (connect_timeout), WebSocket handshake to it (backend_handshake_timeout)
//      carrying header_policy::apply_websocket's headers (identity injected, the browser's
//      Sec-WebSocket-Protocol passed on, no permessage-deflate offered).
//   3. Anything but a valid 101 is answered to the browser as plain HTTP and the connection closed: never a
//      tunnel. The backend's status is kept for 1xx-4xx (its headers and body are NOT passed, so nothing
//      about the backend leaks); 5xx, an invalid 101, a refused/failed connect become 502
//      backend_unavailable; a handshake timeout becomes 504 backend_timeout.
//   4. Accept the browser (from the already-read request), echoing the subprotocol the backend chose; no
//      permessage-deflate.
//   5. Relay: one object driven by completion handlers (steps 1-4 are a coroutine whose frame is freed
//      once both sides are open; see "Memory" below). Two lanes, one per direction, and a watchdog. Each
//      lane reads at most one buffer of the current message, writes it as one frame (fin when the message
//      is complete), then reads again: a slow reader slows its writer. A lane's buffer is 256 bytes until a
//      read fills it, then chunk_bytes for the rest of the relay; memory per relay is at most
//      2 × chunk_bytes plus Beast's fixed frame buffers. Message type (text/binary) and message boundaries
//      are preserved; fragment boundaries may change, as RFC 6455 §5.4 allows an intermediary. A message
//      over max_message_bytes closes its sender with 1009 (Beast) and the other side with 1009 too.
//
// Memory: an idle relay is its two WebSocket streams, the relay object (lanes with their 256-byte buffers,
//   hooks, outcome, timer) and three pending operations (two reads, the watchdog's wait), each holding a
//   shared_ptr to the object. No coroutine frame stays alive: docs/proxy.md "Memory of an idle relay".
//
// Ping/pong: answered hop by hop. Beast answers each peer's ping with a pong at once and swallows pongs;
//   pings are not forwarded, so a peer's ping measures its own hop. Each side also gets keep-alive pings
//   from the gateway after idle_timeout/2 of silence; a side silent for idle_timeout is dropped.
// Close codes: a close frame from one side is passed to the other with its code and reason. A side that
//   drops without a close frame: backend → browser gets 1011; browser → backend gets 1001. The watchdog
//   calls still_authorised() every auth_check_interval; false → both sides get 1008. stop(code) (handed to
//   on_open, e.g. for graceful shutdown with 1001) closes both sides with `code`.
// Metrics (relaxed atomics, looked up once per process): webstream_websocket_relayed_bytes_total and
//   webstream_websocket_relayed_messages_total by direction, webstream_websockets_open.
//
// Thread rules: the relay runs on the client stream's executor, which must be single-threaded (a worker's
// io_context) or a strand: both lanes and the watchdog touch both streams without locks. Hooks are called
// on that executor; still_authorised must be cheap and must not block. The hot path (the lanes) takes no
// lock, does no map lookup and allocates nothing per message.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "config/config.hpp"
#include "http/router.hpp"
#include "http/types.hpp"
#include "proxy/header_policy.hpp"

namespace webstream::proxy {

struct BackendTarget {
  std::string host;  // name or IP literal (IPv6 without brackets)
  std::uint16_t port = 80;
  std::string path_and_query;  // e.g. "/capture?sessionId=…" (token already removed: remove_query_param)
};

struct RelayOptions {
  std::chrono::milliseconds connect_timeout{3000};             // CONTRACT §11
  std::chrono::milliseconds backend_handshake_timeout{30000};  // the backend's answer to the upgrade
  std::chrono::milliseconds client_handshake_timeout{10000};   // writing 101 / plain errors to the browser
  std::chrono::milliseconds close_timeout{5000};               // a closing handshake that gets no answer
  std::chrono::milliseconds idle_timeout{60000};               // silent this long (pings unanswered) → dropped
  std::chrono::milliseconds auth_check_interval{1000};         // how often still_authorised() is asked
  std::size_t max_message_bytes = 16 * 1024 * 1024;            // CONTRACT §11; over → close 1009
  std::size_t chunk_bytes = 64 * 1024;                         // per direction buffer, one frame at most

  static RelayOptions from_limits(const config::LimitsConfig& limits);
};

// Ends a running relay, closing both sides with `close_code`. Call it on the relay's executor (e.g. from a
// Lifecycle stop callback); after the relay has ended it does nothing, so it may outlive the relay.
using RelayStop = std::function<void(std::uint16_t close_code)>;

struct RelayHooks {
  std::function<bool()> still_authorised;  // empty: always authorised
  // Both handshakes done, relaying starts.
  std::function<void(RelayStop stop)> on_open;
  std::function<void()> on_close;  // relaying ended (only called after on_open)
};

// What happened, for the caller's log line (no secrets in it).
struct RelayOutcome {
  unsigned refused_status = 0;      // != 0: no relay; the browser got this plain HTTP status
  std::string refused_reason;       // short text for the log
  std::uint16_t client_close = 0;   // close code sent to / agreed with the browser (0: none)
  std::uint16_t backend_close = 0;  // close code sent to / agreed with the backend (0: none)
  std::uint64_t bytes_to_backend = 0;
  std::uint64_t bytes_to_client = 0;
  std::uint64_t messages_to_backend = 0;
  std::uint64_t messages_to_client = 0;
};

// Called once, on the relay's executor, when the relay is over (after on_close) or was refused.
using RelayDone = std::function<void(RelayOutcome)>;

// What the relay needs only until both handshakes are done (then it is freed).
struct RelayRequest {
  http::Request upgrade;  // the request read from the browser (no bytes beyond it read)
  BackendTarget target;
  Identity identity;
  ForwardInfo forward;
};

// Starts relaying `client` and returns at once; `done` gets the outcome. Nothing of the caller's is
// referenced afterwards (`options` is copied), so the caller's frame may end: this is how the gateway runs
// relays, detached from the request loop that read the upgrade request.
void start_relay(http::ClientStream&& client, RelayRequest request, const RelayOptions& options, RelayHooks hooks,
                 RelayDone done);

// Relays one browser WebSocket and completes with the outcome (start_relay, awaited). `client` is taken over; `upgrade_request` must be the request read from it
// (no bytes beyond it read). References must outlive the awaitable (co_await it directly).
template <class Stream>
boost::asio::awaitable<RelayOutcome> relay(Stream client, const http::Request& upgrade_request,
                                           const BackendTarget& target, const Identity& identity,
                                           const ForwardInfo& forward, const RelayOptions& options, RelayHooks hooks);

// The same for the router's stream variant (plain or TLS).
boost::asio::awaitable<RelayOutcome> relay(http::ClientStream client, const http::Request& upgrade_request,
                                           const BackendTarget& target, const Identity& identity,
                                           const ForwardInfo& forward, const RelayOptions& options, RelayHooks hooks);

extern template boost::asio::awaitable<RelayOutcome> relay<http::PlainStream>(http::PlainStream, const http::Request&,
                                                                              const BackendTarget&, const Identity&,
                                                                              const ForwardInfo&, const RelayOptions&,
                                                                              RelayHooks);
extern template boost::asio::awaitable<RelayOutcome> relay<http::TlsStream>(http::TlsStream, const http::Request&,
                                                                            const BackendTarget&, const Identity&,
                                                                            const ForwardInfo&, const RelayOptions&,
                                                                            RelayHooks);

}  // namespace webstream::proxy
