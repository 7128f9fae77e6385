#include "registry/registry.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <thread>

#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace webstream::registry {
namespace {

using testing::FakeClock;

// An in-memory RegistryStore that can be told to fail, and counts writes.
class FakeStore final : public store::RegistryStore {
 public:
  Status upsert(const std::vector<store::BackendRow>& rows) override {
    std::lock_guard lock(mutex_);
    if (fail) return Error::internal("disk full");
    for (const auto& r : rows) rows_[r.id] = r;
    upserts += rows.size();
    return Status::success();
  }
  Status remove(const std::string& id) override {
    std::lock_guard lock(mutex_);
    if (fail) return Error::internal("disk full");
    rows_.erase(id);
    return Status::success();
  }
  Result<std::vector<store::BackendRow>> load_all() override {
    std::lock_guard lock(mutex_);
    std::vector<store::BackendRow> out;
    for (const auto& [id, r] : rows_) out.push_back(r);
    return out;
  }
  std::optional<store::BackendRow> row(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = rows_.find(id);
    if (it == rows_.end()) return std::nullopt;
    return it->second;
  }
  std::size_t size() {
    std::lock_guard lock(mutex_);
    return rows_.size();
  }

  std::atomic<bool> fail{false};
  std::atomic<std::size_t> upserts{0};

 private:
  std::mutex mutex_;
  std::map<std::string, store::BackendRow> rows_;
};

RegistrySettings settings() {
  RegistrySettings s;
  s.balancing.strategy = config::Strategy::kLeastConnections;
  s.heartbeat_interval_s = 10;
  return s;
}

BackendReport report(const std::string& url, std::int64_t max_sessions = 10) {
  BackendReport r;
  r.server_url = url;
  r.max_sessions = max_sessions;
  r.instance_type = "g4dn.xlarge";
  r.tags = std::vector<std::string>{"gpu"};
  r.capabilities = std::vector<std::string>{"h264"};
  r.version = "1.0";
  return r;
}

class RegistryTest : public ::testing::Test {
 protected:
  // Brings a backend to Healthy with two successful probes.
  void make_healthy(const std::string& id) {
    for (int i = 0; i < 2; ++i) ASSERT_TRUE(registry_.record_probe(id, true, clock_.now_ms()));
  }

  FakeClock clock_;
  FakeStore store_;
  Registry registry_{settings(), store_, clock_};
};

TEST_F(RegistryTest, RegisterGivesAnIdWritesTheStoreAndCountsAsHeartbeat) {
  auto id = registry_.register_backend(report("http://10.0.0.1:8080"), "");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->rfind("b-", 0), 0u);
  EXPECT_EQ(id->size(), 2u + 32u);
  auto b = registry_.find(*id);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->server_url, "http://10.0.0.1:8080");
  EXPECT_EQ(b->max_sessions, 10);
  EXPECT_EQ(b->instance_type, "g4dn.xlarge");
  EXPECT_EQ(b->tags, std::vector<std::string>{"gpu"});
  EXPECT_EQ(b->status, "Ready");
  EXPECT_EQ(b->last_heartbeat_at, clock_.now_ms());
  EXPECT_EQ(b->registered_at, clock_.now_ms());
  EXPECT_EQ(b->health.state, HealthState::kUnknown);  // probed before routing
  auto row = store_.row(*id);
  ASSERT_TRUE(row);  // written before answering
  EXPECT_EQ(row->server_url, "http://10.0.0.1:8080");
  EXPECT_EQ(registry_.pending_writes(), 0u);
}

TEST_F(RegistryTest, SyncFromTheStoreTakesInWhatAnotherGatewayRegisteredHeartbeatAndUnregistered) {
  Registry other{settings(), store_, clock_};  // a second gateway on the same store
  std::vector<std::string> ended;
  registry_.on_unregistered([&](const std::string& id) { ended.push_back(id); });
  auto id = other.register_backend(report("http://10.0.0.9:8080"), "").value();
  EXPECT_FALSE(registry_.find(id));
  ASSERT_TRUE(registry_.sync_from_store());
  ASSERT_TRUE(registry_.find(id));
  EXPECT_EQ(registry_.find(id)->health.state, HealthState::kUnknown);  // probed here before routing here

  clock_.advance_ms(3'000);
  auto beat = report("http://10.0.0.9:8080");
  beat.active_sessions = 7;
  ASSERT_TRUE(other.heartbeat(beat, ""));
  ASSERT_TRUE(other.flush());
  ASSERT_TRUE(registry_.sync_from_store());
  EXPECT_EQ(registry_.find(id)->last_heartbeat_at, clock_.now_ms());
  EXPECT_EQ(registry_.find(id)->active_sessions, 7);

  ASSERT_TRUE(other.unregister("http://10.0.0.9:8080", ""));
  ASSERT_TRUE(registry_.sync_from_store());
  EXPECT_FALSE(registry_.find(id));
  EXPECT_EQ(ended, std::vector<std::string>{id});  // its sessions here end too
}

TEST_F(RegistryTest, SyncKeepsAHeartbeatNotWrittenYet) {
  auto id = registry_.register_backend(report("http://10.0.0.8:8080"), "").value();
  ASSERT_TRUE(store_.remove(id));                                        // as if the row went away, while…
  ASSERT_TRUE(registry_.heartbeat(report("http://10.0.0.8:8080"), ""));  // …a heartbeat here is not flushed yet
  ASSERT_TRUE(registry_.sync_from_store());
  EXPECT_TRUE(registry_.find(id));  // kept: the next flush writes it back
  ASSERT_TRUE(registry_.flush());
  EXPECT_TRUE(store_.row(id));
}

TEST_F(RegistryTest, RegisteringAgainUpdatesTheSameBackend) {
  auto first = registry_.register_backend(report("http://h:1", 10), "").value();
  clock_.advance_ms(5'000);
  auto again = report("http://h:1", 20);
  again.tags = std::vector<std::string>{"cpu"};
  again.instance_type.reset();  // absent: stays as it was
  auto second = registry_.register_backend(again, "").value();
  EXPECT_EQ(first, second);
  EXPECT_EQ(registry_.snapshot()->backends.size(), 1u);
  auto b = registry_.find(first);
  EXPECT_EQ(b->max_sessions, 20);
  EXPECT_EQ(b->tags, std::vector<std::string>{"cpu"});
  EXPECT_EQ(b->instance_type, "g4dn.xlarge");
  EXPECT_EQ(b->last_heartbeat_at, clock_.now_ms());
  EXPECT_EQ(store_.row(first)->max_sessions, 20);
}

TEST_F(RegistryTest, HeartbeatRefreshesInMemoryAndFlushWritesIt) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  const auto writes = store_.upserts.load();
  clock_.advance_ms(10'000);
  BackendReport hb;
  hb.server_url = "http://h:1";
  hb.status = "Draining";
  hb.active_sessions = 4;
  hb.cpu_usage = 55.5;
  hb.memory_usage = 20;
  ASSERT_TRUE(registry_.heartbeat(hb, ""));
  auto b = registry_.find(id);
  EXPECT_EQ(b->status, "Draining");
  EXPECT_EQ(b->active_sessions, 4);
  EXPECT_DOUBLE_EQ(b->cpu_usage, 55.5);
  EXPECT_EQ(b->max_sessions, 10);  // absent fields stay
  EXPECT_EQ(b->last_heartbeat_at, clock_.now_ms());
  EXPECT_EQ(store_.upserts.load(), writes);  // not yet written
  EXPECT_EQ(registry_.pending_writes(), 1u);
  ASSERT_TRUE(registry_.flush());
  EXPECT_EQ(registry_.pending_writes(), 0u);
  EXPECT_EQ(store_.row(id)->status, "Draining");
  EXPECT_EQ(store_.row(id)->last_heartbeat_at, clock_.now_ms());
}

TEST_F(RegistryTest, HeartbeatFromUnknownServerUrlRegistersIt) {
  auto hb = report("http://new:1", 8);
  auto id = registry_.heartbeat(hb, "");
  ASSERT_TRUE(id);
  auto b = registry_.find(*id);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->max_sessions, 8);
  EXPECT_EQ(b->health.state, HealthState::kUnknown);
  EXPECT_FALSE(store_.row(*id));  // batched
  ASSERT_TRUE(registry_.flush());
  EXPECT_TRUE(store_.row(*id));
  // A second heartbeat keeps the id.
  EXPECT_EQ(registry_.heartbeat(hb, "").value(), *id);
}

TEST_F(RegistryTest, UnregisterRemovesNotifiesAndDeletes) {
  std::vector<std::string> ended;
  registry_.on_unregistered([&](const std::string& id) { ended.push_back(id); });
  int membership = 0;
  registry_.on_membership_changed([&] { ++membership; });
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  EXPECT_EQ(membership, 1);
  auto removed = registry_.unregister("http://h:1", "");
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->value_or(""), id);
  EXPECT_EQ(ended, std::vector<std::string>{id});
  EXPECT_EQ(membership, 2);
  EXPECT_FALSE(registry_.find(id));
  EXPECT_FALSE(store_.row(id));
  // Unknown: fine, nothing to end.
  auto unknown = registry_.unregister("http://h:1", "");
  ASSERT_TRUE(unknown);
  EXPECT_FALSE(unknown->has_value());
  EXPECT_EQ(ended.size(), 1u);
}

TEST_F(RegistryTest, UnregisterListenerMayCallBackIntoTheRegistry) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  registry_.on_unregistered([&](const std::string& gone) {
    registry_.add_pinned(gone, -1);  // as the sessions component does while ending sessions
    EXPECT_FALSE(registry_.find(gone));
  });
  ASSERT_TRUE(registry_.unregister("http://h:1", ""));
}

TEST_F(RegistryTest, ABackendBelongsToTheKeyThatRegisteredIt) {
  auto id = registry_.register_backend(report("http://h:1"), "hosts-eu").value();
  EXPECT_EQ(registry_.find(id)->owner_key, "hosts-eu");
  const auto version = registry_.snapshot()->version;

  BackendReport hb;
  hb.server_url = "http://h:1";
  hb.status = "Maintenance";
  auto wrong = registry_.heartbeat(hb, "hosts-us");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().status, 403);
  EXPECT_EQ(wrong.error().code, "forbidden");
  auto wrong_unregister = registry_.unregister("http://h:1", "hosts-us");
  ASSERT_FALSE(wrong_unregister);
  EXPECT_EQ(wrong_unregister.error().status, 403);
  auto wrong_register = registry_.register_backend(report("http://h:1", 99), "hosts-us");
  ASSERT_FALSE(wrong_register);
  EXPECT_EQ(wrong_register.error().status, 403);
  // Nothing changed.
  EXPECT_EQ(registry_.snapshot()->version, version);
  EXPECT_EQ(registry_.find(id)->status, "Ready");
  EXPECT_EQ(registry_.find(id)->max_sessions, 10);
  EXPECT_EQ(registry_.pending_writes(), 0u);

  EXPECT_TRUE(registry_.heartbeat(hb, "hosts-eu"));
  EXPECT_EQ(registry_.find(id)->status, "Maintenance");
  EXPECT_TRUE(registry_.heartbeat(hb, ""));  // no keys configured (any more): allowed
  EXPECT_TRUE(registry_.unregister("http://h:1", "hosts-eu"));
}

TEST_F(RegistryTest, BackendRegisteredWithoutKeyIsAdoptedByTheFirstKey) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  BackendReport hb;
  hb.server_url = "http://h:1";
  ASSERT_TRUE(registry_.heartbeat(hb, "hosts-eu"));
  EXPECT_EQ(registry_.find(id)->owner_key, "hosts-eu");
  EXPECT_FALSE(registry_.heartbeat(hb, "hosts-us"));
}

TEST_F(RegistryTest, SnapshotsAreImmutableAndVersioned) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  auto before = registry_.snapshot();
  BackendReport hb;
  hb.server_url = "http://h:1";
  hb.active_sessions = 7;
  ASSERT_TRUE(registry_.heartbeat(hb, ""));
  auto after = registry_.snapshot();
  EXPECT_GT(after->version, before->version);
  EXPECT_EQ(before->find(id)->active_sessions, 0);
  EXPECT_EQ(after->find(id)->active_sessions, 7);
}

TEST_F(RegistryTest, PinsCountTowardsLoadAndNeverGoNegative) {
  auto id = registry_.register_backend(report("http://h:1", 2), "").value();
  make_healthy(id);
  ASSERT_TRUE(registry_.pick({}, ""));
  registry_.add_pinned(id, 1);
  registry_.add_pinned(id, 1);
  EXPECT_EQ(registry_.find(id)->load(), 2);
  auto full = registry_.pick({}, "");
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error().code, "no_backend_available");
  registry_.add_pinned(id, -1);
  EXPECT_TRUE(registry_.pick({}, ""));
  registry_.add_pinned(id, -5);
  EXPECT_EQ(registry_.find(id)->pinned, 0);
  registry_.add_pinned("b-unknown", 1);  // ignored
}

TEST_F(RegistryTest, ProbeResultsDriveStateAndRouting) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  EXPECT_FALSE(registry_.is_routable(id));
  EXPECT_FALSE(registry_.pick({}, ""));  // Unknown: not before probes
  auto delay = registry_.record_probe(id, true, clock_.now_ms());
  ASSERT_TRUE(delay);
  EXPECT_EQ(*delay, 1'000);
  delay = registry_.record_probe(id, true, clock_.now_ms());
  EXPECT_EQ(*delay, 10'000);
  EXPECT_EQ(registry_.find(id)->health.state, HealthState::kHealthy);
  EXPECT_TRUE(registry_.is_routable(id));
  auto picked = registry_.pick({{"gpu"}, {"h264"}}, "");
  ASSERT_TRUE(picked);
  EXPECT_EQ((*picked)->id, id);
  // A hanging probe reported after its timeout is a failure.
  const Millis started = clock_.now_ms();
  clock_.advance_ms(8'000);
  registry_.record_probe(id, true, started);
  EXPECT_EQ(registry_.find(id)->health.state, HealthState::kSuspect);
  EXPECT_TRUE(registry_.is_routable(id));
  for (int i = 0; i < 3; ++i) registry_.record_probe(id, false, clock_.now_ms());
  EXPECT_EQ(registry_.find(id)->health.state, HealthState::kUnreachable);
  EXPECT_FALSE(registry_.is_routable(id));
  EXPECT_FALSE(registry_.record_probe("b-gone", true, clock_.now_ms()));
}

TEST_F(RegistryTest, StaleHeartbeatIsNotRoutable) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  make_healthy(id);
  clock_.advance_ms(29'999);
  EXPECT_TRUE(registry_.is_routable(id));
  clock_.advance_ms(1);
  EXPECT_FALSE(registry_.is_routable(id));
  EXPECT_FALSE(registry_.pick({}, ""));
  BackendReport hb;
  hb.server_url = "http://h:1";
  ASSERT_TRUE(registry_.heartbeat(hb, ""));
  EXPECT_TRUE(registry_.is_routable(id));
}

TEST_F(RegistryTest, AffinityThroughTheRegistry) {
  auto a = registry_.register_backend(report("http://a:1"), "").value();
  auto b = registry_.register_backend(report("http://b:1"), "").value();
  make_healthy(a);
  make_healthy(b);
  registry_.add_pinned(b, 3);
  EXPECT_EQ(registry_.pick({}, "u|w").value()->id, a);  // least connections
  registry_.remember_affinity("u|w", b);
  EXPECT_EQ(registry_.pick({}, "u|w").value()->id, b);
  ASSERT_TRUE(registry_.unregister("http://b:1", ""));
  EXPECT_EQ(registry_.pick({}, "u|w").value()->id, a);
}

TEST_F(RegistryTest, SettingsChangeAtRunTime) {
  auto a = registry_.register_backend(report("http://a:1"), "").value();
  auto b = registry_.register_backend(report("http://b:1"), "").value();
  make_healthy(a);
  make_healthy(b);
  registry_.add_pinned(a, 1);
  EXPECT_EQ(registry_.pick({}, "").value()->id, b);
  EXPECT_EQ(registry_.pick({}, "").value()->id, b);  // LeastConnections
  auto s = settings();
  s.balancing.strategy = config::Strategy::kRoundRobin;
  s.heartbeat_interval_s = 2;
  s.health.interval_ms = 30'000;
  registry_.set_settings(s);
  const auto first = registry_.pick({}, "").value()->id;
  const auto second = registry_.pick({}, "").value()->id;
  EXPECT_NE(first, second);  // RoundRobin alternates
  EXPECT_EQ(registry_.heartbeat_interval_s(), 2);
  EXPECT_EQ(registry_.snapshot()->heartbeat_stale_after_ms, 6'000);
  EXPECT_EQ(registry_.record_probe(a, true, clock_.now_ms()).value(), 30'000);
  clock_.advance_ms(6'000);
  EXPECT_FALSE(registry_.is_routable(a));  // stale at 3 × 2 s
}

TEST_F(RegistryTest, FailedRegistrationWriteIsRetriedByFlush) {
  store_.fail = true;
  auto id = registry_.register_backend(report("http://h:1"), "");
  ASSERT_FALSE(id);
  EXPECT_EQ(id.error().status, 500);
  ASSERT_EQ(registry_.snapshot()->backends.size(), 1u);  // memory keeps it
  EXPECT_EQ(registry_.pending_writes(), 1u);
  EXPECT_FALSE(registry_.flush());
  EXPECT_EQ(registry_.pending_writes(), 1u);
  store_.fail = false;
  ASSERT_TRUE(registry_.flush());
  EXPECT_EQ(store_.size(), 1u);
  EXPECT_EQ(registry_.pending_writes(), 0u);
}

TEST_F(RegistryTest, FailedUnregisterDeleteIsRetriedByFlush) {
  auto id = registry_.register_backend(report("http://h:1"), "").value();
  store_.fail = true;
  ASSERT_TRUE(registry_.unregister("http://h:1", ""));  // memory: gone at once
  EXPECT_FALSE(registry_.find(id));
  EXPECT_TRUE(store_.row(id));
  store_.fail = false;
  ASSERT_TRUE(registry_.flush());
  EXPECT_FALSE(store_.row(id));
}

TEST_F(RegistryTest, FlushNeverResurrectsAnUnregisteredBackend) {
  BackendReport hb = report("http://h:1");
  auto id = registry_.heartbeat(hb, "").value();  // dirty, not stored
  ASSERT_TRUE(registry_.unregister("http://h:1", ""));
  ASSERT_TRUE(registry_.flush());
  EXPECT_FALSE(store_.row(id));
}

TEST_F(RegistryTest, DescribeListsBackendsWithoutSecrets) {
  auto id = registry_.register_backend(report("http://h:1"), "hosts-eu").value();
  registry_.add_pinned(id, 2);
  auto all = registry_.describe();
  ASSERT_EQ(all.size(), 1u);
  const auto& o = all[0].as_object();
  EXPECT_EQ(o.at("backendId").as_string(), id);
  EXPECT_EQ(o.at("serverUrl").as_string(), "http://h:1");
  EXPECT_EQ(o.at("state").as_string(), "Unknown");
  EXPECT_EQ(o.at("status").as_string(), "Ready");
  EXPECT_EQ(o.at("load").as_int64(), 2);
  EXPECT_EQ(o.at("maxSessions").as_int64(), 10);
  EXPECT_EQ(o.at("tags").as_array().size(), 1u);
  EXPECT_EQ(o.at("capabilities").as_array().size(), 1u);
  EXPECT_TRUE(o.at("lastHeartbeatAt").is_string());
  EXPECT_EQ(o.at("keyName").as_string(), "hosts-eu");  // the key's name, never the key
}

TEST_F(RegistryTest, ConcurrentHeartbeatsAndLockFreeReaders) {
  std::vector<std::string> urls;
  for (int i = 0; i < 8; ++i) {
    urls.push_back("http://h:" + std::to_string(1000 + i));
    ASSERT_TRUE(registry_.register_backend(report(urls.back()), ""));
  }
  std::atomic<bool> done{false};
  std::atomic<long> reads{0};
  std::thread reader([&] {
    while (!done) {
      auto snap = registry_.snapshot();
      EXPECT_EQ(snap->backends.size(), 8u);
      for (const auto& b : snap->backends) EXPECT_GE(b->active_sessions, 0);
      ++reads;
    }
  });
  // The writers start once the reader is reading: on a loaded machine the reader thread could otherwise be
  // scheduled only after every write (the test then failed with no read at all, 2026-12-04 under ctest -j 4).
  while (reads.load() == 0) std::this_thread::yield();
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        BackendReport hb;
        hb.server_url = urls[(t + i) % urls.size()];
        hb.active_sessions = i % 5;
        ASSERT_TRUE(registry_.heartbeat(hb, ""));
        registry_.add_pinned(registry_.snapshot()->backends[i % 8]->id, (i % 2) ? 1 : -1);
        if (i % 100 == 0) {
          ASSERT_TRUE(registry_.flush());
        }
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  reader.join();
  EXPECT_GT(reads.load(), 0);
  ASSERT_TRUE(registry_.flush());
  EXPECT_EQ(store_.size(), 8u);
}

TEST(RegistryRestart, BackendsSurviveAndStartUnknown) {
  FakeClock clock;
  auto db = store::SqliteDb::open(":memory:").value();
  auto store = store::SqliteRegistryStore::open(*db).value();
  std::string id;
  {
    Registry registry(settings(), *store, clock);
    id = registry.register_backend(report("http://h:1", 12), "hosts-eu").value();
    for (int i = 0; i < 2; ++i) registry.record_probe(id, true, clock.now_ms());
    registry.add_pinned(id, 3);
    BackendReport hb;
    hb.server_url = "http://h:1";
    hb.active_sessions = 2;
    clock.advance_ms(1'000);
    ASSERT_TRUE(registry.heartbeat(hb, "hosts-eu"));
    ASSERT_TRUE(registry.flush());  // at stop
  }
  Registry restarted(settings(), *store, clock);
  int membership = 0;
  restarted.on_membership_changed([&] { ++membership; });
  ASSERT_TRUE(restarted.load());
  EXPECT_EQ(membership, 1);
  auto b = restarted.find(id);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->server_url, "http://h:1");
  EXPECT_EQ(b->max_sessions, 12);
  EXPECT_EQ(b->active_sessions, 2);
  EXPECT_EQ(b->owner_key, "hosts-eu");
  EXPECT_EQ(b->last_heartbeat_at, clock.now_ms());
  EXPECT_EQ(b->health.state, HealthState::kUnknown);  // probed before routing
  EXPECT_EQ(b->pinned, 0);                            // the sessions component re-counts
  EXPECT_FALSE(restarted.pick({}, ""));
  // The same serverUrl keeps its id after the restart.
  EXPECT_EQ(restarted.register_backend(report("http://h:1"), "hosts-eu").value(), id);
  EXPECT_EQ(restarted.register_backend(report("http://h:1"), "hosts-us").error().status, 403);
}

}  // namespace
}  // namespace webstream::registry
