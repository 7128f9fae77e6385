#pragma once
// BoundedPool: threads of their own for ONE kind of heavy blocking work (argon2id password hashing for
// logins), with an admission limit. try_run(fn) refuses at once (nullopt) when `max_in_flight` jobs are
// already queued or running, so a storm of such work neither grows a queue without bound (each login in
// the queue is a client waiting, each running hash holds 64 MiB) nor delays the gateway's other blocking work,
// which stays on BlockingPool. The caller answers a refusal with 503 + Retry-After.
//
// Priority: the threads may run at a higher nice value than the I/O threads (`nice`, 0..19). On a machine with
// few cores a CPU-bound hash then yields the core sooner to an I/O thread that wakes up, so a login storm
// costs the network threads little latency; when the I/O threads are idle the hashes still get the whole CPU.
//
// Thread rules: try_run() from a coroutine on any executor; it resumes on the caller's executor. in_flight()
// from any thread. stop() (also the destructor) drops queued jobs and joins; call it after the callers are gone.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <thread>
#include <type_traits>
#include <vector>

namespace webstream::runtime {

struct BoundedPoolOptions {
  std::size_t threads = 1;
  std::size_t max_in_flight = 8;  // queued + running; more are refused
  int nice = 0;                   // added niceness of the pool's threads (0: as the process)
};

class BoundedPool {
 public:
  explicit BoundedPool(BoundedPoolOptions options);
  ~BoundedPool();
  BoundedPool(const BoundedPool&) = delete;
  BoundedPool& operator=(const BoundedPool&) = delete;

  void stop();

  // Runs fn() on a pool thread and gives back its result; nullopt, without running it, when the pool is full.
  template <class F>
  boost::asio::awaitable<std::optional<std::invoke_result_t<F>>> try_run(F fn) {
    using R = std::invoke_result_t<F>;
    static_assert(!std::is_void_v<R>, "try_run needs a result");
    if (!admit()) co_return std::nullopt;
    // The slot is given back on the pool thread as soon as fn returns (or throws), so in_flight counts
    // exactly the jobs queued or running. Named local, not a temporary in the co_await (docs/dev/CONTRIBUTING.md).
    auto task = [this, fn = std::move(fn)]() mutable -> boost::asio::awaitable<std::optional<R>> {
      Slot slot(*this);
      co_return std::optional<R>(fn());
    };
    auto out = co_await boost::asio::co_spawn(context_.get_executor(), std::move(task), boost::asio::use_awaitable);
    co_return out;
  }

  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  const BoundedPoolOptions& options() const { return options_; }

 private:
  struct Slot {
    explicit Slot(BoundedPool& p) : pool(p) {}
    ~Slot() { pool.release(); }
    BoundedPool& pool;
  };
  bool admit();
  void release() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }

  const BoundedPoolOptions options_;
  boost::asio::io_context context_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace webstream::runtime
