#pragma once
// RegistryStore: the backend registry's durable part (CONTRACT §4: "the registry survives a gateway
// restart"). One row per backend, keyed by backendId, unique by serverUrl. Health state and the gateway's
// pin counts are NOT stored: after a restart every backend starts Unknown and is probed before routing,
// and the sessions component re-counts its pins.
//
// Thread rules: implementations are thread-safe. Every call may block on disk (fsync): callers on I/O
// threads go through runtime::BlockingPool.
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

struct BackendRow {
  std::string id;          // "b-…"
  std::string server_url;  // normalised; the backend's identity
  std::int64_t max_sessions = 0;
  std::string instance_type;
  std::string ec2_instance_id;
  std::vector<std::string> tags;
  std::vector<std::string> capabilities;
  std::string version;
  std::string status;
  std::int64_t active_sessions = 0;
  double cpu_usage = 0;
  double memory_usage = 0;
  Millis registered_at = 0;
  Millis last_heartbeat_at = 0;
  std::string owner_key;  // the NAME of the backend key that registered it ("" when none); never the key
};

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;
  // Inserts or replaces each row (by id) in ONE transaction; a different row holding the same serverUrl is
  // replaced too. All or nothing.
  virtual Status upsert(const std::vector<BackendRow>& rows) = 0;
  // Deletes the row with this id; no row is not an error.
  virtual Status remove(const std::string& id) = 0;
  // Every stored backend, ordered by id.
  virtual Result<std::vector<BackendRow>> load_all() = 0;
};

}  // namespace webstream::store
