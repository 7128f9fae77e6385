#include "iam/entitlements.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <map>

#include "iam/policy.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam {

namespace json = boost::json;

namespace {

Error not_entitled(std::string message) { return Error{403, "not_entitled", std::move(message)}; }

// What the entitlements of one user to one workspace grant.
struct Grant {
  std::vector<std::string> app_ids;  // allowed apps, in the workspace's order
  json::object policy;
};

struct UserEntitlements {
  store::UserRow user;
  std::map<std::string, std::vector<store::EntitlementRow>> by_workspace;  // each list ordered by id
};

// The user and its entitlements, grouped by workspace. Unknown or disabled users have none.
Result<std::optional<UserEntitlements>> load(store::IamStore& store, const std::string& user_id) {
  auto user = store.get_user(user_id);
  if (!user) {
    if (user.error().status == 404) return std::optional<UserEntitlements>{};
    return user.error();
  }
  if (user->disabled) return std::optional<UserEntitlements>{};
  auto groups = store.groups_of(user_id);
  if (!groups) return groups.error();
  auto rows = store.entitlements_of(user->org_id, user_id, *groups);
  if (!rows) return rows.error();
  UserEntitlements out;
  out.user = std::move(user.value());
  for (auto& e : rows.value()) out.by_workspace[e.workspace_id].push_back(std::move(e));
  return std::optional<UserEntitlements>{std::move(out)};
}

// A policy's document, or none when the entitlement names no policy (or one that vanished).
Result<std::optional<json::object>> layer(store::IamStore& store, const store::EntitlementRow& e) {
  if (!e.policy_id) return std::optional<json::object>{};
  auto policy = store.get_object(store::kPolicy, *e.policy_id);
  if (!policy) {
    if (policy.error().status == 404) return std::optional<json::object>{};
    return policy.error();
  }
  return std::optional<json::object>{policy_document(*policy)};
}

Result<Grant> grant(store::IamStore& store, const sessions::WorkspaceInfo& ws,
                    const std::vector<store::EntitlementRow>& entitlements) {
  Grant g;
  bool every_app = false;
  std::vector<std::string> subset;
  PolicyLayers layers;
  for (const auto& e : entitlements) {
    if (e.app_ids.empty()) every_app = true;
    subset.insert(subset.end(), e.app_ids.begin(), e.app_ids.end());
    auto doc = layer(store, e);
    if (!doc) return doc.error();
    if (!doc->has_value()) continue;
    if (e.subject_type == "user") {
      layers.user = std::move(**doc);
    } else if (e.subject_type == "group") {
      layers.groups.push_back(std::move(**doc));  // entitlements come ordered by id
    } else {
      layers.org = std::move(**doc);
    }
  }
  for (const auto& app : ws.app_ids) {
    if (every_app || std::find(subset.begin(), subset.end(), app) != subset.end()) g.app_ids.push_back(app);
  }
  g.policy = effective_policy(layers);
  return g;
}

}  // namespace

Result<sessions::Resolution> EntitlementService::resolve(const std::string& user_id, const std::string& workspace_id,
                                                         const std::optional<std::string>& app_id) {
  auto mine = load(store_, user_id);
  if (!mine) return mine.error();
  if (!mine->has_value()) return not_entitled("the user may not launch this workspace");
  auto& ue = **mine;
  auto it = ue.by_workspace.find(workspace_id);
  if (it == ue.by_workspace.end()) return not_entitled("the user may not launch this workspace");
  auto ws_row = store_.get_object(store::kWorkspace, workspace_id);
  if (!ws_row) {
    if (ws_row.error().status == 404) return not_entitled("the user may not launch this workspace");
    return ws_row.error();
  }
  if (ws_row->org_id != ue.user.org_id) return not_entitled("the user may not launch this workspace");
  sessions::Resolution r;
  r.workspace = workspace_info(*ws_row);
  auto g = grant(store_, r.workspace, it->second);
  if (!g) return g.error();
  r.policy = std::move(g->policy);
  if (app_id) {
    if (std::find(g->app_ids.begin(), g->app_ids.end(), *app_id) == g->app_ids.end()) {
      return not_entitled("the user may not launch this app in the workspace");
    }
    auto app = store_.get_object(store::kApp, *app_id);
    if (!app) {
      if (app.error().status == 404) return not_entitled("the user may not launch this app in the workspace");
      return app.error();
    }
    if (app->org_id != ue.user.org_id) return not_entitled("the user may not launch this app in the workspace");
    r.app = app_info(*app);
  }
  auto org = store_.get_org(ue.user.org_id);
  if (!org) return org.error();
  r.org_max_concurrent_sessions = org->max_concurrent_sessions;
  return r;
}

Result<json::array> EntitlementService::entitlements_for(const std::string& user_id) {
  auto mine = load(store_, user_id);
  if (!mine) return mine.error();
  std::vector<std::pair<std::string, json::object>> items;  // (workspace name, item)
  if (mine->has_value()) {
    auto& ue = **mine;
    for (const auto& [workspace_id, entitlements] : ue.by_workspace) {
      auto ws_row = store_.get_object(store::kWorkspace, workspace_id);
      if (!ws_row) {
        if (ws_row.error().status == 404) continue;
        return ws_row.error();
      }
      if (ws_row->org_id != ue.user.org_id) continue;
      auto g = grant(store_, workspace_info(*ws_row), entitlements);
      if (!g) return g.error();
      json::array apps;
      for (const auto& app_id : g->app_ids) {
        auto app = store_.get_object(store::kApp, app_id);
        if (!app) {
          if (app.error().status == 404) continue;
          return app.error();
        }
        if (app->org_id == ue.user.org_id) apps.push_back(object_json(*app));
      }
      json::object item;
      item["workspace"] = object_json(*ws_row);
      item["apps"] = std::move(apps);
      item["policy"] = std::move(g->policy);
      items.emplace_back(ws_row->name, std::move(item));
    }
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  json::array out;
  for (auto& [name, item] : items) out.push_back(std::move(item));
  return out;
}

}  // namespace webstream::iam
