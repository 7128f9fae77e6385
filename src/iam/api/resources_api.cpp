// register_resource_routes, and the two read-only resources: the built-in roles and the audit log.
#include "iam/api/resources_api.hpp"

#include "iam/api/api_common.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam {
namespace api {
namespace {

// The roles are the UserService's (iam/user_service.hpp).
json::object role_json(const UserRole& r) {
  return json::object{{"id", r.id}, {"name", r.id}, {"description", r.description}};
}

Result<Reply> list_roles(const ResourceDeps&, const Call& call) {
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  json::array items;
  const auto total = static_cast<std::int64_t>(kUserRoles.size());
  for (std::int64_t i = paging->offset; i < total && i < paging->offset + paging->limit; ++i) {
    items.push_back(role_json(kUserRoles[static_cast<std::size_t>(i)]));
  }
  return ok(page_json(std::move(items), total, *paging));
}

Result<Reply> get_role(const ResourceDeps&, const Call& call) {
  for (const auto& r : kUserRoles) {
    if (call.params.at(0) == r.id) return ok(role_json(r));
  }
  return not_found(ObjectType::kRole);
}

Result<Reply> list_audit(const ResourceDeps& deps, const Call& call) {
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  const auto scope = list_scope(call);
  if (auto s = authorize(call.who, Action::kList, Target{ObjectType::kAudit, scope.org_id.value_or(call.who.org_id)});
      !s) {
    return s.error();
  }
  json::array items;
  std::int64_t total = 0;
  if (!scope.empty) {
    auto page = deps.store.list_audit(store::ListQuery{scope.org_id, paging->limit, paging->offset});
    if (!page) return page.error();
    for (const auto& a : page->items) items.push_back(audit_json(a));
    total = page->total;
  }
  return ok(page_json(std::move(items), total, *paging));
}

}  // namespace

void register_info_routes(http::Router& router, const DepsPtr& deps) {
  add_route(router, deps, "GET", "/iam/roles", list_roles);
  add_route(router, deps, "GET", "/iam/roles/{}", get_role);
  add_route(router, deps, "GET", "/iam/audit", list_audit);
}

}  // namespace api

void register_resource_routes(http::Router& router, ResourceDeps deps) {
  auto shared = std::make_shared<const ResourceDeps>(std::move(deps));
  api::register_org_routes(router, shared);
  api::register_user_routes(router, shared);
  api::register_group_routes(router, shared);
  api::register_catalog_routes(router, shared);
  api::register_entitlement_routes(router, shared);
  api::register_info_routes(router, shared);
}

}  // namespace webstream::iam
