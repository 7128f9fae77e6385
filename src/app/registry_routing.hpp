#pragma once
// RegistryRouting: the sessions component's view of the backend registry (sessions::BackendRouting over
// registry::Registry). Reads come from the registry's lock-free snapshot.
#include "registry/registry.hpp"
#include "sessions/backend_routing.hpp"

namespace webstream::app {

class RegistryRouting final : public sessions::BackendRouting {
 public:
  explicit RegistryRouting(registry::Registry& registry) : registry_(registry) {}

  // sessions::BackendRouting
  Result<sessions::PickedBackend> pick(const sessions::BackendRequirements& requirements,
                                       const std::string& affinity_key,
                                       const std::vector<std::string>& exclude) override {
    auto picked =
        registry_.pick(registry::Requirements{requirements.tags, requirements.capabilities}, affinity_key, exclude);
    if (!picked) return picked.error();
    const auto& b = *picked.value();
    return sessions::PickedBackend{b.id, b.max_sessions, b.active_sessions};
  }
  std::optional<sessions::BackendLocation> locate(const std::string& backend_id) override {
    auto b = registry_.find(backend_id);
    if (!b) return std::nullopt;
    return sessions::BackendLocation{b->id, b->server_url, registry_.is_routable(backend_id)};
  }
  void add_pinned(const std::string& backend_id, int delta) override { registry_.add_pinned(backend_id, delta); }
  void remember_affinity(const std::string& affinity_key, const std::string& backend_id) override {
    registry_.remember_affinity(affinity_key, backend_id);
  }

 private:
  registry::Registry& registry_;
};

}  // namespace webstream::app
