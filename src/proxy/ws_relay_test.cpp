#include "proxy/ws_relay.hpp"

#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <iostream>

#include "observability/metrics.hpp"
#include "proxy/testing/ws_fixtures.hpp"

namespace webstream::proxy {
namespace {

using namespace testing;  // NOLINT: test fixtures
using namespace boost::asio::experimental::awaitable_operators;
using SteadyClock = std::chrono::steady_clock;

RelayOptions fast_options() {
  RelayOptions o;
  o.connect_timeout = std::chrono::milliseconds(500);
  o.backend_handshake_timeout = std::chrono::milliseconds(2000);
  o.client_handshake_timeout = std::chrono::milliseconds(2000);
  o.close_timeout = std::chrono::milliseconds(1000);
  o.idle_timeout = std::chrono::seconds(20);
  o.auth_check_interval = std::chrono::milliseconds(50);
  return o;
}

std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xff);
  return s;
}

TEST(WsRelay, TextBinaryFragmentedAndIdentityHeaders) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    auto ec = co_await open_client(ws, gateway.port(), res);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(res[bhttp::field::sec_websocket_protocol], "capture.v2");  // the backend's choice
    EXPECT_EQ(res.count(bhttp::field::sec_websocket_extensions), 0u);    // no permessage-deflate

    {
      auto r_ = co_await send(ws, "hello", true);
      EXPECT_FALSE(r_);
    }
    auto r = co_await read_message(ws);
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.data, "hello");
    EXPECT_TRUE(r.text);

    const std::string binary("\x00\x01\xff\xfe binary \x00", 13);
    {
      auto r_ = co_await send(ws, binary, false);
      EXPECT_FALSE(r_);
    }
    r = co_await read_message(ws);
    EXPECT_EQ(r.data, binary);
    EXPECT_FALSE(r.text);

    // One text message in three frames.
    ws.text(true);
    auto [e1, n1] = co_await ws.async_write_some(false, net::buffer(std::string_view("frag-")), kNoThrow);
    auto [e2, n2] = co_await ws.async_write_some(false, net::buffer(std::string_view("men")), kNoThrow);
    auto [e3, n3] = co_await ws.async_write_some(true, net::buffer(std::string_view("ted")), kNoThrow);
    EXPECT_FALSE(e1 || e2 || e3);
    r = co_await read_message(ws);
    EXPECT_EQ(r.data, "frag-mented");
    EXPECT_TRUE(r.text);

    {
      auto r_ = co_await send(ws, "", true);
      EXPECT_FALSE(r_);
    }  // an empty message is a message
    r = co_await read_message(ws);
    EXPECT_FALSE(r.ec);
    EXPECT_EQ(r.data, "");

    websocket::close_reason normal(websocket::close_code::normal);
    [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
    EXPECT_FALSE(cec);
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1; }));  // the relay has finished
  };
  ASSERT_TRUE(run(ioc, task()));

  ASSERT_EQ(backend.upgrades.size(), 1u);
  const auto& up = backend.upgrades[0];
  EXPECT_EQ(up.target(), "/capture?sessionId=s1");
  EXPECT_EQ(up[bhttp::field::host], "127.0.0.1:" + std::to_string(backend.port()));
  EXPECT_EQ(up.count("X-User-ID"), 1u);
  EXPECT_EQ(up["X-User-ID"], "u-1");
  EXPECT_EQ(up["X-Username"], "alice");
  EXPECT_EQ(up["X-Session-ID"], "s1");
  EXPECT_EQ(up["X-Forwarded-For"], "198.51.100.4");
  EXPECT_EQ(up.count("X-WebStream-Assertion"), 1u);
  EXPECT_EQ(up["X-WebStream-Assertion"], "assertion.jwt.sig");
  EXPECT_EQ(up.count(bhttp::field::cookie), 0u);
  EXPECT_EQ(up.count(bhttp::field::sec_websocket_extensions), 0u);
  EXPECT_EQ(up[bhttp::field::sec_websocket_protocol], "capture.v2, capture.v1");
  EXPECT_EQ(up[bhttp::field::origin], "https://gw.example.com");
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1000);
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].messages_to_backend, 4u);
  EXPECT_EQ(gateway.outcomes[0].messages_to_client, 4u);
  EXPECT_EQ(gateway.outcomes[0].bytes_to_backend, 5u + 13u + 11u);
  EXPECT_EQ(gateway.opened, 1);
  EXPECT_EQ(gateway.closed, 1);
  EXPECT_EQ(gateway.leftover_bytes, 0u);
}

TEST(WsRelay, SixteenMiBMessagePassesAndOneByteMoreCloses1009) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  double seconds = 0;
  auto task = [&]() -> net::awaitable<void> {
    const std::string big = pattern(16 * 1024 * 1024);
    {
      ClientWs ws(ioc);
      websocket::response_type res;
      {
        auto r_ = co_await open_client(ws, gateway.port(), res);
        EXPECT_FALSE(r_);
      }
      const auto start = SteadyClock::now();
      {
        auto r_ = co_await send(ws, big, false);
        EXPECT_FALSE(r_);
      }
      auto r = co_await read_message(ws);
      seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
      EXPECT_FALSE(r.ec) << r.ec.message();
      EXPECT_TRUE(r.data == big) << "16 MiB echo differs";
      websocket::close_reason normal(websocket::close_code::normal);
      [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
    }
    {
      ClientWs ws(ioc);
      websocket::response_type res;
      {
        auto r_ = co_await open_client(ws, gateway.port(), res);
        EXPECT_FALSE(r_);
      }
      const std::string too_big = big + "x";
      ws.binary(true);
      [[maybe_unused]] auto [wec, wn] = co_await ws.async_write(net::buffer(too_big), kNoThrow);
      auto r = co_await read_message(ws);
      EXPECT_EQ(r.ec, websocket::error::closed) << r.ec.message();
      EXPECT_EQ(ws.reason().code, 1009);
    }
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 2; }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_EQ(gateway.outcomes.size(), 2u);
  EXPECT_EQ(gateway.outcomes[1].client_close, 1009);
  EXPECT_EQ(gateway.outcomes[1].backend_close, 1009);
  std::cout << "[ measure  ] 16 MiB binary message browser->relay->backend->relay->browser: " << seconds * 1000
            << " ms (" << 2 * 16 / seconds << " MiB/s relayed)\n";
}

TEST(WsRelay, CloseCodesPassBothWays) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    {  // browser → backend
      ClientWs ws(ioc);
      websocket::response_type res;
      {
        auto r_ = co_await open_client(ws, gateway.port(), res);
        EXPECT_FALSE(r_);
      }
      websocket::close_reason bye(4001);
      bye.reason = "browser bye";
      [[maybe_unused]] auto [cec] = co_await ws.async_close(bye, kNoThrow);
      EXPECT_FALSE(cec);
      EXPECT_EQ(ws.reason().code, 4001);  // the echo that came back through the relay
    }
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1; }));
    {  // backend → browser
      ClientWs ws(ioc);
      websocket::response_type res;
      {
        auto r_ = co_await open_client(ws, gateway.port(), res);
        EXPECT_FALSE(r_);
      }
      {
        auto r_ = co_await send(ws, "close:4002", true);
        EXPECT_FALSE(r_);
      }
      auto r = co_await read_message(ws);
      EXPECT_EQ(r.ec, websocket::error::closed);
      EXPECT_EQ(ws.reason().code, 4002);
      EXPECT_EQ(std::string(ws.reason().reason.data(), ws.reason().reason.size()), "backend bye");
    }
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 2; }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 4001);
  EXPECT_EQ(std::string(backend.close_in->reason.data(), backend.close_in->reason.size()), "browser bye");
  ASSERT_EQ(gateway.outcomes.size(), 2u);
  EXPECT_EQ(gateway.outcomes[0].backend_close, 4001);
  EXPECT_EQ(gateway.outcomes[1].client_close, 4002);
  EXPECT_EQ(gateway.closed, 2);
}

TEST(WsRelay, BackendDropIsClose1011) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    {
      auto r_ = co_await open_client(ws, gateway.port(), res);
      EXPECT_FALSE(r_);
    }
    {
      auto r_ = co_await send(ws, "die", true);
      EXPECT_FALSE(r_);
    }
    auto r = co_await read_message(ws);
    EXPECT_EQ(r.ec, websocket::error::closed);
    EXPECT_EQ(ws.reason().code, 1011);
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1; }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].client_close, 1011);
}

TEST(WsRelay, LostAuthorisationIsClose1008OnBothSides) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  double waited_ms = 0;
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    {
      auto r_ = co_await open_client(ws, gateway.port(), res);
      EXPECT_FALSE(r_);
    }
    {
      auto r_ = co_await send(ws, "still here", true);
      EXPECT_FALSE(r_);
    }
    {
      auto r_ = co_await read_message(ws);
      EXPECT_EQ(r_.data, "still here");
    }
    gateway.authorised = false;
    const auto start = SteadyClock::now();
    auto r = co_await read_message(ws);
    waited_ms = std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count();
    EXPECT_EQ(r.ec, websocket::error::closed);
    EXPECT_EQ(ws.reason().code, 1008);
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1 && backend.close_in.has_value(); }));
  };
  ASSERT_TRUE(run(ioc, task()));
  EXPECT_LT(waited_ms, 1000);  // checked every 50 ms here
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1008);
  EXPECT_EQ(gateway.closed, 1);
}

TEST(WsRelay, StopClosesBothSidesWithTheGivenCode) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    {
      auto r_ = co_await open_client(ws, gateway.port(), res);
      EXPECT_FALSE(r_);
    }
    EXPECT_TRUE(gateway.stop.has_value());
    (*gateway.stop)(1001);  // graceful shutdown
    auto r = co_await read_message(ws);
    EXPECT_EQ(r.ec, websocket::error::closed);
    EXPECT_EQ(ws.reason().code, 1001);
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1 && backend.close_in.has_value(); }));
    (*gateway.stop)(1000);  // after the relay ended: nothing happens
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1001);
}

TEST(WsRelay, PingsAreAnsweredHopByHop) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  int pongs = 0;
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    {
      auto r_ = co_await open_client(ws, gateway.port(), res);
      EXPECT_FALSE(r_);
    }
    ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::pong && payload == "p1") ++pongs;
    });
    websocket::ping_data ping("p1");
    [[maybe_unused]] auto [pec] = co_await ws.async_ping(ping, kNoThrow);
    EXPECT_FALSE(pec);
    {
      auto r_ = co_await send(ws, "after ping", true);
      EXPECT_FALSE(r_);
    }
    auto r = co_await read_message(ws);  // the pong arrives before the echo
    EXPECT_EQ(r.data, "after ping");
    websocket::close_reason normal(websocket::close_code::normal);
    [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
  };
  ASSERT_TRUE(run(ioc, task()));
  EXPECT_EQ(pongs, 1);
}

TEST(WsRelay, SlowReaderBackPressuresTheWriter) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kStall);
  Gateway gateway(ioc, target_for(backend), fast_options());
  int written = 0;
  constexpr int kAttempts = 400;  // 400 MiB: far more than every socket buffer on the way
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    {
      auto r_ = co_await open_client(ws, gateway.port(), res);
      EXPECT_FALSE(r_);
    }
    const std::string mib = pattern(1024 * 1024);
    auto writer = [&]() -> net::awaitable<void> {
      for (int i = 0; i < kAttempts; ++i) {
        auto ec = co_await send(ws, mib, false);
        if (ec) co_return;
        ++written;
      }
    };
    // A measurement over a fixed 1.5 s (how far a browser gets against a stalled backend), not a wait.
    co_await (writer() || sleep_for(std::chrono::milliseconds(1500)));
  };
  ASSERT_TRUE(run(ioc, task()));
  std::cout << "[ measure  ] stalled backend: the browser could write " << written
            << " MiB before blocking (kernel socket buffers + one 64 KiB relay chunk)\n";
  EXPECT_GT(written, 0);
  EXPECT_LT(written, kAttempts);
}

TEST(WsRelay, TlsClientStream) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options(), self_signed_server_context());
  auto client_tls = trusting_client_context();
  auto task = [&]() -> net::awaitable<void> {
    websocket::stream<http::TlsStream> ws(ioc, *client_tls);
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), gateway.port());
    [[maybe_unused]] auto [cec] = co_await beast::get_lowest_layer(ws).async_connect(endpoint, kNoThrow);
    EXPECT_FALSE(cec);
    auto [tec] = co_await ws.next_layer().async_handshake(net::ssl::stream_base::client, kNoThrow);
    EXPECT_FALSE(tec) << tec.message();
    auto [hec] = co_await ws.async_handshake("localhost", "/capture?sessionId=s1", kNoThrow);
    EXPECT_FALSE(hec) << hec.message();
    {
      auto r_ = co_await send(ws, "over tls", true);
      EXPECT_FALSE(r_);
    }
    auto r = co_await read_message(ws);
    EXPECT_EQ(r.data, "over tls");
    websocket::close_reason bye(4005);
    auto [clec] = co_await ws.async_close(bye, kNoThrow);
    EXPECT_FALSE(clec) << clec.message();
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1 && backend.close_in.has_value(); }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 4005);
  EXPECT_EQ(gateway.closed, 1);
}

TEST(WsRelay, MetricsCountBytesMessagesAndOpenRelays) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto& registry = metrics::Registry::global();
  auto& open = registry.gauge("webstream_websockets_open", "WebSocket relays currently open");
  auto& to_backend = registry.counter("webstream_websocket_relayed_bytes_total",
                                      "WebSocket payload bytes relayed, by direction", {{"direction", "to_backend"}});
  auto& msgs_to_client = registry.counter("webstream_websocket_relayed_messages_total",
                                          "WebSocket messages relayed, by direction", {{"direction", "to_client"}});
  const auto open_before = open.value();
  const auto bytes_before = to_backend.value();
  const auto msgs_before = msgs_to_client.value();
  std::int64_t open_during = 0;
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    websocket::response_type res;
    {
      auto r_ = co_await open_client(ws, gateway.port(), res);
      EXPECT_FALSE(r_);
    }
    open_during = open.value();
    for (int i = 0; i < 10; ++i) {
      {
        auto r_ = co_await send(ws, "0123456789", true);
        EXPECT_FALSE(r_);
      }
      {
        auto r_ = co_await read_message(ws);
        EXPECT_EQ(r_.data, "0123456789");
      }
    }
    websocket::close_reason normal(websocket::close_code::normal);
    [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
    EXPECT_TRUE(co_await eventually([&] { return open.value() == open_before; }));
  };
  ASSERT_TRUE(run(ioc, task()));
  EXPECT_EQ(open_during, open_before + 1);
  EXPECT_EQ(open.value(), open_before);
  EXPECT_EQ(to_backend.value() - bytes_before, 100u);
  EXPECT_EQ(msgs_to_client.value() - msgs_before, 10u);
}

TEST(WsRelay, Throughput) {
  net::io_context ioc;
  WsBackend sink(ioc, WsBackend::Mode::kSink);
  WsBackend echo(ioc, WsBackend::Mode::kEcho);
  Gateway to_sink(ioc, target_for(sink), fast_options());
  Gateway to_echo(ioc, target_for(echo), fast_options());
  constexpr int kBigMessages = 4096;  // 256 MiB in 64 KiB messages
  constexpr int kRoundTrips = 5000;
  double stream_s = 0, rtt_us = 0;
  auto task = [&]() -> net::awaitable<void> {
    {
      ClientWs ws(ioc);
      websocket::response_type res;
      {
        auto r_ = co_await open_client(ws, to_sink.port(), res);
        EXPECT_FALSE(r_);
      }
      const std::string chunk = pattern(64 * 1024);
      const auto start = SteadyClock::now();
      for (int i = 0; i < kBigMessages; ++i) {
        auto r_ = co_await send(ws, chunk, false);
        EXPECT_FALSE(r_);
      }
      EXPECT_TRUE(co_await eventually([&] { return sink.sink_messages >= static_cast<std::uint64_t>(kBigMessages); },
                                      std::chrono::seconds(60)));
      stream_s = std::chrono::duration<double>(SteadyClock::now() - start).count();
      websocket::close_reason normal(websocket::close_code::normal);
      [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
    }
    {
      ClientWs ws(ioc);
      websocket::response_type res;
      {
        auto r_ = co_await open_client(ws, to_echo.port(), res);
        EXPECT_FALSE(r_);
      }
      const auto start = SteadyClock::now();
      for (int i = 0; i < kRoundTrips; ++i) {
        {
          auto r_ = co_await send(ws, "0123456789abcdef0123456789abcdef", false);
          EXPECT_FALSE(r_);
        }
        auto r = co_await read_message(ws);
        EXPECT_EQ(r.data.size(), 32u);
      }
      rtt_us = std::chrono::duration<double, std::micro>(SteadyClock::now() - start).count() / kRoundTrips;
      websocket::close_reason normal(websocket::close_code::normal);
      [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
    }
  };
  ASSERT_TRUE(run(ioc, task(), std::chrono::seconds(120)));
  EXPECT_EQ(sink.sink_bytes, static_cast<std::uint64_t>(kBigMessages) * 64 * 1024);
  std::cout << "[ measure  ] one thread (client, relay, backend share it): 256 MiB browser->backend in 64 KiB "
               "messages: "
            << 256 / stream_s << " MiB/s; 32-byte echo round trip through the relay: " << rtt_us << " us\n";
}

TEST(WsRelay, OptionsFromLimits) {
  config::LimitsConfig limits;
  limits.max_ws_message_bytes = 1024;
  limits.backend_connect_timeout_s = 5;
  const auto o = RelayOptions::from_limits(limits);
  EXPECT_EQ(o.max_message_bytes, 1024u);
  EXPECT_EQ(o.connect_timeout, std::chrono::seconds(5));
  EXPECT_EQ(RelayOptions{}.max_message_bytes, 16u * 1024 * 1024);
}

}  // namespace
}  // namespace webstream::proxy
