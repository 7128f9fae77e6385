#include "proxy/ws_relay.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <sys/socket.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <cstring>
#include <exception>
#include <memory>
#include <span>
#include <type_traits>

#include "http/tcp_connect.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "proxy/frame_scanner.hpp"
#include "proxy/relay_watch.hpp"
#include "proxy/ws_frame.hpp"
#include "proxy/ws_handshake.hpp"
#include "runtime/handler_slot.hpp"

namespace webstream::proxy {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
using ws_handshake::backend_refusal;
using ws_handshake::check_upgrade;
using ws_handshake::Refusal;
using ws_handshake::refuse;
using CloseCode = std::uint16_t;

// ---------------------------------------------------------------------------------------------------------
// Metrics: looked up once per process; the tunnel only adds to relaxed atomics.

struct RelayMetrics {
  metrics::Counter& bytes_to_backend;
  metrics::Counter& bytes_to_client;
  metrics::Counter& messages_to_backend;
  metrics::Counter& messages_to_client;
  metrics::Gauge& open;
};

RelayMetrics& relay_metrics() {
  static RelayMetrics m = [] {
    auto& r = metrics::Registry::global();
    const std::string bytes = "webstream_websocket_relayed_bytes_total";
    const std::string bytes_help = "WebSocket payload bytes relayed, by direction";
    const std::string msgs = "webstream_websocket_relayed_messages_total";
    const std::string msgs_help = "WebSocket messages relayed, by direction";
    return RelayMetrics{r.counter(bytes, bytes_help, {{"direction", "to_backend"}}),
                        r.counter(bytes, bytes_help, {{"direction", "to_client"}}),
                        r.counter(msgs, msgs_help, {{"direction", "to_backend"}}),
                        r.counter(msgs, msgs_help, {{"direction", "to_client"}}),
                        r.gauge("webstream_websockets_open", "WebSocket relays currently open")};
  }();
  return m;
}

}  // namespace

RelayOptions RelayOptions::from_limits(const config::LimitsConfig& limits) {
  RelayOptions o;
  o.connect_timeout = std::chrono::seconds(limits.backend_connect_timeout_s);
  o.backend_handshake_timeout = std::chrono::seconds(limits.backend_response_timeout_s);
  o.max_message_bytes = limits.max_ws_message_bytes;
  return o;
}

namespace {

// What the browser's connection is once it is a tunnel. Plain HTTP: the bare socket, taken out of the request
// loop's tcp_stream (a tcp_stream's three timers are 0.5 KiB of every idle relay; the tunnel bounds its waits
// with TCP keep-alive and its own timer). TLS: the TLS stream as it is.
template <class Stream>
struct ClientSide {
  using type = Stream;
  static constexpr bool kTls = true;
  static Stream take(Stream& s) { return std::move(s); }
};
template <>
struct ClientSide<http::PlainStream> {
  using type = tcp::socket;
  static constexpr bool kTls = false;
  static tcp::socket take(http::PlainStream& s) { return s.release_socket(); }
};

tcp::socket& socket_of(tcp::socket& s) { return s; }
tcp::socket& socket_of(http::TlsStream& s) { return beast::get_lowest_layer(s).socket(); }

// The backend's answer head may not be larger than a request head may (CONTRACT §11).
constexpr std::size_t kMaxAnswerHead = 16 * 1024;

// Steps 1-4: check the browser's upgrade, open the backend and shake hands with it, write the browser's 101.
// True: both sides are open, and `leftover` holds what the backend sent after its 101 (the first frames, if
// any). False: the browser got a plain HTTP answer (outcome says which) and its connection is closed.
template <class Stream>
net::awaitable<bool> establish(Stream& client, beast::tcp_stream& backend, const RelayRequest& request,
                               const RelayOptions& options, RelayOutcome& outcome, std::string& leftover) {
  const http::Request& upgrade = request.upgrade;
  const BackendTarget& target = request.target;

  // 1. The browser's request, and the headers for the backend.
  Refusal refusal = check_upgrade(upgrade);
  bhttp::fields extra;
  if (refusal.status == 0) {
    if (auto st = apply_websocket(upgrade, extra, request.identity, request.forward); !st) {
      refusal = {static_cast<unsigned>(st.error().status), st.error().code, st.error().message};
    }
  }

  // 2. The backend: connect, then our own handshake request with the identity headers.
  websocket::response_type answer;
  if (refusal.status == 0) {
    if (auto ec = co_await http::connect_tcp(backend, target.host, target.port, options.connect_timeout)) {
      refusal = backend_refusal(ec, answer);
    }
  }
  if (refusal.status == 0) {
    const std::string key = ws_handshake::make_key();
    const std::string head =
        ws_handshake::backend_request(http::host_port(target.host, target.port), target.path_and_query, key, extra);
    extra.clear();
    backend.expires_after(options.backend_handshake_timeout);
    auto [wec, wn] = co_await net::async_write(backend, net::buffer(head), kNoThrow);
    boost::system::error_code ec = wec;
    beast::flat_buffer buffer(kMaxAnswerHead);
    if (!ec) {
      bhttp::response_parser<bhttp::empty_body> parser;
      parser.header_limit(kMaxAnswerHead);
      auto [rec, rn] = co_await bhttp::async_read_header(backend, buffer, parser, kNoThrow);
      ec = rec;
      if (!ec) {
        answer = websocket::response_type(std::move(parser.release().base()));
        ec = ws_handshake::check_backend_answer(answer, key, upgrade);
      }
    }
    backend.expires_never();
    if (ec) {
      refusal = backend_refusal(ec, answer);
    } else {
      leftover.assign(static_cast<const char*>(buffer.data().data()), buffer.size());
    }
  }

  // 3. Anything but a valid 101: plain HTTP to the browser, never a tunnel.
  if (refusal.status != 0) {
    outcome.refused_status = refusal.status;
    outcome.refused_reason = refusal.message;
    boost::system::error_code ignored;
    backend.socket().close(ignored);
    co_await refuse(client, refusal, upgrade.version(), options.client_handshake_timeout);
    co_return false;
  }

  // 4. The browser's 101, with the backend's subprotocol.
  const auto protocol = answer[bhttp::field::sec_websocket_protocol];
  const std::string head =
      ws_handshake::switching_protocols(upgrade, std::string_view(protocol.data(), protocol.size()));
  beast::get_lowest_layer(client).expires_after(options.client_handshake_timeout);
  auto [wec, wn] = co_await net::async_write(client, net::buffer(head), kNoThrow);
  beast::get_lowest_layer(client).expires_never();
  if (wec) {
    outcome.refused_status = 400;
    outcome.refused_reason = "the browser went away before its 101 was written";
    boost::system::error_code ignored;
    backend.socket().close(ignored);
    co_return false;
  }
  co_return true;
}

// ---------------------------------------------------------------------------------------------------------
// Relaying (step 5): a frame-aware tunnel, one object per open relay, driven by completion handlers.
//
// Each direction reads what its sender wrote, lets a FrameScanner say which bytes are whole frames, and writes
// those bytes on as they are: no re-framing, no unmasking, no per-message buffer. Plain sockets are read
// into one buffer per worker thread (scratch) and written at once without blocking; only what the receiver's
// kernel does not take at once is copied into a buffer of the direction's own, and the direction reads
// nothing more until it is written (a slow reader slows its writer). An idle relay owns no payload buffer.

constexpr std::size_t kScratchBytes = 64 * 1024;
constexpr int kReadsPerTurn = 16;  // then the worker's other connections get a turn

std::uint8_t* scratch() {
  thread_local const std::unique_ptr<std::uint8_t[]> buffer(new std::uint8_t[FrameScanner::kMaxHold + kScratchBytes]);
  return buffer.get();
}

// TLS sources read into a buffer of their own (a TLS stream cannot be read without one pending): small
// while the direction is quiet, one TLS record's worth once a read fills it.
constexpr std::size_t kQuietTlsBuffer = 512;
constexpr std::size_t kTlsBuffer = 16 * 1024 + FrameScanner::kMaxHold;

// One side of the relay. Everything runs on one executor, so plain fields suffice.
struct Peer {
  bool close_sent = false;      // a close frame went to it, or it is gone: nothing more is written to it
  bool close_received = false;  // its close frame came, or it is gone: nothing more is expected from it
  CloseCode* recorded;          // the outcome's close code for this side
  CloseCode vanished;           // what the other side is told when this one drops without a close frame
};

struct Direction {
  Direction(bool up_, std::uint64_t max_message, Peer& from_, Peer& to_, metrics::Counter& bytes_,
            metrics::Counter& messages_, std::uint64_t& local_bytes_, std::uint64_t& local_messages_)
      : up(up_), scanner(up_, max_message), from(from_), to(to_), bytes(bytes_), messages(messages_),
        local_bytes(local_bytes_), local_messages(local_messages_) {}

  bool up;  // browser → backend
  FrameScanner scanner;
  Peer& from;
  Peer& to;
  metrics::Counter& bytes;
  metrics::Counter& messages;
  std::uint64_t& local_bytes;
  std::uint64_t& local_messages;
  std::uint64_t counted_bytes = 0;  // the scanner's figures already added to the metrics
  std::uint64_t counted_messages = 0;

  std::array<std::uint8_t, FrameScanner::kMaxHold> held{};  // an incomplete header or control frame
  std::size_t held_len = 0;
  std::array<std::uint8_t, ws_frame::kMaxHeaderBytes + 2> own_close{};  // the gateway's close frame for `to`
  std::size_t own_close_len = 0;            // != 0: waiting for a frame boundary to be written
  std::unique_ptr<std::uint8_t[]> pending;  // what `to`'s kernel did not take at once
  std::unique_ptr<std::uint8_t[]> tls_buffer;
  std::size_t tls_capacity = 0;
  bool tls_grow = false;           // the last TLS read filled the buffer
  runtime::HandlerSlot wait_slot;  // the pending wait for `from` to be readable (an idle relay always has one)
  bool reading = false;            // a wait or read on `from` is pending (or a turn is posted)
  bool writing = false;            // a write to `to` is pending
  bool source_ended = false;
};

void keep_alive(tcp::socket& socket, std::chrono::milliseconds idle) {
  // Dead peers are found by the kernel: no ping timer per relay. Probes after idle/2 of silence, 4 unanswered
  // (every idle/8) drop the connection; unacknowledged data is given up after `idle`.
  const int fd = socket.native_handle();
  const int on = 1;
  const int idle_s = std::max<int>(1, static_cast<int>(idle.count() / 2000));
  const int interval_s = std::max<int>(1, static_cast<int>(idle.count() / 8000));
  const int count = 4;
  const auto user_timeout = static_cast<unsigned>(idle.count());
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof interval_s);
  ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

template <class Stream>
class Tunnel final : public std::enable_shared_from_this<Tunnel<Stream>>,
                     public RelayControl,
                     public RelayWatch::Member {
  using ClientType = typename ClientSide<Stream>::type;
  static constexpr bool kTls = ClientSide<Stream>::kTls;

 public:
  Tunnel(ClientType client, tcp::socket backend, const RelayOptions& options, std::shared_ptr<RelayObserver> observer,
         RelayOutcome outcome, std::string leftover)
      : client_(std::move(client)), backend_(std::move(backend)), options_(options), observer_(std::move(observer)),
        outcome_(std::move(outcome)), leftover_(std::move(leftover)),
        metrics_(relay_metrics()), client_peer_{false, false, &outcome_.client_close, ws_frame::kCloseGoingAway},
        backend_peer_{false, false, &outcome_.backend_close, ws_frame::kCloseInternal},
        up_(true, options.max_message_bytes, client_peer_, backend_peer_, metrics_.bytes_to_backend,
            metrics_.messages_to_backend, outcome_.bytes_to_backend, outcome_.messages_to_backend),
        down_(false, options.max_message_bytes, backend_peer_, client_peer_, metrics_.bytes_to_client,
              metrics_.messages_to_client, outcome_.bytes_to_client, outcome_.messages_to_client) {}

  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  // The io_context torn down with the relay still open: its handlers are destroyed, not called.
  ~Tunnel() {
    if (started_ && !finished_) metrics_.open.add(-1);
    (void)RelayWatch::leave(*this);  // already left, unless the io_context went down first (then the watch is gone)
  }

  void start() {
    boost::system::error_code ignored;
    backend_.non_blocking(true, ignored);
    if constexpr (!kTls) client_.non_blocking(true, ignored);
    keep_alive(backend_, options_.idle_timeout);
    keep_alive(socket_of(client_), options_.idle_timeout);
    started_ = true;
    metrics_.open.add(1);
    if (observer_) observer_->on_open(RelayStop(std::weak_ptr<RelayControl>(this->shared_from_this())));
    if (!leftover_.empty()) {  // frames the backend sent right behind its 101
      const std::string first = std::move(leftover_);
      consume(down_, std::span(reinterpret_cast<const std::uint8_t*>(first.data()), first.size()));
    }
    leftover_ = std::string();
    pump(up_);
    pump(down_);
    if (!finished_) {
      RelayWatch::of(backend_.get_executor(), *options_.timers, options_.auth_check_interval, options_.lifecycle)
          ->join(*this, this->shared_from_this());
    }
  }

 private:
  Direction& other(Direction& d) { return d.up ? down_ : up_; }
  bool source_is_tls(const Direction& d) const { return kTls && d.up; }
  bool destination_is_tls(const Direction& d) const { return kTls && !d.up; }
  tcp::socket& source_socket(Direction& d) { return d.up ? socket_of(client_) : backend_; }
  tcp::socket& destination_socket(Direction& d) { return d.up ? backend_ : socket_of(client_); }
  tcp::socket& socket_of_peer(Peer& p) { return &p == &client_peer_ ? socket_of(client_) : backend_; }

  static void record(Peer& p, CloseCode code) {
    if (*p.recorded == 0) *p.recorded = code;
  }

  // -- Reading -----------------------------------------------------------------------------------------

  void pump(Direction& d) {
    for (int turn = 0; turn < kReadsPerTurn; ++turn) {
      // After the sender's close frame nothing more is read from it (the closing timer bounds the rest).
      if (finished_ || d.reading || d.writing || d.source_ended || d.from.close_received) return;
      if (source_is_tls(d)) return read_tls(d);
      std::uint8_t* buffer = scratch();
      std::memcpy(buffer, d.held.data(), d.held_len);
      boost::system::error_code ec;
      const std::size_t n = source_socket(d).read_some(net::buffer(buffer + d.held_len, kScratchBytes), ec);
      if (ec == net::error::would_block || ec == net::error::try_again) return wait_readable(d);
      if (ec) return source_ended(d);
      const std::size_t size = d.held_len + n;
      d.held_len = 0;
      consume(d, std::span<const std::uint8_t>(buffer, size));
    }
    d.reading = true;  // a busy direction: let the worker's other connections run, then go on
    net::post(backend_.get_executor(), [self = this->shared_from_this(), &d] {
      d.reading = false;
      self->pump(d);
    });
  }

  void wait_readable(Direction& d) {
    d.reading = true;
    source_socket(d).async_wait(
        tcp::socket::wait_read,
        runtime::bind_slot(d.wait_slot, [self = this->shared_from_this(), &d](boost::system::error_code ec) {
          d.reading = false;
          if (self->finished_ || ec == net::error::operation_aborted) return;
          if (ec) return self->source_ended(d);
          self->pump(d);
        }));
  }

  void read_tls(Direction& d) {
    if constexpr (kTls) {
      if (!d.tls_buffer || d.tls_grow) {
        d.tls_capacity = d.tls_buffer ? kTlsBuffer : kQuietTlsBuffer;
        d.tls_buffer.reset(new std::uint8_t[d.tls_capacity]);
        d.tls_grow = false;
      }
      std::memcpy(d.tls_buffer.get(), d.held.data(), d.held_len);
      d.reading = true;
      client_.async_read_some(net::buffer(d.tls_buffer.get() + d.held_len, d.tls_capacity - d.held_len),
                              runtime::bind_slot(d.wait_slot, [self = this->shared_from_this(), &d](
                                                                  boost::system::error_code ec, std::size_t n) {
                                d.reading = false;
                                if (self->finished_ || ec == net::error::operation_aborted) return;
                                if (ec) return self->source_ended(d);
                                const std::size_t size = d.held_len + n;
                                d.tls_grow = size == d.tls_capacity && d.tls_capacity < kTlsBuffer;
                                d.held_len = 0;
                                self->consume(d, std::span<const std::uint8_t>(d.tls_buffer.get(), size));
                                self->pump(d);
                              }));
    }
  }

  // What one read brought: forward the whole frames, keep an incomplete tail, act on what the scanner saw.
  void consume(Direction& d, std::span<const std::uint8_t> bytes) {
    const auto r = d.scanner.scan(bytes);
    std::memcpy(d.held.data(), bytes.data() + bytes.size() - r.hold, r.hold);
    d.held_len = r.hold;
    count(d);
    bool own_close = false;
    if (r.close_seen) {
      d.from.close_received = true;
      record(d.from, r.close_code);
      if (r.close_forwarded) {
        d.to.close_sent = true;
        record(d.to, r.close_code);
      }
    }
    if (r.violation != 0) {
      // The sender broke the protocol or sent a message over the limit: nothing of the bad frame went on.
      // The receiver is told at this boundary (1009 as 1009, anything else as the sender going away); the
      // sender gets the violation's code and is drained until it answers, so that it reads the close.
      log::info("websocket frame refused", {{"direction", d.up ? "to_backend" : "to_client"},
                                            {"closeCode", std::to_string(r.violation)},
                                            {"reason", std::string(r.why)}});
      record(d.from, r.violation);
      if (!d.to.close_sent) {
        prepare_close(d, r.violation == ws_frame::kCloseTooBig ? r.violation : d.from.vanished);
        own_close = true;
      }
      request_close(other(d), r.violation);
    }
    if (r.boundary_stop && d.own_close_len != 0 && !d.to.close_sent) own_close = true;
    std::span<const std::uint8_t> close_frame;
    if (own_close) {
      close_frame = std::span<const std::uint8_t>(d.own_close.data(), d.own_close_len);
      d.own_close_len = 0;
      d.to.close_sent = true;
      d.scanner.discard();
    }
    write(d, bytes.first(r.forward), close_frame);
    check_finished();
  }

  void count(Direction& d) {
    if (const auto b = d.scanner.payload_bytes(); b != d.counted_bytes) {
      d.bytes.inc(b - d.counted_bytes);
      d.local_bytes += b - d.counted_bytes;
      d.counted_bytes = b;
    }
    if (const auto m = d.scanner.messages(); m != d.counted_messages) {
      d.messages.inc(m - d.counted_messages);
      d.local_messages += m - d.counted_messages;
      d.counted_messages = m;
    }
  }

  // The sender is gone (end of stream or an error).
  void source_ended(Direction& d) {
    d.source_ended = true;
    if (&d.from == &client_peer_) client_gone_ = true;
    if (!d.from.close_received) {  // dropped without a close frame: it can be told nothing more either
      d.from.close_received = true;
      d.from.close_sent = true;
      record(d.from, d.from.vanished);
      other(d).scanner.discard();
      request_close(d, d.from.vanished);
    }
    check_finished();
  }

  // -- Writing -----------------------------------------------------------------------------------------

  void write(Direction& d, std::span<const std::uint8_t> data, std::span<const std::uint8_t> tail) {
    const std::size_t total = data.size() + tail.size();
    if (total == 0 || finished_) return;
    std::size_t written = 0;
    if (!destination_is_tls(d)) {
      const std::array<net::const_buffer, 2> buffers{net::buffer(data.data(), data.size()),
                                                     net::buffer(tail.data(), tail.size())};
      boost::system::error_code ec;
      written = destination_socket(d).write_some(buffers, ec);
      if (ec == net::error::would_block || ec == net::error::try_again) {
        written = 0;
      } else if (ec) {
        return destination_failed(d);
      }
      if (written == total) return;
    }
    // Back-pressure (or TLS, which encrypts asynchronously): keep what is left, read nothing more until
    // it is written.
    const std::size_t left = total - written;
    d.pending.reset(new std::uint8_t[left]);
    std::size_t at = 0;
    if (written < data.size()) {
      std::memcpy(d.pending.get(), data.data() + written, data.size() - written);
      at = data.size() - written;
    }
    const std::size_t tail_from = written > data.size() ? written - data.size() : 0;
    if (tail.size() > tail_from) std::memcpy(d.pending.get() + at, tail.data() + tail_from, tail.size() - tail_from);
    d.writing = true;
    auto on_written = [self = this->shared_from_this(), &d](boost::system::error_code ec, std::size_t) {
      d.writing = false;
      d.pending.reset();
      if (self->finished_ || ec == net::error::operation_aborted) return;
      if (ec) return self->destination_failed(d);
      self->after_write(d);
    };
    if constexpr (kTls) {
      if (destination_is_tls(d)) {
        net::async_write(client_, net::buffer(d.pending.get(), left), std::move(on_written));
        return;
      }
    }
    net::async_write(destination_socket(d), net::buffer(d.pending.get(), left), std::move(on_written));
  }

  void after_write(Direction& d) {
    if (d.own_close_len != 0 && !d.to.close_sent && d.scanner.at_boundary()) flush_close(d);
    check_finished();
    if (!d.writing) pump(d);
  }

  // A write to `to` failed: it is gone. The sender is told so (as `to` going away) and drained.
  void destination_failed(Direction& d) {
    if (&d.to == &client_peer_) client_gone_ = true;
    d.to.close_sent = true;
    d.to.close_received = true;
    record(d.to, d.to.vanished);
    d.scanner.discard();
    boost::system::error_code ignored;
    socket_of_peer(d.to).close(ignored);
    request_close(other(d), d.to.vanished);
    check_finished();
  }

  // -- The gateway's own close frames ------------------------------------------------------------------

  // The close frame `d` will write to `to`: masked towards the backend (the gateway is its client).
  void prepare_close(Direction& d, CloseCode code) {
    std::array<std::uint8_t, 4> key{};
    const bool masked = d.up;
    if (masked) RAND_bytes(key.data(), static_cast<int>(key.size()));
    std::size_t n = ws_frame::write_header(d.own_close, true, ws_frame::kClose, 2, masked ? &key : nullptr);
    d.own_close[n] = static_cast<std::uint8_t>(code >> 8);
    d.own_close[n + 1] = static_cast<std::uint8_t>(code & 0xff);
    if (masked) ws_frame::apply_mask(std::span(d.own_close.data() + n, 2), key, 0);
    d.own_close_len = n + 2;
    record(d.to, code);
  }

  // Closes `to` with `code` at the next frame boundary of what `d` writes to it.
  void request_close(Direction& d, CloseCode code) {
    if (d.to.close_sent || d.own_close_len != 0) return;
    prepare_close(d, code);
    if (d.scanner.at_boundary()) {
      if (!d.writing) flush_close(d);  // else after_write() does
    } else if (d.source_ended) {
      // The frame in progress can never end: `to` is dropped without a close frame.
      d.own_close_len = 0;
      d.to.close_sent = true;
      d.to.close_received = true;
      boost::system::error_code ignored;
      socket_of_peer(d.to).close(ignored);
    } else {
      d.scanner.stop_at_boundary();  // consume() appends it when the frame in progress has passed
    }
  }

  void flush_close(Direction& d) {
    const std::span<const std::uint8_t> frame(d.own_close.data(), d.own_close_len);
    d.own_close_len = 0;
    d.to.close_sent = true;
    d.scanner.discard();
    // The frame lives in the direction; write() copies it if the kernel does not take it at once.
    write(d, {}, frame);
  }

  // -- The end -----------------------------------------------------------------------------------------

  void check_finished() {
    if (finished_ || up_.writing || down_.writing) return;
    if (client_peer_.close_sent && client_peer_.close_received && backend_peer_.close_sent &&
        backend_peer_.close_received) {
      finish();
    }
  }

  void finish() {
    finished_ = true;
    const auto keep = RelayWatch::leave(*this);  // may hold the last reference: released when finish() returns
    boost::system::error_code ignored;
    backend_.shutdown(tcp::socket::shutdown_both, ignored);
    backend_.close(ignored);
    close_client();
    metrics_.open.add(-1);
    // The observer (what it holds: the session, the principal) is not needed any more once done() returned.
    if (auto observer = std::move(observer_)) {
      observer->on_close();
      observer->done(std::move(outcome_));
    }
  }

  // TLS: close_notify first (a browser's TLS stack reports a truncated stream without it), bounded by the
  // close timeout; the pending shutdown keeps the tunnel alive until it ends.
  void close_client() {
    boost::system::error_code ignored;
    if constexpr (kTls) {
      if (socket_of(client_).is_open() && client_peer_.close_received && !client_gone_) {
        socket_of(client_).cancel(ignored);  // a read still pending must not run beside the shutdown
        beast::get_lowest_layer(client_).expires_after(options_.close_timeout);
        client_.async_shutdown([self = this->shared_from_this()](boost::system::error_code) {
          boost::system::error_code ignored_too;
          socket_of(self->client_).close(ignored_too);
        });
        return;
      }
    }
    socket_of(client_).shutdown(tcp::socket::shutdown_both, ignored);
    socket_of(client_).close(ignored);
  }

  // -- The watchdog (RelayWatch, every auth_check_interval): asks still_authorised() and obeys stop(); once any
  // close has started it bounds how long the closing handshakes may take, then drops both connections. --------

  void on_tick() override {
    const auto self = this->shared_from_this();  // finish() may release the watch's reference
    if (finished_) return;
    if (closing_) {
      if (--closing_ticks_ <= 0) finish();  // the peers never finished closing
      return;
    }
    if (stop_code_ == 0 && observer_ && !observer_->still_authorised()) {
      stop_code_ = ws_frame::kClosePolicy;  // 1008
    }
    if (stop_code_ != 0) return close_for_stop();
    if (client_peer_.close_sent || client_peer_.close_received || backend_peer_.close_sent ||
        backend_peer_.close_received) {
      start_closing_bound();
    }
  }

  // 2 × close_timeout from now, counted in the watch's ticks (the first may come sooner than an interval).
  void start_closing_bound() {
    closing_ = true;
    const auto interval = std::max<std::chrono::milliseconds::rep>(1, options_.auth_check_interval.count());
    closing_ticks_ = std::max<std::int64_t>(1, (options_.close_timeout.count() * 2 + interval - 1) / interval);
  }

  void close_for_stop() {
    start_closing_bound();
    request_close(down_, stop_code_);
    request_close(up_, stop_code_);
  }

  void on_graceful_stop() override { stop(ws_frame::kCloseGoingAway); }  // 1001

  void stop(CloseCode code) override {
    if (finished_ || stop_code_ != 0) return;
    stop_code_ = code == 0 ? ws_frame::kCloseNormal : code;
    // Not from inside the caller's stack (a Lifecycle task, a test): the closing starts on a turn of its own.
    net::post(backend_.get_executor(), [self = this->shared_from_this()] {
      if (!self->finished_) self->close_for_stop();
    });
  }

  ClientType client_;
  tcp::socket backend_;
  RelayOptions options_;
  std::shared_ptr<RelayObserver> observer_;  // null once done() was called
  RelayOutcome outcome_;
  std::string leftover_;
  RelayMetrics& metrics_;
  Peer client_peer_;
  Peer backend_peer_;
  Direction up_;
  Direction down_;
  bool started_ = false;
  bool finished_ = false;
  bool closing_ = false;            // a close has started: the closing bound runs
  std::int64_t closing_ticks_ = 0;  // the watch's ticks left before both connections are dropped
  bool client_gone_ = false;        // the browser's connection failed or ended: no TLS close_notify
  CloseCode stop_code_ = 0;
};

// The connections while the handshakes run. On the heap, so that the handshake coroutine's frame stays small
// and everything of the handshakes is freed before the tunnel is made.
template <class Stream>
struct Handshake {
  Handshake(Stream&& c, const net::any_io_executor& executor) : client(std::move(c)), backend(executor) {}
  Stream client;
  beast::tcp_stream backend;
};

// Steps 1-4 in a coroutine whose frame is gone once the relay is open; then the tunnel takes over.
template <class Stream>
net::awaitable<void> open_relay(std::unique_ptr<Handshake<Stream>> hs, std::unique_ptr<RelayRequest> request,
                                RelayOptions options, std::shared_ptr<RelayObserver> observer) {
  RelayOutcome outcome;
  std::string leftover;
  const bool open = co_await establish(hs->client, hs->backend, *request, options, outcome, leftover);
  request.reset();
  if (!open) {
    if (observer) observer->done(std::move(outcome));
    co_return;
  }
  auto client = ClientSide<Stream>::take(hs->client);
  auto backend = hs->backend.release_socket();
  hs.reset();
  auto live = std::make_shared<Tunnel<Stream>>(std::move(client), std::move(backend), options, std::move(observer),
                                               std::move(outcome), std::move(leftover));
  live->start();
}

void log_failure(std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    log::error("websocket relay failed", {{"error", ex.what()}});
  }
}

template <class Stream>
void spawn_relay(Stream& client, RelayRequest&& request, const RelayOptions& options,
                 std::shared_ptr<RelayObserver>&& observer) {
  const net::any_io_executor executor = client.get_executor();
  auto hs = std::make_unique<Handshake<Stream>>(std::move(client), executor);
  net::co_spawn(
      executor,
      open_relay(std::move(hs), std::make_unique<RelayRequest>(std::move(request)), options, std::move(observer)),
      log_failure);
}

// The observer of an awaited relay: passes everything to the caller's observer (if any), then completes the
// awaiting coroutine with the outcome.
template <class Complete>
class AwaitedObserver final : public RelayObserver {
 public:
  AwaitedObserver(std::shared_ptr<RelayObserver> inner, Complete complete)
      : inner_(std::move(inner)), complete_(std::move(complete)) {}
  bool still_authorised() override { return !inner_ || inner_->still_authorised(); }
  void on_open(RelayStop stop) override {
    if (inner_) inner_->on_open(std::move(stop));
  }
  void on_close() override {
    if (inner_) inner_->on_close();
  }
  void done(RelayOutcome outcome) override {
    if (inner_) inner_->done(outcome);
    complete_(std::move(outcome));
  }

 private:
  std::shared_ptr<RelayObserver> inner_;
  Complete complete_;
};

}  // namespace

void start_relay(http::ClientStream&& client, RelayRequest request, const RelayOptions& options,
                 std::shared_ptr<RelayObserver> observer) {
  if (auto* plain = std::get_if<http::PlainStream>(&client)) {
    spawn_relay(*plain, std::move(request), options, std::move(observer));
  } else {
    spawn_relay(std::get<http::TlsStream>(client), std::move(request), options, std::move(observer));
  }
}

net::awaitable<RelayOutcome> relay(http::ClientStream client, const http::Request& upgrade_request,
                                   const BackendTarget& target, const Identity& identity, const ForwardInfo& forward,
                                   const RelayOptions& options, std::shared_ptr<RelayObserver> observer) {
  RelayRequest request{upgrade_request, target, identity, forward};
  const auto executor = co_await net::this_coro::executor;
  auto initiate = [&](auto handler) {
    // Posted, so that this coroutine never resumes inside the relay's own handler.
    auto complete = [handler = std::move(handler), executor](RelayOutcome outcome) mutable {
      net::post(executor, [handler = std::move(handler), outcome = std::move(outcome)]() mutable {
        std::move(handler)(std::move(outcome));
      });
    };
    start_relay(std::move(client), std::move(request), options,
                std::make_shared<AwaitedObserver<decltype(complete)>>(std::move(observer), std::move(complete)));
  };
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(RelayOutcome)>(initiate,
                                                                                           net::use_awaitable);
}

template <class Stream>
net::awaitable<RelayOutcome> relay(Stream client, const http::Request& upgrade_request, const BackendTarget& target,
                                   const Identity& identity, const ForwardInfo& forward, const RelayOptions& options,
                                   std::shared_ptr<RelayObserver> observer) {
  co_return co_await relay(http::ClientStream(std::move(client)), upgrade_request, target, identity, forward, options,
                           std::move(observer));
}

template net::awaitable<RelayOutcome> relay<http::PlainStream>(http::PlainStream, const http::Request&,
                                                               const BackendTarget&, const Identity&,
                                                               const ForwardInfo&, const RelayOptions&,
                                                               std::shared_ptr<RelayObserver>);
template net::awaitable<RelayOutcome> relay<http::TlsStream>(http::TlsStream, const http::Request&,
                                                             const BackendTarget&, const Identity&, const ForwardInfo&,
                                                             const RelayOptions&, std::shared_ptr<RelayObserver>);

}  // namespace webstream::proxy
