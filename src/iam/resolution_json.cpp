#include "iam/resolution_json.hpp"

#include "core/json_fields.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;
namespace jf = json_fields;

Error bad(std::string_view field) {
  return Error{502, "access_management_error",
               "the access-management service's resolution has no valid '" + std::string(field) + "'"};
}

// A string member ("" when absent is not allowed: `field` names it).
Result<std::string> text(const json::object& o, std::string_view name, std::string_view field) {
  auto v = jf::required_string(o, name, 64 * 1024);
  if (!v) return bad(field);
  return std::move(v.value());
}

Result<std::vector<std::string>> texts(const json::object& o, std::string_view name, std::string_view field) {
  auto v = jf::string_array(o, name, 4096, 4096);
  if (!v) return bad(field);
  return std::move(v.value());
}

}  // namespace

json::object resolution_to_json(const sessions::Resolution& r) {
  json::object ws{{"id", r.workspace.id},
                  {"orgId", r.workspace.org_id},
                  {"name", r.workspace.name},
                  {"type", r.workspace.type},
                  {"apps", jf::to_array(r.workspace.app_ids)},
                  {"requiredTags", jf::to_array(r.workspace.required_tags)},
                  {"requiredCapabilities", jf::to_array(r.workspace.required_capabilities)}};
  json::object out{{"workspace", std::move(ws)}, {"policy", r.policy}};
  if (r.app) {
    out["app"] = json::object{{"id", r.app->id}, {"name", r.app->name}, {"exe", r.app->exe}, {"args", r.app->args}};
  } else {
    out["app"] = nullptr;
  }
  if (r.org_max_concurrent_sessions) {
    out["orgMaxConcurrentSessions"] = *r.org_max_concurrent_sessions;
  } else {
    out["orgMaxConcurrentSessions"] = nullptr;
  }
  return out;
}

Result<sessions::Resolution> resolution_from_json(const json::object& o) {
  sessions::Resolution r;
  const auto* ws = o.if_contains("workspace");
  if (!ws || !ws->is_object()) return bad("workspace");
  const auto& w = ws->get_object();
  auto id = text(w, "id", "workspace.id");
  if (!id) return id.error();
  auto org = text(w, "orgId", "workspace.orgId");
  if (!org) return org.error();
  auto name = text(w, "name", "workspace.name");
  if (!name) return name.error();
  auto type = text(w, "type", "workspace.type");
  if (!type) return type.error();
  auto apps = texts(w, "apps", "workspace.apps");
  if (!apps) return apps.error();
  auto tags = texts(w, "requiredTags", "workspace.requiredTags");
  if (!tags) return tags.error();
  auto caps = texts(w, "requiredCapabilities", "workspace.requiredCapabilities");
  if (!caps) return caps.error();
  r.workspace = sessions::WorkspaceInfo{std::move(*id),   std::move(*org),  std::move(*name), std::move(*type),
                                        std::move(*apps), std::move(*tags), std::move(*caps)};

  const auto* app = o.if_contains("app");
  if (app && app->is_object()) {
    const auto& a = app->get_object();
    auto app_id = text(a, "id", "app.id");
    if (!app_id) return app_id.error();
    auto app_name = text(a, "name", "app.name");
    if (!app_name) return app_name.error();
    auto exe = text(a, "exe", "app.exe");
    if (!exe) return exe.error();
    auto args = text(a, "args", "app.args");
    if (!args) return args.error();
    r.app = sessions::AppInfo{std::move(*app_id), std::move(*app_name), std::move(*exe), std::move(*args)};
  } else if (app && !app->is_null()) {
    return bad("app");
  }

  const auto* policy = o.if_contains("policy");
  if (!policy || !policy->is_object()) return bad("policy");
  r.policy = policy->get_object();

  const auto* org_max = o.if_contains("orgMaxConcurrentSessions");
  if (org_max && org_max->is_int64()) {
    r.org_max_concurrent_sessions = org_max->get_int64();
  } else if (org_max && org_max->is_uint64() && org_max->get_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    r.org_max_concurrent_sessions = static_cast<std::int64_t>(org_max->get_uint64());
  } else if (org_max && !org_max->is_null()) {
    return bad("orgMaxConcurrentSessions");
  }
  return r;
}

}  // namespace webstream::iam
