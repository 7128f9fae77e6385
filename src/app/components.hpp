#pragma once
// Components: everything the gateway runs, owned in one place. Members are declared in dependency order,
// so they are destroyed in reverse (users before what they use).
#include <memory>
#include <vector>

#include "app/iam_parts.hpp"
#include "app/licence_parts.hpp"
#include "app/registry_routing.hpp"
#include "app/reloadable.hpp"
#include "config/config.hpp"
#include "proxy/assertion.hpp"
#include "proxy/http_forwarder.hpp"
#include "registry/flush_loop.hpp"
#include "registry/health_probe.hpp"
#include "registry/health_prober.hpp"
#include "registry/registry.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/workers.hpp"
#include "sessions/expiry_sweeper.hpp"
#include "sessions/presence_keeper.hpp"
#include "sessions/session_service.hpp"
#include "store/change_feed.hpp"
#include "store/presence_store.hpp"
#include "store/registry_store.hpp"
#include "store/session_store.hpp"

namespace webstream::app {

struct Components {
  explicit Components(const config::Config& c)
      : config(c), backend_keys(c.gateway.backend_keys), mcp_keys(c.mcp.api_keys) {}

  config::Config config;  // the settings in force (SIGHUP swaps the hot-reloadable parts)
  Reloadable<std::vector<config::NamedKey>> backend_keys;
  Reloadable<std::vector<config::NamedKey>> mcp_keys;
  runtime::Workers* workers = nullptr;
  runtime::BlockingPool* blocking = nullptr;

  std::unique_ptr<IamParts> iam;

  std::unique_ptr<store::RegistryStore> registry_store;
  std::unique_ptr<registry::Registry> registry;
  std::unique_ptr<registry::BeastHealthProbe> probe;
  std::unique_ptr<registry::HealthProber> prober;
  std::unique_ptr<registry::FlushLoop> registry_flush;
  std::unique_ptr<RegistryRouting> routing;

  std::unique_ptr<store::SessionStore> session_store;
  std::unique_ptr<store::PresenceStore> presence_store;  // a shared store only
  std::unique_ptr<sessions::SessionService> sessions;
  std::unique_ptr<sessions::ExpirySweeper> sweeper;
  std::unique_ptr<sessions::PresenceKeeper> presence_keeper;  // a shared store only

  std::unique_ptr<proxy::HttpForwarder> forwarder;
  std::unique_ptr<proxy::AssertionCache> assertions;

  std::unique_ptr<LicenceParts> licence;

  // Last: its callback uses the parts above (a shared store only).
  std::unique_ptr<store::ChangeFeed> change_feed;
};

}  // namespace webstream::app
