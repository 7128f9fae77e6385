#include "http/socket_deadline.hpp"

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <optional>

namespace webstream::http {
namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace std::chrono_literals;

// A connected loopback pair whose client side waits for a read that never comes.
struct Pair {
  net::io_context io;
  tcp::acceptor acceptor{io, {net::ip::make_address("127.0.0.1"), 0}};
  tcp::socket client{io};
  tcp::socket server{io};
  std::array<char, 16> buf{};
  std::optional<boost::system::error_code> read_result;
  Pair() {
    client.connect(acceptor.local_endpoint());
    server = acceptor.accept();
  }
  void start_read() {
    client.async_read_some(net::buffer(buf), [this](boost::system::error_code ec, std::size_t) { read_result = ec; });
  }
};

TEST(SocketDeadline, CancelsTheSocketWhenItExpires) {
  Pair p;
  SocketDeadline d(p.io.get_executor(), p.client);
  p.start_read();
  const auto started = std::chrono::steady_clock::now();
  d.arm(50ms);
  p.io.run_for(2s);
  ASSERT_TRUE(p.read_result.has_value());
  EXPECT_EQ(*p.read_result, net::error::operation_aborted);
  EXPECT_TRUE(d.fired());
  EXPECT_GE(std::chrono::steady_clock::now() - started, 50ms);
}

TEST(SocketDeadline, DisarmedNeverFires) {
  Pair p;
  SocketDeadline d(p.io.get_executor(), p.client);
  p.start_read();
  d.arm(30ms);
  d.disarm();
  p.io.run_for(200ms);
  EXPECT_FALSE(p.read_result.has_value());
  EXPECT_FALSE(d.fired());
}

TEST(SocketDeadline, ALaterDeadlineIsHonouredAfterTheFirstWaitWakes) {
  Pair p;
  SocketDeadline d(p.io.get_executor(), p.client);
  p.start_read();
  d.arm(30ms);
  const auto rearmed = std::chrono::steady_clock::now();
  d.arm(250ms);  // later than the pending wait: no restart, the wait re-sleeps when it wakes
  p.io.run_for(150ms);
  EXPECT_FALSE(p.read_result.has_value()) << "fired at the stale, earlier deadline";
  p.io.restart();
  p.io.run_for(2s);
  ASSERT_TRUE(p.read_result.has_value());
  EXPECT_TRUE(d.fired());
  EXPECT_GE(std::chrono::steady_clock::now() - rearmed, 250ms);
}

TEST(SocketDeadline, AnEarlierDeadlineRestartsTheWait) {
  Pair p;
  SocketDeadline d(p.io.get_executor(), p.client);
  p.start_read();
  d.arm(10s);
  d.arm(40ms);
  p.io.run_for(2s);
  ASSERT_TRUE(p.read_result.has_value());
  EXPECT_TRUE(d.fired());
}

TEST(SocketDeadline, RearmClearsFired) {
  Pair p;
  SocketDeadline d(p.io.get_executor(), p.client);
  p.start_read();
  d.arm(20ms);
  p.io.run_for(1s);
  ASSERT_TRUE(d.fired());
  d.arm(10s);
  EXPECT_FALSE(d.fired());
}

TEST(SocketDeadline, DestroyedWithAWaitPendingIsSafe) {
  Pair p;
  {
    SocketDeadline d(p.io.get_executor(), p.client);
    d.arm(10ms);
  }
  p.start_read();
  p.io.run_for(100ms);
  EXPECT_FALSE(p.read_result.has_value());
}

}  // namespace
}  // namespace webstream::http
