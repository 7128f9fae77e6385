#pragma once
// The registry's metrics (CONTRACT §10 "backends by state"), in one list:
//   webstream_backends{state="unknown|healthy|suspect|unreachable"}  gauge, computed at scrape time
//   webstream_backends_routable                                       gauge: Healthy/Suspect, heartbeat fresh
//   webstream_health_probes_total{result="success|failure"}           counter (Registry::record_probe)
//
// Thread rules: the collector reads the published snapshot (lock-free) and holds the registry's publisher
// weakly, so a scrape after the registry is gone renders nothing for it.
#include <string>

#include "core/clock.hpp"
#include "observability/metrics.hpp"
#include "registry/registry.hpp"

namespace webstream::registry {

// Adds the scrape-time collector for `registry` to `metrics`.
void add_registry_metrics(metrics::Registry& metrics, const Registry& registry, const Clock& clock);
// The rendered families for one snapshot (what the collector appends).
std::string render_backend_metrics(const Snapshot& snapshot, Millis now);

}  // namespace webstream::registry
