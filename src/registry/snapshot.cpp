#include "registry/snapshot.hpp"

#include <algorithm>

namespace webstream::registry {

BackendPtr Snapshot::find_ptr(std::string_view id) const {
  auto it = std::lower_bound(backends.begin(), backends.end(), id,
                             [](const BackendPtr& b, std::string_view key) { return b->id < key; });
  if (it == backends.end() || (*it)->id != id) return nullptr;
  return *it;
}

const Backend* Snapshot::find(std::string_view id) const { return find_ptr(id).get(); }

}  // namespace webstream::registry
