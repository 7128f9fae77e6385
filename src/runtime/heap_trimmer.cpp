#include "runtime/heap_trimmer.hpp"

#include <malloc.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "observability/metrics.hpp"

namespace webstream::runtime {

namespace net = boost::asio;

HeapCheck trim_heap_if_above(std::size_t threshold) {
  HeapCheck check;
  check.free_bytes = mallinfo2().fordblks;
  if (check.free_bytes > threshold) {
    malloc_trim(0);
    check.trimmed = true;
  }
  return check;
}

void HeapTrimmer::start(net::any_io_executor executor) {
  timer_ = std::make_shared<net::steady_timer>(executor);
  auto& registry = metrics::Registry::global();
  auto& free_bytes =
      registry.gauge("webstream_heap_free_bytes", "Free memory inside the allocator's heaps at the last check (bytes)");
  auto& trims = registry.counter("webstream_heap_trims_total",
                                 "Times free heap memory was given back to the kernel (malloc_trim)");
  net::co_spawn(
      executor,
      [this, options = options_, timer = timer_, stopped = stopped_, &free_bytes, &trims]() -> net::awaitable<void> {
        while (!stopped->load()) {
          timer->expires_after(options.interval);
          co_await timer->async_wait(net::as_tuple(net::use_awaitable));
          if (stopped->load()) co_return;
          const HeapCheck check =
              co_await blocking_.run([threshold = options.threshold] { return trim_heap_if_above(threshold); });
          free_bytes.set(static_cast<std::int64_t>(check.free_bytes));
          if (check.trimmed) trims.inc();
        }
      },
      net::detached);
}

void HeapTrimmer::stop() {
  stopped_->store(true);
  if (timer_) net::post(timer_->get_executor(), [timer = timer_] { timer->cancel(); });
}

}  // namespace webstream::runtime
