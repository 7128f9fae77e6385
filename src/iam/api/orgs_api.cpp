// /iam/orgs: {name, maxConcurrentSessions?}. Creating, changing and deleting orgs is admin's; an org-admin
// reads its own org; an org that still holds anything cannot be deleted (409).
#include "core/ids.hpp"
#include "iam/api/api_common.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam::api {
namespace {

constexpr std::int64_t kMaxOrgSessions = 1'000'000;

// Applies the body's fields to `org` (create: name required).
Status apply(store::OrgRow& org, const json::object& body, bool creating) {
  auto name = read_string(body, "name", kMaxNameBytes);
  if (!name) return name.error();
  if (*name) {
    if (auto s = check_name("name", **name); !s) return s;
    org.name = std::move(**name);
  } else if (creating) {
    return Error::invalid("field 'name' is required");
  }
  auto it = body.find("maxConcurrentSessions");
  if (it != body.end()) {
    if (it->value().is_null()) {
      org.max_concurrent_sessions.reset();
    } else {
      auto max = json_fields::optional_int(body, "maxConcurrentSessions", 0, kMaxOrgSessions);
      if (!max) return max.error();
      org.max_concurrent_sessions = **max;
    }
  }
  return Status::success();
}

Result<store::OrgRow> visible_org(const ResourceDeps& deps, const Call& call, Action action) {
  auto org = deps.store.get_org(call.params.at(0));
  if (!org) return org.error().status == 404 ? not_found(ObjectType::kOrg) : org.error();
  if (auto s = authorize(call.who, action, Target{ObjectType::kOrg, org->id}); !s) return s.error();
  return org;
}

Result<Reply> list_orgs(const ResourceDeps& deps, const Call& call) {
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  const auto scope = list_scope(call);
  if (auto s = authorize(call.who, Action::kList, Target{ObjectType::kOrg, scope.org_id.value_or(call.who.org_id)});
      !s) {
    return s.error();
  }
  json::array items;
  std::int64_t total = 0;
  if (!scope.empty) {
    auto page = deps.store.list_orgs(store::ListQuery{scope.org_id, paging->limit, paging->offset});
    if (!page) return page.error();
    for (const auto& o : page->items) items.push_back(org_json(o));
    total = page->total;
  }
  return ok(page_json(std::move(items), total, *paging));
}

Result<Reply> create_org(const ResourceDeps& deps, const Call& call) {
  auto body = body_object(call);
  if (!body) return body.error();
  const std::string id = random_id("org_");
  if (auto s = authorize(call.who, Action::kCreate, Target{ObjectType::kOrg, id}); !s) return s.error();
  store::OrgRow org;
  org.id = id;
  if (auto s = apply(org, *body, true); !s) return s.error();
  org.created_at = org.updated_at = deps.clock.now_ms();
  if (auto s = deps.store.create_org(org, audit(deps, call.who, "create", "org", org.id, org.id)); !s) return s.error();
  return created(org_json(org), "/iam/orgs/" + org.id);
}

Result<Reply> get_org(const ResourceDeps& deps, const Call& call) {
  auto org = visible_org(deps, call, Action::kRead);
  if (!org) return org.error();
  return ok(org_json(*org));
}

Result<Reply> patch_org(const ResourceDeps& deps, const Call& call) {
  auto org = visible_org(deps, call, Action::kUpdate);
  if (!org) return org.error();
  auto body = body_object(call);
  if (!body) return body.error();
  if (auto s = apply(*org, *body, false); !s) return s.error();
  org->updated_at = deps.clock.now_ms();
  if (auto s = deps.store.update_org(*org, audit(deps, call.who, "update", "org", org->id, org->id)); !s) {
    return s.error();
  }
  return ok(org_json(*org));
}

Result<Reply> delete_org(const ResourceDeps& deps, const Call& call) {
  auto org = visible_org(deps, call, Action::kDelete);
  if (!org) return org.error();
  if (auto s = deps.store.delete_org(org->id, audit(deps, call.who, "delete", "org", org->id, org->id)); !s) {
    return s.error();
  }
  return no_content();
}

}  // namespace

void register_org_routes(http::Router& router, const DepsPtr& deps) {
  add_route(router, deps, "GET", "/iam/orgs", list_orgs);
  add_route(router, deps, "POST", "/iam/orgs", create_org);
  add_route(router, deps, "GET", "/iam/orgs/{}", get_org);
  add_route(router, deps, "PATCH", "/iam/orgs/{}", patch_org);
  add_route(router, deps, "DELETE", "/iam/orgs/{}", delete_org);
}

}  // namespace webstream::iam::api
