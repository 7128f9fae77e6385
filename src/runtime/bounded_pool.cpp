#include "runtime/bounded_pool.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>

namespace webstream::runtime {

BoundedPool::BoundedPool(BoundedPoolOptions options)
    : options_{std::max<std::size_t>(1, options.threads), std::max<std::size_t>(1, options.max_in_flight),
               std::clamp(options.nice, 0, 19)},
      context_(1), guard_(context_.get_executor()) {
  for (std::size_t i = 0; i < options_.threads; ++i) {
    threads_.emplace_back([this] {
      if (options_.nice > 0) {
        // Linux: niceness is per thread (setpriority on the thread id). Raising it needs no privilege; if it
        // fails anyway the thread runs at the process's priority, which is only less polite.
        const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
        const int current = ::getpriority(PRIO_PROCESS, tid);
        ::setpriority(PRIO_PROCESS, tid, std::min(19, current + options_.nice));
      }
      context_.run();
    });
  }
}

BoundedPool::~BoundedPool() { stop(); }

void BoundedPool::stop() {
  guard_.reset();
  context_.stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

bool BoundedPool::admit() {
  std::size_t now = in_flight_.load(std::memory_order_relaxed);
  do {
    if (now >= options_.max_in_flight) return false;
  } while (!in_flight_.compare_exchange_weak(now, now + 1, std::memory_order_acq_rel, std::memory_order_relaxed));
  return true;
}

}  // namespace webstream::runtime
