#include "licence/seat_registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/ids.hpp"
#include "core/testing/fake_clock.hpp"
#include "licence/licence_test_support.hpp"
#include "store/sqlite/sqlite_licence_store.hpp"

namespace webstream::licence {
namespace {

using namespace webstream::licence::testing;
using webstream::testing::FakeClock;

std::string guid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

// One gateway's view: a connection to the store file and a registry on it.
struct Gateway {
  std::unique_ptr<store::SqliteDb> db;
  std::unique_ptr<store::SqliteLicenceStore> store;
  std::unique_ptr<SeatRegistry> seats;

  Gateway(const std::string& db_path, const Clock& clock, SeatOptions options, const KeyRing& ring) {
    auto opened = store::SqliteDb::open(db_path);
    EXPECT_TRUE(opened.ok());
    db = std::move(opened.value());
    auto s = store::SqliteLicenceStore::open(*db);
    EXPECT_TRUE(s.ok());
    store = std::move(s.value());
    auto r = SeatRegistry::open(*store, clock, std::move(options), ring);
    EXPECT_TRUE(r.ok());
    seats = std::move(r.value());
  }
};

class SeatRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<Gateway> gateway(SeatOptions options = {}) {
    return std::make_unique<Gateway>(dir.file("webstream.db"), clock, std::move(options), keys.ring);
  }
  SeatOptions with_licence(std::int64_t max, Millis not_before = kNotBefore, Millis expires_at = kExpiresAt) {
    SeatOptions o;
    o.licence_file = dir.write("licence.json", signed_text(keys.key, licence_fields(max, not_before, expires_at)));
    return o;
  }

  TempDir dir;
  TestKeys keys;
  FakeClock clock;
};

TEST_F(SeatRegistryTest, EvaluationLicenceFillsFiveSeatsThenRefusesWith409) {
  auto gw = gateway();  // no licence file: evaluation, 5 seats
  for (int i = 0; i < 5; ++i) {
    auto r = gw->seats->checkin(guid(i));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->active, i + 1);
    EXPECT_EQ(r->max, 5);
  }
  auto full = gw->seats->checkin(guid(5));
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().status, 409);
  EXPECT_EQ(full.error().code, "capacity_reached");
  // An active streamer refreshes: answered from memory, still 200.
  auto fast = gw->seats->try_checkin_in_memory(guid(2));
  ASSERT_TRUE(fast.has_value());
  ASSERT_TRUE(fast->ok());
  EXPECT_EQ(fast->value().active, 5);
  EXPECT_EQ(fast->value().max, 5);
  EXPECT_TRUE(gw->seats->checkin(guid(4)).ok());
  // A newcomer is not answered from memory.
  EXPECT_FALSE(gw->seats->try_checkin_in_memory(guid(9)).has_value());
}

TEST_F(SeatRegistryTest, CheckoutFreesASeatAndIsIdempotent) {
  auto gw = gateway();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(gw->seats->checkin(guid(i)).ok());
  ASSERT_FALSE(gw->seats->checkin(guid(5)).ok());
  EXPECT_EQ(gw->seats->checkout(guid(0)).value(), 4);
  EXPECT_EQ(gw->seats->checkout(guid(0)).value(), 4);
  EXPECT_EQ(gw->seats->checkout(guid(77)).value(), 4);
  auto r = gw->seats->checkin(guid(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->active, 5);
  // The streamer that left is a newcomer again, and the house is full.
  EXPECT_EQ(gw->seats->checkin(guid(0)).error().code, "capacity_reached");
}

TEST_F(SeatRegistryTest, SilentStreamerIsDroppedAfterTheTimeout) {
  auto gw = gateway();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(gw->seats->checkin(guid(i)).ok());
  // Streamers 1..4 keep checking in every 15 s; streamer 0 goes silent.
  for (int round = 0; round < 3; ++round) {
    clock.advance_s(15);
    for (int i = 1; i < 5; ++i) ASSERT_TRUE(gw->seats->checkin(guid(i)).ok());
    ASSERT_TRUE(gw->seats->expire_silent().ok());
  }
  // 45 s after its last check-in, streamer 0's seat is gone.
  EXPECT_EQ(gw->seats->active_count(), 4);
  EXPECT_EQ(gw->seats->seats_in_memory(), 4u);
  auto r = gw->seats->checkin(guid(5));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->active, 5);
}

TEST_F(SeatRegistryTest, SilentSeatNoLongerRefreshesEvenBeforeTheSweep) {
  auto gw = gateway();
  ASSERT_TRUE(gw->seats->checkin(guid(0)).ok());
  clock.advance_s(44.999);
  EXPECT_TRUE(gw->seats->try_checkin_in_memory(guid(0)).has_value());  // refreshed just in time
  clock.advance_s(45);
  // Silent for 45 s: it must take a seat again (a store transaction), which succeeds here.
  EXPECT_FALSE(gw->seats->try_checkin_in_memory(guid(0)).has_value());
  auto r = gw->seats->checkin(guid(0));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->active, 1);
}

TEST_F(SeatRegistryTest, ConfigurableTimeout) {
  SeatOptions o;
  o.streamer_timeout_ms = 5'000;
  auto gw = gateway(o);
  ASSERT_TRUE(gw->seats->checkin(guid(0)).ok());
  clock.advance_s(4);
  ASSERT_TRUE(gw->seats->expire_silent().ok());
  EXPECT_EQ(gw->seats->active_count(), 1);
  clock.advance_s(1.5);
  auto sweep = gw->seats->expire_silent();
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->expired, 1);
  EXPECT_EQ(gw->seats->active_count(), 0);
}

TEST_F(SeatRegistryTest, SeatsSurviveARestartWithRefreshTimesFlushed) {
  {
    auto gw = gateway();
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(gw->seats->checkin(guid(i)).ok());
    clock.advance_s(30);
    for (int i = 0; i < 5; ++i) ASSERT_TRUE(gw->seats->checkin(guid(i)).ok());  // memory-only refreshes
    ASSERT_TRUE(gw->seats->expire_silent().ok());                               // … written in a batch
  }
  clock.advance_s(20);  // 50 s after the first check-in, 20 s after the refresh
  auto gw = gateway();
  EXPECT_EQ(gw->seats->active_count(), 5);
  EXPECT_EQ(gw->seats->checkin(guid(9)).error().code, "capacity_reached");
  auto r = gw->seats->try_checkin_in_memory(guid(3));  // restored seats refresh from memory
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(r->ok());
}

TEST_F(SeatRegistryTest, UnflushedRefreshesAreNotInTheStore) {
  // The other side of the previous test: without a flush the store has only the first check-in.
  {
    auto gw = gateway();
    ASSERT_TRUE(gw->seats->checkin(guid(0)).ok());
    clock.advance_s(30);
    ASSERT_TRUE(gw->seats->checkin(guid(0)).ok());
  }
  clock.advance_s(20);
  EXPECT_EQ(gateway()->seats->active_count(), 0);
}

TEST_F(SeatRegistryTest, InvalidLicenceRefusesEveryCheckinWith403) {
  SeatOptions o;
  o.licence_file = dir.write("licence.json", "{\"tampered\":true}");
  auto gw = gateway(o);
  auto r = gw->seats->checkin(guid(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 403);
  EXPECT_EQ(r.error().code, "license_invalid");
  EXPECT_EQ(gw->seats->max_streamers(), 0);
}

TEST_F(SeatRegistryTest, ExpiredAndNotYetValidLicences) {
  auto gw = gateway(with_licence(3));
  ASSERT_TRUE(gw->seats->checkin(guid(0)).ok());
  EXPECT_EQ(gw->seats->max_streamers(), 3);
  metrics::Gauge& max_gauge = metrics::Registry::global().gauge("webstream_max_streamers", "");
  EXPECT_EQ(max_gauge.value(), 3);
  // The licence runs out while the gateway runs: even a refresh is refused, and the next sweep shows it.
  clock.set_ms(kExpiresAt);
  ASSERT_TRUE(gw->seats->expire_silent().ok());
  EXPECT_EQ(max_gauge.value(), 0);
  auto r = gw->seats->checkin(guid(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 403);
  EXPECT_EQ(r.error().code, "license_expired");
  clock.set_ms(kNotBefore - 1000);
  EXPECT_EQ(gw->seats->checkin(guid(1)).error().code, "license_invalid");
}

TEST_F(SeatRegistryTest, ReloadSwapsTheLicenceAndKeepsSeats) {
  auto gw = gateway(with_licence(2));
  ASSERT_TRUE(gw->seats->checkin(guid(0)).ok());
  ASSERT_TRUE(gw->seats->checkin(guid(1)).ok());
  EXPECT_EQ(gw->seats->checkin(guid(2)).error().code, "capacity_reached");
  with_licence(3);  // rewrites licence.json
  LicenceCheck c = gw->seats->reload_licence();
  EXPECT_EQ(c.state, LicenceState::kValid);
  auto r = gw->seats->checkin(guid(2));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->max, 3);
  // Tampered on reload: 403 for everyone, seats stay in the store.
  dir.write("licence.json", "garbage");
  gw->seats->reload_licence();
  EXPECT_EQ(gw->seats->checkin(guid(0)).error().code, "license_invalid");
  gw->seats->reload_licence(dir.file("absent.json"));  // a new path that does not exist: evaluation
  auto back = gw->seats->checkin(guid(0));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->max, 5);
  EXPECT_EQ(back->active, 3);
}

TEST_F(SeatRegistryTest, CanonicalGuids) {
  EXPECT_EQ(canonical_guid("{ABCDEF01-2345-6789-ABCD-EF0123456789}"), "abcdef01-2345-6789-abcd-ef0123456789");
  EXPECT_EQ(canonical_guid("abcdef01-2345-6789-abcd-ef0123456789"), "abcdef01-2345-6789-abcd-ef0123456789");
  EXPECT_FALSE(canonical_guid("abcdef01234567890abcdef0123456789").has_value());
  EXPECT_FALSE(canonical_guid("not-a-guid").has_value());
  EXPECT_FALSE(canonical_guid("").has_value());
}

TEST_F(SeatRegistryTest, TwoHundredThreadsOnTwoGatewaysNeverExceedFiftySeats) {
  // Two gateways, each with its own connection to one store file, as two processes would be.
  SeatOptions o = with_licence(50);
  auto a = gateway(o);
  auto b = gateway(o);
  std::atomic<int> granted{0}, refused{0}, failed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      SeatRegistry& seats = *(i % 2 ? a : b)->seats;
      auto r = seats.checkin(guid(1000 + i));
      if (r.ok()) {
        granted.fetch_add(1);
        EXPECT_LE(r->active, 50);
      } else if (r.error().code == "capacity_reached") {
        refused.fetch_add(1);
      } else {
        failed.fetch_add(1);
        ADD_FAILURE() << r.error().message;
      }
    });
  }
  go.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 50);
  EXPECT_EQ(refused.load(), 150);
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(a->store->active_seats(0)->size(), 50u);
}

TEST_F(SeatRegistryTest, ConcurrentCheckinsOfOneNewStreamerTakeOneSeat) {
  auto gw = gateway(with_licence(50));
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      if (gw->seats->checkin(guid(42)).ok()) ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(gw->seats->active_count(), 1);
}

TEST_F(SeatRegistryTest, SeatExpiredByAnotherGatewayIsRetakenOnFlushWhenThereIsRoom) {
  SeatOptions o = with_licence(2);
  auto a = gateway(o);
  auto b = gateway(o);
  ASSERT_TRUE(a->seats->checkin(guid(0)).ok());
  clock.advance_s(40);
  ASSERT_TRUE(a->seats->checkin(guid(0)).ok());  // refreshed in a's memory only
  clock.advance_s(10);
  ASSERT_TRUE(b->seats->expire_silent().ok());  // b sees a stale row (50 s) and deletes it
  auto sweep = a->seats->expire_silent();       // a writes its refresh: the row is gone, so a retakes it
  ASSERT_TRUE(sweep.ok());
  EXPECT_EQ(sweep->lost, 0);
  EXPECT_EQ(sweep->active, 1);
  EXPECT_TRUE(a->seats->try_checkin_in_memory(guid(0)).has_value());
}

}  // namespace
}  // namespace webstream::licence
