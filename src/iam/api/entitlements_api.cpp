// /iam/entitlements {subjectType, subjectId, workspaceId, appIds[], policyId?} and GET /iam/me/entitlements.
// Everything an entitlement names lives in its org: the subject (a user or group of the org, or the org
// itself), the workspace, the policy; appIds must be apps of the workspace.
#include <algorithm>

#include "core/ids.hpp"
#include "iam/api/api_common.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam::api {
namespace {

Error bad(const char* field, const std::string& what) {
  return Error::invalid("field '" + std::string(field) + "' " + what);
}

// Copies the body's fields over `e` (creating: subjectType, subjectId, workspaceId required).
Status apply(store::EntitlementRow& e, const json::object& body, bool creating) {
  auto subject_type = read_string(body, "subjectType", 16);
  if (!subject_type) return subject_type.error();
  if (*subject_type) {
    if (**subject_type != "user" && **subject_type != "group" && **subject_type != "org") {
      return bad("subjectType", "must be \"user\", \"group\" or \"org\"");
    }
    e.subject_type = **subject_type;
  }
  for (auto [field, target] : {std::pair{"subjectId", &e.subject_id}, std::pair{"workspaceId", &e.workspace_id}}) {
    auto v = read_string(body, field, kMaxIdBytes);
    if (!v) return v.error();
    if (*v) {
      if (auto s = check_name(field, **v, kMaxIdBytes); !s) return s;
      *target = **v;
    }
  }
  if (creating) {
    if (e.subject_type.empty()) return bad("subjectType", "is required");
    if (e.subject_id.empty()) return bad("subjectId", "is required");
    if (e.workspace_id.empty()) return bad("workspaceId", "is required");
  }
  auto apps = read_string_list(body, "appIds");
  if (!apps) return apps.error();
  if (*apps) e.app_ids = std::move(**apps);
  auto it = body.find("policyId");
  if (it != body.end()) {
    if (it->value().is_null()) {
      e.policy_id.reset();
    } else {
      auto p = read_string(body, "policyId", kMaxIdBytes);
      if (!p) return p.error();
      if (auto s = check_name("policyId", **p, kMaxIdBytes); !s) return s;
      e.policy_id = **p;
    }
  }
  return Status::success();
}

// The references must all be in the entitlement's org (the store checks workspace and policy again in
// its transaction).
Status check_references(const ResourceDeps& deps, const store::EntitlementRow& e) {
  if (e.subject_type == "org") {
    if (e.subject_id != e.org_id) return bad("subjectId", "must be the entitlement's org for subjectType \"org\"");
  } else if (e.subject_type == "user") {
    auto user = deps.store.get_user(e.subject_id);
    if (!user && user.error().status != 404) return user.error();
    if (!user || user->org_id != e.org_id) return bad("subjectId", "names no user in this org");
  } else {
    auto group = deps.store.get_object(store::kGroup, e.subject_id);
    if (!group && group.error().status != 404) return group.error();
    if (!group || group->org_id != e.org_id) return bad("subjectId", "names no group in this org");
  }
  auto ws = deps.store.get_object(store::kWorkspace, e.workspace_id);
  if (!ws && ws.error().status != 404) return ws.error();
  if (!ws || ws->org_id != e.org_id) return bad("workspaceId", "names no workspace in this org");
  const auto ws_apps = doc_strings(ws->doc, "apps");
  for (const auto& app : e.app_ids) {
    if (std::find(ws_apps.begin(), ws_apps.end(), app) == ws_apps.end()) {
      return bad("appIds", "names '" + app + "', which is not an app of the workspace");
    }
  }
  if (e.policy_id) {
    auto policy = deps.store.get_object(store::kPolicy, *e.policy_id);
    if (!policy && policy.error().status != 404) return policy.error();
    if (!policy || policy->org_id != e.org_id) return bad("policyId", "names no policy in this org");
  }
  return Status::success();
}

Result<store::EntitlementRow> visible_entitlement(const ResourceDeps& deps, const Call& call, Action action) {
  auto e = deps.store.get_entitlement(call.params.at(0));
  if (!e) return e.error().status == 404 ? not_found(ObjectType::kEntitlement) : e.error();
  if (auto s = authorize(call.who, action, Target{ObjectType::kEntitlement, e->org_id}); !s) return s.error();
  return e;
}

Result<Reply> list_entitlements(const ResourceDeps& deps, const Call& call) {
  auto paging = read_paging(call.limit, call.offset);
  if (!paging) return paging.error();
  const auto scope = list_scope(call);
  if (auto s =
          authorize(call.who, Action::kList, Target{ObjectType::kEntitlement, scope.org_id.value_or(call.who.org_id)});
      !s) {
    return s.error();
  }
  json::array items;
  std::int64_t total = 0;
  if (!scope.empty) {
    auto page = deps.store.list_entitlements(store::ListQuery{scope.org_id, paging->limit, paging->offset});
    if (!page) return page.error();
    for (const auto& e : page->items) items.push_back(entitlement_json(e));
    total = page->total;
  }
  return ok(page_json(std::move(items), total, *paging));
}

Result<Reply> create_entitlement(const ResourceDeps& deps, const Call& call) {
  auto body = body_object(call);
  if (!body) return body.error();
  auto org = create_org_id(deps, call, *body, ObjectType::kEntitlement);
  if (!org) return org.error();
  store::EntitlementRow e;
  e.id = random_id("ent_");
  e.org_id = *org;
  if (auto s = apply(e, *body, true); !s) return s.error();
  if (auto s = check_references(deps, e); !s) return s.error();
  e.created_at = e.updated_at = deps.clock.now_ms();
  if (auto s = deps.store.create_entitlement(e, audit(deps, call.who, "create", "entitlement", e.id, e.org_id)); !s) {
    return s.error();
  }
  return created(entitlement_json(e), "/iam/entitlements/" + e.id);
}

Result<Reply> get_entitlement(const ResourceDeps& deps, const Call& call) {
  auto e = visible_entitlement(deps, call, Action::kRead);
  if (!e) return e.error();
  return ok(entitlement_json(*e));
}

Result<Reply> patch_entitlement(const ResourceDeps& deps, const Call& call) {
  auto e = visible_entitlement(deps, call, Action::kUpdate);
  if (!e) return e.error();
  auto body = body_object(call);
  if (!body) return body.error();
  if (auto s = check_org_unchanged(*body, e->org_id); !s) return s.error();
  if (auto s = apply(*e, *body, false); !s) return s.error();
  if (auto s = check_references(deps, *e); !s) return s.error();
  e->updated_at = deps.clock.now_ms();
  if (auto s = deps.store.update_entitlement(*e, audit(deps, call.who, "update", "entitlement", e->id, e->org_id));
      !s) {
    return s.error();
  }
  return ok(entitlement_json(*e));
}

Result<Reply> delete_entitlement(const ResourceDeps& deps, const Call& call) {
  auto e = visible_entitlement(deps, call, Action::kDelete);
  if (!e) return e.error();
  if (auto s = deps.store.delete_entitlement(e->id, audit(deps, call.who, "delete", "entitlement", e->id, e->org_id));
      !s) {
    return s.error();
  }
  return no_content();
}

// Any signed-in user: what it may launch. A service principal is no user: an empty list.
Result<Reply> my_entitlements(const ResourceDeps& deps, const Call& call) {
  json::array items;
  if (!call.who.user_id.empty()) {
    auto mine = deps.entitlements.entitlements_for(call.who.user_id);
    if (!mine) return mine.error();
    items = std::move(mine.value());
  }
  json::object body;
  const auto total = items.size();
  body["items"] = std::move(items);
  body["total"] = total;
  return ok(std::move(body));
}

}  // namespace

void register_entitlement_routes(http::Router& router, const DepsPtr& deps) {
  add_route(router, deps, "GET", "/iam/entitlements", list_entitlements);
  add_route(router, deps, "POST", "/iam/entitlements", create_entitlement);
  add_route(router, deps, "GET", "/iam/entitlements/{}", get_entitlement);
  add_route(router, deps, "PATCH", "/iam/entitlements/{}", patch_entitlement);
  add_route(router, deps, "DELETE", "/iam/entitlements/{}", delete_entitlement);
  add_route(router, deps, "GET", "/iam/me/entitlements", my_entitlements);
}

}  // namespace webstream::iam::api
