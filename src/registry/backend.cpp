#include "registry/backend.hpp"

#include <algorithm>
#include <cctype>

namespace webstream::registry {

bool Backend::status_ready() const {
  constexpr std::string_view kReady = "ready";
  if (status.size() != kReady.size()) return false;
  for (std::size_t i = 0; i < status.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(status[i])) != kReady[i]) return false;
  }
  return true;
}

bool Backend::has_tag(std::string_view tag) const { return std::find(tags.begin(), tags.end(), tag) != tags.end(); }

bool Backend::has_capability(std::string_view capability) const {
  return std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end();
}

}  // namespace webstream::registry
