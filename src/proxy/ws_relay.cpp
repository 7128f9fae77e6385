#include "proxy/ws_relay.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <memory>

#include "observability/metrics.hpp"
#include "proxy/backend_connect.hpp"
#include "proxy/ws_handshake.hpp"

namespace webstream::proxy {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using namespace net::experimental::awaitable_operators;
constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
using BackendWs = websocket::stream<beast::tcp_stream>;
using CloseCode = std::uint16_t;
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

// ---------------------------------------------------------------------------------------------------------
// Relaying.

// One side of the relay. All three coroutines run on one executor, so plain fields suffice.
struct Side {
  bool closing = false;    // a close was started on it, or its stream has ended: never write to it again
  CloseCode* recorded;     // the outcome's close code for this side
};

// Shared with the RelayStop function, which may outlive the relay.
struct Control {
  bool ended = false;
  CloseCode stop_code = 0;
  net::steady_timer* timer = nullptr;  // the watchdog's, while it runs
};

// One direction.
struct Lane {
  metrics::Counter& bytes;
  metrics::Counter& messages;
  std::uint64_t& local_bytes;
  std::uint64_t& local_messages;
  CloseCode from_vanished;  // sent to `to` when `from` is gone without a close frame
  CloseCode to_vanished;    // sent to `from` when a write to `to` fails
};

template <class Ws>
net::awaitable<void> close_side(Ws& ws, Side& side, websocket::close_reason reason) {
  if (side.closing) co_return;
  side.closing = true;
  if (*side.recorded == 0) *side.recorded = reason.code;
  [[maybe_unused]] auto [ec] = co_await ws.async_close(reason, kNoThrow);
}

template <class From, class To>
net::awaitable<void> pump(From& from, Side& from_side, To& to, Side& to_side, Lane lane, std::size_t chunk) {
  co_await net::this_coro::throw_if_cancelled(false);
  const std::unique_ptr<char[]> buffer(new char[chunk]);  // once per relay and direction
  bool message_start = true;
  for (;;) {
    auto [ec, n] = co_await from.async_read_some(net::mutable_buffer(buffer.get(), chunk), kNoThrow);
    if (ec) {
      // operation_aborted: this side's socket was closed under us by the other pump, which handles it.
      if (ec == net::error::operation_aborted) co_return;
      from_side.closing = true;
      websocket::close_reason reason;
      if (ec == websocket::error::closed) {
        reason = from.reason();  // pass the peer's code and reason on
      } else if (ec == websocket::error::message_too_big) {
        reason = websocket::close_code::too_big;  // Beast already sent 1009 to the sender
      } else {
        reason = lane.from_vanished;
      }
      if (*from_side.recorded == 0) *from_side.recorded = reason.code;
      co_await close_side(to, to_side, reason);
      co_return;
    }
    if (to_side.closing) co_return;  // no data may follow a close frame
    if (message_start) to.text(from.got_text());
    const bool fin = from.is_message_done();
    auto [wec, written] = co_await to.async_write_some(fin, net::const_buffer(buffer.get(), n), kNoThrow);
    if (wec) {
      if (to_side.closing) co_return;
      to_side.closing = true;
      beast::get_lowest_layer(to).close();  // ends the other pump's read on `to`
      websocket::close_reason reason(lane.to_vanished);
      co_await close_side(from, from_side, reason);
      co_return;
    }
    message_start = fin;
    lane.bytes.inc(n);
    lane.local_bytes += n;
    if (fin) {
      lane.messages.inc();
      ++lane.local_messages;
    }
  }
}

// Asks still_authorised() every interval and obeys stop(); either way closes both sides with one code and
// then waits: the pumps end the relay once the closing handshakes are done (this coroutine is cancelled).
template <class ClientWs>
net::awaitable<void> watchdog(ClientWs& client, Side& client_side, BackendWs& backend, Side& backend_side,
                              Control& control, const RelayHooks& hooks, const RelayOptions& options) {
  co_await net::this_coro::throw_if_cancelled(false);
  net::steady_timer timer(co_await net::this_coro::executor);
  control.timer = &timer;
  struct Unpublish {  // also when the frame is destroyed without finishing (io_context torn down)
    Control& c;
    ~Unpublish() { c.timer = nullptr; }
  } unpublish{control};
  for (;;) {
    if (control.stop_code != 0) break;
    timer.expires_after(options.auth_check_interval);
    [[maybe_unused]] auto [ec] = co_await timer.async_wait(kNoThrow);
    const auto cs = co_await net::this_coro::cancellation_state;
    if (cs.cancelled() != net::cancellation_type::none) co_return;  // the pumps are done
    if (control.stop_code != 0) break;
    if (hooks.still_authorised && !hooks.still_authorised()) {
      control.stop_code = static_cast<CloseCode>(websocket::close_code::policy_error);  // 1008
      break;
    }
  }
  websocket::close_reason reason(control.stop_code);
  auto closing = close_side(client, client_side, reason) && close_side(backend, backend_side, reason);
  co_await std::move(closing);
  // Normally cancelled before this ends; it only bounds a relay whose peers never finish closing.
  timer.expires_after(options.close_timeout * 2);
  [[maybe_unused]] auto [ec] = co_await timer.async_wait(kNoThrow);
  control.timer = nullptr;
}

RelayStop make_stop(std::shared_ptr<Control> control) {
  return [control = std::move(control)](CloseCode code) {
    if (control->ended || control->stop_code != 0) return;
    control->stop_code = code == 0 ? static_cast<CloseCode>(websocket::close_code::normal) : code;
    if (control->timer) control->timer->cancel();
  };
}

}  // namespace

RelayOptions RelayOptions::from_limits(const config::LimitsConfig& limits) {
  RelayOptions o;
  o.connect_timeout = std::chrono::seconds(limits.backend_connect_timeout_s);
  o.backend_handshake_timeout = std::chrono::seconds(limits.backend_response_timeout_s);
  o.max_message_bytes = limits.max_ws_message_bytes;
  return o;
}

// Both WebSocket streams of one relay. They live on the heap so that the handshakes can run in their own
// coroutine, whose frame (request and response objects, header fields, every awaitable of steps 1-4) is
// freed once they are done: an idle relay keeps only this and the pumps (docs/proxy.md, "Memory").
template <class Stream>
struct Tunnel {
  Tunnel(Stream&& client, const net::any_io_executor& executor) : client_ws(std::move(client)), backend(executor) {}
  websocket::stream<Stream> client_ws;  // not yet a WebSocket until step 4 accepts it
  BackendWs backend;
};

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
    const auto ec = co_await connect_backend(beast::get_lowest_layer(backend), target.host, target.port,
                                             options.connect_timeout);
    if (ec) refusal = backend_refusal(ec, backend_res);
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
    const std::string host = host_port(target.host, target.port);
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
    co_await refuse(tunnel.client_ws.next_layer(), refusal, version, options.client_handshake_timeout);
    co_return false;
  }

  // 4. Accept the browser with the backend's subprotocol.
  auto& client_ws = tunnel.client_ws;
  beast::get_lowest_layer(client_ws).expires_never();
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

template <class Stream>
net::awaitable<RelayOutcome> relay(Stream client, const http::Request& upgrade_request, const BackendTarget& target,
                                   const Identity& identity, const ForwardInfo& forward, const RelayOptions& options,
                                   RelayHooks hooks) {
  RelayOutcome outcome;
  const net::any_io_executor executor = client.get_executor();
  const auto tunnel = std::make_unique<Tunnel<Stream>>(std::move(client), executor);
  const bool open = co_await establish(*tunnel, upgrade_request, target, identity, forward, options, outcome);
  if (!open) co_return outcome;
  auto& client_ws = tunnel->client_ws;
  auto& backend = tunnel->backend;

  // 5. Relay until both sides are closed.
  const websocket::stream_base::timeout steady{options.close_timeout, options.idle_timeout, true};
  backend.set_option(steady);
  client_ws.set_option(steady);
  boost::system::error_code ignored;
  beast::get_lowest_layer(client_ws).socket().set_option(net::ip::tcp::no_delay(true), ignored);
  auto& m = relay_metrics();
  auto control = std::make_shared<Control>();
  struct OpenGuard {  // also when the frame is destroyed without finishing (io_context torn down)
    RelayMetrics& m;
    Control& c;
    OpenGuard(RelayMetrics& metrics, Control& control) : m(metrics), c(control) { m.open.add(1); }
    ~OpenGuard() {
      c.ended = true;
      m.open.add(-1);
    }
  } open_guard(m, *control);
  if (hooks.on_open) hooks.on_open(make_stop(control));

  Side client_side{false, &outcome.client_close};
  Side backend_side{false, &outcome.backend_close};
  const CloseCode going_away = static_cast<CloseCode>(websocket::close_code::going_away);   // 1001
  const CloseCode internal = static_cast<CloseCode>(websocket::close_code::internal_error);  // 1011
  Lane to_backend{m.bytes_to_backend, m.messages_to_backend, outcome.bytes_to_backend,
                  outcome.messages_to_backend, going_away, internal};
  Lane to_client{m.bytes_to_client, m.messages_to_client, outcome.bytes_to_client, outcome.messages_to_client,
                 internal, going_away};
  const std::size_t chunk = std::max<std::size_t>(options.chunk_bytes, 1024);
  auto pumps = pump(client_ws, client_side, backend, backend_side, to_backend, chunk) &&
               pump(backend, backend_side, client_ws, client_side, to_client, chunk);
  auto everything =
      std::move(pumps) || watchdog(client_ws, client_side, backend, backend_side, *control, hooks, options);
  co_await std::move(everything);

  if (hooks.on_close) hooks.on_close();
  co_return outcome;
}

net::awaitable<RelayOutcome> relay(http::ClientStream client, const http::Request& upgrade_request,
                                   const BackendTarget& target, const Identity& identity, const ForwardInfo& forward,
                                   const RelayOptions& options, RelayHooks hooks) {
  if (auto* plain = std::get_if<http::PlainStream>(&client)) {
    co_return co_await relay(std::move(*plain), upgrade_request, target, identity, forward, options,
                             std::move(hooks));
  }
  co_return co_await relay(std::move(std::get<http::TlsStream>(client)), upgrade_request, target, identity,
                           forward, options, std::move(hooks));
}

template net::awaitable<RelayOutcome> relay<http::PlainStream>(http::PlainStream, const http::Request&,
                                                               const BackendTarget&, const Identity&,
                                                               const ForwardInfo&, const RelayOptions&, RelayHooks);
template net::awaitable<RelayOutcome> relay<http::TlsStream>(http::TlsStream, const http::Request&,
                                                             const BackendTarget&, const Identity&,
                                                             const ForwardInfo&, const RelayOptions&, RelayHooks);

}  // namespace webstream::proxy
