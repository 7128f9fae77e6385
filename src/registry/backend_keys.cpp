#include "registry/backend_keys.hpp"

#include "core/ids.hpp"

namespace webstream::registry {

Result<std::string> check_backend_key(std::string_view presented, const std::vector<config::NamedKey>& keys) {
  if (keys.empty()) return std::string();
  const std::string* matched = nullptr;
  for (const auto& k : keys) {
    const bool equal = !k.key.empty() && constant_time_equals(presented, k.key);
    if (equal && matched == nullptr) matched = &k.name;
  }
  if (matched == nullptr) return Error{401, "unauthorized", "a valid X-Backend-Key header is required"};
  return *matched;
}

KeySource fixed_keys(std::vector<config::NamedKey> keys) {
  auto shared = std::make_shared<const std::vector<config::NamedKey>>(std::move(keys));
  return [shared] { return shared; };
}

}  // namespace webstream::registry
