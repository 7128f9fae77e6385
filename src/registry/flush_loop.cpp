#include "registry/flush_loop.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "observability/log.hpp"

namespace webstream::registry {

namespace net = boost::asio;

struct FlushLoop::Core {
  Core(net::any_io_executor ex, runtime::BlockingPool& b, Registry& r, std::chrono::milliseconds p, bool sync)
      : strand(net::make_strand(ex)), timer(strand), blocking(b), registry(r), period(p), sync(sync) {}

  net::strand<net::any_io_executor> strand;
  net::steady_timer timer;  // on the strand
  runtime::BlockingPool& blocking;
  Registry& registry;
  const std::chrono::milliseconds period;
  const bool sync;
  bool running = false;   // on the strand
  bool stopping = false;  // on the strand

  static net::awaitable<void> run(std::shared_ptr<Core> self) {
    while (!self->stopping) {
      self->timer.expires_after(self->period);
      co_await self->timer.async_wait(net::as_tuple(net::use_awaitable));
      if (self->stopping) break;
      Registry& registry = self->registry;
      // Errors are logged by flush(), and the rows stay dirty for the next round.
      auto work = [&registry] { return registry.flush(); };  // a named local: see docs/dev/CONTRIBUTING.md
      [[maybe_unused]] Status s = co_await self->blocking.run(std::move(work));
      if (self->sync) {
        auto read = [&registry] { return registry.sync_from_store(); };
        Status synced = co_await self->blocking.run(std::move(read));
        if (!synced) log::warn("backend registry sync failed; will retry", {{"error", synced.error().message}});
      }
    }
  }
};

FlushLoop::FlushLoop(net::any_io_executor executor, runtime::BlockingPool& blocking, Registry& registry,
                     std::chrono::milliseconds period, bool sync_from_store)
    : core_(std::make_shared<Core>(std::move(executor), blocking, registry, period, sync_from_store)) {}

FlushLoop::~FlushLoop() { stop(); }

void FlushLoop::start() {
  net::post(core_->strand, [core = core_] {
    if (core->running || core->stopping) return;
    core->running = true;
    net::co_spawn(core->strand, Core::run(core), net::detached);
  });
}

void FlushLoop::wake() {
  net::post(core_->strand, [core = core_] { core->timer.cancel(); });
}

void FlushLoop::stop() {
  net::post(core_->strand, [core = core_] {
    core->stopping = true;
    core->timer.cancel();
  });
}

}  // namespace webstream::registry
