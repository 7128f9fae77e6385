#include "registry/registry_metrics.hpp"

#include <array>

namespace webstream::registry {

std::string render_backend_metrics(const Snapshot& snapshot, Millis now) {
  constexpr std::array kStates = {HealthState::kUnknown, HealthState::kHealthy, HealthState::kSuspect,
                                  HealthState::kUnreachable};
  std::array<std::int64_t, kStates.size()> counts{};
  std::int64_t routable = 0;
  for (const auto& b : snapshot.backends) {
    ++counts[static_cast<std::size_t>(b->health.state)];
    if (snapshot.routable(*b, now)) ++routable;
  }
  std::string out;
  out += "# HELP webstream_backends Registered backends by health state\n";
  out += "# TYPE webstream_backends gauge\n";
  for (std::size_t i = 0; i < kStates.size(); ++i) {
    out += "webstream_backends{state=\"";
    out += to_label(kStates[i]);
    out += "\"} " + std::to_string(counts[i]) + "\n";
  }
  out += "# HELP webstream_backends_routable Backends that are Healthy or Suspect with a fresh heartbeat\n";
  out += "# TYPE webstream_backends_routable gauge\n";
  out += "webstream_backends_routable " + std::to_string(routable) + "\n";
  return out;
}

void add_registry_metrics(metrics::Registry& metrics, const Registry& registry, const Clock& clock) {
  std::weak_ptr<const SnapshotPublisher> weak = registry.publisher();
  metrics.add_collector([weak, &clock](std::string& out) {
    if (auto publisher = weak.lock()) out += render_backend_metrics(*publisher->current(), clock.now_ms());
  });
}

}  // namespace webstream::registry
