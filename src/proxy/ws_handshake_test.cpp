#include "proxy/ws_handshake.hpp"

#include <gtest/gtest.h>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/encoding.hpp"
#include "proxy/testing/ws_fixtures.hpp"

namespace webstream::proxy {
namespace {

using namespace testing;  // NOLINT: test fixtures
using namespace ws_handshake;

RelayOptions fast_options() {
  RelayOptions o;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.backend_handshake_timeout = std::chrono::milliseconds(2000);
  o.client_handshake_timeout = std::chrono::milliseconds(2000);
  o.close_timeout = std::chrono::milliseconds(1000);
  return o;
}

http::Request upgrade() {
  http::Request req{bhttp::verb::get, "/capture", 11};
  req.set(bhttp::field::host, "gw");
  req.set(bhttp::field::upgrade, "websocket");
  req.set(bhttp::field::connection, "keep-alive, Upgrade");
  req.set(bhttp::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  req.set(bhttp::field::sec_websocket_version, "13");
  return req;
}

TEST(WsHandshake, ChecksTheBrowserUpgrade) {
  EXPECT_EQ(check_upgrade(upgrade()).status, 0u);
  auto post = upgrade();
  post.method(bhttp::verb::post);
  EXPECT_EQ(check_upgrade(post).status, 400u);
  auto old = upgrade();
  old.version(10);
  EXPECT_EQ(check_upgrade(old).status, 400u);
  auto no_host = upgrade();
  no_host.erase(bhttp::field::host);
  EXPECT_EQ(check_upgrade(no_host).status, 400u);
  auto no_upgrade_token = upgrade();
  no_upgrade_token.set(bhttp::field::connection, "keep-alive");
  EXPECT_EQ(check_upgrade(no_upgrade_token).status, 400u);
  auto short_key = upgrade();
  short_key.set(bhttp::field::sec_websocket_key, "c2hvcnQ=");
  EXPECT_EQ(check_upgrade(short_key).status, 400u);
  auto bad_key = upgrade();
  bad_key.set(bhttp::field::sec_websocket_key, "not base64 at all!!!!!==");
  EXPECT_EQ(check_upgrade(bad_key).status, 400u);
  auto v8 = upgrade();
  v8.set(bhttp::field::sec_websocket_version, "8");
  EXPECT_EQ(check_upgrade(v8).status, 426u);
  EXPECT_EQ(refusal_response(check_upgrade(v8), 11)[bhttp::field::sec_websocket_version], "13");
}

TEST(WsHandshake, BackendAnswersBecomeBrowserAnswers) {
  websocket::response_type res;
  res.result(403);
  EXPECT_EQ(backend_refusal(websocket::error::upgrade_declined, res).status, 403u);
  EXPECT_EQ(backend_refusal(websocket::error::upgrade_declined, res).code, "upgrade_refused");
  res.result(401);
  EXPECT_EQ(backend_refusal(websocket::error::upgrade_declined, res).status, 401u);
  res.result(200);
  EXPECT_EQ(backend_refusal(websocket::error::upgrade_declined, res).status, 200u);
  for (unsigned s : {500u, 503u, 100u}) {
    res.result(s);
    EXPECT_EQ(backend_refusal(websocket::error::upgrade_declined, res).status, 502u) << s;
  }
  res.result(101);
  EXPECT_EQ(backend_refusal(websocket::error::bad_sec_accept, res).status, 502u);  // an invalid 101
  EXPECT_EQ(backend_refusal(net::error::connection_refused, res).code, "backend_unavailable");
  EXPECT_EQ(backend_refusal(beast::error::timeout, res).status, 504u);
  const auto answer = refusal_response(backend_refusal(beast::error::timeout, res), 11);
  EXPECT_EQ(answer[bhttp::field::content_type], "application/json");
  EXPECT_FALSE(answer.keep_alive());
  EXPECT_NE(answer.body().find(R"("code":"backend_timeout")"), std::string::npos);
}

TEST(WsHandshake, SubprotocolMustHaveBeenOffered) {
  auto req = upgrade();
  req.insert(bhttp::field::sec_websocket_protocol, "capture.v2, capture.v1");
  req.insert(bhttp::field::sec_websocket_protocol, "audio");
  EXPECT_TRUE(offered(req, "capture.v1"));
  EXPECT_TRUE(offered(req, "audio"));
  EXPECT_FALSE(offered(req, "capture"));
  EXPECT_FALSE(offered(upgrade(), "capture.v1"));
}

TEST(WsHandshake, AcceptKeyIsTheRfcExample) {
  EXPECT_EQ(accept_for("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");  // RFC 6455 §1.3
  const auto a = make_key();
  const auto b = make_key();
  EXPECT_NE(a, b);
  EXPECT_EQ(base64_decode(a).value_or("").size(), 16u);
}

TEST(WsHandshake, OnlyAValid101OpensTheTunnel) {
  const std::string key = "dGhlIHNhbXBsZSBub25jZQ==";
  auto req = upgrade();
  req.set(bhttp::field::sec_websocket_protocol, "capture.v2");
  auto valid = [&] {
    websocket::response_type res{bhttp::status::switching_protocols, 11};
    res.set(bhttp::field::upgrade, "websocket");
    res.set(bhttp::field::connection, "Upgrade");
    res.set(bhttp::field::sec_websocket_accept, accept_for(key));
    return res;
  };
  EXPECT_FALSE(check_backend_answer(valid(), key, req));
  auto with_protocol = valid();
  with_protocol.set(bhttp::field::sec_websocket_protocol, "capture.v2");
  EXPECT_FALSE(check_backend_answer(with_protocol, key, req));
  with_protocol.set(bhttp::field::sec_websocket_protocol, "other");
  EXPECT_TRUE(check_backend_answer(with_protocol, key, req));  // not offered
  auto wrong_accept = valid();
  wrong_accept.set(bhttp::field::sec_websocket_accept, accept_for("AAAAAAAAAAAAAAAAAAAAAA=="));
  EXPECT_EQ(check_backend_answer(wrong_accept, key, req), websocket::error::bad_sec_accept);
  auto deflate = valid();
  deflate.set(bhttp::field::sec_websocket_extensions, "permessage-deflate");  // never offered
  EXPECT_TRUE(check_backend_answer(deflate, key, req));
  auto no_upgrade = valid();
  no_upgrade.erase(bhttp::field::upgrade);
  EXPECT_TRUE(check_backend_answer(no_upgrade, key, req));
  auto no_connection = valid();
  no_connection.set(bhttp::field::connection, "keep-alive");
  EXPECT_TRUE(check_backend_answer(no_connection, key, req));
  websocket::response_type ok{bhttp::status::ok, 11};
  EXPECT_EQ(check_backend_answer(ok, key, req), websocket::error::upgrade_declined);
  for (const auto& answer : {wrong_accept, deflate, no_upgrade, no_connection}) {
    EXPECT_EQ(backend_refusal(check_backend_answer(answer, key, req), answer).status, 502u);
  }
}

TEST(WsHandshake, TheBackendRequestCarriesTheKeyAndTheExtraFieldsAsTheyAre) {
  bhttp::fields extra;
  extra.insert("X-User-ID", "u-1");
  extra.insert(bhttp::field::sec_websocket_protocol, "capture.v2, capture.v1");
  const auto head = backend_request("10.0.0.5:8080", "/capture?sessionId=s1", "KEY", extra);
  EXPECT_EQ(head,
            "GET /capture?sessionId=s1 HTTP/1.1\r\nHost: 10.0.0.5:8080\r\nUpgrade: websocket\r\nConnection: "
            "Upgrade\r\nSec-WebSocket-Key: KEY\r\nSec-WebSocket-Version: 13\r\nX-User-ID: u-1\r\n"
            "Sec-WebSocket-Protocol: capture.v2, capture.v1\r\n\r\n");
  auto req = upgrade();
  const auto switched = switching_protocols(req, "capture.v2");
  EXPECT_EQ(switched.rfind("HTTP/1.1 101 Switching Protocols\r\n", 0), 0u);
  EXPECT_NE(switched.find("Sec-WebSocket-Accept: " + accept_for(req[bhttp::field::sec_websocket_key]) + "\r\n"),
            std::string::npos);
  EXPECT_NE(switched.find("Sec-WebSocket-Protocol: capture.v2\r\n"), std::string::npos);
  EXPECT_EQ(switching_protocols(req, "").find("Sec-WebSocket-Protocol"), std::string::npos);
}

TEST(WsHandshake, BackendRefusalIsPlainHttpNeverATunnel) {
  net::io_context ioc;
  WsBackend forbidden(ioc, WsBackend::Mode::kRefuse, 403);
  WsBackend broken(ioc, WsBackend::Mode::kRefuse, 500);
  WsBackend not_found(ioc, WsBackend::Mode::kRefuse, 404);
  Gateway to_forbidden(ioc, target_for(forbidden), fast_options());
  Gateway to_broken(ioc, target_for(broken), fast_options());
  Gateway to_not_found(ioc, target_for(not_found), fast_options());
  Gateway to_nowhere(ioc, BackendTarget{"127.0.0.1", closed_port(ioc), "/capture"}, fast_options());
  auto attempt = [&](std::uint16_t port) -> net::awaitable<websocket::response_type> {
    ClientWs ws(ioc);
    websocket::response_type res;
    auto ec = co_await open_client(ws, port, res);
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
    // The connection is closed after the answer.
    beast::flat_buffer buffer;
    auto [rec, n] = co_await beast::get_lowest_layer(ws).async_read_some(buffer.prepare(16), kNoThrow);
    EXPECT_EQ(rec, net::error::eof);
    co_return res;
  };
  auto task = [&]() -> net::awaitable<void> {
    auto r403 = co_await attempt(to_forbidden.port());
    EXPECT_EQ(r403.result_int(), 403u);
    EXPECT_NE(r403.body().find("upgrade_refused"), std::string::npos);
    EXPECT_EQ(r403.count("X-Backend-Secret"), 0u);  // nothing of the backend's answer but its status
    EXPECT_EQ(r403.body().find("backend says no"), std::string::npos);
    auto r500 = co_await attempt(to_broken.port());
    EXPECT_EQ(r500.result_int(), 502u);
    auto r404 = co_await attempt(to_not_found.port());
    EXPECT_EQ(r404.result_int(), 404u);
    auto refused = co_await attempt(to_nowhere.port());
    EXPECT_EQ(refused.result_int(), 502u);
    EXPECT_NE(refused.body().find("backend_unavailable"), std::string::npos);
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_EQ(to_forbidden.outcomes.size(), 1u);
  EXPECT_EQ(to_forbidden.outcomes[0].refused_status, 403u);
  EXPECT_EQ(to_forbidden.opened, 0);
  EXPECT_EQ(to_nowhere.outcomes[0].refused_status, 502u);
}

TEST(WsHandshake, SilentBackendHandshakeIs504) {
  net::io_context ioc;
  // A listener that accepts and never answers.
  auto silent = loopback_acceptor(ioc);
  std::vector<tcp::socket> held;
  auto hold = [&]() -> net::awaitable<void> {
    for (;;) {
      auto [ec, s] = co_await silent.async_accept(kNoThrow);
      if (ec) co_return;
      held.push_back(std::move(s));
    }
  };
  net::co_spawn(ioc, hold(), net::detached);
  auto options = fast_options();
  options.backend_handshake_timeout = std::chrono::milliseconds(300);
  Gateway gateway(ioc, BackendTarget{"127.0.0.1", silent.local_endpoint().port(), "/capture"}, options);
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    auto ec = co_await open_client(ws, gateway.port(), res);
    EXPECT_EQ(ec, websocket::error::upgrade_declined);
    EXPECT_EQ(res.result_int(), 504u);
  };
  ASSERT_TRUE(run(ioc, task()));
}

TEST(WsHandshake, BadBrowserUpgradeIsRefusedBeforeTouchingTheBackend) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto raw = [&](std::string request) -> net::awaitable<std::string> {
    tcp::socket s(ioc);
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), gateway.port());
    [[maybe_unused]] auto [cec] = co_await s.async_connect(endpoint, kNoThrow);
    [[maybe_unused]] auto [wec, wn] = co_await net::async_write(s, net::buffer(request), kNoThrow);
    std::string answer;
    [[maybe_unused]] auto [rec, rn] = co_await net::async_read(s, net::dynamic_buffer(answer), kNoThrow);
    co_return answer;
  };
  auto task = [&]() -> net::awaitable<void> {
    auto no_key = co_await raw(
        "GET /capture HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n");
    EXPECT_EQ(no_key.rfind("HTTP/1.1 400", 0), 0u) << no_key;
    auto old_version = co_await raw(
        "GET /capture HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n");
    EXPECT_EQ(old_version.rfind("HTTP/1.1 426", 0), 0u) << old_version;
    EXPECT_NE(old_version.find("Sec-WebSocket-Version: 13"), std::string::npos);
  };
  ASSERT_TRUE(run(ioc, task()));
  EXPECT_EQ(backend.accepted, 0);
}

}  // namespace
}  // namespace webstream::proxy
