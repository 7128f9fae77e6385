// Login attempts admitted by PostgreSQL for several gateways (LoginFailureStore::claim_attempt): three
// gateways' providers on one real database, many threads at once, never more attempts through than the
// limit leaves; attempts in flight count; a stale one (a gateway killed while hashing) stops counting.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>

#include "core/testing/fake_clock.hpp"
#include "store/postgres/pg_connection.hpp"
#include "store/postgres/pg_stores.hpp"
#include "store/postgres/testing/pg_test_server.hpp"
#include "store/store_provider.hpp"

namespace webstream::store {
namespace {

constexpr Millis kWindow = 15 * 60 * 1000;

class PgLoginAttemptsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::testing::fresh_database();
    ASSERT_TRUE(db.ok()) << db.error().message;
    conninfo_ = *db;
    for (int g = 0; g < 3; ++g) {
      auto p = open_postgres_provider(*db, clock_, 4);
      ASSERT_TRUE(p.ok()) << p.error().message;
      p.value()->startup_complete();
      stores_.push_back(p.value()->login_failures().value());
      providers_.push_back(std::move(p.value()));
    }
  }
  Result<AttemptClaim> claim(int gateway, const std::string& user_key, const std::string& ip_key) {
    const Millis now = clock_.now_ms();
    return stores_[static_cast<std::size_t>(gateway % 3)]->claim_attempt(user_key, ip_key, now - kWindow, 5, 50, now);
  }
  // `n` claims at once over the three gateways; the admitted ones.
  std::vector<AttemptClaim> together(int n, const std::function<std::string(int)>& user_key, const std::string& ip) {
    std::vector<Result<AttemptClaim>> results(static_cast<std::size_t>(n), Error::internal("not run"));
    std::latch start(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        start.arrive_and_wait();
        results[static_cast<std::size_t>(i)] = claim(i, user_key(i), ip);
      });
    }
    for (auto& t : threads) t.join();
    std::vector<AttemptClaim> admitted;
    for (auto& r : results) {
      EXPECT_TRUE(r.ok()) << r.error().message;
      if (r.ok() && r->admitted) admitted.push_back(*r);
    }
    return admitted;
  }

  webstream::testing::FakeClock clock_{1'700'000'000'000};
  std::string conninfo_;
  std::vector<std::unique_ptr<StoreProvider>> providers_;
  std::vector<std::unique_ptr<LoginFailureStore>> stores_;
};

TEST_F(PgLoginAttemptsTest, ConcurrentAttemptsOnOneUsernameNeverPassItsLimit) {
  for (int round = 0; round < 4; ++round) {
    const std::string user = "user-digest-" + std::to_string(round);
    const std::string ip = "ip-digest-" + std::to_string(round);
    auto admitted = together(
        30, [&](int) { return user; }, ip);
    EXPECT_EQ(admitted.size(), 5u) << "round " << round;
    for (std::size_t i = 0; i < admitted.size(); ++i) {
      ASSERT_TRUE(stores_[i % 3]->settle_attempt(admitted[i].id, user, ip, true, clock_.now_ms()));
    }
    auto after = claim(1, user, ip);
    ASSERT_TRUE(after.ok());
    EXPECT_FALSE(after->admitted);
    EXPECT_EQ(after->user_failures.size(), 5u);
    EXPECT_EQ(after->ip_failures.size(), 5u);
  }
}

TEST_F(PgLoginAttemptsTest, ConcurrentAttemptsFromOneAddressNeverPassItsLimit) {
  // Unknown names (no user key): only the address counts, 50.
  auto admitted = together(
      70, [](int) { return std::string(); }, "ip-spray");
  EXPECT_EQ(admitted.size(), 50u);
  for (const auto& a : admitted) ASSERT_TRUE(stores_[0]->settle_attempt(a.id, "", "ip-spray", true, clock_.now_ms()));
  auto after = claim(2, "", "ip-spray");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->admitted);
  EXPECT_EQ(after->ip_failures.size(), 50u);
  EXPECT_TRUE(after->user_failures.empty());
}

TEST_F(PgLoginAttemptsTest, ASuccessOnlyEndsTheAttemptAndAStaleOneStopsCounting) {
  std::vector<AttemptClaim> in_flight;
  for (int i = 0; i < 5; ++i) {
    auto c = claim(i, "u", "ip");
    ASSERT_TRUE(c.ok() && c->admitted);
    in_flight.push_back(*c);
  }
  EXPECT_FALSE(claim(0, "u", "ip")->admitted);  // five in flight fill the username's limit
  ASSERT_TRUE(stores_[1]->settle_attempt(in_flight[0].id, "u", "ip", false, clock_.now_ms()));  // a success
  auto sixth = claim(2, "u", "ip");
  ASSERT_TRUE(sixth.ok() && sixth->admitted);
  EXPECT_TRUE(sixth->user_failures.empty());
  // The others never settle (their gateway was killed mid-hash): after kLoginAttemptInFlightMs they stop counting.
  clock_.advance_ms(kLoginAttemptInFlightMs + 1000);
  int admitted = 0;
  for (int i = 0; i < 8; ++i) admitted += claim(i, "u", "ip")->admitted ? 1 : 0;
  EXPECT_EQ(admitted, 5);
}

TEST_F(PgLoginAttemptsTest, SqliteDoesNotAdmitAttemptsForSeveralGateways) {
  auto sqlite = open_sqlite_provider(":memory:");
  ASSERT_TRUE(sqlite.ok());
  auto failures = sqlite.value()->login_failures().value();
  auto c = failures->claim_attempt("u", "ip", 0, 5, 50, 1);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error().status, 500);
}

// A claim counts the failures and the attempts in flight under the username's and the address's locks, in two
// statements; a settle that moved an attempt from one to the other between them made it invisible to both (one
// attempt too many admitted). Settling therefore takes the same locks: while another transaction holds the
// username's lock (as a claim does), the settle waits.
TEST_F(PgLoginAttemptsTest, SettlingWaitsForAClaimHoldingTheUsernamesLock) {
  auto claimed = claim(0, "bob", "10.0.0.9");
  ASSERT_TRUE(claimed.ok()) << claimed.error().message;
  ASSERT_TRUE(claimed->admitted);
  auto holder = pg::PgConnection::open(conninfo_, "test");
  ASSERT_TRUE(holder.ok()) << holder.error().message;
  holder.value()->exec_script("BEGIN");
  holder.value()->exec("SELECT pg_advisory_xact_lock($1, hashtext($2))",
                       pg::Params().add(pg::kLockLogin).add(std::string("user:bob")));
  std::atomic<bool> settled{false};
  std::thread settler([&] {
    EXPECT_TRUE(stores_[1]->settle_attempt(claimed->id, "bob", "10.0.0.9", true, clock_.now_ms()));
    settled = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_FALSE(settled.load()) << "the settle did not wait for the username's lock";
  holder.value()->exec_script("COMMIT");
  settler.join();
  EXPECT_TRUE(settled.load());
  // Settled as failed: it counts as one failure of the username, and no longer in flight.
  auto next = claim(2, "bob", "10.0.0.9");
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(next->user_failures.size(), 1u);
}

}  // namespace
}  // namespace webstream::store
