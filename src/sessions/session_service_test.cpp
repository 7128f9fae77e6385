#include "sessions/session_service.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_session_store.hpp"

namespace webstream::sessions {
namespace {

class FakeResolver : public EntitlementResolver {
 public:
  Result<Resolution> resolve(const std::string& user_id, const std::string& workspace_id,
                             const std::optional<std::string>& app_id) override {
    if (workspace_id != "ws-1" || user_id == "u-stranger" || unentitled.count(user_id)) {
      return Error{403, "not_entitled", "no"};
    }
    if (unavailable) return Error{503, "access_management_unavailable", "down"};
    Resolution r;
    r.workspace = {"ws-1", "org-1", "Desktop", "app", {"app-1"}, {"gpu"}, {}};
    if (app_id && *app_id != "app-1") return Error{403, "not_entitled", "no"};
    r.app = AppInfo{"app-1", "Notepad", "notepad.exe", "/A"};
    r.policy = {{"maxConcurrentSessions", max_sessions}};
    r.org_max_concurrent_sessions = org_max;
    return r;
  }
  std::int64_t max_sessions = 2;
  std::optional<std::int64_t> org_max;
  std::set<std::string> unentitled;
  bool unavailable = false;
};

class FakeRouting : public BackendRouting {
 public:
  Result<PickedBackend> pick(const BackendRequirements& req, const std::string&,
                             const std::vector<std::string>& exclude) override {
    last_requirements = req;
    for (const auto& id : backends) {
      if (std::find(exclude.begin(), exclude.end(), id) == exclude.end()) return PickedBackend{id, capacity, 0};
    }
    return store::no_backend_available();
  }
  std::optional<BackendLocation> locate(const std::string& id) override {
    return BackendLocation{.id = id, .server_url = "http://127.0.0.1:1", .healthy = true};
  }
  void add_pinned(const std::string& id, int delta) override { pinned[id] += delta; }
  void remember_affinity(const std::string& key, const std::string& id) override { affinity[key] = id; }

  std::vector<std::string> backends{"b-1"};
  std::int64_t capacity = 10;
  std::map<std::string, int> pinned;
  std::map<std::string, std::string> affinity;
  BackendRequirements last_requirements;
};

core::Principal user(const std::string& id) {
  core::Principal p;
  p.user_id = id;
  p.username = id + "-name";
  p.org_id = "org-1";
  p.roles = {"user"};
  return p;
}

class SessionServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = store::SqliteDb::open(":memory:").value();
    store_ = store::SqliteSessionStore::open(*db_).value();
    config_.reservation_timeout_s = 120;
    config_.disconnect_grace_s = 300;
    service_ = std::make_unique<SessionService>(config_, *store_, resolver_, routing_, clock_);
    ASSERT_TRUE(service_->load());
  }
  SelectRequest launch() {
    return SelectRequest{"ws-1", std::nullopt, std::string("app-1"), std::nullopt, std::nullopt};
  }

  testing::FakeClock clock_;
  config::SessionsConfig config_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteSessionStore> store_;
  FakeResolver resolver_;
  FakeRouting routing_;
  std::unique_ptr<SessionService> service_;
};

TEST_F(SessionServiceTest, SelectReservesAndPins) {
  auto r = service_->select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->at("state").as_string(), "reserved");
  EXPECT_EQ(r->at("backendId").as_string(), "b-1");
  EXPECT_EQ(r->at("appId").as_string(), "app-1");
  EXPECT_FALSE(r->at("connectToken").as_string().empty());
  EXPECT_EQ(routing_.pinned["b-1"], 1);
  EXPECT_EQ(routing_.last_requirements.tags, std::vector<std::string>{"gpu"});
  EXPECT_EQ(r->find("serverUrl"), r->end());
}

TEST_F(SessionServiceTest, SameSessionAgainIsTheSameAnswerWithoutASecondSlot) {
  auto a = service_->select(user("u-1"), "s-1", launch());
  auto b = service_->select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->at("connectToken"), b->at("connectToken"));
  EXPECT_EQ(routing_.pinned["b-1"], 1);
  auto other = service_->select(user("u-2"), "s-1", launch());
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, "session_conflict");
}

TEST_F(SessionServiceTest, ConcurrencyLimitFromThePolicy) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  ASSERT_TRUE(service_->select(user("u-1"), "s-2", launch()));
  auto third = service_->select(user("u-1"), "s-3", launch());
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().status, 409);
  EXPECT_EQ(third.error().code, "concurrency_limit");
  ASSERT_TRUE(service_->release(user("u-1"), "s-1"));
  EXPECT_TRUE(service_->select(user("u-1"), "s-3", launch()));
}

TEST_F(SessionServiceTest, OrgLimit) {
  resolver_.org_max = 1;
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  auto r = service_->select(user("u-2"), "s-2", launch());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "concurrency_limit");
}

TEST_F(SessionServiceTest, FullBackendIsNoCandidate) {
  routing_.capacity = 1;
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  auto r = service_->select(user("u-2"), "s-2", launch());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 503);
  EXPECT_EQ(r.error().retry_after, 5);
}

TEST_F(SessionServiceTest, AppExeFromTheBrowserMustMatch) {
  auto req = launch();
  req.app_exe = "cmd.exe";
  auto r = service_->select(user("u-1"), "s-1", req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "app_mismatch");
  req.app_exe = "notepad.exe";
  req.app_args = "/A";
  EXPECT_TRUE(service_->select(user("u-1"), "s-1", req));
}

TEST_F(SessionServiceTest, NotEntitledPassesThrough) {
  auto r = service_->select(user("u-stranger"), "s-1", launch());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "not_entitled");
}

TEST_F(SessionServiceTest, StatusAndReleaseAreIdempotentAndPrivate) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  auto st = service_->status(user("u-1"), "s-1");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->at("state").as_string(), "reserved");
  EXPECT_TRUE(st->at("backendHealthy").as_bool());
  EXPECT_EQ(service_->status(user("u-2"), "s-1").error().code, "session_not_found");
  EXPECT_FALSE(service_->release(user("u-2"), "s-1"));
  ASSERT_TRUE(service_->release(user("u-1"), "s-1"));
  ASSERT_TRUE(service_->release(user("u-1"), "s-1"));
  EXPECT_EQ(service_->status(user("u-1"), "s-1")->at("state").as_string(), "released");
  EXPECT_EQ(routing_.pinned["b-1"], 0);
  EXPECT_EQ(service_->status(user("u-1"), "nope").error().status, 404);
}

TEST_F(SessionServiceTest, ReservedExpiresAfterReservationTimeout) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  clock_.advance_s(119);
  EXPECT_EQ(service_->expire_due(), 0u);
  clock_.advance_s(1);
  EXPECT_EQ(service_->expire_due(), 1u);
  EXPECT_EQ(service_->status(user("u-1"), "s-1")->at("state").as_string(), "expired");
  EXPECT_EQ(routing_.pinned["b-1"], 0);
}

TEST_F(SessionServiceTest, ActiveExpiresOnlyAfterDisconnectGraceWithNoWebSocket) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  auto live = service_->lookup("s-1", "u-1");
  ASSERT_TRUE(live);
  service_->websocket_opened(live);
  EXPECT_EQ(service_->status(user("u-1"), "s-1")->at("state").as_string(), "active");
  clock_.advance_s(1000);
  EXPECT_EQ(service_->expire_due(), 0u);  // a WebSocket is open
  service_->websocket_closed(live);
  clock_.advance_s(299);
  EXPECT_EQ(service_->expire_due(), 0u);
  clock_.advance_s(1);
  EXPECT_EQ(service_->expire_due(), 1u);
}

TEST_F(SessionServiceTest, LiveCountsSplitReservedFromActiveForMetrics) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  ASSERT_TRUE(service_->select(user("u-2"), "s-2", launch()));
  EXPECT_EQ(service_->live_counts().reserved, 2u);
  EXPECT_EQ(service_->live_counts().active, 0u);
  auto live = service_->lookup("s-1", "u-1");
  ASSERT_TRUE(live);
  service_->websocket_opened(live);
  service_->websocket_closed(live);  // still active: its disconnect grace has begun
  EXPECT_EQ(service_->live_counts().reserved, 1u);
  EXPECT_EQ(service_->live_counts().active, 1u);
  EXPECT_EQ(service_->live_count(), 2u);
}

// The presence rules of store/presence_store.hpp on the test's fake clock (the real store, on PostgreSQL's
// clock, is tested in store/postgres/pg_presence_store_test.cpp): a gateway is dead kGatewayDeadAfter after
// its last renewal; declaring it moves its sessions' last activity to its death.
class ModelPresence : public store::PresenceStore {
 public:
  ModelPresence(store::SessionStore& sessions, const Clock& clock) : sessions_(sessions), clock_(clock) {}
  Result<std::vector<store::DeadGateway>> renew(const std::string& gw, const std::string& label,
                                                const std::vector<std::string>& holding) override {
    auto& g = gateways_[gw];
    g.label = label;
    g.renewed_at = clock_.now_ms();
    g.holding = std::set<std::string>(holding.begin(), holding.end());
    std::vector<store::DeadGateway> dead;
    for (auto it = gateways_.begin(); it != gateways_.end();) {
      if (it->second.renewed_at < clock_.now_ms() - kDeadMs) {
        for (const auto& id : it->second.holding) (void)sessions_.touch(id, it->second.renewed_at + kDeadMs);
        dead.push_back({.id = it->first,
                        .label = it->second.label,
                        .sessions = static_cast<std::int64_t>(it->second.holding.size())});
        it = gateways_.erase(it);
      } else {
        ++it;
      }
    }
    return dead;
  }
  Status hold(const std::string& gw, const std::string& id) override {
    gateways_[gw].holding.insert(id);
    return Status::success();
  }
  Status let_go(const std::string& gw, const std::string& id, Millis at) override {
    gateways_[gw].holding.erase(id);
    return sessions_.touch(id, at);
  }
  Result<std::unordered_map<std::string, store::SessionPresence>> others(const std::string& gw) override {
    std::unordered_map<std::string, store::SessionPresence> out;
    for (const auto& [id, g] : gateways_) {
      if (id == gw) continue;
      const bool alive = g.renewed_at >= clock_.now_ms() - kDeadMs;
      for (const auto& s : g.holding) {
        auto& p = out[s];
        if (alive) p.held = true;
        if (!alive) p.dead_at = std::max(p.dead_at, g.renewed_at + kDeadMs);
      }
    }
    return out;
  }
  Status leave(const std::string& gw, Millis at) override {
    for (const auto& id : gateways_[gw].holding) (void)sessions_.touch(id, at);
    gateways_.erase(gw);
    return Status::success();
  }

 private:
  static constexpr Millis kDeadMs = std::chrono::milliseconds(store::kGatewayDeadAfter).count();
  struct Gw {
    std::string label;
    Millis renewed_at = 0;
    std::set<std::string> holding;
  };
  store::SessionStore& sessions_;
  const Clock& clock_;
  std::map<std::string, Gw> gateways_;
};

// Two gateways on one store: `service_` is gateway A, `other` gateway B, both in shared-store mode.
class SharedStoreTest : public SessionServiceTest {
 protected:
  void SetUp() override {
    SessionServiceTest::SetUp();
    presence_ = std::make_unique<ModelPresence>(*store_, clock_);
    service_->set_shared_store(true);
    service_->set_presence(presence_.get(), "gw-a", "a");
    other_ = std::make_unique<SessionService>(config_, *store_, resolver_, other_routing_, clock_);
    other_->set_shared_store(true);
    other_->set_presence(presence_.get(), "gw-b", "b");
    ASSERT_TRUE(other_->load());
  }
  // One renewal period on both gateways (or on A alone once B is dead), each syncing.
  void period(bool b_alive) {
    clock_.advance_s(static_cast<int>(store::kGatewayRenewPeriod.count()));
    ASSERT_TRUE(service_->renew_presence());
    if (b_alive) {
      ASSERT_TRUE(other_->renew_presence());
    }
    ASSERT_TRUE(service_->sync_with_store());
    if (b_alive) {
      ASSERT_TRUE(other_->sync_with_store());
    }
  }
  std::unique_ptr<ModelPresence> presence_;
  FakeRouting other_routing_;
  std::unique_ptr<SessionService> other_;
};

TEST_F(SharedStoreTest, ASessionSelectedOnOneGatewayIsUsedAndReleasedThroughTheOther) {
  auto selected = service_->select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(selected);
  EXPECT_FALSE(other_->lookup("s-1", "u-1"));  // not in B's memory yet…
  auto adopted = other_->adopt("s-1", "u-1");  // …until read from the store
  ASSERT_TRUE(adopted);
  EXPECT_EQ(adopted->connect_token, std::string(selected->at("connectToken").as_string()));
  EXPECT_FALSE(other_->adopt("s-1", "u-2"));  // never someone else's
  ASSERT_TRUE(other_->release(user("u-1"), "s-1"));
  EXPECT_EQ(service_->status(user("u-1"), "s-1")->at("state").as_string(), "released");
  ASSERT_TRUE(service_->sync_with_store());
  EXPECT_FALSE(service_->lookup("s-1", "u-1"));  // A forgets it: its WebSockets there close
}

TEST_F(SharedStoreTest, AWebSocketOnOneGatewayKeepsTheOtherFromExpiringTheSession) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  ASSERT_TRUE(other_->sync_with_store());  // B knows it now, as every gateway does
  auto on_b = other_->lookup("s-1", "u-1");
  ASSERT_TRUE(on_b);
  other_->websocket_opened(on_b);  // B holds its presence (the background writer runs inline here)
  for (int i = 0; i < 80; ++i) {   // 400 s: longer than disconnectGrace (300 s), with a WebSocket open on B
    period(true);
    EXPECT_EQ(service_->expire_due(), 0u) << "A expired a session B relays, at " << (i + 1) * 5 << " s";
  }
  // B dies at its last renewal: A counts it dead 15 s later, and the grace runs from then.
  const Millis died = clock_.now_ms() + 15'000;
  while (clock_.now_ms() < died + 300'000 - 5'000) {
    period(false);
    ASSERT_EQ(service_->expire_due(), 0u) << "expired " << (clock_.now_ms() - died) / 1000 << " s after B's death";
  }
  period(false);
  period(false);
  EXPECT_EQ(service_->expire_due(), 1u);
}

TEST_F(SharedStoreTest, ClosingTheLastWebSocketStartsTheGraceOnEveryGateway) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  ASSERT_TRUE(other_->sync_with_store());
  auto on_b = other_->lookup("s-1", "u-1");
  ASSERT_TRUE(on_b);
  other_->websocket_opened(on_b);
  other_->websocket_opened(on_b);
  period(true);
  other_->websocket_closed(on_b);  // one still open: still held
  for (int i = 0; i < 70; ++i) period(true);
  EXPECT_EQ(service_->expire_due(), 0u);
  other_->websocket_closed(on_b);  // the last: presence gone, activity written now
  const Millis closed = clock_.now_ms();
  while (clock_.now_ms() < closed + 300'000 - 5'000) {
    period(true);
    ASSERT_EQ(service_->expire_due(), 0u);
  }
  period(true);
  period(true);
  EXPECT_EQ(service_->expire_due(), 1u);
}

TEST_F(SharedStoreTest, ALeavingGatewayHandsItsSessionsTheirGraceAtOnce) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  ASSERT_TRUE(other_->sync_with_store());
  other_->websocket_opened(other_->lookup("s-1", "u-1"));
  period(true);
  other_->leave_presence();  // a clean stop: no 15 s wait for its death
  const Millis left = clock_.now_ms();
  while (clock_.now_ms() < left + 300'000 - 5'000) {
    period(false);
    ASSERT_EQ(service_->expire_due(), 0u);
  }
  period(false);
  period(false);
  EXPECT_EQ(service_->expire_due(), 1u);
}

TEST_F(SessionServiceTest, ConnectTokenFindsOnlyItsSession) {
  auto r = service_->select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(r);
  const std::string token(r->at("connectToken").as_string());
  EXPECT_TRUE(service_->lookup_by_connect_token("s-1", token));
  EXPECT_FALSE(service_->lookup_by_connect_token("s-1", token + "x"));
  EXPECT_FALSE(service_->lookup_by_connect_token("s-2", token));
}

TEST_F(SessionServiceTest, AConnectTokenHasItsShapeAndGarbageDoesNot) {
  auto r = service_->select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(r);
  const std::string token(r->at("connectToken").as_string());
  EXPECT_TRUE(is_connect_token_shaped(token));
  EXPECT_TRUE(is_connect_token_shaped("ct." + std::string(43, '_')));
  EXPECT_FALSE(is_connect_token_shaped(token + "x"));
  EXPECT_FALSE(is_connect_token_shaped(token.substr(0, token.size() - 1)));
  EXPECT_FALSE(is_connect_token_shaped("ct." + std::string(42, 'a') + "="));
  EXPECT_FALSE(is_connect_token_shaped("xt." + token.substr(3)));
  EXPECT_FALSE(is_connect_token_shaped("ct."));
  EXPECT_FALSE(is_connect_token_shaped(""));
}

TEST_F(SessionServiceTest, BackendUnregisterEndsItsSessions) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  service_->end_for_backend("b-1");
  EXPECT_EQ(service_->status(user("u-1"), "s-1")->at("state").as_string(), "ended");
  EXPECT_EQ(service_->live_count(), 0u);
}

TEST_F(SessionServiceTest, SessionsSurviveARestart) {
  auto r = service_->select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(r);
  FakeRouting fresh_routing;
  SessionService restarted(config_, *store_, resolver_, fresh_routing, clock_);
  ASSERT_TRUE(restarted.load());
  EXPECT_EQ(fresh_routing.pinned["b-1"], 1);
  auto again = restarted.select(user("u-1"), "s-1", launch());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->at("connectToken"), r->at("connectToken"));
}

TEST_F(SessionServiceTest, ALogoutOfTheSelectingTokenEndsTheSession) {
  std::set<std::string> revoked;
  service_->set_revocation_check([&revoked](const core::Principal& p) { return !revoked.count(p.token_id); });
  auto selecting = user("u-1");
  selecting.token_id = "jti-1";
  auto r = service_->select(selecting, "s-1", launch());
  ASSERT_TRUE(r);
  auto live = service_->lookup_by_connect_token("s-1", std::string(r->at("connectToken").as_string()));
  ASSERT_TRUE(live);
  EXPECT_EQ(service_->end_revoked(), 0u);
  revoked.insert("jti-2");  // another token of the same user: nothing happens
  EXPECT_EQ(service_->end_revoked(), 0u);
  EXPECT_TRUE(service_->selector_still_valid(*live));
  revoked.insert("jti-1");
  EXPECT_FALSE(service_->selector_still_valid(*live));
  EXPECT_EQ(service_->end_revoked(), 1u);
  EXPECT_EQ(service_->status(selecting, "s-1")->at("state").as_string(), "ended");
  EXPECT_EQ(service_->lookup_by_connect_token("s-1", live->connect_token), nullptr);
  EXPECT_EQ(routing_.pinned["b-1"], 0);
}

TEST_F(SessionServiceTest, AUserCutoffEndsSessionsSelectedBeforeIt) {
  std::int64_t cutoff = 0;
  service_->set_revocation_check([&cutoff](const core::Principal& p) { return p.issued_at >= cutoff; });
  auto selecting = user("u-1");
  selecting.issued_at = 1000;
  ASSERT_TRUE(service_->select(selecting, "s-1", launch()));
  cutoff = 1001;  // disabled, deleted or a new password
  EXPECT_EQ(service_->end_revoked(), 1u);
  EXPECT_EQ(service_->live_count(), 0u);
}

TEST_F(SessionServiceTest, ARemovedEntitlementEndsTheSessionButAnUnreachableIamDoesNot) {
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  ASSERT_TRUE(service_->select(user("u-2"), "s-2", launch()));
  resolver_.unavailable = true;
  EXPECT_EQ(service_->end_revoked(0), 0u);
  resolver_.unavailable = false;
  resolver_.unentitled.insert("u-1");
  EXPECT_EQ(service_->end_revoked(0), 1u);
  EXPECT_EQ(service_->status(user("u-1"), "s-1")->at("state").as_string(), "ended");
  EXPECT_EQ(service_->status(user("u-2"), "s-2")->at("state").as_string(), "reserved");
}

TEST_F(SessionServiceTest, ARestoredSessionEndsWhenItsUserChangesAfterItsCreation) {
  clock_.set_ms(5'000'000);
  ASSERT_TRUE(service_->select(user("u-1"), "s-1", launch()));
  FakeRouting fresh_routing;
  SessionService restarted(config_, *store_, resolver_, fresh_routing, clock_);
  ASSERT_TRUE(restarted.load());
  std::int64_t cutoff = 0;
  restarted.set_revocation_check([&cutoff](const core::Principal& p) { return p.issued_at >= cutoff; });
  EXPECT_EQ(restarted.end_revoked(), 0u);
  cutoff = 5'001;
  EXPECT_EQ(restarted.end_revoked(), 1u);
}

}  // namespace
}  // namespace webstream::sessions
