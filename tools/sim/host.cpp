#include "host.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <chrono>

#include "events.hpp"
#include "http_routes.hpp"
#include "observability/log.hpp"

namespace webstream::sim {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);
constexpr std::size_t kHeaderLimit = 64 * 1024;
constexpr std::size_t kBodyLimit = 1024 * 1024;
constexpr auto kKeepAliveIdle = std::chrono::seconds(120);

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

HeaderList header_list(const Request& req) {
  HeaderList out;
  for (const auto& field : req) out.emplace_back(std::string(field.name_string()), std::string(field.value()));
  return out;
}

// Reads and drops whatever the peer sends until it closes: a "hanging" endpoint that never answers.
net::awaitable<void> hang(beast::tcp_stream& stream) {
  stream.expires_never();
  char scratch[4096];
  for (;;) {
    auto [ec, n] = co_await stream.socket().async_read_some(net::buffer(scratch), kNoThrow);
    if (ec) co_return;
  }
}

std::optional<WsKind> ws_kind(std::string_view path) {
  if (path == "/capture") return WsKind::kCapture;
  if (path == "/control") return WsKind::kControl;
  if (path == "/audio") return WsKind::kAudio;
  return std::nullopt;
}

}  // namespace

Host::Host(net::io_context& io, const SimOptions& options, const GatewayClient* client, int index)
    : io_(io), options_(options), acceptor_(io) {
  state_.index = index;
  state_.report.max_sessions = options.max_sessions;
  if (options.initial_health == "failing") state_.health.mode = ResponseMode::kFailing;
  if (options.initial_health == "hanging") state_.health.mode = ResponseMode::kHanging;
  if (client != nullptr && options.register_hosts) {
    registrar_ = std::make_unique<Registrar>(io.get_executor(), options_, state_, *client);
  }
}

Result<std::shared_ptr<Host>> Host::create(net::io_context& io, const SimOptions& options, const GatewayClient* client,
                                           int index, int port) {
  auto host = std::make_shared<Host>(io, options, client, index);
  boost::system::error_code ec;
  const auto address = net::ip::make_address(options.bind_address, ec);
  if (ec) return Error::invalid("--bind: '" + options.bind_address + "' is not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& a = host->acceptor_;
  if (a.open(endpoint.protocol(), ec); ec) return Error::internal("socket: " + ec.message());
  a.set_option(net::socket_base::reuse_address(true), ec);
  if (a.bind(endpoint, ec); ec) {
    return Error::internal("port " + std::to_string(port) + " on " + options.bind_address + ": " + ec.message());
  }
  if (a.listen(net::socket_base::max_listen_connections, ec); ec) return Error::internal("listen: " + ec.message());
  auto& s = host->state_;
  s.port = a.local_endpoint().port();
  std::string url_host = options.bind_address;
  if (address.is_unspecified())
    url_host = address.is_v6() ? "[::1]" : "127.0.0.1";
  else if (address.is_v6())
    url_host = "[" + url_host + "]";
  s.server_url = "http://" + url_host + ":" + std::to_string(s.port);
  return host;
}

void Host::start() {
  boost::json::object event{{"event", "host_ready"},
                            {"serverUrl", state_.server_url},
                            {"port", state_.port},
                            {"index", state_.index},
                            {"register", registrar_ != nullptr}};
  emit_event(event);
  net::co_spawn(io_, accept_loop(shared_from_this()), net::detached);
  if (registrar_) {
    net::co_spawn(
        io_,
        [](std::shared_ptr<Host> self) -> net::awaitable<void> {
          co_await self->registrar_->run();
        }(shared_from_this()),
        net::detached);
  }
}

void Host::track(const std::shared_ptr<WsConn>& conn) {
  std::erase_if(websockets_, [](const std::weak_ptr<WsConn>& w) { return w.expired(); });
  websockets_.push_back(conn);
}

void Host::stop_accepting_and_close() {
  stopping_ = true;
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  for (auto& weak : websockets_) {
    if (auto conn = weak.lock()) conn->begin_close(websocket::close_code::going_away);
  }
}

net::awaitable<void> Host::unregister() {
  if (!registrar_) co_return;
  registrar_->stop();
  co_await registrar_->unregister();
}

net::awaitable<void> Host::accept_loop(std::shared_ptr<Host> self) {
  for (;;) {
    auto [ec, socket] = co_await self->acceptor_.async_accept(kNoThrow);
    if (ec) {
      if (self->stopping_ || ec == net::error::operation_aborted) co_return;
      log::warn("accept failed", {{"serverUrl", self->state_.server_url}, {"error", ec.message()}});
      continue;
    }
    ++self->state_.stats.tcp_connections;
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    net::co_spawn(self->io_, serve(self, std::move(socket)), net::detached);
  }
}

net::awaitable<void> Host::serve(std::shared_ptr<Host> self, tcp::socket socket) {
  auto& state = self->state_;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    stream.expires_after(kKeepAliveIdle);
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kNoThrow);
    if (ec) break;
    ++state.stats.http_requests;
    Request req = parser.release();
    const auto url = boost::urls::parse_origin_form(req.target());
    const std::string path = url ? std::string(url->path()) : std::string(req.target());

    if (websocket::is_upgrade(req)) {
      UpgradeRecord record{path, std::string(req.target()), header_list(req), wall_ms()};
      state.last_upgrade[path] = std::move(record);
      const auto kind = ws_kind(path);
      if (!kind || state.ws_reject_status != 0) {
        ++state.stats.ws_rejected;
        const unsigned status = kind ? static_cast<unsigned>(state.ws_reject_status) : 404u;
        Response res =
            error_response(status, kind ? "rejected_by_sim" : "not_found",
                           kind ? "upgrade refused by /sim/ws-reject" : "no WebSocket at " + path, req.version());
        res.keep_alive(false);
        auto [wec, wn] = co_await http::async_write(stream, res, kNoThrow);
        (void)wec;  // closing either way
        break;
      }
      auto conn = std::make_shared<WsConn>(std::move(stream));
      auto [aec] = co_await conn->ws.async_accept(req, kNoThrow);
      if (aec) co_return;
      ++state.stats.ws_accepted;
      if (self->stopping_) {
        conn->begin_close(websocket::close_code::going_away);
      } else {
        self->track(conn);
      }
      co_await run_websocket(conn, *kind, state, self->options_);
      co_return;
    }

    RouteOutcome outcome = co_await handle_http(*self, req);
    if (outcome.hang) {
      co_await hang(stream);
      co_return;
    }
    outcome.response.keep_alive(req.keep_alive() && !self->stopping_);
    outcome.response.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, outcome.response, kNoThrow);
    if (wec || !outcome.response.keep_alive()) break;
  }
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace webstream::sim
