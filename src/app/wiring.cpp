#include "app/wiring.hpp"

#include <unistd.h>

#include "app/components.hpp"
#include "core/ids.hpp"
#include "edge/admin_routes.hpp"
#include "edge/proxy_routes.hpp"
#include "mcp/mcp_proxy.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "portal/portal.hpp"
#include "registry/exposure.hpp"
#include "registry/registry_api.hpp"
#include "registry/registry_metrics.hpp"
#include "sessions/sessions_api.hpp"
#include "store/postgres/pg_change_listener.hpp"

namespace webstream::app {

namespace {

Status build_registry(WiringContext& ctx, Components& c) {
  auto store = ctx.stores.registry();
  if (!store) return store.error();
  c.registry_store = std::move(store.value());
  c.registry = std::make_unique<registry::Registry>(ctx.config.gateway, *c.registry_store, SystemClock::instance());
  if (auto s = c.registry->load(); !s) return s;
  c.probe = std::make_unique<registry::BeastHealthProbe>();
  c.prober = std::make_unique<registry::HealthProber>(ctx.workers.at(0).get_executor(), *c.registry, *c.probe);
  // One gateway: heartbeats are written every 5 s (a restart loses at most that much freshness). Several on
  // one store: every second, and each round also reads what the other gateways wrote.
  const bool shared = ctx.stores.shared();
  c.registry_flush =
      std::make_unique<registry::FlushLoop>(ctx.workers.at(0).get_executor(), ctx.blocking, *c.registry,
                                            shared ? std::chrono::seconds(1) : std::chrono::seconds(5), shared);
  c.routing = std::make_unique<RegistryRouting>(*c.registry);
  registry::add_registry_metrics(metrics::Registry::global(), *c.registry, SystemClock::instance());
  auto* keys = &c.backend_keys;
  const auto& gw = ctx.config.gateway;
  registry::register_routes(
      ctx.router, *c.registry, ctx.blocking, [keys] { return keys->get(); },
      registry::RegistryApiOptions{gw.allow_link_local_backends});
  if (gw.backend_keys.empty() && !registry::is_loopback_bind(gw.internal_ip)) {
    log::warn(
        "no gateway.backendKeys on a non-loopback bind: anyone who reaches this port can register backends "
        "and receive users' sessions; configure backendKeys",
        {{"setting", "gateway.backendKeys"}, {"internalIP", gw.internal_ip}, {"port", gw.port}});
  }
  return Status::success();
}

Status build_sessions(WiringContext& ctx, Components& c) {
  auto store = ctx.stores.sessions();
  if (!store) return store.error();
  c.session_store = std::move(store.value());
  c.sessions = std::make_unique<sessions::SessionService>(ctx.config.gateway.sessions, *c.session_store,
                                                          c.iam->resolver(), *c.routing, SystemClock::instance());
  auto* blocking = &ctx.blocking;
  c.sessions->set_background_writer(
      [blocking](std::function<void()> work) { boost::asio::post(blocking->executor(), std::move(work)); });
  c.sessions->set_shared_store(ctx.stores.shared());
  if (ctx.stores.shared()) {
    // Liveness and WebSocket presence (CONTRACT §12): a new id per process, so a restart is a new gateway.
    auto presence = ctx.stores.presence();
    if (!presence) return presence.error();
    c.presence_store = std::move(presence.value());
    char host[256] = {};
    (void)gethostname(host, sizeof(host) - 1);
    c.sessions->set_presence(c.presence_store.get(), random_id("gw-"),
                             std::string(host) + ":" + std::to_string(getpid()));
  }
  if (auto loaded = c.sessions->load(); !loaded) return loaded;
  if (c.presence_store) {
    if (auto renewed = c.sessions->renew_presence(); !renewed) return renewed;  // alive before it serves
    c.presence_keeper = std::make_unique<sessions::PresenceKeeper>(*c.sessions);
  }
  // Revocation reaches every session: a logout of its selecting token, or its user disabled, deleted or
  // changing password, ends it (and so its WebSockets) within a sweep (CONTRACT §11a).
  c.sessions->set_revocation_check(c.iam->still_valid());
  c.sweeper = std::make_unique<sessions::ExpirySweeper>(*c.sessions, ctx.blocking);
  auto* sessions = c.sessions.get();
  auto* assertions_slot = &c.assertions;
  c.registry->on_unregistered([sessions, blocking](const std::string& backend_id) {
    boost::asio::post(blocking->executor(), [sessions, backend_id] { sessions->end_for_backend(backend_id); });
  });
  (void)assertions_slot;
  sessions::register_session_routes(ctx.router, *c.sessions, ctx.blocking, c.iam->bearer());
  return Status::success();
}

void build_proxy(WiringContext& ctx, Components& c, http::Lifecycle& lifecycle) {
  const auto& limits = ctx.config.gateway.limits;
  c.forwarder =
      std::make_unique<proxy::HttpForwarder>(proxy::ForwarderOptions::from_limits(limits), SystemClock::instance());
  c.assertions = std::make_unique<proxy::AssertionCache>(c.iam->assertion_signer(), SystemClock::instance());
  edge::EdgeAuth auth{c.iam->bearer_shared(), c.iam->token_shared(), c.iam->still_valid()};
  auto* stores = &ctx.stores;
  edge::ProxyRoutesDeps proxy_deps{.sessions = *c.sessions,
                                   .routing = *c.routing,
                                   .forwarder = *c.forwarder,
                                   .assertions = *c.assertions,
                                   .lifecycle = lifecycle,
                                   .relay_options = proxy::RelayOptions::from_limits(limits),
                                   .auth = std::move(auth),
                                   .blocking = &ctx.blocking,
                                   .store_lookups = nullptr,  // the default gate
                                   .store_reachable = [stores] { return stores->reachable(); }};
  edge::register_proxy_routes(ctx.router, std::move(proxy_deps));
  // The keys that verify X-WebStream-Assertion, for session hosts (docs/proxy.md): the IAM's in builtin
  // mode, the gateway's own in standalone/external mode.
  auto* iam = c.iam.get();
  ctx.router.add("GET", "/gateway/.well-known/jwks.json", http::Exposure::kBoth,
                 [iam](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
                   http::Response res = http::json_response(200, iam->assertion_jwks(), ctx.req);
                   res.set(http::bhttp::field::cache_control, "public, max-age=300");
                   co_return res;
                 });
  auto* reg = c.registry.get();
  auto* sessions = c.sessions.get();
  edge::register_admin_routes(ctx.router, edge::AdminRoutesDeps{c.iam->bearer(), [reg] { return reg->describe(); },
                                                                [sessions] { return sessions->describe(); }});
}

Status build_mcp(WiringContext& ctx, Components& c) {
  auto* keys = &c.mcp_keys;
  auto* iam = c.iam.get();
  return mcp::register_mcp_routes(
      ctx.router,
      mcp::McpDeps{[keys] { return keys->get(); }, ctx.config.mcp.metrics_engine_url, *c.forwarder, ctx.router,
                   [iam](const std::string& key, const std::string& method, const std::string& path, unsigned status) {
                     iam->audit_mcp(key, method, path, status);
                   }});
}

// The provider outlives the server that scrapes /metrics (gateway.cpp owns it).
void register_store_collector(const store::StoreProvider& stores) {
  metrics::Registry::global().add_collector([&stores](std::string& out) {
    out += "# HELP webstream_store_up Whether the store answered lately (1) or cannot be reached (0)\n";
    out += "# TYPE webstream_store_up gauge\n";
    out += std::string("webstream_store_up ") + (stores.reachable() ? "1" : "0") + "\n";
  });
}

void register_collectors(Components& c) {
  auto* sessions = c.sessions.get();
  metrics::Registry::global().add_collector([sessions](std::string& out) {
    out += "# HELP webstream_sessions_live Live sessions (reserved or active)\n# TYPE webstream_sessions_live gauge\n";
    const auto counts = sessions->live_counts();
    out += "webstream_sessions_live " + std::to_string(counts.reserved + counts.active) + "\n";
    out += "# HELP webstream_sessions Live sessions by state\n# TYPE webstream_sessions gauge\n";
    out += "webstream_sessions{state=\"reserved\"} " + std::to_string(counts.reserved) + "\n";
    out += "webstream_sessions{state=\"active\"} " + std::to_string(counts.active) + "\n";
  });
}

}  // namespace

void register_base_routes(http::Router& router) {
  router.add("GET", "/gateway/health", http::Exposure::kBoth,
             [](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
               co_return http::text_response(200, "OK", "text/plain", ctx.req);
             });
  router.add("GET", "/metrics", http::Exposure::kInternal,
             [](http::RequestContext& ctx) -> boost::asio::awaitable<http::Response> {
               co_return http::text_response(200, metrics::Registry::global().render(), "text/plain; version=0.0.4",
                                             ctx.req);
             });
}

Result<std::unique_ptr<Components>> build_components(WiringContext& ctx) {
  auto c = std::make_unique<Components>(ctx.config);
  c->workers = &ctx.workers;
  c->blocking = &ctx.blocking;
  auto iam = build_iam_parts(ctx);
  if (!iam) return iam.error();
  c->iam = std::move(iam.value());
  register_store_collector(ctx.stores);
  store::pg::register_change_feed_metrics();
  if (ctx.access_management_only) return c;  // webstream -am serves the IAM only

  if (auto s = build_registry(ctx, *c); !s) return s.error();
  if (auto s = build_sessions(ctx, *c); !s) return s.error();
  build_proxy(ctx, *c, *ctx.lifecycle);
  if (auto s = build_mcp(ctx, *c); !s) return s.error();
  auto licence = build_licence_parts(ctx, *c->blocking, [keys = &c->backend_keys] { return keys->get(); });
  if (!licence) return licence.error();
  c->licence = std::move(licence.value());
  portal::register_portal_routes(ctx.router);
  register_collectors(*c);
  if (ctx.stores.shared()) {
    auto feed = ctx.stores.change_feed();
    if (!feed) return feed.error();
    c->change_feed = std::move(feed.value());
  }
  return c;
}

void start_components(Components& c) {
  if (c.prober) c.prober->start();
  if (c.registry_flush) c.registry_flush->start();
  if (c.sweeper) c.sweeper->start(c.workers->at(0).get_executor());
  if (c.presence_keeper) c.presence_keeper->start();
  if (c.licence) c.licence->start(c.workers->at(0).get_executor());
  if (c.iam) c.iam->start(c.workers->at(0).get_executor());
  if (c.change_feed) {
    // What other gateways changed (store/change_feed.hpp) wakes the part that re-reads it.
    Components* parts = &c;
    c.change_feed->start([parts](const std::string& topic) {
      if (topic == store::kRevocationsTopic) {
        parts->iam->revocations_changed();
      } else if (topic == store::kIamTopic) {
        parts->sessions->entitlements_changed();
        parts->sweeper->wake();
      } else if (topic == store::kRegistryTopic) {
        parts->registry_flush->wake();
      }
    });
  }
}

void reload(Components& c, const std::string& config_path, http::TlsContextProvider* tls) {
  config::Config next;
  try {
    next = config::load_xml(config_path);
  } catch (const config::ConfigError& e) {
    log::error("SIGHUP: the new configuration is refused; the old one stays", {{"error", e.what()}});
    return;
  }
  if (tls && next.tls.enabled()) {
    if (auto s = tls->reload(next.tls.pfx_file, next.tls.pfx_secret); !s) {
      log::error("SIGHUP: certificate not reloaded; the old one stays", {{"error", s.error().message}});
    } else {
      log::info("SIGHUP: certificate reloaded", {{"subject", tls->subject()}});
    }
  }
  c.backend_keys.set(next.gateway.backend_keys);
  c.mcp_keys.set(next.mcp.api_keys);
  if (c.registry) c.registry->reload(next.gateway);
  if (c.licence) c.licence->reload(next.license);
  log::info("SIGHUP: reloaded", {{"backendKeys", next.gateway.backend_keys.size()},
                                 {"mcpApiKeys", next.mcp.api_keys.size()},
                                 {"strategy", config::to_string(next.gateway.load_balancing.strategy)},
                                 {"healthCheckInterval", next.gateway.health_check.interval_s},
                                 {"healthCheckTimeout", next.gateway.health_check.timeout_s}});
  c.config = std::move(next);
}

void stop_components_accepting(Components& c) {
  if (c.sweeper) c.sweeper->stop();
}

void stop_components(Components& c) {
  if (c.change_feed) c.change_feed->stop();
  if (c.prober) c.prober->stop();
  if (c.presence_keeper) c.presence_keeper->stop();
  if (c.registry_flush) c.registry_flush->stop();
  if (c.licence) c.licence->stop();
  if (c.iam) c.iam->stop();
}

void flush_components(Components& c) {
  if (c.registry) {
    if (auto s = c.registry->flush(); !s)
      log::error("backend registry flush at stop failed", {{"error", s.error().message}});
  }
  if (c.licence) c.licence->flush();
}

}  // namespace webstream::app
