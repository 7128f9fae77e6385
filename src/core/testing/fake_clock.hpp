#pragma once
// FakeClock: time that only moves when a test says so. Thread-safe reads.
#include <atomic>

#include "core/clock.hpp"

namespace webstream::testing {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(Millis start = 1'700'000'000'000) : now_(start) {}
  Millis now_ms() const override { return now_.load(std::memory_order_relaxed); }
  void advance_ms(Millis ms) { now_.fetch_add(ms, std::memory_order_relaxed); }
  void advance_s(double s) { advance_ms(static_cast<Millis>(s * 1000)); }
  void set_ms(Millis ms) { now_.store(ms, std::memory_order_relaxed); }

 private:
  std::atomic<Millis> now_;
};

}  // namespace webstream::testing
