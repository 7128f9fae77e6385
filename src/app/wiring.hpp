#pragma once
// Wiring: builds the gateway's components in dependency order and registers their routes.
// store → iam (keys, users, resources) → auth → registry (+ prober) → sessions → proxy → licence → mcp.
#include <memory>
#include <string>

#include "config/config.hpp"
#include "core/error.hpp"
#include "http/lifecycle.hpp"
#include "http/router.hpp"
#include "http/tls_context.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/workers.hpp"
#include "store/store_provider.hpp"

namespace webstream::app {

struct WiringContext {
  const config::Config& config;
  bool access_management_only;   // webstream -am: serve the IAM only
  store::StoreProvider& stores;  // SQLite or PostgreSQL (config.storage.provider)
  runtime::Workers& workers;
  runtime::BlockingPool& blocking;
  http::Router& router;
  http::Lifecycle* lifecycle;  // the server's: relays register their 1001 close here
};

struct Components;  // components.hpp: owns every component

// The routes every listener has, whatever the mode: GET /gateway/health (both listeners, no auth, no store)
// and GET /metrics (the internal listener only).
void register_base_routes(http::Router& router);

Result<std::unique_ptr<Components>> build_components(WiringContext& ctx);
void start_components(Components& c);
// SIGHUP: re-reads the config file; a bad one is refused with a log line and the old settings stay.
void reload(Components& c, const std::string& config_path, http::TlsContextProvider* tls);
void stop_components_accepting(Components& c);
void stop_components(Components& c);
void flush_components(Components& c);

}  // namespace webstream::app
