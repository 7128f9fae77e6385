#pragma once
// The backend registry's HTTP endpoints (CONTRACT §4), internal listener only (Exposure::kInternal):
//   POST /gateway/register    → 200 {"success":true,"backendId":"b-…","heartbeatInterval":10}
//   POST /gateway/heartbeat   → 200 {"success":true}
//   POST /gateway/unregister  → 200 {"success":true}  (also for an unknown serverUrl)
// Errors: 401 unauthorized (X-Backend-Key, when keys are configured; checked before the body is read),
// 400 invalid_request naming the field, 403 forbidden (another key's backend). Unknown fields are ignored.
// The 64 KiB body limit (413) is the server's.
//
// register and unregister write the store, so they run on the BlockingPool; heartbeat only touches memory
// and answers on the I/O thread.
#include <string_view>

#include "http/router.hpp"
#include "registry/backend_keys.hpp"
#include "registry/registry.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::registry {

struct RegistryApiOptions {
  // gateway.allowLinkLocalBackends: accept serverUrls on 169.254.0.0/16 and fe80::/10 (registry/exposure.hpp).
  bool allow_link_local = false;
};

// register and heartbeat refuse a serverUrl on a link-local address (400 naming serverUrl) unless allowed.
void register_routes(http::Router& router, Registry& registry, runtime::BlockingPool& blocking, KeySource backend_keys,
                     RegistryApiOptions options = {});

// Body parsing (exposed for tests): each names the offending field in its 400.
Result<BackendReport> parse_register_body(std::string_view body);
Result<BackendReport> parse_heartbeat_body(std::string_view body);
// The normalised serverUrl of an unregister body.
Result<std::string> parse_unregister_body(std::string_view body);

}  // namespace webstream::registry
