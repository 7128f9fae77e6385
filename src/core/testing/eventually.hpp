#pragma once
// eventually(): waits for a condition that another thread (a server, an io_context runner, the kernel) makes
// true, up to a deadline — instead of a test sleeping a fixed time and hoping. Returns as soon as the
// condition holds, so a passing test waits no longer than it must, and a slow machine only fails it after
// `within` (default 5 s), with the condition still false.
//
//   EXPECT_TRUE(webstream::testing::eventually([&] { return server.active_connections() == 4; }));
//
// For code driven by time, prefer a FakeClock (and runtime/testing/fake_timers.hpp) over waiting.
#include <chrono>
#include <thread>

namespace webstream::testing {

template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds within = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return condition();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));  // re-check soon without spinning a core
  }
  return true;
}

}  // namespace webstream::testing
