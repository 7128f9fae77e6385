#include "runtime/timers.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <optional>

#include "runtime/testing/fake_timers.hpp"

namespace webstream::runtime {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// Starts a wait of `delay` on `io` and records its result (and the fake time it ended) when it ends.
struct Wait {
  std::optional<boost::system::error_code> result;
  Millis ended_at = 0;
};

void start(net::io_context& io, Timers& timers, const Clock& clock, std::chrono::milliseconds delay, Wait& out,
           net::cancellation_slot slot = {}) {
  auto body = [](Timers& t, const Clock& c, std::chrono::milliseconds d, Wait& w) -> net::awaitable<void> {
    w.result = co_await t.wait_for(d);
    w.ended_at = c.now_ms();
  };
  net::co_spawn(io, body(timers, clock, delay, out), net::bind_cancellation_slot(slot, [](std::exception_ptr) {}));
}

TEST(FakeTimersTest, AWaitEndsWhenTheClockReachesItsDeadlineAndNotBefore) {
  webstream::testing::FakeClock clock(1000);
  testing::FakeTimers timers(clock);
  net::io_context io;
  Wait longer, shorter;
  start(io, timers, clock, 100ms, longer);
  start(io, timers, clock, 30ms, shorter);
  timers.run_until(1099, io);
  ASSERT_TRUE(shorter.result.has_value());
  EXPECT_FALSE(*shorter.result);
  EXPECT_EQ(shorter.ended_at, 1030);  // the clock stepped to the deadline, not past it
  EXPECT_FALSE(longer.result.has_value());
  EXPECT_EQ(clock.now_ms(), 1099);
  timers.run_until(1100, io);
  ASSERT_TRUE(longer.result.has_value());
  EXPECT_FALSE(*longer.result);
  EXPECT_EQ(timers.pending(), 0u);
}

TEST(FakeTimersTest, ACancelledWaitEndsAborted) {
  webstream::testing::FakeClock clock(0);
  testing::FakeTimers timers(clock);
  net::io_context io;
  net::cancellation_signal signal;
  Wait w;
  start(io, timers, clock, 50ms, w, signal.slot());
  io.poll();
  EXPECT_EQ(timers.pending(), 1u);
  signal.emit(net::cancellation_type::terminal);
  io.poll();
  ASSERT_TRUE(w.result.has_value());
  EXPECT_EQ(*w.result, net::error::operation_aborted);
  EXPECT_EQ(timers.pending(), 0u);
  EXPECT_EQ(clock.now_ms(), 0);
}

// A callback timer's wait, recorded like a coroutine's.
CallbackTimer::Handler record(const Clock& clock, Wait& out) {
  return [&clock, &out](boost::system::error_code ec) {
    out.result = ec;
    out.ended_at = clock.now_ms();
  };
}

TEST(FakeTimersTest, ACallbackTimerFiresAtItsDeadlineAndReArmingOrCancellingEndsTheWaitAborted) {
  webstream::testing::FakeClock clock(0);
  testing::FakeTimers timers(clock);
  net::io_context io;
  auto timer = timers.make_timer(io.get_executor());
  Wait first, second, third;
  timer->wait_after(100ms, record(clock, first));
  EXPECT_FALSE(first.result.has_value());          // never called from inside wait_after()
  timer->wait_after(40ms, record(clock, second));  // re-armed: the first wait ends aborted, at once
  io.poll();
  ASSERT_TRUE(first.result.has_value());
  EXPECT_EQ(*first.result, net::error::operation_aborted);
  EXPECT_EQ(timers.pending(), 1u);
  timers.run_until(39, io);
  EXPECT_FALSE(second.result.has_value());
  timers.run_until(100, io);
  ASSERT_TRUE(second.result.has_value());
  EXPECT_FALSE(*second.result);
  EXPECT_EQ(second.ended_at, 40);
  timer->wait_after(10ms, record(clock, third));
  timer->cancel();
  EXPECT_FALSE(third.result.has_value());  // never called from inside cancel()
  io.restart();                            // the last poll ran out of work, which stops an io_context
  io.poll();
  ASSERT_TRUE(third.result.has_value());
  EXPECT_EQ(*third.result, net::error::operation_aborted);
  EXPECT_EQ(timers.pending(), 0u);
  EXPECT_EQ(clock.now_ms(), 100);
}

TEST(SteadyTimersTest, ACallbackTimerFires) {
  net::io_context io;
  auto timer = SteadyTimers::instance().make_timer(io.get_executor());
  Wait w;
  timer->wait_after(1ms, record(SystemClock::instance(), w));
  io.run();  // returns once the wait has ended
  ASSERT_TRUE(w.result.has_value());
  EXPECT_FALSE(*w.result);
}

TEST(SteadyTimersTest, AShortWaitEnds) {
  net::io_context io;
  Wait w;
  start(io, SteadyTimers::instance(), SystemClock::instance(), 1ms, w);
  io.run();  // returns once the wait has ended
  ASSERT_TRUE(w.result.has_value());
  EXPECT_FALSE(*w.result);
}

}  // namespace
}  // namespace webstream::runtime
