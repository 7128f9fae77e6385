#pragma once
// WebSocket relay (CONTRACT §8 /capture, /control, /audio): takes over the browser's connection after the
// upgrade request was read and authenticated, opens the backend side, and tunnels frames both ways.
//
// Steps
//   1. Check the browser's upgrade request (Upgrade/Connection/Sec-WebSocket-Key/-Version): a bad one is
//      answered 400 (426 for a version other than 13) before any backend is touched.
//   2. TCP connect to the backend (connect_timeout), then the gateway's own handshake request to it
//      (backend_handshake_timeout) carrying header_policy::apply_websocket's headers (identity injected, the
//      browser's Sec-WebSocket-Protocol passed on, no extension offered).
//   3. Anything but a valid 101 (status, Upgrade, Connection, Sec-WebSocket-Accept, no extension, an offered
//      subprotocol) is answered to the browser as plain HTTP and the connection closed: never a tunnel. The
//      backend's status is kept for 2xx-4xx (its headers and body are NOT passed, so nothing about the backend
//      leaks); 5xx, 1xx, an invalid 101, a refused/failed connect become 502 backend_unavailable; a handshake
//      timeout becomes 504 backend_timeout.
//   4. The browser's 101 (Sec-WebSocket-Accept for its key, the backend's subprotocol echoed).
//   5. Tunnel (frame_scanner.hpp): each direction parses frame headers only and passes the bytes on exactly
//      as they came, masks included (a browser's masked frames are valid client frames for the backend; the
//      backend's unmasked frames are valid server frames for the browser, RFC 6455 §5.1-5.3). Fragmentation,
//      message types, ping and pong pass through untouched (the peers answer each other's pings). Enforced on
//      the way: masking per direction, RSV bits, opcodes, control frame rules, continuation order, a close
//      frame's code and UTF-8 reason, and the message limit (max_message_bytes, checked at each frame header
//      before its payload: over → 1009). Plain sockets are read into one buffer per worker thread and written
//      at once without blocking; only what the receiver's kernel does not take is copied, and the direction
//      then reads nothing until it is written: a slow reader slows its writer. An idle relay holds no payload
//      buffer (TLS: the browser side reads into a 512-byte buffer that grows to one TLS record when used).
//
// Close codes: a close frame passes through with its code and reason; the peers finish the closing handshake
//   through the tunnel. A side that drops without a close frame: backend → browser gets 1011; browser →
//   backend gets 1001. A protocol violation or a message over the limit: the sender gets 1002/1007/1009, the
//   other side 1009 for a message over the limit (else as if the sender had gone: 1001 or 1011), nothing of
//   the bad frame is passed on, and the sender is drained (not reset) until it answers, so it reads the close.
//   The gateway's own close frames go only at a frame boundary of what it writes to that side. still_authorised()
//   is asked every auth_check_interval (the watchdog: the thread's RelayWatch, one timer on
//   RelayOptions::timers, the clock seam, so a test drives it with FakeTimers); false → both sides get 1008.
//   stop(code) (RelayStop, handed to on_open) closes both sides with `code`; RelayOptions::lifecycle's stop
//   closes them with 1001. Once any close has started, both closing handshakes must end within 2 ×
//   close_timeout (counted in watchdog ticks, so the first may come up to one interval sooner) or both
//   connections are dropped.
// Dead peers: TCP keep-alive on both sockets (probes after idle_timeout/2 of silence, dropped after about
//   idle_timeout) and TCP_USER_TIMEOUT for data that is never acknowledged: no ping timer per relay.
// Metrics (relaxed atomics, looked up once per process): webstream_websocket_relayed_bytes_total (data
//   payload bytes) and webstream_websocket_relayed_messages_total by direction, webstream_websockets_open.
//
// Thread rules: the relay runs on the client stream's executor, which must be single-threaded (a worker's
// io_context; the per-thread read buffer relies on it): both directions and the watchdog touch both sockets
// without locks. Hooks are called on that executor; still_authorised must be cheap and must not block. The
// hot path takes no lock, does no map lookup and allocates nothing unless the receiver pushes back.
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "http/lifecycle.hpp"
#include "http/router.hpp"
#include "http/types.hpp"
#include "proxy/header_policy.hpp"
#include "runtime/timers.hpp"

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
  std::chrono::milliseconds idle_timeout{60000};        // a dead peer is found within about this (TCP keep-alive)
  std::chrono::milliseconds auth_check_interval{1000};  // how often still_authorised() is asked
  std::size_t max_message_bytes = 16 * 1024 * 1024;     // CONTRACT §11; over → close 1009
  // The watchdog's timer (auth checks, the closing bound); tests pass runtime::testing::FakeTimers. Must outlive
  // every relay started with these options.
  runtime::Timers* timers = &runtime::SteadyTimers::instance();
  // Graceful stop: when it stops, every relay closes both sides with 1001 (the relays of a thread register
  // once, through their watch: relay_watch.hpp). Null: only RelayStop (handed to on_open) stops a relay.
  http::Lifecycle* lifecycle = nullptr;

  static RelayOptions from_limits(const config::LimitsConfig& limits);
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

// A running relay, as RelayStop sees it.
class RelayControl {
 public:
  virtual void stop(std::uint16_t close_code) = 0;

 protected:
  ~RelayControl() = default;
};

// Ends a running relay, closing both sides with `close_code`. Call it on the relay's executor (e.g. from a
// Lifecycle stop callback); after the relay has ended it does nothing, so it may outlive the relay. A weak
// reference to the relay: copying it allocates nothing.
class RelayStop {
 public:
  RelayStop() = default;
  explicit RelayStop(std::weak_ptr<RelayControl> relay) : relay_(std::move(relay)) {}
  void operator()(std::uint16_t close_code) const {
    if (auto relay = relay_.lock()) relay->stop(close_code);
  }

 private:
  std::weak_ptr<RelayControl> relay_;
};

// What the relay tells its owner and asks of it: one object per relay, held by the relay until done()
// returned (the gateway's holds the session, the principal and the connection ticket, so that an open relay
// costs one allocation for all of them). Called on the relay's executor.
class RelayObserver {
 public:
  virtual ~RelayObserver() = default;
  // Asked every auth_check_interval; false closes both sides with 1008. Must be cheap and must not block.
  virtual bool still_authorised() { return true; }
  // Both handshakes done, relaying starts.
  virtual void on_open(RelayStop /*stop*/) {}
  // Relaying ended (only called after on_open).
  virtual void on_close() {}
  // Called once, last, when the relay is over (after on_close) or was refused.
  virtual void done(RelayOutcome /*outcome*/) {}
};

// What the relay needs only until both handshakes are done (then it is freed).
struct RelayRequest {
  http::Request upgrade;  // the request read from the browser (no bytes beyond it read)
  BackendTarget target;
  Identity identity;
  ForwardInfo forward;
};

// Starts relaying `client` and returns at once; the observer's done() gets the outcome. Nothing of the caller's is
// referenced afterwards (`options` is copied), so the caller's frame may end: this is how the gateway runs
// relays, detached from the request loop that read the upgrade request.
void start_relay(http::ClientStream&& client, RelayRequest request, const RelayOptions& options,
                 std::shared_ptr<RelayObserver> observer);

// Relays one browser WebSocket and completes with the outcome (start_relay, awaited). `client` is taken over; `upgrade_request` must be the request read from it
// (no bytes beyond it read). References must outlive the awaitable (co_await it directly).
template <class Stream>
boost::asio::awaitable<RelayOutcome> relay(Stream client, const http::Request& upgrade_request,
                                           const BackendTarget& target, const Identity& identity,
                                           const ForwardInfo& forward, const RelayOptions& options,
                                           std::shared_ptr<RelayObserver> observer = nullptr);

// The same for the router's stream variant (plain or TLS).
boost::asio::awaitable<RelayOutcome> relay(http::ClientStream client, const http::Request& upgrade_request,
                                           const BackendTarget& target, const Identity& identity,
                                           const ForwardInfo& forward, const RelayOptions& options,
                                           std::shared_ptr<RelayObserver> observer = nullptr);

extern template boost::asio::awaitable<RelayOutcome> relay<http::PlainStream>(http::PlainStream, const http::Request&,
                                                                              const BackendTarget&, const Identity&,
                                                                              const ForwardInfo&, const RelayOptions&,
                                                                              std::shared_ptr<RelayObserver>);
extern template boost::asio::awaitable<RelayOutcome> relay<http::TlsStream>(http::TlsStream, const http::Request&,
                                                                            const BackendTarget&, const Identity&,
                                                                            const ForwardInfo&, const RelayOptions&,
                                                                            std::shared_ptr<RelayObserver>);

}  // namespace webstream::proxy
