#include "proxy/upstream_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/write.hpp>

#include "core/testing/eventually.hpp"
#include "proxy/testing/loopback.hpp"

namespace webstream::proxy {
namespace {

using testing::tcp;
namespace net = boost::asio;

// A connected pair on loopback: the client side as a pooled connection, the server side as a socket.
struct Pair {
  std::unique_ptr<UpstreamConnection> client;
  tcp::socket server;
};

Pair connected_pair(net::io_context& ioc, tcp::acceptor& acceptor) {
  tcp::socket client(ioc);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  return {std::make_unique<UpstreamConnection>(std::move(client)), std::move(server)};
}

TEST(UpstreamPool, TakesTheMostRecentLiveConnection) {
  net::io_context ioc;
  auto acceptor = testing::loopback_acceptor(ioc);
  auto& pool = UpstreamPool::of(ioc.get_executor());
  auto a = connected_pair(ioc, acceptor);
  auto b = connected_pair(ioc, acceptor);
  auto* b_ptr = b.client.get();
  pool.put("k", std::move(a.client), 1000, 8, 10'000);
  pool.put("k", std::move(b.client), 1001, 8, 10'000);
  EXPECT_EQ(pool.idle_count("k"), 2u);
  auto got = pool.take("k", 1002, 10'000);
  EXPECT_EQ(got.get(), b_ptr);
  EXPECT_EQ(pool.idle_count("k"), 1u);
  EXPECT_EQ(pool.take("other", 1002, 10'000), nullptr);
}

TEST(UpstreamPool, DropsConnectionsIdleTooLong) {
  net::io_context ioc;
  auto acceptor = testing::loopback_acceptor(ioc);
  auto& pool = UpstreamPool::of(ioc.get_executor());
  auto a = connected_pair(ioc, acceptor);
  pool.put("k", std::move(a.client), 1000, 8, 5000);
  EXPECT_EQ(pool.take("k", 6001, 5000), nullptr);
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST(UpstreamPool, SweepClosesIdleConnectionsOfOtherBackends) {
  net::io_context ioc;
  auto acceptor = testing::loopback_acceptor(ioc);
  auto& pool = UpstreamPool::of(ioc.get_executor());
  auto a = connected_pair(ioc, acceptor);
  auto b = connected_pair(ioc, acceptor);
  pool.put("old", std::move(a.client), 0, 8, 5000);
  pool.put("new", std::move(b.client), 10'000, 8, 5000);  // sweeps: "old" has idled 10 s
  EXPECT_EQ(pool.idle_count("old"), 0u);
  EXPECT_EQ(pool.idle_count("new"), 1u);
}

TEST(UpstreamPool, BoundedIdleCountClosesTheOldest) {
  net::io_context ioc;
  auto acceptor = testing::loopback_acceptor(ioc);
  auto& pool = UpstreamPool::of(ioc.get_executor());
  std::vector<Pair> pairs;
  for (int i = 0; i < 5; ++i) pairs.push_back(connected_pair(ioc, acceptor));
  auto* newest = pairs.back().client.get();
  for (auto& p : pairs) pool.put("k", std::move(p.client), 1000, 3, 10'000);
  EXPECT_EQ(pool.idle_count("k"), 3u);
  EXPECT_EQ(pool.take("k", 1000, 10'000).get(), newest);
}

TEST(UpstreamPool, ConnectionClosedByThePeerIsNotHandedOut) {
  net::io_context ioc;
  auto acceptor = testing::loopback_acceptor(ioc);
  auto& pool = UpstreamPool::of(ioc.get_executor());
  auto a = connected_pair(ioc, acceptor);
  auto b = connected_pair(ioc, acceptor);
  EXPECT_FALSE(UpstreamPool::unusable(*a.client));
  auto* closed = b.client.get();
  pool.put("k", std::move(a.client), 1000, 8, 10'000);
  pool.put("k", std::move(b.client), 1000, 8, 10'000);
  b.server.close();  // the backend closed the most recent one while it idled
  ASSERT_TRUE(webstream::testing::eventually([&] { return UpstreamPool::unusable(*closed); }));  // the FIN arrived
  auto got = pool.take("k", 1000, 10'000);
  ASSERT_NE(got, nullptr);
  EXPECT_FALSE(UpstreamPool::unusable(*got));
  EXPECT_EQ(pool.idle_count("k"), 0u);
  // Unsolicited bytes also make a connection unusable.
  const char junk[] = "HTTP/1.1 200 OK\r\n";
  net::write(a.server, net::buffer(junk, sizeof junk - 1));
  EXPECT_TRUE(webstream::testing::eventually([&] { return UpstreamPool::unusable(*got); }));
}

TEST(UpstreamPool, OnePoolPerExecutionContext) {
  net::io_context one, two;
  EXPECT_NE(&UpstreamPool::of(one.get_executor()), &UpstreamPool::of(two.get_executor()));
  EXPECT_EQ(&UpstreamPool::of(one.get_executor()), &UpstreamPool::of(one.get_executor()));
}

TEST(UpstreamPool, LivenessCheckOnlyAfterTheGivenIdleTime) {
  net::io_context ioc;
  auto acceptor = testing::loopback_acceptor(ioc);
  auto& pool = UpstreamPool::of(ioc.get_executor());
  auto a = connected_pair(ioc, acceptor);
  auto* closed = a.client.get();
  pool.put("k", std::move(a.client), 1000, 8, 10'000);
  a.server.close();
  ASSERT_TRUE(webstream::testing::eventually([&] { return UpstreamPool::unusable(*closed); }));  // the FIN arrived
  // Busy 500 ms ago: handed out unchecked (a GET caller retries a dead one).
  auto unchecked = pool.take("k", 1500, 10'000, 1000);
  ASSERT_NE(unchecked, nullptr);
  EXPECT_TRUE(UpstreamPool::unusable(*unchecked));
  // Idle 1 s or more: checked, and the dead one is dropped.
  pool.put("k", std::move(unchecked), 1000, 8, 10'000);
  EXPECT_EQ(pool.take("k", 2000, 10'000, 1000), nullptr);
}

}  // namespace
}  // namespace webstream::proxy
