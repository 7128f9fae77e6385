#include "runtime/blocking_pool.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

#include "core/error.hpp"

namespace webstream::runtime {
namespace {

TEST(BlockingPool, RunsOffTheCallerThreadAndResumesOnIt) {
  boost::asio::io_context io;
  BlockingPool pool(2);
  std::thread::id io_thread, work_thread, resumed_thread;
  Result<int> got = Error::internal("unset");
  bool void_ran = false;
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        io_thread = std::this_thread::get_id();
        got = co_await pool.run([&]() -> Result<int> {
          work_thread = std::this_thread::get_id();
          return 42;
        });
        resumed_thread = std::this_thread::get_id();
        co_await pool.run([&] { void_ran = true; });
      },
      boost::asio::detached);
  io.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got.value(), 42);
  EXPECT_NE(work_thread, io_thread);
  EXPECT_EQ(resumed_thread, io_thread);
  EXPECT_TRUE(void_ran);
}

}  // namespace
}  // namespace webstream::runtime
