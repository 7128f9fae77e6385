#include "edge/proxy_routes.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/beast/http/field.hpp>

#include <memory>

#include "observability/log.hpp"
#include "proxy/header_policy.hpp"
#include "sessions/sessions_api.hpp"

namespace webstream::edge {

namespace net = boost::asio;

namespace {

proxy::Identity identity_of(const sessions::LiveSession& s) {
  const auto& r = s.record;
  proxy::Identity id;
  id.workspace_id = r.workspace_id;
  id.workspace_name = r.workspace_name;
  id.workspace_type = r.workspace_type;
  id.app_id = r.app_id;
  id.app_exe = r.app_exe;
  id.app_args = r.app_args;
  id.user_id = r.user_id;
  id.username = r.username;
  id.org_id = r.org_id;
  id.policy_json = r.policy_json;
  id.session_id = r.id;
  return id;
}

proxy::ForwardInfo forward_info(const http::RequestContext& ctx) {
  return proxy::ForwardInfo{ctx.remote_ip, ctx.tls ? "https" : "http", std::string(ctx.header("Host"))};
}

// Who is calling, and which of their live sessions: from headers (Bearer + X-Session-ID) or, for a
// WebSocket that cannot set headers, from ?sessionId=&token= (a JWT or the session's connect token).
struct Caller {
  std::shared_ptr<sessions::LiveSession> session;
  std::optional<auth::Principal> principal;  // unset when a connect token was used
};

Result<Caller> find_caller(const http::RequestContext& ctx, const ProxyRoutesDeps& deps, bool allow_query) {
  std::string session_id(ctx.header("X-Session-ID"));
  std::string token;
  const bool has_bearer = !ctx.header("Authorization").empty();
  if (allow_query && !has_bearer) {
    token = ctx.query_param("token");
    if (session_id.empty()) session_id = ctx.query_param("sessionId");
  }
  if (!has_bearer && token.empty()) return Error{401, "unauthorized", "a Bearer token or ?token= is required"};
  if (!sessions::is_valid_session_id(session_id)) {
    return Error::invalid("a session id (X-Session-ID or ?sessionId=) of 1-128 characters of A-Z, a-z, 0-9, '_', '-' is required");
  }
  Caller caller;
  if (!has_bearer && token.rfind("ct.", 0) == 0) {
    caller.session = deps.sessions.lookup_by_connect_token(session_id, token);
    if (!caller.session) return Error{401, "unauthorized", "the connect token is not valid for this session"};
    return caller;
  }
  auto principal = has_bearer ? deps.auth.bearer(ctx) : deps.auth.token(token);
  if (!principal) return principal.error();
  caller.session = deps.sessions.lookup(session_id, principal->user_id);
  if (!caller.session) return Error::not_found("session_not_found", "no live session with this id");
  caller.principal = std::move(principal.value());
  return caller;
}

struct Upstream {
  proxy::Identity identity;
  proxy::BackendUrl url;
};

Result<Upstream> upstream_for(const sessions::LiveSession& s, const ProxyRoutesDeps& deps) {
  auto location = deps.routing.locate(s.record.backend_id);
  if (!location) return Error{502, "backend_unavailable", "the session host of this session is gone"};
  auto url = proxy::parse_backend_url(location->server_url);
  if (!url) return Error{502, "backend_unavailable", "the session host's address cannot be used"};
  Upstream up{identity_of(s), std::move(url.value())};
  auto assertion = deps.assertions.get(up.identity, s.record.backend_id);
  if (!assertion) return assertion.error();
  up.identity.assertion = std::move(assertion.value());
  return up;
}

net::awaitable<http::Response> get_connection(http::RequestContext& ctx, const ProxyRoutesDeps& deps) {
  auto caller = find_caller(ctx, deps, false);
  if (!caller) co_return http::error_response(caller.error(), ctx.req);
  auto upstream = upstream_for(*caller->session, deps);
  if (!upstream) co_return http::error_response(upstream.error(), ctx.req);
  http::Request out = ctx.req;
  if (auto s = proxy::apply(out, upstream->identity, forward_info(ctx)); !s) {
    co_return http::error_response(s.error(), ctx.req);
  }
  const auto slash = ctx.raw_target.find('?');
  const std::string_view encoded_path =
      std::string_view(ctx.raw_target).substr(0, slash == std::string::npos ? ctx.raw_target.size() : slash);
  out.target(proxy::join_target(upstream->url.base_path, encoded_path, ctx.query));
  deps.sessions.mark_used(caller->session);
  auto answer = co_await deps.forwarder.forward(upstream->url, std::move(out));
  if (!answer) co_return http::error_response(answer.error(), ctx.req);
  http::Response res = std::move(answer.value());
  res.version(ctx.req.version());
  res.keep_alive(ctx.req.keep_alive());
  co_return res;
}

net::awaitable<void> websocket(http::RequestContext& ctx, http::ClientStream&& stream, const ProxyRoutesDeps& deps) {
  auto caller = find_caller(ctx, deps, true);
  if (!caller) {
    // Named before the co_await: GCC 12 destroys temporaries inside a co_await twice.
    http::Response refusal = http::error_response(caller.error(), ctx.req.version(), false);
    co_await http::write_response(stream, std::move(refusal));
    co_return;
  }
  auto upstream = upstream_for(*caller->session, deps);
  if (!upstream) {
    http::Response refusal = http::error_response(upstream.error(), ctx.req.version(), false);
    co_await http::write_response(stream, std::move(refusal));
    co_return;
  }
  const auto slash = ctx.raw_target.find('?');
  const std::string path = ctx.raw_target.substr(0, slash == std::string::npos ? ctx.raw_target.size() : slash);
  const std::string query = proxy::remove_query_param(ctx.query, "token");
  proxy::BackendTarget target{upstream->url.host, upstream->url.port,
                              proxy::join_target(upstream->url.base_path, path, query)};
  auto session = caller->session;
  auto principal = caller->principal;
  proxy::RelayHooks hooks;
  hooks.still_authorised = [&deps, session, principal] {
    // The session must still be live, and a JWT's user must still be allowed in (logout, disable, delete).
    if (!deps.sessions.lookup(session->record.id, session->record.user_id)) return false;
    return !principal || deps.auth.still_valid(*principal);
  };
  auto registration = std::make_shared<http::Lifecycle::Registration>();
  const auto executor = co_await net::this_coro::executor;
  hooks.on_open = [&deps, session, registration, executor](proxy::RelayStop stop) {
    deps.sessions.websocket_opened(session);
    // A graceful stop closes the relay with 1001 (going away), on the relay's own executor.
    *registration = deps.lifecycle.add(executor, [stop] { stop(1001); });
  };
  hooks.on_close = [&deps, session, registration] {
    registration->reset();
    deps.sessions.websocket_closed(session);
  };
  const proxy::ForwardInfo forward = forward_info(ctx);
  const auto outcome = co_await proxy::relay(std::move(stream), ctx.req, target, upstream->identity, forward,
                                             deps.relay_options, std::move(hooks));
  log::info(outcome.refused_status ? "websocket refused" : "websocket closed",
            {{"path", path},
             {"sessionId", session->record.id},
             {"status", outcome.refused_status},
             {"reason", outcome.refused_reason},
             {"clientClose", outcome.client_close},
             {"backendClose", outcome.backend_close},
             {"bytesToBackend", outcome.bytes_to_backend},
             {"bytesToClient", outcome.bytes_to_client}});
}

}  // namespace

void register_proxy_routes(http::Router& router, ProxyRoutesDeps deps) {
  auto shared = std::make_shared<ProxyRoutesDeps>(std::move(deps));
  router.add("GET", "/getConnection", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return get_connection(ctx, *shared); });
  for (const char* path : {"/capture", "/control", "/audio"}) {
    router.add_upgrade(path, http::Exposure::kPublic, [shared](http::RequestContext& ctx, http::ClientStream&& stream) {
      return websocket(ctx, std::move(stream), *shared);
    });
  }
}

}  // namespace webstream::edge
