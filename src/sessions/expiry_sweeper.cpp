#include "sessions/expiry_sweeper.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace webstream::sessions {

namespace net = boost::asio;

void ExpirySweeper::start(net::any_io_executor executor) {
  timer_ = std::make_shared<net::steady_timer>(executor);
  net::co_spawn(
      executor,
      [this, timer = timer_, stopped = stopped_]() -> net::awaitable<void> {
        while (!stopped->load()) {
          timer->expires_after(std::chrono::seconds(1));
          co_await timer->async_wait(net::as_tuple(net::use_awaitable));
          if (stopped->load()) co_return;  // ec alone is a wake(): the pass runs now
          auto work = [this] {
            // A shared store: first take in what the other gateways did (an error keeps the last view).
            if (service_.shared_store()) (void)service_.sync_with_store();
            return service_.expire_due() + service_.end_revoked();
          };
          co_await blocking_.run(std::move(work));
        }
      },
      net::detached);
}

void ExpirySweeper::wake() {
  if (timer_) net::post(timer_->get_executor(), [timer = timer_] { timer->cancel(); });
}

void ExpirySweeper::stop() {
  stopped_->store(true);
  if (timer_) net::post(timer_->get_executor(), [timer = timer_] { timer->cancel(); });
}

}  // namespace webstream::sessions
