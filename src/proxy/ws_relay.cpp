#include "proxy/ws_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <array>
#include <exception>
#include <memory>
#include <type_traits>

#include "http/tcp_connect.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "proxy/ws_handshake.hpp"

namespace webstream::proxy {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
// The backend side is a plain socket, not a beast::tcp_stream: the WebSocket stream's own timeouts bound its
// handshake and idle time, and a tcp_stream's state (three timers) is 0.5 KiB of every idle relay. The
// connect deadline uses a short-lived tcp_stream (establish()).
using BackendWs = websocket::stream<net::ip::tcp::socket>;

net::ip::tcp::socket& tcp_socket(net::ip::tcp::socket& s) { return s; }
net::ip::tcp::socket& tcp_socket(beast::tcp_stream& s) { return s.socket(); }
using ws_handshake::backend_refusal;
using ws_handshake::check_upgrade;
using ws_handshake::offered;
using ws_handshake::Refusal;
using ws_handshake::refuse;

// ---------------------------------------------------------------------------------------------------------
// Metrics: looked up once per process; the pumps only add to relaxed atomics.

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

// What the browser's WebSocket runs over. Plain HTTP: the bare socket, taken out of the request loop's
// tcp_stream — the WebSocket stream's own timeouts bound the handshake and idle time, and a tcp_stream costs
// 0.5 KiB of state per relay and a timer check on every read and write. TLS: the TLS stream as it is.
template <class Stream>
struct ClientLayer {
  using type = Stream;
  static Stream take(Stream& s) { return std::move(s); }
};
template <>
struct ClientLayer<http::PlainStream> {
  using type = net::ip::tcp::socket;
  static net::ip::tcp::socket take(http::PlainStream& s) { return s.release_socket(); }
};
template <class Stream>
using ClientWs = websocket::stream<typename ClientLayer<Stream>::type>;

// Both WebSocket streams of one relay. They live on the heap so that the handshakes can run in their own
// coroutine, whose frame (request and response objects, header fields, every awaitable of steps 1-4) is
// freed once they are done: an idle relay keeps only this and the relay object (docs/proxy.md, "Memory").
template <class Stream>
struct Tunnel {
  Tunnel(Stream& client, const net::any_io_executor& executor)
      : client_ws(ClientLayer<Stream>::take(client)), backend(executor) {}
  ClientWs<Stream> client_ws;  // not yet a WebSocket until step 4 accepts it
  BackendWs backend;
};

// Step 3's plain HTTP answer, with a deadline: on a bare socket, through a short-lived tcp_stream.
net::awaitable<void> refuse_client(net::ip::tcp::socket& socket, const Refusal& refusal, unsigned version,
                                   std::chrono::milliseconds timeout) {
  http::PlainStream stream(std::move(socket));
  co_await refuse(stream, refusal, version, timeout);
}
net::awaitable<void> refuse_client(http::TlsStream& stream, const Refusal& refusal, unsigned version,
                                   std::chrono::milliseconds timeout) {
  co_await refuse(stream, refusal, version, timeout);
}

// Steps 1-4. True: both sides are open. False: the browser got a plain HTTP answer (outcome says which).
template <class Stream>
net::awaitable<bool> establish(Tunnel<Stream>& tunnel, const http::Request& upgrade_request,
                               const BackendTarget& target, const Identity& identity, const ForwardInfo& forward,
                               const RelayOptions& options, RelayOutcome& outcome) {
  const unsigned version = upgrade_request.version();
  BackendWs& backend = tunnel.backend;

  // 1. The browser's request, and the headers for the backend.
  Refusal refusal = check_upgrade(upgrade_request);
  bhttp::fields extra;
  if (refusal.status == 0) {
    if (auto st = apply_websocket(upgrade_request, extra, identity, forward); !st) {
      refusal = {static_cast<unsigned>(st.error().status), st.error().code, st.error().message};
    }
  }

  // 2. The backend: connect, then the WebSocket handshake with the identity headers.
  websocket::response_type backend_res;
  if (refusal.status == 0) {
    beast::tcp_stream connecting(backend.get_executor());
    const auto ec = co_await http::connect_tcp(connecting, target.host, target.port, options.connect_timeout);
    if (ec) {
      refusal = backend_refusal(ec, backend_res);
    } else {
      backend.next_layer() = connecting.release_socket();
    }
  }
  if (refusal.status == 0) {
    backend.set_option(websocket::stream_base::timeout{options.backend_handshake_timeout, options.idle_timeout, true});
    websocket::permessage_deflate no_deflate;
    no_deflate.client_enable = false;
    no_deflate.server_enable = false;
    backend.set_option(no_deflate);
    backend.read_message_max(options.max_message_bytes);
    backend.auto_fragment(false);
    backend.write_buffer_bytes(std::max<std::size_t>(options.chunk_bytes, 8));
    auto decorate = [&extra](websocket::request_type& req) {
      for (const auto& f : extra) req.erase(f.name_string());
      for (const auto& f : extra) req.insert(f.name_string(), f.value());
    };
    backend.set_option(websocket::stream_base::decorator(decorate));
    const std::string host = http::host_port(target.host, target.port);
    auto [ec] = co_await backend.async_handshake(backend_res, host, target.path_and_query, kNoThrow);
    if (ec) refusal = backend_refusal(ec, backend_res);
  }
  const std::string protocol(backend_res[bhttp::field::sec_websocket_protocol]);
  if (refusal.status == 0 && !protocol.empty() && !offered(upgrade_request, protocol)) {
    refusal = {502, "backend_unavailable", "the session host chose a subprotocol the browser did not offer"};
    websocket::close_reason reason(websocket::close_code::protocol_error);
    [[maybe_unused]] auto [ec] = co_await backend.async_close(reason, kNoThrow);
  }

  // 3. Anything but a valid 101: plain HTTP to the browser, never a tunnel.
  if (refusal.status != 0) {
    outcome.refused_status = refusal.status;
    outcome.refused_reason = refusal.message;
    co_await refuse_client(tunnel.client_ws.next_layer(), refusal, version, options.client_handshake_timeout);
    co_return false;
  }

  // 4. Accept the browser with the backend's subprotocol.
  auto& client_ws = tunnel.client_ws;
  if constexpr (!std::is_same_v<Stream, http::PlainStream>) beast::get_lowest_layer(client_ws).expires_never();
  client_ws.set_option(websocket::stream_base::timeout{options.client_handshake_timeout, options.idle_timeout, true});
  client_ws.read_message_max(options.max_message_bytes);
  client_ws.auto_fragment(false);
  auto decorate_accept = [&protocol](websocket::response_type& res) {
    res.set(bhttp::field::server, "WebStream");
    if (!protocol.empty()) res.set(bhttp::field::sec_websocket_protocol, protocol);
  };
  client_ws.set_option(websocket::stream_base::decorator(decorate_accept));
  {
    auto [ec] = co_await client_ws.async_accept(upgrade_request, kNoThrow);
    if (ec) {
      // Beast has answered the browser (400/426); the backend is told the client went away.
      outcome.refused_status = 400;
      outcome.refused_reason = "the browser's WebSocket handshake failed";
      websocket::close_reason reason(websocket::close_code::going_away);
      [[maybe_unused]] auto [cec] = co_await backend.async_close(reason, kNoThrow);
      co_return false;
    }
  }
  co_return true;
}

// ---------------------------------------------------------------------------------------------------------
// Relaying (step 5): one object per open relay, driven by completion handlers.
//
// Why not coroutines, as for the handshakes: an open relay is mostly idle, and its memory is what 1,000s of
// idle WebSockets cost. Two pumps and a watchdog as coroutines, joined by awaitable operators, kept five
// coroutine frames and a parallel group's state alive per relay (about 16 KiB, docs/proxy.md "Memory of an
// idle relay"); this object is the whole state, and each pending operation holds one shared_ptr to it.

using CloseCode = std::uint16_t;

// One side of the relay. Everything runs on one executor, so plain fields suffice.
struct Side {
  bool closing = false;  // a close was started on it, or its stream has ended: never write to it again
  CloseCode* recorded;   // the outcome's close code for this side
};

// A direction's read buffer: small while the direction is quiet, `chunk` bytes once a read fills the small
// one. An idle relay (or a /control lane of small input events) never touches the large buffer.
constexpr std::size_t kQuietBuffer = 256;

template <class From, class To>
struct Lane {
  From& from;
  Side& from_side;
  To& to;
  Side& to_side;
  metrics::Counter& bytes;
  metrics::Counter& messages;
  std::uint64_t& local_bytes;
  std::uint64_t& local_messages;
  CloseCode from_vanished;  // sent to `to` when `from` is gone without a close frame
  CloseCode to_vanished;    // sent to `from` when a write to `to` fails
  std::size_t chunk;
  bool message_start = true;
  std::unique_ptr<char[]> large;
  std::array<char, kQuietBuffer> quiet{};

  net::mutable_buffer buffer() {
    return large ? net::mutable_buffer(large.get(), chunk) : net::mutable_buffer(quiet.data(), quiet.size());
  }
  void grow_if_filled(std::size_t n) {
    if (!large && n == quiet.size() && chunk > quiet.size()) large.reset(new char[chunk]);
  }
};

template <class Stream>
class LiveRelay : public std::enable_shared_from_this<LiveRelay<Stream>> {
 public:
  // Made once both sides are open: allocated after the handshakes' short-lived allocations are freed, it
  // fills their holes (made before the handshakes, idle RSS was 1.7 KiB per relay higher, measured).
  LiveRelay(std::unique_ptr<Tunnel<Stream>> tunnel, const RelayOptions& options, RelayHooks hooks, RelayDone done,
            RelayOutcome outcome)
      : tunnel_(std::move(tunnel)), options_(options), hooks_(std::move(hooks)), done_(std::move(done)),
        outcome_(std::move(outcome)), metrics_(relay_metrics()),
        timer_(tunnel_->backend.get_executor()), client_side_{false, &outcome_.client_close},
        backend_side_{false, &outcome_.backend_close}, to_backend_{tunnel_->client_ws,
                                                                   client_side_,
                                                                   tunnel_->backend,
                                                                   backend_side_,
                                                                   metrics_.bytes_to_backend,
                                                                   metrics_.messages_to_backend,
                                                                   outcome_.bytes_to_backend,
                                                                   outcome_.messages_to_backend,
                                                                   kGoingAway,
                                                                   kInternal,
                                                                   chunk_of(options),
                                                                   true,
                                                                   {},
                                                                   {}},
        to_client_{tunnel_->backend,
                   backend_side_,
                   tunnel_->client_ws,
                   client_side_,
                   metrics_.bytes_to_client,
                   metrics_.messages_to_client,
                   outcome_.bytes_to_client,
                   outcome_.messages_to_client,
                   kInternal,
                   kGoingAway,
                   chunk_of(options),
                   true,
                   {},
                   {}} {}

  LiveRelay(const LiveRelay&) = delete;
  LiveRelay& operator=(const LiveRelay&) = delete;

  // The io_context torn down with the relay still open: its handlers are destroyed, not called.
  ~LiveRelay() {
    if (started_ && !finished_) metrics_.open.add(-1);
  }

  void start() {
    const websocket::stream_base::timeout steady{options_.close_timeout, options_.idle_timeout, true};
    tunnel_->backend.set_option(steady);
    tunnel_->client_ws.set_option(steady);
    boost::system::error_code ignored;
    tcp_socket(beast::get_lowest_layer(tunnel_->client_ws)).set_option(net::ip::tcp::no_delay(true), ignored);
    started_ = true;
    metrics_.open.add(1);
    if (hooks_.on_open) {
      std::weak_ptr<LiveRelay> weak = this->shared_from_this();
      hooks_.on_open([weak](CloseCode code) {
        if (auto self = weak.lock()) self->stop(code);
      });
    }
    read(to_backend_);
    read(to_client_);
    watch();
  }

 private:
  static constexpr CloseCode kGoingAway = static_cast<CloseCode>(websocket::close_code::going_away);     // 1001
  static constexpr CloseCode kInternal = static_cast<CloseCode>(websocket::close_code::internal_error);  // 1011

  static std::size_t chunk_of(const RelayOptions& options) { return std::max<std::size_t>(options.chunk_bytes, 1024); }

  // -- The pumps: read at most one buffer of the current message, write it as one frame, read again. -----

  template <class From, class To>
  void read(Lane<From, To>& lane) {
    lane.from.async_read_some(lane.buffer(),
                              [self = this->shared_from_this(), &lane](boost::system::error_code ec, std::size_t n) {
                                self->on_read(lane, ec, n);
                              });
  }

  template <class From, class To>
  void on_read(Lane<From, To>& lane, boost::system::error_code ec, std::size_t n) {
    if (ec) {
      // operation_aborted: this side's socket was closed under us by the other lane, which handles it.
      if (ec == net::error::operation_aborted) return lane_done();
      lane.from_side.closing = true;
      websocket::close_reason reason;
      if (ec == websocket::error::closed) {
        reason = lane.from.reason();  // pass the peer's code and reason on
      } else if (ec == websocket::error::message_too_big) {
        reason = websocket::close_code::too_big;  // Beast already sent 1009 to the sender
      } else {
        reason = lane.from_vanished;
      }
      if (*lane.from_side.recorded == 0) *lane.from_side.recorded = reason.code;
      close_side(lane.to, lane.to_side, reason, [this] { lane_done(); });
      return;
    }
    if (lane.to_side.closing) return lane_done();  // no data may follow a close frame
    if (lane.message_start) lane.to.text(lane.from.got_text());
    const bool fin = lane.from.is_message_done();
    const net::const_buffer data(lane.buffer().data(), n);
    lane.to.async_write_some(
        fin, data, [self = this->shared_from_this(), &lane, n, fin](boost::system::error_code wec, std::size_t) {
          self->on_written(lane, wec, n, fin);
        });
  }

  template <class From, class To>
  void on_written(Lane<From, To>& lane, boost::system::error_code ec, std::size_t n, bool fin) {
    if (ec) {
      if (lane.to_side.closing) return lane_done();
      lane.to_side.closing = true;
      boost::system::error_code ignored;
      tcp_socket(beast::get_lowest_layer(lane.to)).close(ignored);  // ends the other lane's read on `to`
      close_side(lane.from, lane.from_side, websocket::close_reason(lane.to_vanished), [this] { lane_done(); });
      return;
    }
    lane.message_start = fin;
    lane.bytes.inc(n);
    lane.local_bytes += n;
    if (fin) {
      lane.messages.inc();
      ++lane.local_messages;
    }
    lane.grow_if_filled(n);
    read(lane);
  }

  // Starts the closing handshake on one side (once), then calls `then`.
  template <class Ws, class Then>
  void close_side(Ws& ws, Side& side, const websocket::close_reason& reason, Then then) {
    if (side.closing) return then();
    side.closing = true;
    if (*side.recorded == 0) *side.recorded = reason.code;
    ws.async_close(reason, [self = this->shared_from_this(), then](boost::system::error_code) { then(); });
  }

  void lane_done() {
    if (++lanes_done_ == 2) finish();
  }

  void finish() {
    finished_ = true;
    timer_.cancel();
    metrics_.open.add(-1);
    if (hooks_.on_close) hooks_.on_close();
    hooks_ = RelayHooks();  // what they captured (the session, the principal) is not needed any more
    if (done_) {
      auto done = std::move(done_);
      done(std::move(outcome_));
    }
  }

  // -- The watchdog: asks still_authorised() every interval and obeys stop(); either way closes both sides
  // with one code, then bounds how long their closing handshakes may take. --------------------------------

  void watch() {
    timer_.expires_after(closing_all_ ? options_.close_timeout * 2 : options_.auth_check_interval);
    timer_.async_wait([self = this->shared_from_this()](boost::system::error_code) { self->on_watch(); });
  }

  void on_watch() {
    if (finished_) return;
    if (closing_all_) {
      // The peers never finished closing: drop both connections; the lanes' reads end and finish().
      if (timer_.expiry() > std::chrono::steady_clock::now()) return watch();  // woken early (stop again)
      boost::system::error_code ignored;
      tcp_socket(beast::get_lowest_layer(tunnel_->client_ws)).close(ignored);
      tcp_socket(tunnel_->backend.next_layer()).close(ignored);
      return;
    }
    if (stop_code_ == 0 && hooks_.still_authorised && !hooks_.still_authorised()) {
      stop_code_ = static_cast<CloseCode>(websocket::close_code::policy_error);  // 1008
    }
    if (stop_code_ == 0) return watch();
    closing_all_ = true;
    const websocket::close_reason reason(stop_code_);
    close_side(tunnel_->client_ws, client_side_, reason, [] {});
    close_side(tunnel_->backend, backend_side_, reason, [] {});
    watch();
  }

  void stop(CloseCode code) {
    if (finished_ || stop_code_ != 0) return;
    stop_code_ = code == 0 ? static_cast<CloseCode>(websocket::close_code::normal) : code;
    timer_.cancel();  // on_watch runs now and closes both sides
  }

  std::unique_ptr<Tunnel<Stream>> tunnel_;
  RelayOptions options_;
  RelayHooks hooks_;
  RelayDone done_;
  RelayOutcome outcome_;
  RelayMetrics& metrics_;
  net::steady_timer timer_;
  Side client_side_;
  Side backend_side_;
  Lane<ClientWs<Stream>, BackendWs> to_backend_;
  Lane<BackendWs, ClientWs<Stream>> to_client_;
  int lanes_done_ = 0;
  bool started_ = false;
  bool finished_ = false;
  bool closing_all_ = false;
  CloseCode stop_code_ = 0;
};

// Steps 1-4 in a coroutine whose frame is gone once the relay is open; then the relay object takes over.
template <class Stream>
net::awaitable<void> open_relay(std::unique_ptr<Tunnel<Stream>> tunnel, std::unique_ptr<RelayRequest> request,
                                RelayOptions options, RelayHooks hooks, RelayDone done) {
  RelayOutcome outcome;
  const bool open = co_await establish(*tunnel, request->upgrade, request->target, request->identity, request->forward,
                                       options, outcome);
  request.reset();
  if (!open) {
    if (done) done(std::move(outcome));
    co_return;
  }
  auto live = std::make_shared<LiveRelay<Stream>>(std::move(tunnel), options, std::move(hooks), std::move(done),
                                                  std::move(outcome));
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

// The client stream is moved once, into the tunnel (a plain one as its bare socket): a beast::tcp_stream
// allocates new state on every move, and each short-lived copy left a hole in the heap.
template <class Stream>
void spawn_relay(Stream& client, RelayRequest&& request, const RelayOptions& options, RelayHooks&& hooks,
                 RelayDone&& done) {
  const net::any_io_executor executor = client.get_executor();
  auto tunnel = std::make_unique<Tunnel<Stream>>(client, executor);
  net::co_spawn(executor,
                open_relay(std::move(tunnel), std::make_unique<RelayRequest>(std::move(request)), options,
                           std::move(hooks), std::move(done)),
                log_failure);
}

}  // namespace

void start_relay(http::ClientStream&& client, RelayRequest request, const RelayOptions& options, RelayHooks hooks,
                 RelayDone done) {
  if (auto* plain = std::get_if<http::PlainStream>(&client)) {
    spawn_relay(*plain, std::move(request), options, std::move(hooks), std::move(done));
  } else {
    spawn_relay(std::get<http::TlsStream>(client), std::move(request), options, std::move(hooks), std::move(done));
  }
}

net::awaitable<RelayOutcome> relay(http::ClientStream client, const http::Request& upgrade_request,
                                   const BackendTarget& target, const Identity& identity, const ForwardInfo& forward,
                                   const RelayOptions& options, RelayHooks hooks) {
  RelayRequest request{upgrade_request, target, identity, forward};
  const auto executor = co_await net::this_coro::executor;
  auto initiate = [&](auto handler) {
    // The handler is move-only; RelayDone is a std::function, so it holds the handler through a shared_ptr.
    // Posted, so that this coroutine never resumes inside the relay's own handler.
    auto shared = std::make_shared<decltype(handler)>(std::move(handler));
    start_relay(
        std::move(client), std::move(request), options, std::move(hooks), [shared, executor](RelayOutcome outcome) {
          net::post(executor, [shared, outcome = std::move(outcome)]() mutable { (*shared)(std::move(outcome)); });
        });
  };
  co_return co_await net::async_initiate<decltype(net::use_awaitable), void(RelayOutcome)>(initiate,
                                                                                           net::use_awaitable);
}

template <class Stream>
net::awaitable<RelayOutcome> relay(Stream client, const http::Request& upgrade_request, const BackendTarget& target,
                                   const Identity& identity, const ForwardInfo& forward, const RelayOptions& options,
                                   RelayHooks hooks) {
  co_return co_await relay(http::ClientStream(std::move(client)), upgrade_request, target, identity, forward, options,
                           std::move(hooks));
}

template net::awaitable<RelayOutcome> relay<http::PlainStream>(http::PlainStream, const http::Request&,
                                                               const BackendTarget&, const Identity&,
                                                               const ForwardInfo&, const RelayOptions&, RelayHooks);
template net::awaitable<RelayOutcome> relay<http::TlsStream>(http::TlsStream, const http::Request&,
                                                             const BackendTarget&, const Identity&, const ForwardInfo&,
                                                             const RelayOptions&, RelayHooks);

}  // namespace webstream::proxy
