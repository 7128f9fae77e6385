#include "iam/remote/am_proxy_routes.hpp"

#include <boost/beast/core/string.hpp>

#include <memory>

#include "iam/remote/am_client.hpp"
#include "iam/service_headers.hpp"
#include "mcp/path_guard.hpp"
#include "observability/log.hpp"
#include "proxy/header_policy.hpp"

namespace webstream::iam {

namespace net = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr std::string_view kPrefix = "/iam/";
constexpr std::string_view kInternalPrefix = "/iam/internal";

// The client's headers minus everything the header policy strips; Authorization kept unless `drop_auth`.
void strip(http::bhttp::fields& headers, bool drop_auth) { proxy::strip_request_headers(headers, !drop_auth); }

Error map_transport(const Error& e) {
  if (e.status == 504)
    return Error{504, "access_management_timeout", "the access-management service did not answer in time"};
  if (e.code == "backend_unavailable") {
    return Error{503, "access_management_unavailable", "the access-management service cannot be reached"};
  }
  return Error{502, "access_management_error", "the access-management service sent an unusable answer"};
}

net::awaitable<http::Response> forward(http::RequestContext& ctx, const AmProxyDeps& d) {
  std::string_view target = ctx.raw_target;
  if (const auto q = target.find('?'); q != std::string_view::npos) target = target.substr(0, q);
  const std::string rest = target.size() > kPrefix.size() ? std::string(target.substr(kPrefix.size())) : std::string();
  if (auto ok = mcp::check_forwardable_path(rest); !ok) co_return http::error_response(ok.error(), ctx.req);
  if (ctx.path == kInternalPrefix || ctx.path.rfind(std::string(kInternalPrefix) + "/", 0) == 0) {
    Error hidden = Error::not_found("not_found", "no such endpoint");
    co_return http::error_response(hidden, ctx.req);
  }

  const bool service = ctx.preauthenticated && ctx.preauthenticated->service;
  const std::string method(ctx.req.method_string());
  const bool is_logout = method == "POST" && ctx.path == "/iam/auth/logout" && !service;
  std::optional<core::Principal> logging_out;
  if (is_logout && d.bearer) {
    if (auto who = d.bearer(ctx); who) logging_out = std::move(who.value());
  }

  http::Request out = ctx.req;
  strip(out, service);
  out.set("X-Forwarded-For", ctx.remote_ip);
  out.set("X-Forwarded-Proto", ctx.tls ? "https" : "http");
  if (auto host = ctx.header("Host"); !host.empty()) out.set("X-Forwarded-Host", host);
  out.set(kServiceKeyHeader, d.service_key);
  if (service) {
    std::string name = ctx.preauthenticated->username;
    if (name.rfind("mcp:", 0) == 0) name.erase(0, 4);
    out.set(kServicePrincipalHeader, name);
  }
  out.target(proxy::join_target(d.service.base_path, "/iam/" + rest, ctx.query));
  auto op = d.forwarder.forward(d.service, std::move(out));  // named: no temporary inside the co_await
  auto answer = co_await std::move(op);
  if (!answer) {
    Error mapped = map_transport(answer.error());
    co_return http::error_response(mapped, ctx.req);
  }
  http::Response res = std::move(answer.value());
  res.version(ctx.req.version());
  res.keep_alive(ctx.req.keep_alive());
  const unsigned status = res.result_int();
  if (status >= 200 && status < 300) {
    if (logging_out && d.revoke_locally) d.revoke_locally(*logging_out);
    if (method != "GET" && method != "HEAD" && d.changed) d.changed();
  }
  co_return res;
}

}  // namespace

void register_am_proxy_routes(http::Router& router, AmProxyDeps deps) {
  auto shared = std::make_shared<const AmProxyDeps>(std::move(deps));
  router.add("*", "/iam/*", http::Exposure::kPublic,
             [shared](http::RequestContext& ctx) { return forward(ctx, *shared); });
}

}  // namespace webstream::iam
