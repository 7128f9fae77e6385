// What can be launched and how: /iam/apps {name, exe, args}, /iam/workspaces {name, type, apps[],
// requiredTags[], requiredCapabilities[]}, /iam/policies {name, document}. Each is a generic object
// (objects_api.cpp); this file holds their field rules.
#include "iam/api/api_common.hpp"
#include "iam/policy.hpp"
#include "iam/resource_json.hpp"

namespace webstream::iam::api {
namespace {

// Copies string `field` into doc[field] after `check`; `required` on create.
Status apply_doc_string(store::ObjectRow& row, const json::object& body, const char* field, std::size_t max,
                        bool required, Status (*check)(std::string_view, std::string_view, std::size_t)) {
  auto value = read_string(body, field, max);
  if (!value) return value.error();
  if (!*value) {
    if (required) return Error::invalid("field '" + std::string(field) + "' is required");
    return Status::success();
  }
  if (auto s = check(field, **value, max); !s) return s;
  row.doc[field] = **value;
  return Status::success();
}

Status apply_app(const ResourceDeps&, store::ObjectRow& row, const json::object& body, bool creating) {
  if (auto s = apply_name(row, body, creating); !s) return s;
  if (auto s = apply_doc_string(row, body, "exe", kMaxExeBytes, creating, check_name); !s) return s;
  if (auto s = apply_doc_string(row, body, "args", kMaxArgsBytes, false, check_text); !s) return s;
  if (!row.doc.contains("args")) row.doc["args"] = "";
  return Status::success();
}

// Every id in `apps` must be an app of the workspace's org.
Status check_apps(const ResourceDeps& deps, const std::string& org_id, const std::vector<std::string>& apps) {
  for (const auto& id : apps) {
    auto app = deps.store.get_object(store::kApp, id);
    if (!app) {
      if (app.error().status != 404) return app.error();
      return Error::invalid("field 'apps' names no app '" + id + "' in this org");
    }
    if (app->org_id != org_id) return Error::invalid("field 'apps' names no app '" + id + "' in this org");
  }
  return Status::success();
}

Status apply_list(store::ObjectRow& row, const json::object& body, const char* field) {
  auto list = read_string_list(body, field);
  if (!list) return list.error();
  if (*list) {
    row.doc[field] = json_fields::to_array(**list);
  } else if (!row.doc.contains(field)) {
    row.doc[field] = json::array{};
  }
  return Status::success();
}

Status apply_workspace(const ResourceDeps& deps, store::ObjectRow& row, const json::object& body, bool creating) {
  if (auto s = apply_name(row, body, creating); !s) return s;
  auto type = read_string(body, "type", 16);
  if (!type) return type.error();
  if (*type) {
    if (**type != "desktop" && **type != "app") return Error::invalid("field 'type' must be \"desktop\" or \"app\"");
    row.doc["type"] = **type;
  } else if (creating) {
    row.doc["type"] = "desktop";
  }
  auto apps = read_string_list(body, "apps");
  if (!apps) return apps.error();
  if (*apps) {
    if (auto s = check_apps(deps, row.org_id, **apps); !s) return s;
    row.doc["apps"] = json_fields::to_array(**apps);
  } else if (creating) {
    row.doc["apps"] = json::array{};
  }
  if (auto s = apply_list(row, body, "requiredTags"); !s) return s;
  return apply_list(row, body, "requiredCapabilities");
}

Status apply_policy(const ResourceDeps&, store::ObjectRow& row, const json::object& body, bool creating) {
  if (auto s = apply_name(row, body, creating); !s) return s;
  auto it = body.find("document");
  if (it == body.end() || it->value().is_null()) {
    if (creating) row.doc["document"] = json::object{};
    return Status::success();
  }
  if (!it->value().is_object()) return Error::invalid("field 'document' must be a JSON object");
  if (auto s = validate_policy_document(it->value().get_object()); !s) return s;
  row.doc["document"] = it->value();
  return Status::success();
}

}  // namespace

void register_catalog_routes(http::Router& router, const DepsPtr& deps) {
  register_object_routes(router, deps, ObjectKind{store::kApp, ObjectType::kApp, "app_", "/iam/apps", apply_app});
  register_object_routes(
      router, deps, ObjectKind{store::kWorkspace, ObjectType::kWorkspace, "ws_", "/iam/workspaces", apply_workspace});
  register_object_routes(router, deps,
                         ObjectKind{store::kPolicy, ObjectType::kPolicy, "pol_", "/iam/policies", apply_policy});
}

}  // namespace webstream::iam::api
