#include "registry/registry_metrics.hpp"

#include <gtest/gtest.h>

#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace webstream::registry {
namespace {

BackendPtr backend(const std::string& id, HealthState state, Millis heartbeat) {
  auto b = std::make_shared<Backend>();
  b->id = id;
  b->health.state = state;
  b->last_heartbeat_at = heartbeat;
  return b;
}

TEST(RegistryMetrics, BackendsByState) {
  Snapshot s;
  s.heartbeat_stale_after_ms = 30'000;
  const Millis now = 1'000'000;
  s.backends = {backend("b-1", HealthState::kHealthy, now), backend("b-2", HealthState::kHealthy, now - 40'000),
                backend("b-3", HealthState::kSuspect, now), backend("b-4", HealthState::kUnreachable, now),
                backend("b-5", HealthState::kUnknown, now)};
  const std::string text = render_backend_metrics(s, now);
  EXPECT_NE(text.find("# TYPE webstream_backends gauge\n"), std::string::npos);
  EXPECT_NE(text.find("webstream_backends{state=\"unknown\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("webstream_backends{state=\"healthy\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("webstream_backends{state=\"suspect\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("webstream_backends{state=\"unreachable\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("webstream_backends_routable 2\n"), std::string::npos);  // b-2's heartbeat is stale
}

TEST(RegistryMetrics, CollectorFollowsTheRegistryAndOutlivesIt) {
  testing::FakeClock clock;
  metrics::Registry m;
  auto db = store::SqliteDb::open(":memory:").value();
  auto store = store::SqliteRegistryStore::open(*db).value();
  {
    Registry registry(RegistrySettings{}, *store, clock);
    add_registry_metrics(m, registry, clock);
    EXPECT_NE(m.render().find("webstream_backends{state=\"unknown\"} 0\n"), std::string::npos);
    BackendReport r;
    r.server_url = "http://h:1";
    auto id = registry.register_backend(r, "").value();
    EXPECT_NE(m.render().find("webstream_backends{state=\"unknown\"} 1\n"), std::string::npos);
    registry.record_probe(id, true, clock.now_ms());
    registry.record_probe(id, false, clock.now_ms());
    EXPECT_NE(m.render().find("webstream_backends{state=\"unknown\"} 1\n"), std::string::npos);
    registry.record_probe(id, true, clock.now_ms());
    registry.record_probe(id, true, clock.now_ms());
    EXPECT_NE(m.render().find("webstream_backends{state=\"healthy\"} 1\n"), std::string::npos);
    auto& ok = metrics::Registry::global().counter("webstream_health_probes_total", "Backend health probes by result",
                                                   {{"result", "success"}});
    auto& failed = metrics::Registry::global().counter("webstream_health_probes_total",
                                                       "Backend health probes by result", {{"result", "failure"}});
    EXPECT_GE(ok.value(), 3u);
    EXPECT_GE(failed.value(), 1u);
  }
  EXPECT_EQ(m.render().find("webstream_backends{"), std::string::npos);  // registry gone: nothing, no crash
}

}  // namespace
}  // namespace webstream::registry
