#pragma once
// Backend keys (CONTRACT §4): with gateway.backendKeys configured, the registry calls (and the licence
// calls) need an X-Backend-Key header matching one key, compared in constant time; else 401 unauthorized.
// The key's NAME then identifies the caller (a backend belongs to the key name that registered it).
//
// Keys are hot-reloadable (SIGHUP), so handlers take a KeySource and read the current list per request.
//
// Thread rules: pure functions; a KeySource must be callable from any worker thread.
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"

namespace webstream::registry {

using BackendKeys = std::shared_ptr<const std::vector<config::NamedKey>>;
using KeySource = std::function<BackendKeys()>;

inline constexpr std::string_view kBackendKeyHeader = "X-Backend-Key";

// The name of the key equal to `presented`; "" when `keys` is empty (no authentication configured).
// 401 unauthorized when keys are configured and none matches (an absent header is "").
// Every configured key is compared, whatever matched, so the time taken does not tell which one did.
Result<std::string> check_backend_key(std::string_view presented, const std::vector<config::NamedKey>& keys);

// A KeySource that always answers `keys` (tests, and configurations without SIGHUP).
KeySource fixed_keys(std::vector<config::NamedKey> keys);

}  // namespace webstream::registry
