#pragma once
// Test fixtures for the WebSocket relay: a Beast WebSocket backend (echo, refuse, stall or sink), a small
// "gateway" that reads the upgrade request and hands the stream to proxy::relay, and client helpers.
// Everything listens on 127.0.0.1 with OS-chosen ports and runs on the test's io_context.
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <optional>
#include <string>
#include <vector>

#include "proxy/testing/loopback.hpp"
#include "proxy/ws_relay.hpp"

namespace webstream::proxy::testing {

namespace beast = boost::beast;
namespace websocket = beast::websocket;
using ClientWs = websocket::stream<beast::tcp_stream>;

// ---------------------------------------------------------------------------------------------------------
// The session host side.

class WsBackend {
 public:
  enum class Mode {
    kEcho,    // echoes every message with its type; "die" drops TCP; "close:N" closes with code N
    kRefuse,  // answers the upgrade with `refuse_status` as plain HTTP
    kStall,   // accepts, then never reads
    kSink,    // reads and counts, never answers
  };

  WsBackend(net::io_context& ioc, Mode mode, unsigned refuse_status = 403)
      : acceptor_(loopback_acceptor(ioc)), mode_(mode), refuse_status_(refuse_status) {
    net::co_spawn(ioc, accept_loop(), net::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  int accepted = 0;
  std::vector<http::Request> upgrades;              // handshake requests as the backend saw them
  std::optional<websocket::close_reason> close_in;  // the close frame the backend received
  std::uint64_t sink_bytes = 0;
  std::uint64_t sink_messages = 0;

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      ++accepted;
      net::co_spawn(acceptor_.get_executor(), session(std::move(socket)), net::detached);
    }
  }

  net::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    http::Request req;
    auto [rec, rn] = co_await bhttp::async_read(stream, buffer, req, kNoThrow);
    if (rec) co_return;
    upgrades.push_back(req);
    if (mode_ == Mode::kRefuse) {
      http::Response res{static_cast<bhttp::status>(refuse_status_), 11};
      res.set("X-Backend-Secret", "internal detail");
      res.body() = "backend says no";
      res.prepare_payload();
      [[maybe_unused]] auto [wec, wn] = co_await bhttp::async_write(stream, res, kNoThrow);
      co_return;
    }
    ClientWs ws(std::move(stream));  // a server-role stream: same type as the client's
    ws.read_message_max(64 * 1024 * 1024);
    std::string protocol;
    if (auto it = req.find(bhttp::field::sec_websocket_protocol); it != req.end()) {
      auto offered = std::string(it->value());
      protocol = offered.substr(0, offered.find(','));
    }
    ws.set_option(websocket::stream_base::decorator([protocol](websocket::response_type& res) {
      if (!protocol.empty()) res.set(bhttp::field::sec_websocket_protocol, protocol);
    }));
    auto [aec] = co_await ws.async_accept(req, kNoThrow);
    if (aec) co_return;
    ws.auto_fragment(false);  // an echo is one frame however large: the relay sees frames larger than a read
    if (mode_ == Mode::kStall) {
      net::steady_timer forever(ws.get_executor(), std::chrono::hours(1));
      [[maybe_unused]] auto [tec] = co_await forever.async_wait(kNoThrow);
      co_return;
    }
    for (;;) {
      beast::flat_buffer message;
      auto [ec, n] = co_await ws.async_read(message, kNoThrow);
      if (ec) {
        if (ec == websocket::error::closed) close_in = ws.reason();
        co_return;
      }
      if (mode_ == Mode::kSink) {
        sink_bytes += n;
        ++sink_messages;
        continue;
      }
      const std::string text = beast::buffers_to_string(message.data());
      if (ws.got_text() && text == "die") {
        beast::get_lowest_layer(ws).close();
        co_return;
      }
      if (ws.got_text() && text.rfind("close:", 0) == 0) {
        websocket::close_reason reason(static_cast<std::uint16_t>(std::stoi(text.substr(6))));
        reason.reason = "backend bye";
        [[maybe_unused]] auto [cec] = co_await ws.async_close(reason, kNoThrow);
        co_return;
      }
      ws.text(ws.got_text());
      [[maybe_unused]] auto [wec, wn] = co_await ws.async_write(message.data(), kNoThrow);
      if (wec) co_return;
    }
  }

  tcp::acceptor acceptor_;
  Mode mode_;
  unsigned refuse_status_;
};

// ---------------------------------------------------------------------------------------------------------
// The gateway side: what the HTTP server's upgrade handler does, minus authentication.

inline Identity relay_identity() {
  Identity id;
  id.workspace_id = "ws-1";
  id.workspace_name = "Design";
  id.workspace_type = "app";
  id.app_id = "app-1";
  id.app_exe = "cad.exe";
  id.app_args = "";
  id.user_id = "u-1";
  id.username = "alice";
  id.org_id = "org-1";
  id.policy_json = R"({"clipboard":false})";
  id.session_id = "s1";
  id.assertion = "assertion.jwt.sig";
  return id;
}

class Gateway {
 public:
  Gateway(net::io_context& ioc, BackendTarget target, RelayOptions options,
          std::shared_ptr<net::ssl::context> tls = nullptr)
      : acceptor_(loopback_acceptor(ioc)), target_(std::move(target)), options_(options), tls_(std::move(tls)) {
    net::co_spawn(ioc, accept_loop(), net::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

  bool authorised = true;         // what still_authorised() answers
  int auth_checks = 0;            // how often still_authorised() was asked
  std::optional<RelayStop> stop;  // handed over by on_open
  int opened = 0;
  int closed = 0;
  std::vector<RelayOutcome> outcomes;  // one per finished relay
  std::size_t leftover_bytes = 0;      // bytes read past an upgrade request (must stay 0)

 private:
  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
      if (ec) co_return;
      net::co_spawn(acceptor_.get_executor(), connection(std::move(socket)), net::detached);
    }
  }

  // Counts what the relay asks and tells, on the Gateway's fields.
  class Observer final : public RelayObserver {
   public:
    explicit Observer(Gateway& gw) : gw_(gw) {}
    bool still_authorised() override {
      ++gw_.auth_checks;
      return gw_.authorised;
    }
    void on_open(RelayStop s) override {
      ++gw_.opened;
      gw_.stop = std::move(s);
    }
    void on_close() override { ++gw_.closed; }

   private:
    Gateway& gw_;
  };

  std::shared_ptr<RelayObserver> hooks() { return std::make_shared<Observer>(*this); }

  template <class Stream>
  net::awaitable<void> read_and_relay(Stream stream) {
    beast::flat_buffer buffer;
    http::Request req;
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, kNoThrow);
    if (ec) co_return;
    leftover_bytes += buffer.size();
    auto h = hooks();
    auto outcome = co_await relay(std::move(stream), req, target_, identity_, forward_, options_, std::move(h));
    outcomes.push_back(std::move(outcome));
  }

  net::awaitable<void> connection(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    if (!tls_) {
      co_await read_and_relay(std::move(stream));
      co_return;
    }
    http::TlsStream tls(std::move(stream), *tls_);
    auto [ec] = co_await tls.async_handshake(net::ssl::stream_base::server, kNoThrow);
    if (ec) co_return;
    http::ClientStream variant(std::in_place_type<http::TlsStream>, std::move(tls));
    beast::flat_buffer buffer;
    http::Request req;
    auto [rec, n] = co_await bhttp::async_read(std::get<http::TlsStream>(variant), buffer, req, kNoThrow);
    if (rec) co_return;
    auto h = hooks();
    auto outcome = co_await relay(std::move(variant), req, target_, identity_, forward_, options_, std::move(h));
    outcomes.push_back(std::move(outcome));
  }

  tcp::acceptor acceptor_;
  BackendTarget target_;
  RelayOptions options_;
  std::shared_ptr<net::ssl::context> tls_;
  Identity identity_ = relay_identity();
  ForwardInfo forward_{"198.51.100.4", "https", "gw.example.com"};
};

inline BackendTarget target_for(const WsBackend& backend, std::string path_and_query = "/capture?sessionId=s1") {
  return BackendTarget{"127.0.0.1", backend.port(), std::move(path_and_query)};
}

// ---------------------------------------------------------------------------------------------------------
// The browser side.

// Connects `ws` to the gateway and does the handshake (offering two subprotocols and trying to spoof an
// identity header). Returns the handshake error, if any; `res` holds the gateway's answer.
inline net::awaitable<boost::system::error_code> open_client(ClientWs& ws, std::uint16_t port,
                                                             websocket::response_type& res) {
  const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
  auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(endpoint, kNoThrow);
  if (cec) co_return cec;
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(bhttp::field::sec_websocket_protocol, "capture.v2, capture.v1");
    req.set(bhttp::field::origin, "https://gw.example.com");
    req.insert("X-User-ID", "admin");
    req.insert("x-user-id", "root");
    req.set(bhttp::field::cookie, "gw_session=secret");
    req.set("X-WebStream-Assertion", "forged");
  }));
  const std::string host = "127.0.0.1:" + std::to_string(port);
  auto [hec] = co_await ws.async_handshake(res, host, "/capture?sessionId=s1", kNoThrow);
  co_return hec;
}

struct Received {
  boost::system::error_code ec;
  std::string data;
  bool text = false;
};

template <class Ws>
net::awaitable<Received> read_message(Ws& ws) {
  beast::flat_buffer buffer;
  auto [ec, n] = co_await ws.async_read(buffer, kNoThrow);
  Received r;
  r.ec = ec;
  r.data = beast::buffers_to_string(buffer.data());
  r.text = ws.got_text();
  co_return r;
}

template <class Ws>
net::awaitable<boost::system::error_code> send(Ws& ws, std::string_view data, bool text) {
  ws.text(text);
  auto [ec, n] = co_await ws.async_write(net::buffer(data.data(), data.size()), kNoThrow);
  co_return ec;
}

inline net::awaitable<void> sleep_for(std::chrono::milliseconds d) {
  net::steady_timer timer(co_await net::this_coro::executor, d);
  [[maybe_unused]] auto [ec] = co_await timer.async_wait(kNoThrow);
}

// Waits, on the io_context (the relay under test runs there too), until `condition` holds or `within` passes;
// returns whether it held. What a test awaits instead of sleeping a fixed time and hoping.
template <class Condition>
net::awaitable<bool> eventually(Condition condition, std::chrono::milliseconds within = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) co_return condition();
    co_await sleep_for(std::chrono::milliseconds(1));
  }
  co_return true;
}

}  // namespace webstream::proxy::testing
