// Lifecycle: stop callbacks run on their executor, once, and never after their registration is gone.
#include "http/lifecycle.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

namespace webstream::http {
namespace {

TEST(Lifecycle, BeginStopRunsEachCallbackOnItsExecutorOnce) {
  boost::asio::io_context io;
  Lifecycle lifecycle;
  int calls = 0;
  auto registration = lifecycle.add(io.get_executor(), [&calls] { ++calls; });
  lifecycle.begin_stop();
  lifecycle.begin_stop();  // a second stop posts nothing again
  EXPECT_EQ(calls, 0);     // posted, not run inline
  io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(lifecycle.stopping());
}

// The race ASan found: a connection ends (its registration goes) while its stop task is already queued.
TEST(Lifecycle, AQueuedCallbackDoesNotRunAfterItsRegistrationIsReset) {
  boost::asio::io_context io;
  Lifecycle lifecycle;
  int calls = 0;
  auto registration = lifecycle.add(io.get_executor(), [&calls] { ++calls; });
  lifecycle.begin_stop();
  registration.reset();
  io.run();
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(lifecycle.active(), 0u);
}

TEST(Lifecycle, AddingDuringAStopPostsAtOnceUnlessResetFirst) {
  boost::asio::io_context io;
  Lifecycle lifecycle;
  lifecycle.begin_stop();
  int kept = 0;
  int dropped = 0;
  auto a = lifecycle.add(io.get_executor(), [&kept] { ++kept; });
  {
    auto b = lifecycle.add(io.get_executor(), [&dropped] { ++dropped; });
  }  // b destroyed before the io_context runs
  io.run();
  EXPECT_EQ(kept, 1);
  EXPECT_EQ(dropped, 0);
}

}  // namespace
}  // namespace webstream::http
