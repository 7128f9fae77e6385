#include "proxy/ws_relay.hpp"

#include <gtest/gtest.h>
#include <boost/asio/experimental/awaitable_operators.hpp>

#include <boost/asio/read_until.hpp>

#include <array>
#include <chrono>
#include <iostream>
#include <optional>
#include <span>

#include "core/testing/fake_clock.hpp"
#include "observability/metrics.hpp"
#include "proxy/testing/ws_fixtures.hpp"
#include "proxy/ws_frame.hpp"
#include "runtime/testing/fake_timers.hpp"

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

// Opens `ws` through the gateway at `port`; the handshake must succeed.
net::awaitable<void> open_ok(ClientWs& ws, std::uint16_t port) {
  websocket::response_type res;
  const auto ec = co_await open_client(ws, port, res);
  EXPECT_FALSE(ec) << ec.message();
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
    // The relay has finished and the backend has read the close (its read ends after its TCP teardown, which
    // may come after the browser's: which of the two the io_context runs first depends on the I/O backend).
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1 && backend.close_in.has_value(); }));
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
      co_await open_ok(ws, gateway.port());
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
      co_await open_ok(ws, gateway.port());
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
      co_await open_ok(ws, gateway.port());
      websocket::close_reason bye(4001);
      bye.reason = "browser bye";
      [[maybe_unused]] auto [cec] = co_await ws.async_close(bye, kNoThrow);
      EXPECT_FALSE(cec);
      EXPECT_EQ(ws.reason().code, 4001);  // the echo that came back through the relay
    }
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1; }));
    {  // backend → browser
      ClientWs ws(ioc);
      co_await open_ok(ws, gateway.port());
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
    co_await open_ok(ws, gateway.port());
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

// The watchdog's tests run it on FakeTimers: the test moves a fake clock past the interval instead of waiting
// for it, and runs the sockets' real I/O on its own thread (drive()) while fake time stands still.
struct FakeTime {
  webstream::testing::FakeClock clock;
  runtime::testing::FakeTimers timers{clock};
  RelayOptions options(std::chrono::milliseconds auth_check_interval) {
    RelayOptions o = fast_options();
    o.auth_check_interval = auth_check_interval;
    o.timers = &timers;
    return o;
  }
};

// Runs `ioc` on this thread until `condition` holds, or fails after 10 s of real time (the sockets need it).
template <class Condition>
bool drive(net::io_context& ioc, Condition condition) {
  const auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  ioc.restart();
  while (!condition()) {
    if (SteadyClock::now() >= deadline) return condition();
    ioc.run_one_for(std::chrono::milliseconds(10));
  }
  return true;
}

TEST(WsRelay, LostAuthorisationIsClose1008OnBothSides) {
  net::io_context ioc;
  FakeTime time;  // after ioc: its waits go before the io_context
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), time.options(std::chrono::seconds(1)));
  ClientWs ws(ioc);
  bool echoed = false;
  std::optional<Received> after_echo;
  auto browser = [&]() -> net::awaitable<void> {
    co_await open_ok(ws, gateway.port());
    {
      auto r_ = co_await send(ws, "still here", true);
      EXPECT_FALSE(r_);
    }
    {
      auto r_ = co_await read_message(ws);
      EXPECT_EQ(r_.data, "still here");
    }
    echoed = true;
    after_echo = co_await read_message(ws);
  };
  net::co_spawn(ioc, browser(), net::detached);
  ASSERT_TRUE(drive(ioc, [&] { return echoed; }));
  EXPECT_EQ(time.timers.pending(), 1u);  // the watchdog's wait
  const Millis opened_at = time.clock.now_ms();

  // Authorised: asked once per interval, the relay stays open.
  time.timers.run_until(opened_at + 3000, ioc);
  EXPECT_EQ(gateway.auth_checks, 3);
  EXPECT_EQ(gateway.closed, 0);
  EXPECT_FALSE(after_echo.has_value());

  // Revoked: not asked again before the next interval ends, then both sides get 1008.
  gateway.authorised = false;
  time.timers.run_until(opened_at + 3999, ioc);
  EXPECT_EQ(gateway.auth_checks, 3);
  EXPECT_EQ(gateway.closed, 0);
  time.timers.run_until(opened_at + 4000, ioc);
  EXPECT_EQ(gateway.auth_checks, 4);
  ASSERT_TRUE(drive(
      ioc, [&] { return after_echo.has_value() && backend.close_in.has_value() && gateway.outcomes.size() == 1; }));
  EXPECT_EQ(after_echo->ec, websocket::error::closed);
  EXPECT_EQ(ws.reason().code, 1008);
  EXPECT_EQ(backend.close_in->code, 1008);
  EXPECT_EQ(gateway.closed, 1);
  EXPECT_EQ(gateway.outcomes[0].client_close, 1008);
  EXPECT_EQ(gateway.outcomes[0].backend_close, 1008);
  EXPECT_EQ(time.timers.pending(), 0u);  // the relay is over: no watchdog left
  EXPECT_EQ(time.clock.now_ms(), opened_at + 4000);
}

TEST(WsRelay, APeerThatNeverFinishesClosingIsDroppedTwoCloseTimeoutsLater) {
  net::io_context ioc;
  FakeTime time;                                    // after ioc: its waits go before the io_context
  WsBackend backend(ioc, WsBackend::Mode::kStall);  // never reads, so never answers the close
  RelayOptions options = time.options(std::chrono::seconds(1));
  options.close_timeout = std::chrono::seconds(5);
  Gateway gateway(ioc, target_for(backend), options);
  ClientWs ws(ioc);
  std::optional<Received> after_stop;
  auto browser = [&]() -> net::awaitable<void> {
    co_await open_ok(ws, gateway.port());
    after_stop = co_await read_message(ws);  // answers the close, then waits for the TCP close
  };
  net::co_spawn(ioc, browser(), net::detached);
  ASSERT_TRUE(drive(ioc, [&] { return gateway.stop.has_value(); }));
  (*gateway.stop)(1001);
  // The stop wakes the watchdog, which sends both close frames; the browser answers, the backend does not.
  ASSERT_TRUE(drive(ioc, [&] { return ws.reason().code == 1001; }));
  const Millis closing_at = time.clock.now_ms();
  time.timers.run_until(closing_at + 9999, ioc);
  EXPECT_EQ(gateway.closed, 0);  // still waiting for the backend's close
  time.timers.run_until(closing_at + 10000, ioc);
  ASSERT_TRUE(drive(ioc, [&] { return gateway.outcomes.size() == 1 && after_stop.has_value(); }));
  EXPECT_EQ(after_stop->ec, websocket::error::closed);
  EXPECT_EQ(gateway.closed, 1);
  EXPECT_EQ(gateway.outcomes[0].client_close, 1001);
  EXPECT_EQ(gateway.outcomes[0].backend_close, 1001);
  EXPECT_EQ(time.timers.pending(), 0u);
}

TEST(WsRelay, StopClosesBothSidesWithTheGivenCode) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    co_await open_ok(ws, gateway.port());
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

TEST(WsRelay, PingsAndPongsPassThroughEvenInsideAFragmentedMessage) {
  // The tunnel passes control frames on; the backend (Beast) answers the browser's ping itself.
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  int pongs = 0;
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    co_await open_ok(ws, gateway.port());
    ws.control_callback([&](websocket::frame_type kind, beast::string_view payload) {
      if (kind == websocket::frame_type::pong && (payload == "p1" || payload == "p2")) ++pongs;
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
    // A ping between the fragments of one message.
    ws.text(true);
    [[maybe_unused]] auto [e1, n1] =
        co_await ws.async_write_some(false, net::buffer(std::string_view("inter")), kNoThrow);
    [[maybe_unused]] auto [pec2] = co_await ws.async_ping(websocket::ping_data("p2"), kNoThrow);
    [[maybe_unused]] auto [e2, n2] =
        co_await ws.async_write_some(true, net::buffer(std::string_view("leaved")), kNoThrow);
    r = co_await read_message(ws);
    EXPECT_EQ(r.data, "interleaved");
    websocket::close_reason normal(websocket::close_code::normal);
    [[maybe_unused]] auto [cec] = co_await ws.async_close(normal, kNoThrow);
  };
  ASSERT_TRUE(run(ioc, task()));
  EXPECT_EQ(pongs, 2);
}

// ---------------------------------------------------------------------------------------------------------
// A browser written by hand, byte by byte: what a Beast client never sends.

struct RawBrowser {
  explicit RawBrowser(net::io_context& ioc) : socket(ioc) {}
  tcp::socket socket;
  std::string input;  // bytes read and not yet parsed

  net::awaitable<bool> open(std::uint16_t port) {
    const tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), port);
    auto [cec] = co_await socket.async_connect(endpoint, kNoThrow);
    if (cec) co_return false;
    const std::string request =
        "GET /capture?sessionId=s1 HTTP/1.1\r\nHost: gw\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    auto [wec, wn] = co_await net::async_write(socket, net::buffer(request), kNoThrow);
    if (wec) co_return false;
    auto [rec, rn] = co_await net::async_read_until(socket, net::dynamic_buffer(input), "\r\n\r\n", kNoThrow);
    if (rec) co_return false;
    const bool switched = input.rfind("HTTP/1.1 101", 0) == 0;
    input.erase(0, rn);
    co_return switched;
  }

  net::awaitable<void> write(const std::vector<std::uint8_t>& bytes) {
    [[maybe_unused]] auto [ec, n] = co_await net::async_write(socket, net::buffer(bytes), kNoThrow);
  }

  // The next whole frame from the gateway: its opcode and (unmasked) payload; nullopt at the end of stream.
  net::awaitable<std::optional<std::pair<std::uint8_t, std::string>>> frame() {
    for (;;) {
      const auto* data = reinterpret_cast<const std::uint8_t*>(input.data());
      const auto parsed = ws_frame::parse_header(std::span(data, input.size()), ws_frame::Rules{false, UINT64_MAX});
      if (const auto* h = std::get_if<ws_frame::Header>(&parsed)) {
        if (input.size() >= h->header_size + h->payload_length) {
          std::pair<std::uint8_t, std::string> out{h->opcode, input.substr(h->header_size, h->payload_length)};
          input.erase(0, h->header_size + h->payload_length);
          co_return out;
        }
      } else if (std::holds_alternative<ws_frame::ProtocolError>(parsed)) {
        co_return std::nullopt;
      }
      std::array<char, 4096> chunk{};
      auto [ec, n] = co_await socket.async_read_some(net::buffer(chunk), kNoThrow);
      if (ec) co_return std::nullopt;
      input.append(chunk.data(), n);
    }
  }
};

constexpr std::array<std::uint8_t, 4> kRawKey{0x11, 0x22, 0x33, 0x44};

std::vector<std::uint8_t> raw_frame(bool fin, std::uint8_t opcode, std::string_view payload, bool masked = true,
                                    std::optional<std::uint64_t> announced = std::nullopt) {
  std::vector<std::uint8_t> out(ws_frame::kMaxHeaderBytes);
  out.resize(ws_frame::write_header(out, fin, opcode, announced.value_or(payload.size()), masked ? &kRawKey : nullptr));
  std::vector<std::uint8_t> body(payload.begin(), payload.end());
  if (masked) ws_frame::apply_mask(body, kRawKey, 0);
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

std::uint16_t close_code_of(const std::string& payload) {
  return payload.size() >= 2 ? static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                                          static_cast<std::uint8_t>(payload[1]))
                             : 0;
}

TEST(WsRelay, AFrameWrittenOneByteAtATimeArrivesWhole) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    RawBrowser browser(ioc);
    EXPECT_TRUE(co_await browser.open(gateway.port()));
    const std::string text(300, 'q');  // a 16-bit length: a 8-byte header with the mask
    const auto bytes = raw_frame(true, ws_frame::kText, text);
    std::vector<std::uint8_t> one(1);  // (a braced temporary in a co_await trips GCC 12: CONTRIBUTING.md)
    for (std::size_t i = 0; i < bytes.size(); ++i) {
      one[0] = bytes[i];
      co_await browser.write(one);
      co_await net::post(ioc, net::use_awaitable);  // a turn for the relay between the bytes
    }
    auto echo = co_await browser.frame();
    EXPECT_TRUE(echo.has_value());
    if (echo) {
      EXPECT_EQ(echo->first, ws_frame::kText);
      EXPECT_EQ(echo->second, text);
    }
    co_await browser.write(raw_frame(true, ws_frame::kClose, std::string("\x03\xe8", 2)));
    auto answer = co_await browser.frame();
    EXPECT_TRUE(answer && answer->first == ws_frame::kClose && close_code_of(answer->second) == 1000);
    EXPECT_TRUE(co_await eventually([&] { return gateway.closed == 1 && backend.close_in.has_value(); }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1000);
}

TEST(WsRelay, BackendClosesWhileTheBrowserIsMidMessage) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    RawBrowser browser(ioc);
    EXPECT_TRUE(co_await browser.open(gateway.port()));
    // The backend is asked to close, and the browser starts a 1000-byte frame it has not finished.
    auto bytes = raw_frame(true, ws_frame::kText, "close:4003");
    const std::string first(10, 'm');
    const auto partial = raw_frame(false, ws_frame::kBinary, first, true, 1000);
    bytes.insert(bytes.end(), partial.begin(), partial.end());
    co_await browser.write(bytes);
    auto close = co_await browser.frame();
    EXPECT_TRUE(close.has_value());
    if (close) {
      EXPECT_EQ(close->first, ws_frame::kClose);
      EXPECT_EQ(close_code_of(close->second), 4003);
    }
    // The browser finishes its frame (the rest of the masked payload), then answers the close.
    std::vector<std::uint8_t> rest(990, 'm');
    ws_frame::apply_mask(rest, kRawKey, 10);
    co_await browser.write(rest);
    co_await browser.write(raw_frame(true, ws_frame::kClose, std::string("\x0f\xa3", 2)));
    // The outcome is handed over after on_close: wait for it, not for on_close.
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1; }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].client_close, 4003);
  EXPECT_EQ(gateway.outcomes[0].backend_close, 4003);
}

TEST(WsRelay, HalfClosedBrowserEndsTheRelayAndTheBackendGets1001) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    RawBrowser browser(ioc);
    EXPECT_TRUE(co_await browser.open(gateway.port()));
    co_await browser.write(raw_frame(true, ws_frame::kText, "last words"));
    boost::system::error_code ignored;
    browser.socket.shutdown(tcp::socket::shutdown_send, ignored);  // no close frame, half closed
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1 && backend.close_in.has_value(); }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1001);
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].bytes_to_backend, 10u);
}

TEST(WsRelay, AnUnmaskedBrowserFrameIs1002AndTheBackendIsTold1001) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  auto task = [&]() -> net::awaitable<void> {
    RawBrowser browser(ioc);
    EXPECT_TRUE(co_await browser.open(gateway.port()));
    co_await browser.write(raw_frame(true, ws_frame::kText, "unmasked", false));
    auto close = co_await browser.frame();
    EXPECT_TRUE(close && close->first == ws_frame::kClose && close_code_of(close->second) == 1002);
    co_await browser.write(raw_frame(true, ws_frame::kClose, std::string("\x03\xea", 2)));
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1 && backend.close_in.has_value(); }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1001);
  EXPECT_TRUE(backend.upgrades.size() == 1u);
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].client_close, 1002);
  EXPECT_EQ(gateway.outcomes[0].bytes_to_backend, 0u);  // nothing of the bad frame went on
}

// Large frames in both directions (up to 1 MiB, larger than any read), masked and unmasked, fragmented with a
// ping inside, written by the browser in one go while the echoes come back: every byte arrives, in order, and
// the counts agree.
TEST(WsRelay, LargeFramesArriveByteForByte) {
  {
    net::io_context ioc;
    WsBackend backend(ioc, WsBackend::Mode::kEcho);
    Gateway gateway(ioc, target_for(backend), fast_options());
    const std::string a = pattern(100 * 1024), b = pattern(70 * 1024 + 3), c = pattern(17 * 1024),
                      d = pattern(200 * 1024 + 1), e = pattern(1024 * 1024);
    auto task = [&]() -> net::awaitable<void> {
      RawBrowser browser(ioc);
      EXPECT_TRUE(co_await browser.open(gateway.port()));
      std::vector<std::uint8_t> bytes;
      auto add = [&bytes](const std::vector<std::uint8_t>& frame) {
        bytes.insert(bytes.end(), frame.begin(), frame.end());
      };
      add(raw_frame(true, ws_frame::kBinary, a));
      add(raw_frame(true, ws_frame::kText, "small one"));
      add(raw_frame(false, ws_frame::kBinary, b));
      add(raw_frame(true, ws_frame::kPing, "inside"));
      add(raw_frame(false, ws_frame::kContinuation, c));
      add(raw_frame(true, ws_frame::kContinuation, d));
      add(raw_frame(true, ws_frame::kBinary, e));
      std::vector<std::string> echoed;
      auto writer = [&]() -> net::awaitable<void> { co_await browser.write(bytes); };
      auto reader = [&]() -> net::awaitable<void> {  // at once: the echoes must not wait for the writer
        while (echoed.size() < 4) {
          auto frame = co_await browser.frame();
          if (!frame) break;
          if (frame->first == ws_frame::kPong) continue;  // the backend's answer to the ping
          echoed.push_back(std::move(frame->second));
        }
      };
      co_await (writer() && reader());
      EXPECT_EQ(echoed.size(), 4u);
      if (echoed.size() == 4) {
        EXPECT_TRUE(echoed[0] == a);
        EXPECT_EQ(echoed[1], "small one");
        EXPECT_TRUE(echoed[2] == b + c + d);
        EXPECT_TRUE(echoed[3] == e);
      }
      co_await browser.write(raw_frame(true, ws_frame::kClose, std::string("\x03\xe8", 2)));
      auto answer = co_await browser.frame();
      EXPECT_TRUE(answer && answer->first == ws_frame::kClose && close_code_of(answer->second) == 1000);
      EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1; }));
    };
    ASSERT_TRUE(run(ioc, task()));
    ASSERT_EQ(gateway.outcomes.size(), 1u);
    const auto& out = gateway.outcomes[0];
    const std::uint64_t payload = a.size() + 9 + b.size() + c.size() + d.size() + e.size();
    EXPECT_EQ(out.bytes_to_backend, payload);
    EXPECT_EQ(out.bytes_to_client, payload);
    EXPECT_EQ(out.messages_to_backend, 4u);
    EXPECT_EQ(out.messages_to_client, 4u);
  }
}

// The gateway's own close frame waits for the end of a large frame: authorisation is lost while the
// browser is in the middle of a 300 KiB frame; the browser is told 1008 at once, the backend only after the
// frame's last byte, which the browser sends in pieces after it got its close.
TEST(WsRelay, TheGatewaysCloseWaitsForTheEndOfALargeFrame) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kEcho);
  Gateway gateway(ioc, target_for(backend), fast_options());
  constexpr std::size_t kFrame = 300 * 1024;
  auto task = [&]() -> net::awaitable<void> {
    RawBrowser browser(ioc);
    EXPECT_TRUE(co_await browser.open(gateway.port()));
    co_await browser.write(raw_frame(false, ws_frame::kBinary, pattern(64 * 1024), true, kFrame));
    gateway.authorised = false;
    auto close = co_await browser.frame();
    EXPECT_TRUE(close && close->first == ws_frame::kClose && close_code_of(close->second) == 1008);
    EXPECT_FALSE(backend.close_in.has_value());  // the frame in progress has not ended
    for (std::size_t at = 64 * 1024; at < kFrame; at += 59 * 1024) {
      std::vector<std::uint8_t> piece(std::min<std::size_t>(59 * 1024, kFrame - at), 'p');
      ws_frame::apply_mask(piece, kRawKey, at);
      co_await browser.write(piece);
      co_await net::post(ioc, net::use_awaitable);  // a turn for the relay between the pieces
    }
    co_await browser.write(raw_frame(true, ws_frame::kClose, std::string("\x03\xf0", 2)));
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1 && backend.close_in.has_value(); }));
  };
  ASSERT_TRUE(run(ioc, task()));
  ASSERT_TRUE(backend.close_in.has_value());
  EXPECT_EQ(backend.close_in->code, 1008);
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].client_close, 1008);
  EXPECT_EQ(gateway.outcomes[0].backend_close, 1008);
  EXPECT_EQ(gateway.outcomes[0].bytes_to_backend, kFrame);
}

// A stalled backend and a browser writing 1 MiB frames, each larger than any read: the relay holds back at most
// one read, reads nothing more, the browser blocks; a stop still ends the relay (its closing handshakes cannot
// finish, so after 2 × close_timeout).
TEST(WsRelay, SlowReaderBackPressuresAWriterOfLargeFrames) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kStall);
  Gateway gateway(ioc, target_for(backend), fast_options());
  int written = 0;
  constexpr int kAttempts = 400;
  auto task = [&]() -> net::awaitable<void> {
    RawBrowser browser(ioc);
    EXPECT_TRUE(co_await browser.open(gateway.port()));
    const auto frame = raw_frame(true, ws_frame::kBinary, pattern(1024 * 1024));
    auto writer = [&]() -> net::awaitable<void> {
      for (int i = 0; i < kAttempts; ++i) {
        auto [ec, n] = co_await net::async_write(browser.socket, net::buffer(frame), kNoThrow);
        if (ec) co_return;
        ++written;
      }
    };
    // A measurement over a fixed 1.5 s (how far a browser gets against a stalled backend), not a wait.
    co_await (writer() || sleep_for(std::chrono::milliseconds(1500)));
    EXPECT_TRUE(gateway.stop.has_value());
    if (gateway.stop) (*gateway.stop)(1001);
    EXPECT_TRUE(co_await eventually([&] { return gateway.outcomes.size() == 1; }));
  };
  ASSERT_TRUE(run(ioc, task()));
  std::cout << "[ measure  ] stalled backend, 1 MiB frames: the browser could write " << written
            << " MiB before blocking\n";
  EXPECT_GT(written, 0);
  EXPECT_LT(written, kAttempts);
  ASSERT_EQ(gateway.outcomes.size(), 1u);
  EXPECT_EQ(gateway.outcomes[0].client_close, 1001);
}

TEST(WsRelay, SlowReaderBackPressuresTheWriter) {
  net::io_context ioc;
  WsBackend backend(ioc, WsBackend::Mode::kStall);
  Gateway gateway(ioc, target_for(backend), fast_options());
  int written = 0;
  constexpr int kAttempts = 400;  // 400 MiB: far more than every socket buffer on the way
  auto task = [&]() -> net::awaitable<void> {
    ClientWs ws(ioc);
    co_await open_ok(ws, gateway.port());
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
            << " MiB before blocking (kernel socket buffers + the one read the tunnel holds back)\n";
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
    co_await open_ok(ws, gateway.port());
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
      co_await open_ok(ws, to_sink.port());
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
      co_await open_ok(ws, to_echo.port());
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
