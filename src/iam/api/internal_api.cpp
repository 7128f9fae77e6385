#include "iam/api/internal_api.hpp"

#include <boost/json/object.hpp>

#include <algorithm>
#include <charconv>
#include <memory>
#include <optional>

#include "core/ids.hpp"
#include "core/json_fields.hpp"
#include "iam/resolution_json.hpp"
#include "iam/service_headers.hpp"

namespace webstream::iam {

namespace net = boost::asio;
namespace json = boost::json;
namespace jf = json_fields;

namespace {

// An HTTP method (upper-case letters) and an origin-form path without control characters, or the error.
std::optional<Error> check_mcp_call(std::string_view method, std::string_view path) {
  const bool method_ok =
      !method.empty() && std::all_of(method.begin(), method.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
  if (!method_ok) return Error::invalid("'method' must be an HTTP method in upper case");
  const bool path_ok = !path.empty() && path.front() == '/' && std::none_of(path.begin(), path.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (!path_ok) return Error::invalid("'path' must start with '/' and hold no control characters");
  return std::nullopt;
}

// Ids in the internal API are another service's references, longer than the IAM's own (iam::kMaxIdBytes).
constexpr std::size_t kMaxReferenceBytes = 256;

std::optional<std::int64_t> parse_since(std::string_view text) {
  if (text.empty()) return 0;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

http::Response service_key_refusal(const Error& error, const http::Request& req) {
  http::Response res = http::error_response(error, req);
  // RFC 9110 §11.6.1: a 401 names a challenge the client can answer; "Bearer" is not one here.
  if (error.status == 401) res.set(http::bhttp::field::www_authenticate, "WebStream-Service-Key");
  return res;
}

Status check_service_key(const http::RequestContext& ctx, std::string_view configured) {
  if (configured.empty()) {
    return Error{401, "unauthorized", "this access-management service has no serviceKey configured"};
  }
  const auto presented = ctx.header(kServiceKeyHeader);
  if (presented.empty()) return Error{401, "unauthorized", "X-WebStream-Service-Key is required"};
  if (!constant_time_equals(configured, presented)) return Error{401, "unauthorized", "the service key is not valid"};
  return Status::success();
}

void register_internal_routes(http::Router& router, InternalApiDeps deps_in) {
  auto deps = std::make_shared<InternalApiDeps>(std::move(deps_in));

  router.add("POST", "/iam/internal/resolve", http::Exposure::kInternal,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               if (auto s = check_service_key(ctx, deps->service_key); !s) {
                 co_return service_key_refusal(s.error(), ctx.req);
               }
               auto body = jf::parse_object(ctx.req.body());
               if (!body) co_return http::error_response(body.error(), ctx.req);
               auto user = jf::required_string(*body, "userId", kMaxReferenceBytes);
               if (!user) co_return http::error_response(user.error(), ctx.req);
               auto workspace = jf::required_string(*body, "workspaceId", kMaxReferenceBytes);
               if (!workspace) co_return http::error_response(workspace.error(), ctx.req);
               auto app = jf::optional_string(*body, "appId", kMaxReferenceBytes);
               if (!app) co_return http::error_response(app.error(), ctx.req);
               auto work = [deps, u = std::move(user.value()), w = std::move(workspace.value()),
                            a = std::move(app.value())] { return deps->resolver.resolve(u, w, a); };
               auto resolved = co_await deps->blocking.run(std::move(work));
               if (!resolved) co_return http::error_response(resolved.error(), ctx.req);
               json::object answer = resolution_to_json(resolved.value());
               co_return http::json_response(200, answer, ctx.req);
             });

  router.add("GET", "/iam/internal/revocations", http::Exposure::kInternal,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               if (auto s = check_service_key(ctx, deps->service_key); !s) {
                 co_return service_key_refusal(s.error(), ctx.req);
               }
               const std::string since_text = ctx.query_param("since");
               auto since = parse_since(since_text);
               if (!since) {
                 Error bad = Error::invalid("'since' must be a whole number of milliseconds");
                 co_return http::error_response(bad, ctx.req);
               }
               auto work = [deps, from = *since] { return deps->feed.page(from); };
               auto page = co_await deps->blocking.run(std::move(work));
               if (!page) co_return http::error_response(page.error(), ctx.req);
               co_return http::json_response(200, page.value(), ctx.req);
             });

  router.add("POST", "/iam/internal/mcp-audit", http::Exposure::kInternal,
             [deps](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               if (auto s = check_service_key(ctx, deps->service_key); !s) {
                 co_return service_key_refusal(s.error(), ctx.req);
               }
               auto body = jf::parse_object(ctx.req.body());
               if (!body) co_return http::error_response(body.error(), ctx.req);
               auto key = jf::required_string(*body, "keyName", kMaxReferenceBytes);
               if (!key) co_return http::error_response(key.error(), ctx.req);
               auto method = jf::required_string(*body, "method", 16);
               if (!method) co_return http::error_response(method.error(), ctx.req);
               auto path = jf::required_string(*body, "path", 4096);
               if (!path) co_return http::error_response(path.error(), ctx.req);
               auto status = jf::required_int(*body, "status", 100, 599);
               if (!status) co_return http::error_response(status.error(), ctx.req);
               // The audit action is "mcp <METHOD> <status>" and the object the path: keep both well formed.
               if (auto bad = check_mcp_call(*method, *path)) co_return http::error_response(*bad, ctx.req);
               if (deps->audit_mcp) deps->audit_mcp(*key, *method, *path, static_cast<unsigned>(*status));
               http::Response res{http::bhttp::status::no_content, ctx.req.version()};
               res.keep_alive(ctx.req.keep_alive());
               co_return res;
             });
}

}  // namespace webstream::iam
