#include "runtime/workers.hpp"

#include <chrono>

namespace webstream::runtime {

Workers::Workers(std::size_t threads, std::function<void()> on_thread_start)
    : on_thread_start_(std::move(on_thread_start)) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.emplace_back(contexts_.back()->get_executor());
  }
}

Workers::~Workers() {
  for (auto& c : contexts_) c->stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void Workers::start() {
  for (auto& c : contexts_) {
    threads_.emplace_back([this, ctx = c.get()] {
      if (on_thread_start_) on_thread_start_();
      ctx->run();
    });
  }
}

void Workers::stop_and_join(std::chrono::milliseconds grace) {
  guards_.clear();  // contexts return once their remaining work is done
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& c : contexts_) {
    while (!c->stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    c->stop();
  }
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

boost::asio::io_context& Workers::next() {
  return *contexts_[next_.fetch_add(1, std::memory_order_relaxed) % contexts_.size()];
}

}  // namespace webstream::runtime
