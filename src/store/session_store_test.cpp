// The session store on every backend: reserve() decides user, org and backend limits in one transaction;
// the concurrency tests are what several gateways on one PostgreSQL are (separate connections at once).
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <set>
#include <thread>

#include "store/testing/store_fixture.hpp"

namespace webstream::store {
namespace {

class SessionStoreTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    store = provider().sessions().value();
  }

  static SessionRecord session(const std::string& id, const std::string& user, const std::string& backend,
                               Millis at = 1'700'000'000'000) {
    SessionRecord s;
    s.id = id;
    s.user_id = user;
    s.username = "name-" + user;
    s.org_id = "org-1";
    s.workspace_id = "ws-1";
    s.workspace_name = "Desktop";
    s.workspace_type = "desktop";
    s.app_id = "app-1";
    s.app_exe = "C:/app.exe";
    s.app_args = "--x";
    s.policy_json = R"({"maxConcurrentSessions":1})";
    s.backend_id = backend;
    s.created_at = at;
    return s;
  }
  static ReserveLimits limits(std::int64_t user_max, std::optional<std::int64_t> org_max, std::int64_t backend_max) {
    ReserveLimits l;
    l.user_max = user_max;
    l.org_max = org_max;
    l.backend_max = backend_max;
    return l;
  }

  // The session stores of `n` more gateways on the same data, one connection each (on PostgreSQL, what several
  // gateways on one database are); their providers live as long as the test. Empty after a failure to open.
  std::vector<std::unique_ptr<SessionStore>> other_gateways(int n) {
    std::vector<std::unique_ptr<SessionStore>> stores;
    for (int g = 0; g < n; ++g) {
      auto p = open_another(1);
      if (!p.ok()) {
        ADD_FAILURE() << p.error().message;
        return {};
      }
      stores.push_back(p.value()->sessions().value());
      other_providers_.push_back(std::move(p.value()));
    }
    return stores;
  }

  std::unique_ptr<SessionStore> store;

 private:
  std::vector<std::unique_ptr<StoreProvider>> other_providers_;
};
WEBSTREAM_STORE_BACKENDS(SessionStoreTest);

TEST_P(SessionStoreTest, ReserveWritesEveryFieldAndReselectingIsIdempotent) {
  auto r = store->reserve(session("s-1", "u-1", "b-1"), limits(1, std::nullopt, 10));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_FALSE(r->existing);
  auto got = store->get("s-1");
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->username, "name-u-1");
  EXPECT_EQ(got->workspace_name, "Desktop");
  EXPECT_EQ(got->app_exe, "C:/app.exe");
  EXPECT_EQ(got->policy_json, R"({"maxConcurrentSessions":1})");
  EXPECT_EQ(got->state, kReserved);
  EXPECT_EQ(got->created_at, 1'700'000'000'000);
  EXPECT_EQ(got->last_activity_at, 1'700'000'000'000);
  // The same id and user again: the same session, no second slot (the limit of 1 is not hit).
  auto again = store->reserve(session("s-1", "u-1", "b-1"), limits(1, std::nullopt, 10));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->existing);
  // Another user's id: conflict.
  auto other = store->reserve(session("s-1", "u-2", "b-1"), limits(1, std::nullopt, 10));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, "session_conflict");
  EXPECT_FALSE(store->get("nope").has_value());
}

TEST_P(SessionStoreTest, UserOrgAndBackendLimitsAreEachEnforced) {
  ASSERT_TRUE(store->reserve(session("s-1", "u-1", "b-1"), limits(1, 2, 10)).ok());
  auto user_full = store->reserve(session("s-2", "u-1", "b-1"), limits(1, 2, 10));
  ASSERT_FALSE(user_full.ok());
  EXPECT_EQ(user_full.error().code, "concurrency_limit");
  ASSERT_TRUE(store->reserve(session("s-3", "u-2", "b-1"), limits(1, 2, 10)).ok());
  auto org_full = store->reserve(session("s-4", "u-3", "b-1"), limits(1, 2, 10));
  ASSERT_FALSE(org_full.ok());
  EXPECT_EQ(org_full.error().code, "concurrency_limit");
  auto backend_full = store->reserve(session("s-5", "u-4", "b-1"), limits(1, std::nullopt, 2));
  ASSERT_FALSE(backend_full.ok());
  EXPECT_EQ(backend_full.error().status, 503);
  EXPECT_EQ(backend_full.error().code, "no_backend_available");
  // The backend's own report counts too.
  auto reported = limits(1, std::nullopt, 5);
  reported.backend_reported_load = 5;
  EXPECT_EQ(store->reserve(session("s-6", "u-5", "b-2"), reported).error().code, "no_backend_available");
  // Releasing frees the slot; the released id may be reserved again.
  ASSERT_TRUE(store->set_state("s-1", kReleased, 1'700'000'001'000).value());
  EXPECT_EQ(store->get("s-1")->ended_at, 1'700'000'001'000);
  ASSERT_TRUE(store->reserve(session("s-2", "u-1", "b-1"), limits(1, 2, 10)).ok());
  ASSERT_TRUE(store->set_state("s-2", kReleased, 1'700'000'002'000).value());
  auto back = store->reserve(session("s-1", "u-1", "b-1"), limits(1, 2, 10));
  ASSERT_TRUE(back.ok());
  EXPECT_FALSE(back->existing);
  EXPECT_FALSE(store->set_state("unknown", kReleased, 1).value());
}

TEST_P(SessionStoreTest, EndForBackendTouchLiveAndRecentSessions) {
  ASSERT_TRUE(store->reserve(session("s-1", "u-1", "b-1"), limits(5, std::nullopt, 10)).ok());
  ASSERT_TRUE(store->reserve(session("s-2", "u-2", "b-1"), limits(5, std::nullopt, 10)).ok());
  ASSERT_TRUE(store->reserve(session("s-3", "u-3", "b-2", 1'700'000'000'500), limits(5, std::nullopt, 10)).ok());
  ASSERT_TRUE(store->set_state("s-3", kActive, 1'700'000'000'600).value());
  ASSERT_TRUE(store->touch("s-3", 1'700'000'009'000).ok());
  ASSERT_TRUE(store->touch("s-3", 1'700'000'001'000).ok());  // never backwards
  EXPECT_EQ(store->get("s-3")->last_activity_at, 1'700'000'009'000);
  auto ended = store->end_for_backend("b-1", 1'700'000'010'000);
  ASSERT_TRUE(ended.ok());
  EXPECT_EQ(ended->size(), 2u);
  EXPECT_EQ(store->get("s-1")->state, kEnded);
  auto live = store->live_sessions().value();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].id, "s-3");
  EXPECT_EQ(live[0].state, kActive);
  auto recent = store->recent_sessions(1'700'000'005'000);
  ASSERT_EQ(recent.size(), 1u);
  EXPECT_EQ(recent[0].id, "s-3");
  EXPECT_EQ(store->recent_sessions(0).size(), 3u);
}

TEST_P(SessionStoreTest, ASessionThatStoppedBeingLiveNeverComesBack) {
  ASSERT_TRUE(store->reserve(session("s-1", "u-1", "b-1"), limits(1, std::nullopt, 10)).ok());
  ASSERT_TRUE(store->set_state("s-1", kActive, 1'700'000'001'000).value());
  ASSERT_TRUE(store->set_state("s-1", kReleased, 1'700'000'002'000).value());
  // A late "active" write (the proxy's background writer) must not resurrect it.
  EXPECT_FALSE(store->set_state("s-1", kActive, 1'700'000'003'000).value());
  EXPECT_EQ(store->get("s-1")->state, kReleased);
  EXPECT_FALSE(store->set_state("s-1", kEnded, 1'700'000'004'000).value());
  EXPECT_EQ(store->get("s-1")->state, kReleased);
  EXPECT_TRUE(store->live_sessions().value().empty());
}

TEST_P(SessionStoreTest, TheConnectTokenSecretIsOneForEveryGateway) {
  const auto secret = store->connect_token_secret();
  ASSERT_TRUE(secret) << secret.error().message;
  EXPECT_EQ(secret->size(), 32u);
  EXPECT_EQ(store->connect_token_secret().value(), *secret);
  auto other = open_another().value();
  EXPECT_EQ(other->sessions().value()->connect_token_secret().value(), *secret);
}

// 16 gateways (one connection each) × 10 reservations for users of one org against an org limit of 12 and a
// backend limit of 30, in 4 rounds that release everything in between: never more than the limit live.
TEST_P(SessionStoreTest, SixteenGatewaysReservingAtOnceNeverExceedALimit) {
  constexpr int kGateways = 16;
  constexpr int kEach = 10;
  constexpr std::int64_t kOrgMax = 12;
  const auto stores = other_gateways(kGateways);
  ASSERT_EQ(stores.size(), static_cast<std::size_t>(kGateways));
  for (int round = 0; round < 4; ++round) {
    std::atomic<int> granted{0};
    std::atomic<int> refused{0};
    std::atomic<int> failed{0};
    std::vector<std::thread> threads;
    for (int g = 0; g < kGateways; ++g) {
      threads.emplace_back([&, g] {
        for (int i = 0; i < kEach; ++i) {
          const std::string id = "r" + std::to_string(round) + "-g" + std::to_string(g) + "-" + std::to_string(i);
          // Users repeat across gateways (u-0 … u-7, one slot each): user and org limits race together.
          auto r = stores[g]->reserve(session(id, "u-" + std::to_string((g + i) % 8), "b-1"), limits(1, kOrgMax, 30));
          if (r.ok()) {
            ++granted;
          } else if (r.error().code == "concurrency_limit" || r.error().code == "no_backend_available") {
            ++refused;
          } else {
            ++failed;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(failed.load(), 0);
    EXPECT_EQ(granted.load() + refused.load(), kGateways * kEach);
    // 8 users with one slot each under an org limit of 12: exactly 8 live.
    auto live = store->live_sessions().value();
    EXPECT_EQ(static_cast<int>(live.size()), granted.load()) << "round " << round;
    EXPECT_EQ(granted.load(), 8) << "round " << round;
    std::set<std::string> users;
    for (const auto& s : live) users.insert(s.user_id);
    EXPECT_EQ(users.size(), live.size()) << "a user holds two slots";
    for (const auto& s : live) ASSERT_TRUE(store->set_state(s.id, kReleased, 1'700'000'100'000).value());
  }
  // And the backend limit alone: 16 × 10 distinct users against 30 slots.
  std::atomic<int> granted{0};
  std::vector<std::thread> threads;
  for (int g = 0; g < kGateways; ++g) {
    threads.emplace_back([&, g] {
      for (int i = 0; i < kEach; ++i) {
        const std::string user = "v-" + std::to_string(g) + "-" + std::to_string(i);
        if (stores[g]->reserve(session("b-" + user, user, "b-9"), limits(1, std::nullopt, 30)).ok()) ++granted;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(granted.load(), 30);
  EXPECT_EQ(store->live_sessions().value().size(), 30u);
}

// 16 users on 16 gateways select the same X-Session-ID at once (20 rounds): one gets it, every other one a conflict.
TEST_P(SessionStoreTest, UsersRacingForOneSessionIdGetOneSessionAndConflicts) {
  constexpr int kGateways = 16;
  const auto stores = other_gateways(kGateways);
  ASSERT_EQ(stores.size(), static_cast<std::size_t>(kGateways));
  for (int round = 0; round < 20; ++round) {
    const std::string id = "shared-" + std::to_string(round);
    std::atomic<int> granted{0};
    std::atomic<int> conflicts{0};
    std::latch go(kGateways);  // every thread calls at the same moment
    std::vector<std::thread> threads;
    for (int g = 0; g < kGateways; ++g) {
      threads.emplace_back([&, g] {
        go.arrive_and_wait();
        // Each picked another backend: only the session id is common to them.
        auto r = stores[g]->reserve(session(id, "racer-" + std::to_string(g), "b-" + std::to_string(g)),
                                    limits(1000, std::nullopt, 1000));  // a racer may win several rounds
        if (r.ok()) {
          ++granted;
        } else if (r.error().code == "session_conflict") {
          ++conflicts;
        } else {
          ADD_FAILURE() << "gateway " << g << ": " << r.error().code << " " << r.error().message;
        }
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(granted.load(), 1) << "round " << round;
    EXPECT_EQ(conflicts.load(), kGateways - 1) << "round " << round;
  }
}

}  // namespace
}  // namespace webstream::store
