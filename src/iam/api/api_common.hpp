#pragma once
// Shared machinery of the IAM resource handlers (private to src/iam): each route is a synchronous
// operation `Op` that runs on the BlockingPool with the caller's principal and the request's data, and
// returns a Reply; add_route() wraps it into a coroutine handler (authenticate → run on the pool →
// notify the authenticator → answer).
#include <boost/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json_fields.hpp"
#include "iam/api/resources_api.hpp"
#include "iam/field_rules.hpp"
#include "iam/rbac.hpp"

namespace webstream::iam::api {

namespace json = boost::json;

// What an operation sees of the request (copied: it runs on another thread).
struct Call {
  core::Principal who;
  std::vector<std::string> params;  // {} segments of the route
  std::string body;
  std::string limit;   // ?limit=
  std::string offset;  // ?offset=
  std::string org_id;  // ?orgId=
};

struct Reply {
  unsigned status = 200;
  json::value body;      // ignored for 204
  std::string location;  // Location header for 201
};

using Op = std::function<Result<Reply>(const ResourceDeps&, const Call&)>;

void add_route(http::Router& router, const std::shared_ptr<const ResourceDeps>& deps, const char* method,
               const char* pattern, Op op);

// ---- helpers for operations

Reply ok(json::value body);
Reply created(json::object body, const std::string& location);
Reply no_content();

// The body as a JSON object (400 when it is not one).
Result<json::object> body_object(const Call& call);

// 403 forbidden / 404 not_found per rbac::can.
Status authorize(const core::Principal& who, Action action, const Target& target);

// Which org a list covers: admin → ?orgId= or every org; others → their own org. `empty` is set when a
// non-admin asks for another org (the answer is an empty page, never that org's data).
struct ListScope {
  std::optional<std::string> org_id;
  bool empty = false;
};
ListScope list_scope(const Call& call);

// The org a new object goes into: body "orgId" or the caller's; only admin may name another (403), and
// it must exist (400 naming orgId).
Result<std::string> create_org_id(const ResourceDeps& deps, const Call& call, const json::object& body,
                                  ObjectType type);
// PATCH may repeat the object's orgId but not change it.
Status check_org_unchanged(const json::object& body, const std::string& current);

// {"items", "total", "limit", "offset"}.
json::object page_json(json::array items, std::int64_t total, const Paging& paging);

// An audit entry for a change made by `who`.
store::AuditRow audit(const ResourceDeps& deps, const core::Principal& who, std::string action, std::string object_type,
                      std::string object_id, std::string org_id);

// The audit log's name for `who`: its user id, or "service:<name>" for a service principal.
AuditActor actor_of(const core::Principal& who);

// The user rules (iam/user_service.hpp) over the deps' store, hasher, clock and revocation hook.
UserService user_service(const ResourceDeps& deps);

// A 404 for `type` (the same answer for "unknown" and "another org's").
Error not_found(ObjectType type);

// Reads an object of a generic type and checks `action` on it (404 when invisible).
Result<store::ObjectRow> visible_object(const ResourceDeps& deps, const Call& call, const char* type,
                                        ObjectType object_type, Action action);

// A resource kept in the generic objects table (group, app, workspace, policy): list, create, get, patch,
// delete are the same for each; `apply` copies the body's fields into the row (creating: required fields
// must be there; it may read the store to check references) and names the field it refuses.
struct ObjectKind {
  const char* type;        // store type (store::kApp, …)
  ObjectType object_type;  // for RBAC and messages
  const char* id_prefix;   // "app_"
  const char* path;        // "/iam/apps"
  std::function<Status(const ResourceDeps&, store::ObjectRow&, const json::object&, bool creating)> apply;
};
void register_object_routes(http::Router& router, const std::shared_ptr<const ResourceDeps>& deps,
                            const ObjectKind& kind);  // objects_api.cpp
// The common "name" field of objects: required on create.
Status apply_name(store::ObjectRow& row, const json::object& body, bool creating);

// ---- the route groups (one file each), registered by register_resource_routes
using DepsPtr = std::shared_ptr<const ResourceDeps>;
void register_org_routes(http::Router& router, const DepsPtr& deps);      // orgs_api.cpp
void register_user_routes(http::Router& router, const DepsPtr& deps);     // users_api.cpp
void register_group_routes(http::Router& router, const DepsPtr& deps);    // groups_api.cpp
void register_catalog_routes(http::Router& router, const DepsPtr& deps);  // catalog_api.cpp: apps, workspaces, policies
void register_entitlement_routes(http::Router& router, const DepsPtr& deps);  // entitlements_api.cpp (+ /iam/me)
void register_info_routes(http::Router& router, const DepsPtr& deps);         // resources_api.cpp: roles, audit

}  // namespace webstream::iam::api
