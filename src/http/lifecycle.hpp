#pragma once
// Lifecycle: graceful stop for long-lived connections. Each connection (or WebSocket relay) registers a
// stop callback bound to its own executor; begin_stop() posts every callback there, so the callback runs
// on the connection's thread and needs no lock against it. Idle keep-alive connections close at once,
// in-flight requests finish, WebSocket relays close with 1001.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

namespace webstream::http {

class Lifecycle {
 public:
  class Registration {
   public:
    Registration() = default;
    Registration(Lifecycle* owner, std::uint64_t id) : owner_(owner), id_(id) {}
    Registration(Registration&& o) noexcept : owner_(o.owner_), id_(o.id_) { o.owner_ = nullptr; }
    Registration& operator=(Registration&& o) noexcept {
      reset();
      owner_ = o.owner_;
      id_ = o.id_;
      o.owner_ = nullptr;
      return *this;
    }
    ~Registration() { reset(); }
    void reset() {
      if (owner_) owner_->remove(id_);
      owner_ = nullptr;
    }

   private:
    Lifecycle* owner_ = nullptr;
    std::uint64_t id_ = 0;
  };

  // Registers `on_stop` to run on `executor` when the gateway stops. If stopping already began it is
  // posted at once.
  Registration add(boost::asio::any_io_executor executor, std::function<void()> on_stop) {
    std::lock_guard lock(mutex_);
    const auto id = ++next_id_;
    if (stopping_.load(std::memory_order_relaxed)) {
      boost::asio::post(executor, std::move(on_stop));
    } else {
      entries_.emplace(id, Entry{std::move(executor), std::move(on_stop)});
    }
    return Registration(this, id);
  }

  void begin_stop() {
    std::lock_guard lock(mutex_);
    stopping_.store(true, std::memory_order_relaxed);
    for (auto& [id, e] : entries_) boost::asio::post(e.executor, e.on_stop);
  }

  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  std::size_t active() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    boost::asio::any_io_executor executor;
    std::function<void()> on_stop;
  };
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    entries_.erase(id);
  }

  mutable std::mutex mutex_;
  std::atomic<bool> stopping_{false};
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, Entry> entries_;
};

}  // namespace webstream::http
