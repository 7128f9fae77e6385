#pragma once
// Clock: the one source of time for anything with a timeout, interval or expiry, so tests can run a
// FakeClock (core/testing/fake_clock.hpp) instead of sleeping. Time is wall-clock milliseconds since the
// Unix epoch because expiries are persisted in the store and must survive a restart.
#include <chrono>
#include <cstdint>

namespace webstream {

using Millis = std::int64_t;  // milliseconds since the Unix epoch, or a duration in ms

class Clock {
 public:
  virtual ~Clock() = default;
  virtual Millis now_ms() const = 0;
  std::int64_t now_s() const { return now_ms() / 1000; }
};

class SystemClock final : public Clock {
 public:
  Millis now_ms() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static SystemClock& instance() {
    static SystemClock clock;
    return clock;
  }
};

}  // namespace webstream
