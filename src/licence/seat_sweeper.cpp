#include "licence/seat_sweeper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace webstream::licence {

namespace net = boost::asio;

void SeatSweeper::start(net::any_io_executor executor) {
  timer_ = std::make_shared<net::steady_timer>(executor);
  const auto interval = std::chrono::milliseconds(seats_.flush_interval_ms());
  net::co_spawn(
      executor,
      // No `this` in the loop: the sweeper may be destroyed while a sweep runs (the registry and the pool
      // outlive it).
      [seats = &seats_, blocking = &blocking_, timer = timer_, stopped = stopped_, interval]() -> net::awaitable<void> {
        while (!stopped->load()) {
          timer->expires_after(interval);
          auto [ec] = co_await timer->async_wait(net::as_tuple(net::use_awaitable));
          if (ec || stopped->load()) co_return;
          auto sweep = [seats] { return seats->expire_silent(); };
          auto outcome = co_await blocking->run(std::move(sweep));
          (void)outcome;  // failures are logged by expire_silent and retried next round
        }
      },
      net::detached);
}

void SeatSweeper::stop() {
  if (stopped_->exchange(true)) return;
  if (timer_) net::post(timer_->get_executor(), [timer = timer_] { timer->cancel(); });
}

}  // namespace webstream::licence
