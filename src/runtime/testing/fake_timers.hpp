#pragma once
// FakeTimers: runtime::Timers whose waits end only when a test moves a FakeClock past their deadline, so a
// test of timer-driven code (the registry's health prober) is deterministic and takes no wall-clock time.
//
//   webstream::testing::FakeClock clock;
//   webstream::runtime::testing::FakeTimers timers(clock);
//   boost::asio::io_context io;       // run by the test thread only, through run_until()
//   ... start the code under test with `timers` ...
//   timers.run_until(clock.now_ms() + 400, io);  // fires every wait due by then, in deadline order
//
// run_until() steps the clock from one deadline to the next and polls `io` after each, so a loop that
// re-arms with a shorter delay inside the window runs as often as it would in real time. Callback timers
// (make_timer(), e.g. the relay's watchdog) are waits of the same kind: they fire in the same order.
//
// Thread rules: single-threaded — the io_context must be run only by the thread that calls run_until().
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <vector>

#include "core/testing/fake_clock.hpp"
#include "runtime/timers.hpp"

namespace webstream::runtime::testing {

class FakeTimers final : public Timers {
 public:
  explicit FakeTimers(webstream::testing::FakeClock& clock) : clock_(clock) {}

  boost::asio::awaitable<boost::system::error_code> wait_for(std::chrono::milliseconds delay) override {
    auto waiter = std::make_shared<Waiter>(co_await boost::asio::this_coro::executor, clock_.now_ms() + delay.count());
    waiters_.push_back(waiter);
    auto [ec] = co_await waiter->wake.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    std::erase(waiters_, waiter);
    co_return waiter->fired ? boost::system::error_code{} : ec;
  }

  // Moves the clock to `target` (epoch ms), firing every wait whose deadline comes by then, earliest first,
  // and polling `io` after each step and at the end.
  void run_until(Millis target, boost::asio::io_context& io) {
    io.poll();
    while (auto next = next_deadline()) {
      if (*next > target) break;
      if (*next > clock_.now_ms()) clock_.set_ms(*next);
      for (auto& w : waiters_) {
        if (!w->fired && w->deadline <= clock_.now_ms()) {
          w->fired = true;
          w->wake.cancel();
        }
      }
      io.poll();
    }
    if (target > clock_.now_ms()) clock_.set_ms(target);
    io.poll();
  }

  std::unique_ptr<CallbackTimer> make_timer(boost::asio::any_io_executor executor) override {
    return std::make_unique<FakeCallbackTimer>(*this, std::move(executor));
  }

  // Waits not yet ended (for tests that check a loop is idle or gone).
  std::size_t pending() const {
    return static_cast<std::size_t>(std::count_if(waiters_.begin(), waiters_.end(), [](auto& w) { return !w->fired; }));
  }

 private:
  struct Waiter {
    Waiter(boost::asio::any_io_executor ex, Millis at) : wake(std::move(ex)), deadline(at) {
      wake.expires_at(boost::asio::steady_timer::time_point::max());
    }
    boost::asio::steady_timer wake;  // never expires: cancelled to wake the waiter
    Millis deadline;
    bool fired = false;
  };

  // Each wait_after() is a Waiter like a coroutine's wait; its handler runs when run_until() fires it or when it
  // is cancelled (re-armed, cancel(), or the timer destroyed), as a steady_timer's would.
  class FakeCallbackTimer final : public CallbackTimer {
   public:
    FakeCallbackTimer(FakeTimers& timers, boost::asio::any_io_executor executor)
        : timers_(timers), executor_(std::move(executor)) {}
    ~FakeCallbackTimer() override { cancel(); }
    void wait_after(std::chrono::milliseconds delay, Handler handler) override {
      cancel();
      auto waiter = std::make_shared<Waiter>(executor_, timers_.clock_.now_ms() + delay.count());
      timers_.waiters_.push_back(waiter);
      pending_ = waiter;
      // The handler owns the Waiter and erases it from the list; it never touches this timer, which may be gone.
      waiter->wake.async_wait([&timers = timers_, waiter, handler = std::move(handler)](boost::system::error_code ec) {
        std::erase(timers.waiters_, waiter);
        handler(waiter->fired ? boost::system::error_code{} : ec);
      });
    }
    void cancel() override {
      if (auto waiter = pending_.lock(); waiter && !waiter->fired) waiter->wake.cancel();
      pending_.reset();
    }

   private:
    FakeTimers& timers_;
    boost::asio::any_io_executor executor_;
    std::weak_ptr<Waiter> pending_;
  };

  std::optional<Millis> next_deadline() const {
    std::optional<Millis> next;
    for (const auto& w : waiters_) {
      if (!w->fired && (!next || w->deadline < *next)) next = w->deadline;
    }
    return next;
  }

  webstream::testing::FakeClock& clock_;
  std::vector<std::shared_ptr<Waiter>> waiters_;
};

}  // namespace webstream::runtime::testing
