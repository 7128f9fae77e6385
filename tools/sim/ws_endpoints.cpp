#include "ws_endpoints.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <chrono>
#include <vector>

#include "test_pattern.hpp"

namespace webstream::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t kMaxMessageBytes = 64 * 1024 * 1024;

std::uint64_t wall_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}

// Paces a sender: waits until the next tick of `period` (zero period: no wait). A sender that falls behind
// restarts its schedule from now instead of bursting to catch up.
class Pacer {
 public:
  explicit Pacer(std::chrono::nanoseconds period) : period_(period), next_(std::chrono::steady_clock::now()) {}
  net::awaitable<void> wait(net::steady_timer& timer) {
    if (period_.count() == 0) co_return;
    next_ += period_;
    const auto now = std::chrono::steady_clock::now();
    if (next_ < now) {
      next_ = now;
      co_return;
    }
    timer.expires_at(next_);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    (void)ec;  // cancelled: the caller checks `closing`
  }

 private:
  std::chrono::nanoseconds period_;
  std::chrono::steady_clock::time_point next_;
};

// Sends /capture frames until the connection closes or a write fails. Awaiting each write is the
// back-pressure: a peer that reads slowly slows the frame rate down.
net::awaitable<void> capture_sender(std::shared_ptr<WsConn> conn, HostState& state, const SimOptions& options,
                                    bool& running) {
  std::vector<std::uint8_t> frame;
  const auto period = options.fps > 0 ? std::chrono::nanoseconds(static_cast<std::int64_t>(1e9 / options.fps))
                                      : std::chrono::nanoseconds(0);
  Pacer pacer(period);
  for (std::uint64_t counter = 0; !conn->closing; ++counter) {
    make_capture_frame(frame, options.frame_bytes, counter, wall_ms());
    conn->ws.binary(true);
    auto [ec, n] = co_await conn->ws.async_write(net::buffer(frame), kNoThrow);
    if (ec) break;
    state.stats.bytes_out += n;
    ++state.stats.capture_frames;
    co_await pacer.wait(conn->pace);
  }
  running = false;
}

// Sends /audio tone frames in real time.
net::awaitable<void> audio_sender(std::shared_ptr<WsConn> conn, HostState& state, const SimOptions& options,
                                  bool& running) {
  ToneGenerator tone(options.audio_rate, options.audio_frame_ms, options.tone_hz);
  std::vector<std::uint8_t> frame;
  Pacer pacer(std::chrono::milliseconds(options.audio_frame_ms));
  while (!conn->closing) {
    tone.next_frame(frame);
    conn->ws.binary(true);
    auto [ec, n] = co_await conn->ws.async_write(net::buffer(frame), kNoThrow);
    if (ec) break;
    state.stats.bytes_out += n;
    ++state.stats.audio_frames;
    co_await pacer.wait(conn->pace);
  }
  running = false;
}

void note_close(const WsConn& conn, const beast::error_code& ec, HostState& state) {
  if (ec == websocket::error::closed) ++state.stats.close_codes_received[conn.ws.reason().code];
}

// Reads until the connection ends; with `echo`, writes every message back with the same type.
net::awaitable<void> read_loop(WsConn& conn, HostState& state, bool echo) {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, n] = co_await conn.ws.async_read(buffer, kNoThrow);
    if (ec) {
      note_close(conn, ec, state);
      co_return;
    }
    state.stats.bytes_in += n;
    if (!echo || conn.closing) continue;
    conn.ws.text(conn.ws.got_text());
    auto [wec, wn] = co_await conn.ws.async_write(buffer.data(), kNoThrow);
    if (wec) co_return;
    state.stats.bytes_out += wn;
    ++state.stats.control_messages;
  }
}

}  // namespace

WsConn::WsConn(beast::tcp_stream&& stream) : ws(std::move(stream)), pace(ws.get_executor()) {
  beast::get_lowest_layer(ws).expires_never();
  websocket::stream_base::timeout t{};
  t.handshake_timeout = std::chrono::seconds(30);
  t.idle_timeout = websocket::stream_base::none();
  t.keep_alive_pings = false;
  ws.set_option(t);
  ws.read_message_max(kMaxMessageBytes);
  ws.auto_fragment(false);
}

void WsConn::begin_close(websocket::close_code code) {
  if (closing) return;
  closing = true;
  pace.cancel();
  if (!ws.is_open()) return;
  ws.async_close(code, [self = shared_from_this()](beast::error_code) {});
}

net::awaitable<void> run_websocket(std::shared_ptr<WsConn> conn, WsKind kind, HostState& state,
                                   const SimOptions& options) {
  ++state.stats.ws_open;
  if (kind == WsKind::kCapture) ++state.stats.capture_open;
  bool sender_running = false;
  auto ex = conn->ws.get_executor();
  if (kind == WsKind::kCapture) {
    sender_running = true;
    net::co_spawn(ex, capture_sender(conn, state, options, sender_running), net::detached);
  } else if (kind == WsKind::kAudio) {
    sender_running = true;
    net::co_spawn(ex, audio_sender(conn, state, options, sender_running), net::detached);
  }
  co_await read_loop(*conn, state, kind == WsKind::kControl);

  // The reader saw the close handshake or an error: stop the sender. Closing the socket ends a write that
  // waits on a peer which stopped reading.
  conn->closing = true;
  conn->pace.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(conn->ws).socket().close(ignored);
  net::steady_timer wait(ex);
  while (sender_running) {
    wait.expires_after(std::chrono::milliseconds(2));
    auto [ec] = co_await wait.async_wait(kNoThrow);
    (void)ec;
  }
  --state.stats.ws_open;
  if (kind == WsKind::kCapture) --state.stats.capture_open;
}

}  // namespace webstream::sim
