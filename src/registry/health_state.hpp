#pragma once
// The health-probe state machine of CONTRACT §4 "Health probes", as pure functions: no I/O, no clock of its
// own (every call is given `now`), so tests drive it with exact times.
//
//   Unknown     new; not yet `successThreshold` consecutive successes          (not routable)
//   Healthy     `successThreshold` consecutive successes                        (routable)
//   Suspect     Healthy, then a failure                                        (routable)
//   Unreachable `failureThreshold` consecutive failures, from any state        (not routable)
//
// Invariants:
//   1. consecutive_successes and consecutive_failures are never both > 0: a result resets the other count.
//   2. Any non-Healthy state reaches Healthy only through `successThreshold` consecutive successes.
//   3. unreachable_since != 0 exactly while the state is Unreachable.
//
// Probe period: `interval` once Healthy (a Healthy backend has had no failure since it became Healthy: a
// failure makes it Suspect); `unstableInterval` while Unknown, Suspect or Unreachable; after 60 s
// Unreachable the period doubles with every further failure, up to `interval`.
//
// A probe that has not answered within `timeout` is a failure, whatever it answers later.
//
// Thread rules: HealthStateMachine is immutable; HealthRecord is a plain value owned by its caller.
#include <cstdint>

#include "config/config.hpp"
#include "core/clock.hpp"

namespace webstream::registry {

enum class HealthState { kUnknown, kHealthy, kSuspect, kUnreachable };

// "Unknown", "Healthy", "Suspect", "Unreachable": the contract's spelling (admin views).
const char* to_string(HealthState state);
// "unknown", "healthy", …: Prometheus label values.
const char* to_label(HealthState state);
// Healthy and Suspect may receive new sessions (if their heartbeat is fresh).
inline bool is_routable_state(HealthState s) { return s == HealthState::kHealthy || s == HealthState::kSuspect; }

// Probe timing in milliseconds (config::HealthCheckConfig is in seconds; tests use shorter times).
struct HealthTiming {
  Millis interval_ms = 10'000;          // period once Healthy
  Millis unstable_interval_ms = 1'000;  // period while Unknown / Suspect / Unreachable
  Millis timeout_ms = 8'000;            // a probe slower than this is a failure
  int failure_threshold = 4;            // consecutive failures → Unreachable
  int success_threshold = 2;            // consecutive successes → Healthy
  Millis backoff_after_ms = 60'000;     // Unreachable this long: start backing off

  static HealthTiming from_config(const config::HealthCheckConfig& c);
};

// One backend's probe bookkeeping.
struct HealthRecord {
  HealthState state = HealthState::kUnknown;
  int consecutive_successes = 0;
  int consecutive_failures = 0;
  Millis unreachable_since = 0;  // when it became Unreachable; 0 otherwise
  Millis backoff_ms = 0;         // current backed-off period while long Unreachable; 0: none
  Millis last_probe_at = 0;      // when the last result was recorded; 0: never probed
};

class HealthStateMachine {
 public:
  explicit HealthStateMachine(HealthTiming timing);

  // One probe's outcome. `started_at` is when the probe was sent: an answer later than timeout is a failure.
  HealthRecord on_result(HealthRecord r, bool ok, Millis started_at, Millis now) const;
  HealthRecord on_success(HealthRecord r, Millis now) const;
  HealthRecord on_failure(HealthRecord r, Millis now) const;

  // True when a probe started at `started_at` has run out of time at `now`.
  bool timed_out(Millis started_at, Millis now) const { return now - started_at >= timing_.timeout_ms; }

  // How long to wait after the result just recorded in `r` before the next probe.
  Millis next_delay(const HealthRecord& r) const;

  const HealthTiming& timing() const { return timing_; }

 private:
  const HealthTiming timing_;
};

}  // namespace webstream::registry
