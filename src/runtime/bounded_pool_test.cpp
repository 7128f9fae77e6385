#include "runtime/bounded_pool.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

namespace webstream::runtime {
namespace {

int thread_nice() { return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid))); }

TEST(BoundedPool, RunsOffTheCallerThreadAndResumesOnIt) {
  boost::asio::io_context io;
  BoundedPool pool({.threads = 1, .max_in_flight = 4, .nice = 0});
  std::thread::id io_thread, work_thread, resumed_thread;
  std::optional<int> got;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        io_thread = std::this_thread::get_id();
        auto job = [&] {
          work_thread = std::this_thread::get_id();
          return 42;
        };
        got = co_await pool.try_run(std::move(job));
        resumed_thread = std::this_thread::get_id();
      },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(*got, 42);
  EXPECT_NE(work_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(BoundedPool, RefusesAtOnceWhenQueuedPlusRunningReachTheLimitAndAdmitsAgainAfter) {
  boost::asio::io_context io;
  BoundedPool pool({.threads = 1, .max_in_flight = 2, .nice = 0});
  std::promise<void> gate;
  std::shared_future<void> open = gate.get_future().share();
  std::atomic<int> ran{0};
  std::optional<int> results[3];
  bool finished[3] = {false, false, false};
  for (int i = 0; i < 3; ++i) {
    boost::asio::co_spawn(
        io,
        [&, i]() -> boost::asio::awaitable<void> {
          auto job = [&, i] {
            open.wait();  // the first job holds the only thread; the second waits in the queue
            ran.fetch_add(1);
            return i;
          };
          results[i] = co_await pool.try_run(std::move(job));
          finished[i] = true;
        },
        boost::asio::detached);
  }
  // The three coroutines run to their first suspension: two admitted, the third refused without waiting.
  io.poll();
  EXPECT_TRUE(finished[2]);
  EXPECT_FALSE(results[2].has_value());
  EXPECT_FALSE(finished[0]);
  EXPECT_FALSE(finished[1]);
  EXPECT_EQ(pool.in_flight(), 2u);

  gate.set_value();
  io.run();
  ASSERT_TRUE(results[0].has_value());
  ASSERT_TRUE(results[1].has_value());
  EXPECT_EQ(*results[0], 0);
  EXPECT_EQ(*results[1], 1);
  EXPECT_EQ(ran.load(), 2);
  EXPECT_EQ(pool.in_flight(), 0u);

  // Room again.
  io.restart();
  std::optional<int> later;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto job = [] { return 7; };
        later = co_await pool.try_run(std::move(job));
      },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(later.has_value());
  EXPECT_EQ(*later, 7);
}

TEST(BoundedPool, AThrowingJobGivesItsSlotBack) {
  boost::asio::io_context io;
  BoundedPool pool({.threads = 1, .max_in_flight = 1, .nice = 0});
  bool threw = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        try {
          auto job = []() -> int { throw std::runtime_error("boom"); };
          co_await pool.try_run(std::move(job));
        } catch (const std::runtime_error&) {
          threw = true;
        }
      },
      boost::asio::detached);
  io.run();
  EXPECT_TRUE(threw);
  EXPECT_EQ(pool.in_flight(), 0u);
}

TEST(BoundedPool, ThreadsRunAtTheAddedNiceness) {
  const int base = thread_nice();
  boost::asio::io_context io;
  BoundedPool pool({.threads = 1, .max_in_flight = 1, .nice = 5});
  std::optional<int> seen;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        auto job = [] { return thread_nice(); };
        seen = co_await pool.try_run(std::move(job));
      },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(*seen, std::min(base + 5, 19));  // the kernel caps niceness at 19
  EXPECT_EQ(thread_nice(), base);            // the caller's thread is untouched
}

}  // namespace
}  // namespace webstream::runtime
