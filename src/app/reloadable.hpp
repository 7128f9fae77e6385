#pragma once
// Reloadable<T>: a setting that SIGHUP may replace while workers read it. Readers get an immutable
// snapshot (shared_ptr<const T>) and keep it for as long as they use it; the writer swaps in a new one.
#include <memory>
#include <mutex>

namespace webstream::app {

template <class T>
class Reloadable {
 public:
  explicit Reloadable(T initial) : value_(std::make_shared<const T>(std::move(initial))) {}
  std::shared_ptr<const T> get() const {
    std::lock_guard lock(mutex_);
    return value_;
  }
  void set(T next) {
    auto fresh = std::make_shared<const T>(std::move(next));
    std::lock_guard lock(mutex_);
    value_ = std::move(fresh);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

}  // namespace webstream::app
