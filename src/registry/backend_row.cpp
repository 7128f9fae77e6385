#include "registry/backend_row.hpp"

namespace webstream::registry {

store::BackendRow to_row(const Backend& b) {
  store::BackendRow r;
  r.id = b.id;
  r.server_url = b.server_url;
  r.max_sessions = b.max_sessions;
  r.instance_type = b.instance_type;
  r.ec2_instance_id = b.ec2_instance_id;
  r.tags = b.tags;
  r.capabilities = b.capabilities;
  r.version = b.version;
  r.status = b.status;
  r.active_sessions = b.active_sessions;
  r.cpu_usage = b.cpu_usage;
  r.memory_usage = b.memory_usage;
  r.registered_at = b.registered_at;
  r.last_heartbeat_at = b.last_heartbeat_at;
  r.owner_key = b.owner_key;
  return r;
}

Backend from_row(const store::BackendRow& r) {
  Backend b;
  b.id = r.id;
  b.server_url = r.server_url;
  b.max_sessions = r.max_sessions;
  b.instance_type = r.instance_type;
  b.ec2_instance_id = r.ec2_instance_id;
  b.tags = r.tags;
  b.capabilities = r.capabilities;
  b.version = r.version;
  b.status = r.status;
  b.active_sessions = r.active_sessions;
  b.cpu_usage = r.cpu_usage;
  b.memory_usage = r.memory_usage;
  b.registered_at = r.registered_at;
  b.last_heartbeat_at = r.last_heartbeat_at;
  b.owner_key = r.owner_key;
  return b;
}

}  // namespace webstream::registry
