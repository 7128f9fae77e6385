// Tests of store::SqliteLicenceStore (kept with the licence tests: the licence owns this schema).
#include "store/sqlite/sqlite_licence_store.hpp"

#include <gtest/gtest.h>

#include <random>

namespace webstream::store {
namespace {

class SqliteLicenceStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = SqliteDb::open(":memory:");
    ASSERT_TRUE(opened.ok());
    db = std::move(opened.value());
    auto s = SqliteLicenceStore::open(*db);
    ASSERT_TRUE(s.ok()) << s.error().message;
    store = std::move(s.value());
  }
  std::unique_ptr<SqliteDb> db;
  std::unique_ptr<SqliteLicenceStore> store;
};

TEST_F(SqliteLicenceStoreTest, ClaimsUpToMaxThenRefuses) {
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

TEST_F(SqliteLicenceStoreTest, StaleRowsDoNotCountAndAreReplaced) {
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

TEST_F(SqliteLicenceStoreTest, ReleaseIsIdempotent) {
  ASSERT_TRUE(store->claim_seat("a", 1000, 0, 5)->granted);
  ASSERT_TRUE(store->claim_seat("b", 1000, 0, 5)->granted);
  EXPECT_EQ(store->release_seat("a", 0).value(), 1);
  EXPECT_EQ(store->release_seat("a", 0).value(), 1);
  EXPECT_EQ(store->release_seat("never", 0).value(), 1);
}

TEST_F(SqliteLicenceStoreTest, FlushWritesTouchesExpiresSilentRowsAndRetakesLostOnesWhenThereIsRoom) {
  ASSERT_TRUE(store->claim_seat("a", 1000, 0, 3)->granted);
  ASSERT_TRUE(store->claim_seat("b", 1000, 0, 3)->granted);
  // a refreshed at 9000, b silent; "gone" was ours but its row vanished; stale_before 5000.
  auto f = store->flush_and_expire({{"a", 9000}, {"gone", 9000}}, 5000, 3);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->expired, 1);       // b
  EXPECT_TRUE(f->lost.empty());   // gone was retaken: room for it
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

TEST_F(SqliteLicenceStoreTest, TouchesNeverMoveLastSeenBackwards) {
  ASSERT_TRUE(store->claim_seat("a", 9000, 0, 3)->granted);
  ASSERT_TRUE(store->flush_and_expire({{"a", 8000}}, 0, 3).ok());
  EXPECT_EQ(store->active_seats(0)->at(0).last_seen, 9000);
}

TEST_F(SqliteLicenceStoreTest, CountStaysEqualToTheActiveRowsThroughAnyMix) {
  // The seat count is kept by triggers; compare it with the rows after every kind of write.
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
      case 1:
        reported = store->release_seat(g, stale_before).value();
        break;
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

}  // namespace
}  // namespace webstream::store
