// The licence seat store on every backend; the concurrency test is what several gateways on one
// PostgreSQL are (separate connections claiming at once).
#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>

#include "store/testing/store_fixture.hpp"

namespace webstream::store {
namespace {

class LicenceStoreTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    auto s = provider().licence();
    ASSERT_TRUE(s.ok()) << s.error().message;
    store = std::move(s.value());
  }
  std::unique_ptr<LicenceStore> store;
};
WEBSTREAM_STORE_BACKENDS(LicenceStoreTest);

TEST_P(LicenceStoreTest, ClaimsUpToMaxThenRefuses) {
  for (int i = 0; i < 3; ++i) {
    auto c = store->claim_seat("g" + std::to_string(i), 1000, 0, 3);
    ASSERT_TRUE(c.ok());
    EXPECT_TRUE(c->granted);
    EXPECT_FALSE(c->existing);
    EXPECT_EQ(c->active, i + 1);
  }
  auto full = store->claim_seat("g3", 1000, 0, 3);
  ASSERT_TRUE(full.ok());
  EXPECT_FALSE(full->granted);
  EXPECT_EQ(full->active, 3);
  auto again = store->claim_seat("g1", 2000, 0, 3);  // a holder is never refused
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->granted);
  EXPECT_TRUE(again->existing);
}

TEST_P(LicenceStoreTest, StaleRowsDoNotCountAndAreReplaced) {
  ASSERT_TRUE(store->claim_seat("old", 1000, 0, 1)->granted);
  // At stale_before 5000 the old seat is silent: a newcomer may take the only seat.
  auto c = store->claim_seat("new", 6000, 5000, 1);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->granted);
  // The old streamer comes back: it is a newcomer now, and the house is full.
  auto back = store->claim_seat("old", 6001, 5000, 1);
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->granted);
}

TEST_P(LicenceStoreTest, ReleaseIsIdempotent) {
  ASSERT_TRUE(store->claim_seat("a", 1000, 0, 5)->granted);
  ASSERT_TRUE(store->claim_seat("b", 1000, 0, 5)->granted);
  EXPECT_EQ(store->release_seat("a", 0).value(), 1);
  EXPECT_EQ(store->release_seat("a", 0).value(), 1);
  EXPECT_EQ(store->release_seat("never", 0).value(), 1);
}

TEST_P(LicenceStoreTest, FlushWritesTouchesExpiresSilentRowsAndRetakesLostOnesWhenThereIsRoom) {
  ASSERT_TRUE(store->claim_seat("a", 1000, 0, 3)->granted);
  ASSERT_TRUE(store->claim_seat("b", 1000, 0, 3)->granted);
  // a refreshed at 9000, b silent; "gone" was ours but its row vanished; stale_before 5000.
  auto f = store->flush_and_expire({{"a", 9000}, {"gone", 9000}}, 5000, 3);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->expired, 1);      // b
  EXPECT_TRUE(f->lost.empty());  // gone was retaken: room for it
  EXPECT_EQ(f->active, 2);
  auto seats = store->active_seats(5000);
  ASSERT_TRUE(seats.ok());
  ASSERT_EQ(seats->size(), 2u);
  for (const auto& s : *seats) EXPECT_EQ(s.last_seen, 9000);
  // Full house: a vanished seat is not retaken.
  ASSERT_TRUE(store->claim_seat("c", 9000, 5000, 3)->granted);
  ASSERT_TRUE(store->release_seat("a", 5000).ok());
  ASSERT_TRUE(store->claim_seat("d", 9000, 5000, 3)->granted);
  auto full = store->flush_and_expire({{"a", 9500}}, 5000, 3);
  ASSERT_TRUE(full.ok());
  ASSERT_EQ(full->lost.size(), 1u);
  EXPECT_EQ(full->lost[0], "a");
  EXPECT_EQ(full->active, 3);
}

TEST_P(LicenceStoreTest, TouchesNeverMoveLastSeenBackwards) {
  ASSERT_TRUE(store->claim_seat("a", 9000, 0, 3)->granted);
  ASSERT_TRUE(store->flush_and_expire({{"a", 8000}}, 0, 3).ok());
  EXPECT_EQ(store->active_seats(0)->at(0).last_seen, 9000);
}

TEST_P(LicenceStoreTest, CountStaysEqualToTheActiveRowsThroughAnyMix) {
  // The count each write reports equals the active rows after every kind of write.
  std::mt19937 rng(7);
  Millis now = 100'000;
  const Millis timeout = 45'000;
  for (int step = 0; step < 400; ++step) {
    now += static_cast<Millis>(rng() % 3000);
    const Millis stale_before = now - timeout + 1;
    const std::string g = "g" + std::to_string(rng() % 60);
    std::int64_t reported = 0;
    switch (rng() % 3) {
      case 0: {
        auto c = store->claim_seats({g, "g" + std::to_string(rng() % 60)}, now, stale_before, 25);
        ASSERT_TRUE(c.ok());
        reported = c->back().active;
        break;
      }
      case 1: reported = store->release_seat(g, stale_before).value(); break;
      default: {
        auto f = store->flush_and_expire({{g, now}}, stale_before, 25);
        ASSERT_TRUE(f.ok());
        reported = f->active;
      }
    }
    auto rows = store->active_seats(stale_before);
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(reported, static_cast<std::int64_t>(rows->size())) << "step " << step;
    ASSERT_LE(reported, 25);
  }
}

TEST_P(LicenceStoreTest, SixteenGatewaysClaimingAtOnceNeverSellMoreThanTheLicence) {
  constexpr int kGateways = 16;
  constexpr int kClaimsEach = 12;
  constexpr std::int64_t kMax = 40;
  const Millis now = clock.now_ms();
  for (int round = 0; round < 3; ++round) {
    std::vector<std::unique_ptr<StoreProvider>> gateways;
    for (int g = 0; g < kGateways; ++g) {
      auto p = open_another(1);
      ASSERT_TRUE(p.ok()) << p.error().message;
      gateways.push_back(std::move(p.value()));
    }
    std::atomic<int> granted{0};
    std::atomic<int> errors{0};
    std::atomic<std::int64_t> max_seen{0};
    std::vector<std::thread> threads;
    for (int g = 0; g < kGateways; ++g) {
      threads.emplace_back([&, g] {
        auto seats = gateways[g]->licence().value();
        for (int i = 0; i < kClaimsEach; ++i) {
          const std::string guid = "r" + std::to_string(round) + "-g" + std::to_string(g) + "-" + std::to_string(i);
          auto c = seats->claim_seat(guid, now, now - 45'000, kMax);
          if (!c) {
            ++errors;
            continue;
          }
          if (c->granted) ++granted;
          std::int64_t seen = max_seen.load();
          while (c->active > seen && !max_seen.compare_exchange_weak(seen, c->active)) {}
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(errors.load(), 0);
    EXPECT_EQ(granted.load(), kMax) << "round " << round;  // 192 asked for 40 seats: exactly 40 sold
    EXPECT_LE(max_seen.load(), kMax);
    auto active = store->active_seats(now - 45'000);
    ASSERT_TRUE(active.ok());
    const std::vector<SeatRecord> seats = active.value();
    EXPECT_EQ(static_cast<std::int64_t>(seats.size()), kMax);
    for (const auto& seat : seats) ASSERT_TRUE(store->release_seat(seat.guid, 0).ok());
  }
}

}  // namespace
}  // namespace webstream::store
