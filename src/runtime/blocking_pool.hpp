#pragma once
// BlockingPool: a few threads for work that must never run on an I/O thread (argon2id hashing, SQLite
// writes that fsync). run(fn) is awaited from a coroutine and resumes on the caller's executor.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <type_traits>

namespace webstream::runtime {

class BlockingPool {
 public:
  explicit BlockingPool(std::size_t threads) : pool_(threads) {}
  ~BlockingPool() { stop(); }
  void stop() {
    pool_.stop();
    pool_.join();
  }

  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F>> run(F fn) {
    using R = std::invoke_result_t<F>;
    co_return co_await boost::asio::co_spawn(
        pool_.get_executor(), [fn = std::move(fn)]() mutable -> boost::asio::awaitable<R> { co_return fn(); },
        boost::asio::use_awaitable);
  }

  boost::asio::thread_pool::executor_type executor() { return pool_.get_executor(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace webstream::runtime
