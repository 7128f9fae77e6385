#include "mcp/mcp_proxy.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include "core/ids.hpp"
#include "mcp/path_guard.hpp"
#include "observability/log.hpp"
#include "proxy/header_policy.hpp"

namespace webstream::mcp {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;

const config::NamedKey* match_key(const std::vector<config::NamedKey>& keys, std::string_view presented) {
  const config::NamedKey* found = nullptr;
  for (const auto& k : keys) {
    if (constant_time_equals(k.key, presented) && !found) found = &k;
  }
  return found;
}

namespace {

struct Shared {
  McpDeps deps;
  proxy::BackendUrl engine;
};

// The request target's raw path (no query), guarded against `prefix` (decoded once, re-encoded once).
Result<GuardedPath> guarded_rest(const http::RequestContext& ctx, std::string_view prefix) {
  std::string_view target = ctx.raw_target;
  const auto q = target.find('?');
  if (q != std::string_view::npos) target = target.substr(0, q);
  return guard_path(target, prefix);
}

Result<config::NamedKey> authorise(const http::RequestContext& ctx, const Shared& s) {
  auto keys = s.deps.keys();
  const auto presented = ctx.header("X-MCP-Key");
  if (!keys || keys->empty()) return Error{401, "unauthorized", "the MCP proxy has no API keys configured"};
  if (presented.empty()) return Error{401, "unauthorized", "X-MCP-Key is required"};
  const auto* key = match_key(*keys, presented);
  if (!key) return Error{401, "unauthorized", "unknown X-MCP-Key"};
  return *key;
}

net::awaitable<http::Response> api(http::RequestContext& ctx, const Shared& s) {
  auto key = authorise(ctx, s);
  if (!key) co_return http::error_response(key.error(), ctx.req);
  auto rest = guarded_rest(ctx, "/mcp/api/");
  if (!rest) co_return http::error_response(rest.error(), ctx.req);
  http::Request out = ctx.req;
  // Hop-by-hop, credentials and any client copy of the key name go; the verified key name is added.
  for (auto it = out.begin(); it != out.end();) {
    if (proxy::is_stripped_request_header(it->name_string()) ||
        boost::beast::iequals(it->name_string(), "X-MCP-Key-Name")) {
      it = out.erase(it);
    } else {
      ++it;
    }
  }
  out.set("X-MCP-Key-Name", key->name);
  out.set("X-Forwarded-For", ctx.remote_ip);
  out.target(proxy::join_target(s.engine.base_path, "/api/" + rest->forwarded_rest, ctx.query));
  auto answer = co_await s.deps.forwarder.forward(s.engine, std::move(out));
  if (!answer) co_return http::error_response(answer.error(), ctx.req);
  http::Response res = std::move(answer.value());
  res.version(ctx.req.version());
  res.keep_alive(ctx.req.keep_alive());
  co_return res;
}

net::awaitable<http::Response> iam(http::RequestContext& ctx, const Shared& s) {
  auto key = authorise(ctx, s);
  if (!key) co_return http::error_response(key.error(), ctx.req);
  auto rest = guarded_rest(ctx, "/mcp/iam/");
  if (!rest) co_return http::error_response(rest.error(), ctx.req);
  const std::string method(ctx.req.method_string());
  if (!key->readwrite && method != "GET" && method != "HEAD") {
    Error denied{403, "forbidden", "this MCP key is read-only: only GET is allowed on /mcp/iam/*"};
    s.deps.audit(key->name, method, "/iam/" + rest->decoded_rest, 403);
    co_return http::error_response(denied, ctx.req);
  }
  const std::string iam_path = "/iam/" + rest->decoded_rest;
  auto match = s.deps.router.match(method, iam_path, http::ListenerKind::kPublic, true);
  if (!match.route || !match.route->handler || iam_path.rfind("/iam/", 0) != 0) {
    Error missing = match.status == 405 ? Error{405, "method_not_allowed", "method not allowed on this path"}
                                        : Error::not_found("not_found", "no such IAM endpoint");
    s.deps.audit(key->name, method, iam_path, missing.status);
    co_return http::error_response(missing, ctx.req);
  }
  auto principal = std::make_shared<core::Principal>();
  principal->user_id = "mcp:" + key->name;
  principal->username = "mcp:" + key->name;
  principal->roles = {"admin"};
  principal->service = true;
  http::RequestContext inner{.req = ctx.req, .listener = http::ListenerKind::kPublic};
  inner.path = iam_path;
  inner.raw_target = "/iam/" + rest->forwarded_rest + (ctx.query.empty() ? "" : "?" + ctx.query);
  inner.query = ctx.query;
  inner.params = std::move(match.params);
  inner.remote_ip = ctx.remote_ip;
  inner.tls = ctx.tls;
  inner.listener = ctx.listener;
  inner.preauthenticated = std::move(principal);
  http::Response res = co_await match.route->handler(inner);
  s.deps.audit(key->name, method, iam_path, res.result_int());
  co_return res;
}

}  // namespace

Status register_mcp_routes(http::Router& router, McpDeps deps) {
  auto engine = proxy::parse_backend_url(deps.metrics_engine_url);
  if (!engine) return Error::invalid("mcp.metricsEngineUrl: " + engine.error().message);
  auto shared = std::make_shared<Shared>(Shared{std::move(deps), std::move(engine.value())});
  router.add("*", "/mcp/api/*", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return api(ctx, *shared); });
  router.add("*", "/mcp/iam/*", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return iam(ctx, *shared); });
  return Status::success();
}

}  // namespace webstream::mcp
