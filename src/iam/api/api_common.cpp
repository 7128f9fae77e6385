#include "iam/api/api_common.hpp"

#include <exception>

#include "core/ids.hpp"
#include "core/json_fields.hpp"
#include "observability/log.hpp"

namespace webstream::iam::api {

namespace net = boost::asio;

namespace {

http::Response to_response(const Reply& reply, const http::Request& req) {
  if (reply.status == 204) {
    http::Response res{http::bhttp::status::no_content, req.version()};
    res.set(http::bhttp::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    return res;
  }
  auto res = http::json_response(reply.status, reply.body, req);
  if (!reply.location.empty()) res.set(http::bhttp::field::location, reply.location);
  return res;
}

// Runs an operation, turning anything thrown (a bug, a JSON shape the code did not expect) into a 500.
Result<Reply> run_op(const Op& op, const ResourceDeps& deps, const Call& call) {
  try {
    return op(deps, call);
  } catch (const std::exception& e) {
    log::error("iam: request failed", {{"error", e.what()}});
    return Error::internal("the request failed");
  }
}

}  // namespace

void add_route(http::Router& router, const std::shared_ptr<const ResourceDeps>& deps, const char* method,
               const char* pattern, Op op) {
  router.add(method, pattern, http::Exposure::kPublic,
             [deps, op = std::move(op)](http::RequestContext& ctx) -> net::awaitable<http::Response> {
               auto who = deps->authenticate(ctx);
               if (!who) co_return http::error_response(who.error(), ctx.req);
               Call call;
               call.who = std::move(who.value());
               call.params = ctx.params;
               call.body = ctx.req.body();
               call.limit = ctx.query_param("limit");
               call.offset = ctx.query_param("offset");
               call.org_id = ctx.query_param("orgId");
               auto work = [deps, op, call = std::move(call)]() { return run_op(op, *deps, call); };
               Result<Reply> result = co_await deps->blocking.run(std::move(work));
               if (!result) co_return http::error_response(result.error(), ctx.req);
               co_return to_response(result.value(), ctx.req);
             });
}

Reply ok(json::value body) {
  Reply r;
  r.body = std::move(body);
  return r;
}

Reply created(json::object body, const std::string& location) {
  Reply r;
  r.status = 201;
  r.body = std::move(body);
  r.location = location;
  return r;
}

Reply no_content() {
  Reply r;
  r.status = 204;
  return r;
}

Result<json::object> body_object(const Call& call) { return json_fields::parse_object(call.body); }

Error not_found(ObjectType type) { return Error::not_found("not_found", std::string(to_string(type)) + " not found"); }

Status authorize(const core::Principal& who, Action action, const Target& target) {
  switch (can(who, action, target)) {
    case Decision::kAllow: return Status::success();
    case Decision::kNotFound: return not_found(target.type);
    case Decision::kDeny: break;
  }
  return Error{403, "forbidden",
               "your role may not " + std::string(to_string(action)) + " this " + std::string(to_string(target.type))};
}

ListScope list_scope(const Call& call) {
  ListScope scope;
  if (call.who.is_admin()) {
    if (!call.org_id.empty()) scope.org_id = call.org_id;
    return scope;
  }
  scope.org_id = call.who.org_id;
  scope.empty = !call.org_id.empty() && call.org_id != call.who.org_id;
  return scope;
}

Result<std::string> create_org_id(const ResourceDeps& deps, const Call& call, const json::object& body,
                                  ObjectType type) {
  auto named = read_string(body, "orgId", kMaxIdBytes);
  if (!named) return named.error();
  // A service principal (MCP) may have no org: objects then go to the bootstrap org "default".
  std::string org = named->value_or(call.who.org_id);
  if (org.empty()) org = kDefaultOrgId;
  if (auto s = authorize(call.who, Action::kCreate, Target{type, org}); !s) return s.error();
  auto found = deps.store.get_org(org);
  if (!found) {
    if (found.error().status == 404) return Error::invalid("field 'orgId' names no org");
    return found.error();
  }
  return org;
}

Status check_org_unchanged(const json::object& body, const std::string& current) {
  auto named = read_string(body, "orgId", kMaxIdBytes);
  if (!named) return named.error();
  if (*named && **named != current) return Error::invalid("field 'orgId' cannot be changed");
  return Status::success();
}

json::object page_json(json::array items, std::int64_t total, const Paging& paging) {
  json::object o;
  o["items"] = std::move(items);
  o["total"] = total;
  o["limit"] = paging.limit;
  o["offset"] = paging.offset;
  return o;
}

store::AuditRow audit(const ResourceDeps& deps, const core::Principal& who, std::string action, std::string object_type,
                      std::string object_id, std::string org_id) {
  store::AuditRow a;
  a.id = random_id("aud_");
  a.at = deps.clock.now_ms();
  auto actor = actor_of(who);
  a.actor = std::move(actor.id);
  a.actor_name = std::move(actor.name);
  a.action = std::move(action);
  a.object_type = std::move(object_type);
  a.object_id = std::move(object_id);
  a.org_id = std::move(org_id);
  return a;
}

AuditActor actor_of(const core::Principal& who) {
  return AuditActor{!who.user_id.empty() ? who.user_id : "service:" + who.username, who.username};
}

UserService user_service(const ResourceDeps& deps) {
  return UserService(deps.store, deps.passwords, deps.clock, deps.on_user_changed);
}

Result<store::ObjectRow> visible_object(const ResourceDeps& deps, const Call& call, const char* type,
                                        ObjectType object_type, Action action) {
  auto row = deps.store.get_object(type, call.params.at(0));
  if (!row) return row.error().status == 404 ? not_found(object_type) : row.error();
  if (auto s = authorize(call.who, action, Target{object_type, row->org_id}); !s) return s.error();
  return row;
}

}  // namespace webstream::iam::api
