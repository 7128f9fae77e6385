#pragma once
// Backend: one registered session host as the registry knows it (CONTRACT §4). A plain value: the
// registry builds a new one for every change and publishes it in an immutable Snapshot, so a reader never
// sees one half-updated.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "registry/health_state.hpp"

namespace webstream::registry {

inline constexpr std::int64_t kMaxSessionsLimit = 100'000;  // CONTRACT §4: maxSessions 0..100000
inline constexpr std::string_view kBackendIdPrefix = "b-";  // ids are "b-" + 32 hex (core/ids random_id)

struct Backend {
  std::string id;                 // "b-…", stable for the life of the serverUrl's registration
  std::string server_url;         // normalised absolute http(s) URL, no trailing '/'; the identity
  std::int64_t max_sessions = 0;  // 0..100000; 0: never gets a session
  std::string instance_type;
  std::string ec2_instance_id;
  std::vector<std::string> tags;
  std::vector<std::string> capabilities;
  std::string version;
  std::string status = "Ready";      // as reported; only "Ready" (any case) receives new sessions
  std::int64_t active_sessions = 0;  // as reported by the last heartbeat
  double cpu_usage = 0;
  double memory_usage = 0;
  Millis registered_at = 0;
  Millis last_heartbeat_at = 0;  // gateway clock when the last register/heartbeat arrived
  std::string owner_key;         // NAME of the backend key that registered it; "" when keys are off
  HealthRecord health;           // probe state (not persisted); in a Snapshot the state is current,
                                 // the counters are as of the last publish
  std::int64_t pinned = 0;       // live sessions this gateway has pinned here (not persisted)

  // CONTRACT §4: load = max(sessions pinned here, last reported activeSessions).
  std::int64_t load() const { return std::max(pinned, active_sessions); }
  bool status_ready() const;
  bool has_tag(std::string_view tag) const;
  bool has_capability(std::string_view capability) const;
};

}  // namespace webstream::registry
