#pragma once
// Workers: one io_context per thread (docs/dev/design.md: "One process, N worker threads"). Connections are handed
// to workers round-robin at accept; everything a connection does then runs on its worker's thread, so
// per-connection state needs no locks.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

namespace webstream::runtime {

class Workers {
 public:
  // `threads` 0: one per core. `on_thread_start` runs first on every worker thread (e.g. priority).
  explicit Workers(std::size_t threads, std::function<void()> on_thread_start = {});
  ~Workers();
  Workers(const Workers&) = delete;
  Workers& operator=(const Workers&) = delete;

  void start();
  // Lets the contexts run out of work, then joins (call after everything has been told to stop).
  void stop_and_join(std::chrono::milliseconds grace);
  boost::asio::io_context& next();
  boost::asio::io_context& at(std::size_t i) { return *contexts_[i]; }
  std::size_t size() const { return contexts_.size(); }

 private:
  using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<Guard> guards_;
  std::vector<std::thread> threads_;
  std::function<void()> on_thread_start_;
  std::atomic<std::size_t> next_{0};
};

}  // namespace webstream::runtime
