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
#include <memory>
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
  // posted at once. It never runs after the Registration is reset or destroyed: the posted task checks
  // that first, on the same executor (a connection that ends while its stop task is queued must not
  // have that task touch its freed frame).
  Registration add(boost::asio::any_io_executor executor, std::function<void()> on_stop) {
    std::lock_guard lock(mutex_);
    const auto id = ++next_id_;
    auto state = std::make_shared<State>(std::move(on_stop));
    if (stopping_.load(std::memory_order_relaxed)) post_guarded(executor, state);
    entries_.emplace(id, Entry{std::move(executor), std::move(state)});
    return Registration(this, id);
  }

  void begin_stop() {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true, std::memory_order_relaxed)) return;
    for (auto& [id, e] : entries_) post_guarded(e.executor, e.state);
  }

  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  std::size_t active() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
  }

 private:
  struct State {
    explicit State(std::function<void()> f) : on_stop(std::move(f)) {}
    std::atomic<bool> registered{true};  // cleared by Registration::reset()
    std::function<void()> on_stop;
  };
  struct Entry {
    boost::asio::any_io_executor executor;
    std::shared_ptr<State> state;
  };
  static void post_guarded(const boost::asio::any_io_executor& executor, const std::shared_ptr<State>& state) {
    boost::asio::post(executor, [state] {
      if (state->registered.load(std::memory_order_acquire)) state->on_stop();
    });
  }
  void remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    it->second.state->registered.store(false, std::memory_order_release);
    entries_.erase(it);
  }

  mutable std::mutex mutex_;
  std::atomic<bool> stopping_{false};
  std::uint64_t next_id_ = 0;
  std::map<std::uint64_t, Entry> entries_;
};

}  // namespace webstream::http
