// Gateway liveness and WebSocket presence on a real PostgreSQL (store/presence_store.hpp): two gateways'
// providers on one database; a gateway's death is made by moving its renewal 16 s back in the database (the
// rule is the database's clock, so the test changes the row, never sleeps).
#include <gtest/gtest.h>

#include "core/testing/fake_clock.hpp"
#include "store/postgres/pg_pool.hpp"
#include "store/postgres/testing/pg_test_server.hpp"
#include "store/store_provider.hpp"

namespace webstream::store {
namespace {

class PgPresenceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = pg::testing::fresh_database();
    ASSERT_TRUE(db.ok()) << db.error().message;
    for (auto* slot : {&a_, &b_}) {
      auto p = open_postgres_provider(*db, clock_, 2);
      ASSERT_TRUE(p.ok()) << p.error().message;
      p.value()->startup_complete();
      *slot = std::move(p.value());
    }
    presence_a_ = a_->presence().value();
    presence_b_ = b_->presence().value();
    sessions_ = a_->sessions().value();
    sql_ = pg::PgPool::open(*db, 1).value();
    for (const char* id : {"s-1", "s-2", "s-3"}) {
      SessionRecord s;
      s.id = id;
      s.user_id = std::string("u-") + id;
      s.username = "n";
      s.org_id = "o";
      s.workspace_id = "w";
      s.backend_id = "b";
      s.created_at = clock_.now_ms();
      ASSERT_TRUE(
          sessions_
              ->reserve(
                  s,
                  ReserveLimits{.user_max = 5, .org_max = std::nullopt, .backend_max = 10, .backend_reported_load = 0})
              .ok());
    }
  }
  std::int64_t scalar(const std::string& query) {
    return sql_->read([&](pg::PgConnection& c) -> Result<std::int64_t> { return c.exec(query).integer(0, 0); }).value();
  }
  void kill_a() {  // A's last renewal 16 s ago by the database's clock
    ASSERT_TRUE(sql_->read([](pg::PgConnection& c) -> Status {
      c.exec("UPDATE gateways SET renewed_at = renewed_at - 16000 WHERE id='gw-a'");
      return Status::success();
    }));
  }

  webstream::testing::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<StoreProvider> a_, b_;
  std::unique_ptr<PresenceStore> presence_a_, presence_b_;
  std::unique_ptr<SessionStore> sessions_;
  std::unique_ptr<pg::PgPool> sql_;
};

TEST_F(PgPresenceTest, ALiveGatewaysWebSocketsAreHeldForTheOthersOnly) {
  ASSERT_TRUE(presence_a_->renew("gw-a", "host-a:1", {"s-1"}).ok());
  ASSERT_TRUE(presence_b_->renew("gw-b", "host-b:2", {}).ok());
  ASSERT_TRUE(presence_a_->hold("gw-a", "s-2"));
  auto seen = presence_b_->others("gw-b").value();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_TRUE(seen["s-1"].held);
  EXPECT_TRUE(seen["s-2"].held);
  EXPECT_EQ(seen["s-1"].dead_at, 0);
  EXPECT_TRUE(presence_a_->others("gw-a").value().empty());  // its own are not "elsewhere"
  // The last WebSocket closes: the row goes and the session's activity is written in the same transaction.
  clock_.advance_s(60);
  ASSERT_TRUE(presence_a_->let_go("gw-a", "s-2", clock_.now_ms()));
  seen = presence_b_->others("gw-b").value();
  EXPECT_EQ(seen.count("s-2"), 0u);
  EXPECT_EQ(sessions_->get("s-2")->last_activity_at, clock_.now_ms());
  // A renewal makes the rows exactly what the gateway holds.
  ASSERT_TRUE(presence_a_->renew("gw-a", "host-a:1", {"s-3"}).ok());
  seen = presence_b_->others("gw-b").value();
  EXPECT_EQ(seen.size(), 1u);
  EXPECT_TRUE(seen["s-3"].held);
}

TEST_F(PgPresenceTest, ADeadGatewaysSessionsStartTheirGraceAtItsDeath) {
  ASSERT_TRUE(presence_a_->renew("gw-a", "host-a:1", {"s-1", "s-2"}).ok());
  ASSERT_TRUE(presence_b_->renew("gw-b", "host-b:2", {}).ok());
  // Their last written activity a minute ago: before the death, which is what their grace starts from.
  ASSERT_TRUE(sql_->read([](pg::PgConnection& c) -> Status {
    c.exec("UPDATE sessions SET last_activity_at = last_activity_at - 60000 WHERE id IN ('s-1','s-2')");
    return Status::success();
  }));
  kill_a();
  const std::int64_t renewed_db = scalar("SELECT renewed_at FROM gateways WHERE id='gw-a'");
  const std::int64_t skew = scalar("SELECT created_at FROM sessions WHERE id='s-1'") - clock_.now_ms();
  // Dead but not declared yet: no longer held, and the death is reported on B's timeline.
  auto seen = presence_b_->others("gw-b").value();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_FALSE(seen["s-1"].held);
  EXPECT_EQ(seen["s-1"].dead_at, renewed_db + 15'000 - skew);
  // B's renewal declares it: rows gone, each session it held has its death as last activity.
  auto dead = presence_b_->renew("gw-b", "host-b:2", {});
  ASSERT_TRUE(dead.ok()) << dead.error().message;
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_EQ((*dead)[0].id, "gw-a");
  EXPECT_EQ((*dead)[0].label, "host-a:1");
  EXPECT_EQ((*dead)[0].sessions, 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM gateways WHERE id='gw-a'"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM session_presence"), 0);
  EXPECT_EQ(scalar("SELECT last_activity_at FROM sessions WHERE id='s-1'"), renewed_db + 15'000);
  EXPECT_EQ(sessions_->get("s-2")->last_activity_at, renewed_db + 15'000 - skew);
  EXPECT_EQ(sessions_->get("s-3")->last_activity_at, clock_.now_ms());      // never held: untouched
  EXPECT_TRUE(presence_b_->renew("gw-b", "host-b:2", {}).value().empty());  // declared once
  // A was only late: its next renewal brings it and its rows back.
  ASSERT_TRUE(presence_a_->renew("gw-a", "host-a:1", {"s-1"}).ok());
  EXPECT_TRUE(presence_b_->others("gw-b").value()["s-1"].held);
}

TEST_F(PgPresenceTest, NoGatewayExpiresASessionALiveGatewayHolds) {
  ASSERT_TRUE(presence_a_->renew("gw-a", "host-a:1", {}).ok());
  ASSERT_TRUE(presence_a_->hold("gw-a", "s-1"));  // a reconnect through A, committed after B's last read
  auto expired = sessions_->set_state("s-1", kExpired, clock_.now_ms());
  ASSERT_TRUE(expired.ok()) << expired.error().message;
  EXPECT_FALSE(*expired);
  EXPECT_EQ(sessions_->get("s-1")->state, kReserved);
  EXPECT_TRUE(sessions_->set_state("s-1", kReleased, clock_.now_ms()).value());  // a release still ends it
  // Held by a dead gateway: the expiry goes through.
  ASSERT_TRUE(presence_a_->hold("gw-a", "s-2"));
  kill_a();
  EXPECT_TRUE(sessions_->set_state("s-2", kExpired, clock_.now_ms()).value());
}

TEST_F(PgPresenceTest, ALeavingGatewayStartsItsSessionsGraceNow) {
  ASSERT_TRUE(presence_a_->renew("gw-a", "host-a:1", {"s-1"}).ok());
  clock_.advance_s(30);
  ASSERT_TRUE(presence_a_->leave("gw-a", clock_.now_ms()));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM gateways"), 0);
  EXPECT_TRUE(presence_b_->others("gw-b").value().empty());
  EXPECT_EQ(sessions_->get("s-1")->last_activity_at, clock_.now_ms());
}

TEST_F(PgPresenceTest, AHoldWithoutALivingGatewayRowCountsForNothingAndIsRemoved) {
  ASSERT_TRUE(presence_a_->hold("gw-gone", "s-1"));
  EXPECT_TRUE(presence_b_->others("gw-b").value().empty());
  ASSERT_TRUE(sql_->read([](pg::PgConnection& c) -> Status {
    c.exec("UPDATE session_presence SET since = since - 16000");
    return Status::success();
  }));
  ASSERT_TRUE(presence_b_->renew("gw-b", "host-b:2", {}).ok());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM session_presence"), 0);
}

TEST_F(PgPresenceTest, SqliteKeepsNoPresence) {
  auto sqlite = open_sqlite_provider(":memory:");
  ASSERT_TRUE(sqlite.ok());
  auto p = sqlite.value()->presence();
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.error().message.find("not shared"), std::string::npos);
}

}  // namespace
}  // namespace webstream::store
