#pragma once
// The proxied browser routes (CONTRACT §8): GET /getConnection and the WebSockets /capture, /control,
// /audio. Each finds the caller's live session (sessions), the pinned backend (registry), builds the
// identity headers (proxy/header_policy) with the signed assertion (proxy/assertion), and forwards
// (proxy/http_forwarder) or relays (proxy/ws_relay).
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/principal.hpp"
#include "edge/store_lookup_gate.hpp"
#include "http/lifecycle.hpp"
#include "http/router.hpp"
#include "proxy/assertion.hpp"
#include "proxy/http_forwarder.hpp"
#include "proxy/ws_relay.hpp"
#include "runtime/blocking_pool.hpp"
#include "sessions/backend_routing.hpp"
#include "sessions/session_service.hpp"

namespace webstream::edge {

struct EdgeAuth {
  // Authorization: Bearer … → the principal (shared with the token cache, not copied), or 401.
  std::function<Result<std::shared_ptr<const core::Principal>>(const http::RequestContext&)> bearer;
  // A JWT from ?token= → the principal, or 401.
  std::function<Result<std::shared_ptr<const core::Principal>>(std::string_view jwt)> token;
  // Cheap re-check for open WebSockets (logout, user disabled or deleted): false closes with 1008.
  std::function<bool(const core::Principal&)> still_valid;
};

struct ProxyRoutesDeps {
  sessions::SessionService& sessions;
  sessions::BackendRouting& routing;
  const proxy::HttpForwarder& forwarder;
  proxy::AssertionCache& assertions;
  http::Lifecycle& lifecycle;
  proxy::RelayOptions relay_options;
  EdgeAuth auth;
  // Where a session selected through another gateway (a shared store) is read from the store on a miss;
  // null: sessions are only looked up in memory.
  runtime::BlockingPool* blocking = nullptr;
  // What a connect token for an unknown session may cost the store (negative cache, cap on concurrent reads);
  // null: register_proxy_routes makes one with the default options.
  std::shared_ptr<StoreLookupGate> store_lookups;
  // Whether the store answered lately (a read that found nothing during an outage answers 503, not 401/404);
  // null: always.
  std::function<bool()> store_reachable;
};

void register_proxy_routes(http::Router& router, ProxyRoutesDeps deps);

}  // namespace webstream::edge
