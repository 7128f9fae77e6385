#include "registry/registry_api.hpp"

#include <boost/json/object.hpp>

#include "core/json_fields.hpp"
#include "registry/exposure.hpp"
#include "registry/server_url.hpp"

namespace webstream::registry {

namespace net = boost::asio;
namespace jf = json_fields;

namespace {

constexpr std::size_t kMaxTextBytes = 256;  // instanceType, ec2InstanceId, version, status
constexpr std::size_t kMaxListItems = 256;  // tags[], capabilities[]
constexpr std::size_t kMaxListItemBytes = 256;
constexpr std::int64_t kMaxActiveSessions = 10'000'000;

// Moves an optional field into `out`, or returns the field's error.
template <class T>
Status take(Result<T> field, T& out) {
  if (!field) return field.error();
  out = std::move(field.value());
  return Status::success();
}

Result<std::string> server_url(const jf::json::object& o) {
  auto raw = jf::required_string(o, "serverUrl", kMaxServerUrlBytes);
  if (!raw) return raw.error();
  return normalize_server_url(*raw);
}

Status optional_list(const jf::json::object& o, std::string_view name, std::optional<std::vector<std::string>>& out) {
  if (auto it = o.find(name); it == o.end() || it->value().is_null()) return Status::success();
  auto list = jf::string_array(o, name, kMaxListItems, kMaxListItemBytes);
  if (!list) return list.error();
  out = std::move(list.value());
  return Status::success();
}

// The fields register and heartbeat share.
Status common_fields(const jf::json::object& o, BackendReport& r) {
  auto url = server_url(o);
  if (!url) return url.error();
  r.server_url = std::move(url.value());
  if (auto s = take(jf::optional_int(o, "maxSessions", 0, kMaxSessionsLimit), r.max_sessions); !s) return s;
  if (auto s = take(jf::optional_string(o, "instanceType", kMaxTextBytes), r.instance_type); !s) return s;
  if (auto s = optional_list(o, "tags", r.tags); !s) return s;
  if (auto s = optional_list(o, "capabilities", r.capabilities); !s) return s;
  return Status::success();
}

// Answers 401 when keys are configured and the header matches none; else the caller's key name.
Result<std::string> caller_key(const http::RequestContext& ctx, const KeySource& keys) {
  BackendKeys current = keys ? keys() : nullptr;
  if (!current) return std::string();
  return check_backend_key(ctx.header(kBackendKeyHeader), *current);
}

boost::json::object success() { return boost::json::object{{"success", true}}; }

}  // namespace

Result<BackendReport> parse_register_body(std::string_view body) {
  auto o = jf::parse_object(body);
  if (!o) return o.error();
  BackendReport r;
  if (auto s = common_fields(*o, r); !s) return s.error();
  if (auto s = take(jf::optional_string(*o, "ec2InstanceId", kMaxTextBytes), r.ec2_instance_id); !s) return s.error();
  if (auto s = take(jf::optional_string(*o, "version", kMaxTextBytes), r.version); !s) return s.error();
  return r;
}

Result<BackendReport> parse_heartbeat_body(std::string_view body) {
  auto o = jf::parse_object(body);
  if (!o) return o.error();
  BackendReport r;
  if (auto s = common_fields(*o, r); !s) return s.error();
  if (auto s = take(jf::optional_string(*o, "status", kMaxTextBytes), r.status); !s) return s.error();
  if (auto s = take(jf::optional_int(*o, "activeSessions", 0, kMaxActiveSessions), r.active_sessions); !s) {
    return s.error();
  }
  if (auto s = take(jf::optional_number(*o, "cpuUsage"), r.cpu_usage); !s) return s.error();
  if (auto s = take(jf::optional_number(*o, "memoryUsage"), r.memory_usage); !s) return s.error();
  // The backend's own clock is not trusted for freshness (the gateway's receipt time is), but the field
  // must still be of a sensible type.
  if (auto it = o->find("timestamp"); it != o->end()) {
    const auto& v = it->value();
    if (!v.is_null() && !v.is_string() && !v.is_number()) {
      return Error::invalid("field 'timestamp' must be a string or a number");
    }
  }
  return r;
}

Result<std::string> parse_unregister_body(std::string_view body) {
  auto o = jf::parse_object(body);
  if (!o) return o.error();
  return server_url(*o);
}

void register_routes(http::Router& router, Registry& registry, runtime::BlockingPool& blocking, KeySource backend_keys,
                     RegistryApiOptions options) {
  const bool allow_link_local = options.allow_link_local;
  router.add("POST", "/gateway/register", http::Exposure::kInternal,
             [&registry, &blocking, backend_keys,
              allow_link_local](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto key = caller_key(ctx, backend_keys);
               if (!key) co_return http::error_response(key.error(), ctx.req);
               auto report = parse_register_body(ctx.req.body());
               if (!report) co_return http::error_response(report.error(), ctx.req);
               if (auto target = check_server_url_target(report->server_url, allow_link_local); !target) {
                 co_return http::error_response(target.error(), ctx.req);
               }
               std::string key_name = key.value();
               BackendReport fields = std::move(report.value());
               // Built before the co_await: GCC 12 destroys temporaries inside a co_await twice.
               auto work = [&registry, fields, key_name] { return registry.register_backend(fields, key_name); };
               auto id = co_await blocking.run(std::move(work));
               if (!id) co_return http::error_response(id.error(), ctx.req);
               boost::json::object body = success();
               body["backendId"] = id.value();
               body["heartbeatInterval"] = registry.heartbeat_interval_s();
               co_return http::json_response(200, body, ctx.req);
             });
  router.add("POST", "/gateway/heartbeat", http::Exposure::kInternal,
             [&registry, backend_keys, allow_link_local](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto key = caller_key(ctx, backend_keys);
               if (!key) co_return http::error_response(key.error(), ctx.req);
               auto report = parse_heartbeat_body(ctx.req.body());
               if (!report) co_return http::error_response(report.error(), ctx.req);
               // A heartbeat from an unknown serverUrl registers it: the same rule as register.
               if (auto target = check_server_url_target(report->server_url, allow_link_local); !target) {
                 co_return http::error_response(target.error(), ctx.req);
               }
               auto id = registry.heartbeat(report.value(), key.value());
               if (!id) co_return http::error_response(id.error(), ctx.req);
               co_return http::json_response(200, success(), ctx.req);
             });
  router.add("POST", "/gateway/unregister", http::Exposure::kInternal,
             [&registry, &blocking, backend_keys](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto key = caller_key(ctx, backend_keys);
               if (!key) co_return http::error_response(key.error(), ctx.req);
               auto url = parse_unregister_body(ctx.req.body());
               if (!url) co_return http::error_response(url.error(), ctx.req);
               std::string key_name = key.value();
               std::string server = url.value();
               auto work = [&registry, server, key_name] { return registry.unregister(server, key_name); };
               auto removed = co_await blocking.run(std::move(work));
               if (!removed) co_return http::error_response(removed.error(), ctx.req);
               co_return http::json_response(200, success(), ctx.req);
             });
}

}  // namespace webstream::registry
