#pragma once
// BackendRouting: what the sessions component needs from the backend registry. The registry adapter in
// app/ implements it; tests use a fake.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace webstream::sessions {

struct BackendRequirements {
  std::vector<std::string> tags;
  std::vector<std::string> capabilities;
};

struct PickedBackend {
  std::string id;
  std::int64_t max_sessions = 0;
  std::int64_t reported_load = 0;  // last reported activeSessions
};

struct BackendLocation {
  std::string id;
  std::string server_url;  // never sent to the browser
  bool healthy = false;    // routable: Healthy/Suspect and heartbeat fresh
};

class BackendRouting {
 public:
  virtual ~BackendRouting() = default;
  // A candidate backend (affinity first, then the strategy), skipping `exclude`; 503 no_backend_available.
  virtual Result<PickedBackend> pick(const BackendRequirements& requirements, const std::string& affinity_key,
                                     const std::vector<std::string>& exclude) = 0;
  virtual std::optional<BackendLocation> locate(const std::string& backend_id) = 0;
  // The gateway's own pin count per backend (load = max(pinned, reported)).
  virtual void add_pinned(const std::string& backend_id, int delta) = 0;
  // Sticky affinity: the same user + workspace goes back to this backend within the affinity window.
  virtual void remember_affinity(const std::string& affinity_key, const std::string& backend_id) = 0;
};

}  // namespace webstream::sessions
