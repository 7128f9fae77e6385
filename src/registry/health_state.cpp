#include "registry/health_state.hpp"

#include <algorithm>

namespace webstream::registry {

const char* to_string(HealthState state) {
  switch (state) {
    case HealthState::kUnknown: return "Unknown";
    case HealthState::kHealthy: return "Healthy";
    case HealthState::kSuspect: return "Suspect";
    case HealthState::kUnreachable: return "Unreachable";
  }
  return "Unknown";
}

const char* to_label(HealthState state) {
  switch (state) {
    case HealthState::kUnknown: return "unknown";
    case HealthState::kHealthy: return "healthy";
    case HealthState::kSuspect: return "suspect";
    case HealthState::kUnreachable: return "unreachable";
  }
  return "unknown";
}

HealthTiming HealthTiming::from_config(const config::HealthCheckConfig& c) {
  HealthTiming t;
  t.interval_ms = static_cast<Millis>(c.interval_s) * 1000;
  t.unstable_interval_ms = static_cast<Millis>(c.unstable_interval_s) * 1000;
  t.timeout_ms = static_cast<Millis>(c.timeout_s) * 1000;
  t.failure_threshold = c.failure_threshold;
  t.success_threshold = c.success_threshold;
  return t;
}

HealthStateMachine::HealthStateMachine(HealthTiming timing) : timing_(timing) {}

HealthRecord HealthStateMachine::on_result(HealthRecord r, bool ok, Millis started_at, Millis now) const {
  if (ok && !timed_out(started_at, now)) return on_success(r, now);
  return on_failure(r, now);
}

HealthRecord HealthStateMachine::on_success(HealthRecord r, Millis now) const {
  r.last_probe_at = now;
  r.consecutive_failures = 0;
  r.backoff_ms = 0;  // an Unreachable backend that answers is confirmed at the fast period
  ++r.consecutive_successes;
  if (r.state != HealthState::kHealthy && r.consecutive_successes >= timing_.success_threshold) {
    r.state = HealthState::kHealthy;
    r.unreachable_since = 0;
  }
  return r;
}

HealthRecord HealthStateMachine::on_failure(HealthRecord r, Millis now) const {
  r.last_probe_at = now;
  r.consecutive_successes = 0;
  ++r.consecutive_failures;
  if (r.state != HealthState::kUnreachable && r.consecutive_failures >= timing_.failure_threshold) {
    r.state = HealthState::kUnreachable;
    r.unreachable_since = now;
    r.backoff_ms = 0;
    return r;
  }
  if (r.state == HealthState::kHealthy) {
    r.state = HealthState::kSuspect;
    return r;
  }
  if (r.state == HealthState::kUnreachable && now - r.unreachable_since >= timing_.backoff_after_ms) {
    const Millis doubled = r.backoff_ms == 0 ? 2 * timing_.unstable_interval_ms : 2 * r.backoff_ms;
    r.backoff_ms = std::max(timing_.unstable_interval_ms, std::min(timing_.interval_ms, doubled));
  }
  return r;
}

Millis HealthStateMachine::next_delay(const HealthRecord& r) const {
  switch (r.state) {
    case HealthState::kHealthy: return timing_.interval_ms;
    case HealthState::kUnreachable: return r.backoff_ms > 0 ? r.backoff_ms : timing_.unstable_interval_ms;
    case HealthState::kUnknown:
    case HealthState::kSuspect: return timing_.unstable_interval_ms;
  }
  return timing_.unstable_interval_ms;
}

}  // namespace webstream::registry
