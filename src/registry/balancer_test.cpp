#include "registry/balancer.hpp"

#include <gtest/gtest.h>

#include <map>

#include "core/testing/fake_clock.hpp"

namespace webstream::registry {
namespace {

using testing::FakeClock;

class BalancerTest : public ::testing::Test {
 protected:
  // A routable, Ready backend with a fresh heartbeat.
  Backend& add(const std::string& id, std::int64_t max_sessions, std::int64_t load = 0) {
    Backend b;
    b.id = id;
    b.server_url = "http://" + id;
    b.max_sessions = max_sessions;
    b.active_sessions = load;
    b.status = "Ready";
    b.last_heartbeat_at = clock_.now_ms();
    b.health.state = HealthState::kHealthy;
    backends_[id] = b;
    return backends_[id];
  }
  Snapshot snapshot() const {
    Snapshot s;
    s.heartbeat_stale_after_ms = 30'000;
    for (const auto& [id, b] : backends_) s.backends.push_back(std::make_shared<const Backend>(b));
    return s;
  }
  std::string pick(Balancer& balancer, const Requirements& req = {}, std::string_view key = "") {
    auto r = balancer.pick(snapshot(), req, key);
    return r ? (*r)->id : "error:" + r.error().code;
  }
  Balancer make(config::Strategy strategy) {
    BalancerSettings s;
    s.strategy = strategy;
    s.affinity_timeout_ms = 3'600'000;
    return Balancer(s, clock_);
  }

  FakeClock clock_;
  std::map<std::string, Backend> backends_;  // ordered by id like a Snapshot
};

TEST_F(BalancerTest, RoundRobinVisitsAllInTurn) {
  add("b-1", 10);
  add("b-2", 10);
  add("b-3", 10);
  auto balancer = make(config::Strategy::kRoundRobin);
  std::vector<std::string> seen;
  for (int i = 0; i < 6; ++i) seen.push_back(pick(balancer));
  EXPECT_EQ(seen, (std::vector<std::string>{"b-1", "b-2", "b-3", "b-1", "b-2", "b-3"}));
}

TEST_F(BalancerTest, RoundRobinKeepsTurnWhenBackendsComeAndGo) {
  add("b-1", 10);
  add("b-3", 10);
  auto balancer = make(config::Strategy::kRoundRobin);
  EXPECT_EQ(pick(balancer), "b-1");
  add("b-2", 10);  // appears between
  EXPECT_EQ(pick(balancer), "b-2");
  EXPECT_EQ(pick(balancer), "b-3");
  backends_.erase("b-1");
  EXPECT_EQ(pick(balancer), "b-2");
}

TEST_F(BalancerTest, LeastConnectionsPicksLeastLoad) {
  add("b-1", 10, 5);
  add("b-2", 10, 2);
  add("b-3", 10, 7);
  auto balancer = make(config::Strategy::kLeastConnections);
  EXPECT_EQ(pick(balancer), "b-2");
  // load = max(pinned, reported): pins raise it above the report.
  backends_["b-2"].pinned = 6;
  EXPECT_EQ(pick(balancer), "b-1");
}

TEST_F(BalancerTest, LeastConnectionsTiesByLowestFillRatioThenRotates) {
  add("b-1", 4, 2);   // 50 %
  add("b-2", 20, 2);  // 10 %
  add("b-3", 10, 2);  // 20 %
  auto balancer = make(config::Strategy::kLeastConnections);
  EXPECT_EQ(pick(balancer), "b-2");
  EXPECT_EQ(pick(balancer), "b-2");  // nothing changed: still the best
  // Idle backends tie completely (load 0, ratio 0): they take turns.
  backends_.clear();
  add("b-1", 10);
  add("b-2", 10);
  EXPECT_EQ(pick(balancer), "b-1");
  EXPECT_EQ(pick(balancer), "b-2");
  EXPECT_EQ(pick(balancer), "b-1");
}

TEST_F(BalancerTest, WeightedFollowsMaxSessionsWithinOnePercent) {
  add("b-1", 100);
  add("b-2", 300);
  add("b-3", 600);
  auto balancer = make(config::Strategy::kWeighted);
  std::map<std::string, int> counts;
  constexpr int kPicks = 10'000;
  for (int i = 0; i < kPicks; ++i) ++counts[pick(balancer)];
  EXPECT_NEAR(counts["b-1"], kPicks * 0.1, kPicks * 0.01);
  EXPECT_NEAR(counts["b-2"], kPicks * 0.3, kPicks * 0.01);
  EXPECT_NEAR(counts["b-3"], kPicks * 0.6, kPicks * 0.01);
}

TEST_F(BalancerTest, WeightedIsSmoothNotBursty) {
  add("b-a", 5);
  add("b-b", 1);
  add("b-c", 1);
  auto balancer = make(config::Strategy::kWeighted);
  std::string order;
  for (int i = 0; i < 7; ++i) order += pick(balancer).substr(2);
  EXPECT_EQ(order, "aabacaa");  // nginx's smooth weighted round robin for 5:1:1
}

TEST_F(BalancerTest, WeightTagOverridesMaxSessions) {
  add("b-1", 1000).tags = {"weight=1"};
  add("b-2", 10).tags = {"weight=3"};
  add("b-3", 50).tags = {"weight=abc"};  // not a weight: maxSessions (50) counts
  EXPECT_EQ(Balancer::weight(backends_["b-1"]), 1);
  EXPECT_EQ(Balancer::weight(backends_["b-2"]), 3);
  EXPECT_EQ(Balancer::weight(backends_["b-3"]), 50);
  backends_.erase("b-3");
  auto balancer = make(config::Strategy::kWeighted);
  std::map<std::string, int> counts;
  for (int i = 0; i < 10'000; ++i) ++counts[pick(balancer)];
  EXPECT_NEAR(counts["b-1"], 2'500, 100);
  EXPECT_NEAR(counts["b-2"], 7'500, 100);
}

TEST_F(BalancerTest, RequiredTagsAndCapabilitiesFilter) {
  add("b-1", 10).tags = {"gpu"};
  auto& two = add("b-2", 10);
  two.tags = {"gpu", "eu"};
  two.capabilities = {"h264", "audio"};
  add("b-3", 10).capabilities = {"h264"};
  auto balancer = make(config::Strategy::kRoundRobin);
  Requirements gpu_eu{{"gpu", "eu"}, {}};
  EXPECT_EQ(pick(balancer, gpu_eu), "b-2");
  EXPECT_EQ(pick(balancer, gpu_eu), "b-2");
  Requirements h264{{}, {"h264"}};
  EXPECT_EQ(pick(balancer, h264), "b-3");
  EXPECT_EQ(pick(balancer, h264), "b-2");
  Requirements both{{"gpu"}, {"audio"}};
  EXPECT_EQ(pick(balancer, both), "b-2");
  Requirements missing{{"GPU"}, {}};  // exact match
  EXPECT_EQ(pick(balancer, missing), "error:no_backend_available");
}

TEST_F(BalancerTest, CandidatesNeedStateFreshHeartbeatReadyAndCapacity) {
  auto balancer = make(config::Strategy::kRoundRobin);
  auto only = [&](auto mutate) {
    backends_.clear();
    mutate(add("b-1", 10));
    return pick(balancer);
  };
  EXPECT_EQ(only([](Backend&) {}), "b-1");
  EXPECT_EQ(only([](Backend& b) { b.health.state = HealthState::kSuspect; }), "b-1");
  EXPECT_EQ(only([](Backend& b) { b.health.state = HealthState::kUnknown; }), "error:no_backend_available");
  EXPECT_EQ(only([](Backend& b) { b.health.state = HealthState::kUnreachable; }), "error:no_backend_available");
  EXPECT_EQ(only([](Backend& b) { b.status = "READY"; }), "b-1");
  EXPECT_EQ(only([](Backend& b) { b.status = "Draining"; }), "error:no_backend_available");
  EXPECT_EQ(only([](Backend& b) { b.status = "Maintenance"; }), "error:no_backend_available");
  EXPECT_EQ(only([](Backend& b) { b.active_sessions = 10; }), "error:no_backend_available");
  EXPECT_EQ(only([](Backend& b) { b.pinned = 10; }), "error:no_backend_available");
  EXPECT_EQ(only([](Backend& b) { b.pinned = 9; }), "b-1");
  EXPECT_EQ(only([](Backend& b) { b.max_sessions = 0; }), "error:no_backend_available");
  // Heartbeat fresh means newer than 3 × heartbeatInterval (30 s).
  EXPECT_EQ(only([&](Backend& b) { b.last_heartbeat_at = clock_.now_ms() - 29'999; }), "b-1");
  EXPECT_EQ(only([&](Backend& b) { b.last_heartbeat_at = clock_.now_ms() - 30'000; }), "error:no_backend_available");
}

TEST_F(BalancerTest, NoCandidateIs503WithRetryAfter) {
  auto balancer = make(config::Strategy::kLeastConnections);
  auto r = balancer.pick(snapshot(), {}, "");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 503);
  EXPECT_EQ(r.error().code, "no_backend_available");
  EXPECT_EQ(r.error().retry_after, 5);
}

TEST_F(BalancerTest, ExcludedBackendsAreSkipped) {
  add("b-1", 10);
  add("b-2", 10, 5);
  auto balancer = make(config::Strategy::kLeastConnections);
  auto r = balancer.pick(snapshot(), {}, "", {"b-1"});
  ASSERT_TRUE(r);
  EXPECT_EQ((*r)->id, "b-2");
  EXPECT_FALSE(balancer.pick(snapshot(), {}, "", {"b-1", "b-2"}));
}

TEST_F(BalancerTest, AffinityWinsWhileStillACandidate) {
  add("b-1", 10);
  add("b-2", 10, 8);
  auto balancer = make(config::Strategy::kLeastConnections);
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-1");  // nothing remembered yet
  balancer.remember_affinity("u1|ws1", "b-2");
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-2");  // sticky, although more loaded
  EXPECT_EQ(pick(balancer, {}, "u2|ws1"), "b-1");  // another key is balanced normally
  backends_["b-2"].status = "Draining";            // no longer a candidate: balanced normally
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-1");
  backends_["b-2"].status = "Ready";
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-2");
  balancer.forget_backend("b-2");
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-1");
}

TEST_F(BalancerTest, AffinityExpiresAfterTimeout) {
  add("b-1", 10);
  add("b-2", 10, 8);
  BalancerSettings s;
  s.strategy = config::Strategy::kLeastConnections;
  s.affinity_timeout_ms = 3'600'000;
  Balancer balancer(s, clock_);
  balancer.remember_affinity("u1|ws1", "b-2");
  clock_.advance_ms(3'599'999);
  backends_["b-1"].last_heartbeat_at = clock_.now_ms();
  backends_["b-2"].last_heartbeat_at = clock_.now_ms();
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-2");
  clock_.advance_ms(1);
  EXPECT_EQ(pick(balancer, {}, "u1|ws1"), "b-1");
  EXPECT_FALSE(balancer.affinity("u1|ws1"));
}

TEST_F(BalancerTest, ExpiredAffinitiesArePurgedAsTheTableGrows) {
  add("b-1", 10);
  auto balancer = make(config::Strategy::kRoundRobin);
  for (int i = 0; i < 1000; ++i) balancer.remember_affinity("old" + std::to_string(i), "b-1");
  clock_.advance_ms(3'600'001);
  for (int i = 0; i < 100; ++i) balancer.remember_affinity("new" + std::to_string(i), "b-1");
  EXPECT_LE(balancer.affinity_size(), 1000u);
  EXPECT_TRUE(balancer.affinity("new5"));
  EXPECT_FALSE(balancer.affinity("old5"));
}

TEST_F(BalancerTest, StrategyChangesAtRunTime) {
  add("b-1", 10, 3);
  add("b-2", 10, 1);
  auto balancer = make(config::Strategy::kRoundRobin);
  EXPECT_EQ(pick(balancer), "b-1");
  BalancerSettings s = balancer.settings();
  s.strategy = config::Strategy::kLeastConnections;
  balancer.set_settings(s);
  EXPECT_EQ(pick(balancer), "b-2");
  EXPECT_EQ(pick(balancer), "b-2");
}

}  // namespace
}  // namespace webstream::registry
