#pragma once
// Balancer: picks a backend for a new session (CONTRACT §4 "Routing a new session"). Pure decisions over a
// Snapshot plus the balancer's own small state (the round-robin position, smooth-weighted current weights,
// the affinity table); no I/O. Time comes from the injected Clock (heartbeat freshness, affinity expiry).
//
// Candidates: Healthy/Suspect, heartbeat fresh, status Ready (any case), load < maxSessions (load =
// max(pinned, reported activeSessions)), every required tag and capability present (exact, case-sensitive
// match). Then:
//   - affinity first: a key (user + workspace) remembered within sessionAffinityTimeout goes back to its
//     backend if that is still a candidate;
//   - RoundRobin: the next candidate after the last one picked, in id order (stable when backends come
//     and go);
//   - LeastConnections: least load; ties by lowest load/maxSessions; remaining ties rotate like RoundRobin;
//   - Weighted: smooth weighted round robin (as nginx), weight = maxSessions, or N for a tag "weight=N"
//     (1 <= N <= 1000000; another value is ignored).
// No candidate: 503 no_backend_available, Retry-After 5 (store::no_backend_available).
//
// Thread rules: not thread-safe; the Registry calls it under its mutex (picks change RR/weighted state).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "registry/snapshot.hpp"

namespace webstream::registry {

struct Requirements {
  std::vector<std::string> tags;
  std::vector<std::string> capabilities;
};

struct BalancerSettings {
  config::Strategy strategy = config::Strategy::kLeastConnections;
  Millis affinity_timeout_ms = 3'600'000;  // loadBalancing.sessionAffinityTimeout

  static BalancerSettings from_config(const config::LoadBalancingConfig& c);
};

class Balancer {
 public:
  Balancer(BalancerSettings settings, const Clock& clock);

  // Run-time change (SIGHUP). A new strategy starts from a clean rotation; the affinity table stays.
  void set_settings(BalancerSettings settings);
  const BalancerSettings& settings() const { return settings_; }

  // Whether `b` may receive a new session at `now`.
  static bool is_candidate(const Snapshot& snapshot, const Backend& b, const Requirements& req, Millis now);
  // The weight for Weighted: N from a "weight=N" tag, else maxSessions.
  static std::int64_t weight(const Backend& b);

  // Picks a candidate not in `exclude`. Does not remember affinity (see remember_affinity()).
  Result<BackendPtr> pick(const Snapshot& snapshot, const Requirements& req, std::string_view affinity_key,
                          const std::vector<std::string>& exclude = {});

  // `key` (user + workspace) had a session on `backend_id` now; it expires after the affinity timeout.
  void remember_affinity(const std::string& key, const std::string& backend_id);
  // The remembered, unexpired backend for `key`.
  std::optional<std::string> affinity(std::string_view key) const;
  // Drops the rotation state and affinities of a backend that is gone.
  void forget_backend(const std::string& backend_id);
  std::size_t affinity_size() const { return affinity_.size(); }

 private:
  struct Affinity {
    std::string backend_id;
    Millis expires_at = 0;
  };
  const Backend* round_robin(const std::vector<const Backend*>& c);
  const Backend* least_connections(const std::vector<const Backend*>& c);
  const Backend* weighted(const std::vector<const Backend*>& c);
  void purge_expired(Millis now);

  BalancerSettings settings_;
  const Clock& clock_;
  std::string last_rotated_;                               // id last picked by RR / LC tie rotation
  std::unordered_map<std::string, std::int64_t> current_;  // smooth weighted: current weight per id
  std::unordered_map<std::string, Affinity> affinity_;     // key → backend, with expiry
  std::size_t purge_at_size_ = 1024;                       // purge expired affinities at this size
};

}  // namespace webstream::registry
