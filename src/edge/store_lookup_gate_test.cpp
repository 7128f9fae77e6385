#include "edge/store_lookup_gate.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "core/testing/fake_clock.hpp"

namespace webstream::edge {
namespace {

TEST(StoreLookupGate, AdmitsAtMostMaxInFlightReadsAndFreesASlotWhenItEnds) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 2, .absent_ttl_ms = 1000, .max_absent = 16}, clock);
  auto a = gate.try_acquire();
  auto b = gate.try_acquire();
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_FALSE(gate.try_acquire());
  EXPECT_EQ(gate.in_flight(), 2u);
  {
    StoreLookupGate::Slot moved = std::move(a);
    EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): the moved-from slot holds nothing
    EXPECT_EQ(gate.in_flight(), 2u);
  }
  EXPECT_EQ(gate.in_flight(), 1u);
  auto c = gate.try_acquire();
  EXPECT_TRUE(c);
  EXPECT_FALSE(gate.try_acquire());
}

TEST(StoreLookupGate, ConcurrentCallersNeverHoldMoreThanTheCap) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 2, .absent_ttl_ms = 1000, .max_absent = 16}, clock);
  std::atomic<int> holding{0};
  std::atomic<int> most{0};
  std::atomic<int> admitted{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto slot = gate.try_acquire();
        if (!slot) continue;
        const int now = holding.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {}
        admitted.fetch_add(1);
        std::this_thread::yield();
        holding.fetch_sub(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_LE(most.load(), 2);
  EXPECT_GT(admitted.load(), 0);
  EXPECT_EQ(gate.in_flight(), 0u);
}

TEST(StoreLookupGate, RemembersAnAbsentSessionForItsTimeToLive) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 2, .absent_ttl_ms = 1000, .max_absent = 16}, clock);
  EXPECT_FALSE(gate.known_absent("s-1"));
  gate.record_absent("s-1");
  EXPECT_TRUE(gate.known_absent("s-1"));
  EXPECT_FALSE(gate.known_absent("s-2"));
  clock.advance_ms(999);
  EXPECT_TRUE(gate.known_absent("s-1"));
  clock.advance_ms(1);
  EXPECT_FALSE(gate.known_absent("s-1"));
}

TEST(StoreLookupGate, ARecordedAgainIdLivesUntilItsNewestDeadline) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 2, .absent_ttl_ms = 1000, .max_absent = 16}, clock);
  gate.record_absent("s-1");
  clock.advance_ms(600);
  gate.record_absent("s-1");
  clock.advance_ms(500);  // the first entry expired; recording another id purges it
  gate.record_absent("s-other");
  EXPECT_TRUE(gate.known_absent("s-1"));
  clock.advance_ms(500);
  EXPECT_FALSE(gate.known_absent("s-1"));
}

TEST(StoreLookupGate, ForgetsAnIdThatTurnedOutToExist) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 2, .absent_ttl_ms = 1000, .max_absent = 16}, clock);
  gate.record_absent("s-1");
  gate.forget("s-1");
  EXPECT_FALSE(gate.known_absent("s-1"));
  EXPECT_EQ(gate.absent_size(), 0u);
}

TEST(StoreLookupGate, HoldsAtMostMaxAbsentIdsDroppingTheOldest) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 2, .absent_ttl_ms = 60'000, .max_absent = 100}, clock);
  for (int i = 0; i < 1000; ++i) gate.record_absent("s-" + std::to_string(i));
  EXPECT_LE(gate.absent_size(), 100u);
  EXPECT_FALSE(gate.known_absent("s-0"));
  EXPECT_FALSE(gate.known_absent("s-899"));
  EXPECT_TRUE(gate.known_absent("s-999"));
  EXPECT_TRUE(gate.known_absent("s-901"));
  // The same id recorded over and over does not grow it either.
  for (int i = 0; i < 1000; ++i) gate.record_absent("s-same");
  EXPECT_LE(gate.absent_size(), 100u);
  EXPECT_TRUE(gate.known_absent("s-same"));
}

TEST(StoreLookupGate, ANegativeCacheOfSizeZeroRemembersNothing) {
  testing::FakeClock clock;
  StoreLookupGate gate({.max_in_flight = 1, .absent_ttl_ms = 1000, .max_absent = 0}, clock);
  gate.record_absent("s-1");
  EXPECT_FALSE(gate.known_absent("s-1"));
}

}  // namespace
}  // namespace webstream::edge
