#pragma once
// BlockingPool: a few threads for work that must never run on an I/O thread (argon2id hashing, SQLite
// writes that fsync). run(fn) is awaited from a coroutine and resumes on the caller's executor.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
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
    if constexpr (std::is_void_v<R>) {
      // The closure is a named local, never a temporary inside the co_await: GCC 12 destroys such
      // temporaries twice (docs/dev/CONTRIBUTING.md), which frees fn's captures twice.
      auto task = [fn = std::move(fn)]() mutable -> boost::asio::awaitable<void> {
        fn();
        co_return;
      };
      co_await boost::asio::co_spawn(pool_.get_executor(), std::move(task), boost::asio::use_awaitable);
    } else {
      // co_spawn needs a default-constructible result; Result<T> is not, so carry it in an optional.
      auto task = [fn = std::move(fn)]() mutable -> boost::asio::awaitable<std::optional<R>> {
        co_return std::optional<R>(fn());
      };
      auto out = co_await boost::asio::co_spawn(pool_.get_executor(), std::move(task), boost::asio::use_awaitable);
      co_return std::move(*out);
    }
  }

  boost::asio::thread_pool::executor_type executor() { return pool_.get_executor(); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace webstream::runtime
