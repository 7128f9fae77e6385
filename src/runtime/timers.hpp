#pragma once
// Timers: how a coroutine waits a while, behind a seam so that tests drive time with a FakeClock
// (runtime/testing/fake_timers.hpp) instead of sleeping. Production uses SteadyTimers: an asio steady_timer on
// the coroutine's own executor, exactly what the callers did before the seam.
//
// wait_for() honours the calling coroutine's cancellation slot (a cancelled wait returns operation_aborted),
// so it composes with awaitable_operators (`probe || timers.wait_for(timeout)`) and with a loop's stop.
//
// Thread rules: SteadyTimers is stateless, any thread; wait_for() runs on the caller's executor. FakeTimers is
// single-threaded (see its header).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>

namespace webstream::runtime {

class Timers {
 public:
  virtual ~Timers() = default;
  // Completes after `delay` with no error, or with operation_aborted when the coroutine is cancelled first.
  virtual boost::asio::awaitable<boost::system::error_code> wait_for(std::chrono::milliseconds delay) = 0;
};

class SteadyTimers final : public Timers {
 public:
  boost::asio::awaitable<boost::system::error_code> wait_for(std::chrono::milliseconds delay) override {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(delay);
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return ec;
  }
  static SteadyTimers& instance() {
    static SteadyTimers timers;
    return timers;
  }
};

}  // namespace webstream::runtime
