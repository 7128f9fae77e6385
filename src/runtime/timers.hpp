#pragma once
// Timers: how a coroutine waits a while, behind a seam so that tests drive time with a FakeClock
// (runtime/testing/fake_timers.hpp) instead of sleeping. Production uses SteadyTimers: an asio steady_timer on
// the coroutine's own executor, exactly what the callers did before the seam.
//
// wait_for() honours the calling coroutine's cancellation slot (a cancelled wait returns operation_aborted),
// so it composes with awaitable_operators (`probe || timers.wait_for(timeout)`) and with a loop's stop.
//
// Code that is callback-driven rather than a coroutine (the WebSocket relay's watchdog) takes a CallbackTimer
// from make_timer(): the same seam, with the shape of an asio steady_timer (arm with a delay and a handler;
// re-arming or cancel() ends the pending wait with operation_aborted; the handler is never called inline).
//
// Thread rules: SteadyTimers is stateless, any thread; wait_for() runs on the caller's executor. A CallbackTimer
// is used on its executor only, like the steady_timer it wraps. FakeTimers is single-threaded (see its header).
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <utility>

namespace webstream::runtime {

// A one-shot timer for callback-driven code, re-armed as often as wanted.
class CallbackTimer {
 public:
  using Handler = std::function<void(boost::system::error_code)>;
  virtual ~CallbackTimer() = default;
  // Calls `handler` on the timer's executor once `delay` has passed (no error), or with operation_aborted when
  // cancel() or another wait_after() comes first. Never calls it from inside wait_after() or cancel().
  virtual void wait_after(std::chrono::milliseconds delay, Handler handler) = 0;
  virtual void cancel() = 0;
};

class Timers {
 public:
  virtual ~Timers() = default;
  // Completes after `delay` with no error, or with operation_aborted when the coroutine is cancelled first.
  virtual boost::asio::awaitable<boost::system::error_code> wait_for(std::chrono::milliseconds delay) = 0;
  // A callback timer whose handlers run on `executor`.
  virtual std::unique_ptr<CallbackTimer> make_timer(boost::asio::any_io_executor executor) = 0;
};

// An asio steady_timer behind the CallbackTimer interface.
class SteadyCallbackTimer final : public CallbackTimer {
 public:
  explicit SteadyCallbackTimer(boost::asio::any_io_executor executor) : timer_(std::move(executor)) {}
  void wait_after(std::chrono::milliseconds delay, Handler handler) override {
    timer_.expires_after(delay);  // ends a pending wait with operation_aborted
    timer_.async_wait(std::move(handler));
  }
  void cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
};

class SteadyTimers final : public Timers {
 public:
  boost::asio::awaitable<boost::system::error_code> wait_for(std::chrono::milliseconds delay) override {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(delay);
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    co_return ec;
  }
  std::unique_ptr<CallbackTimer> make_timer(boost::asio::any_io_executor executor) override {
    return std::make_unique<SteadyCallbackTimer>(std::move(executor));
  }
  static SteadyTimers& instance() {
    static SteadyTimers timers;
    return timers;
  }
};

}  // namespace webstream::runtime
