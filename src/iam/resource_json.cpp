#include "iam/resource_json.hpp"

#include <boost/json.hpp>

#include "core/json_fields.hpp"
#include "core/time_format.hpp"

namespace webstream::iam {

namespace json = boost::json;
using json_fields::to_array;

namespace {
void stamp(json::object& o, Millis created, Millis updated) {
  o["createdAt"] = iso8601(created);
  o["updatedAt"] = iso8601(updated);
}
}  // namespace

std::vector<std::string> doc_strings(const json::object& doc, std::string_view name) {
  std::vector<std::string> out;
  auto it = doc.find(name);
  if (it == doc.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().get_array()) {
    if (v.is_string()) out.emplace_back(v.get_string());
  }
  return out;
}

std::string doc_string(const json::object& doc, std::string_view name) {
  auto it = doc.find(name);
  if (it == doc.end() || !it->value().is_string()) return {};
  return std::string(it->value().get_string());
}

json::object org_json(const store::OrgRow& org) {
  json::object o;
  o["id"] = org.id;
  o["name"] = org.name;
  o["maxConcurrentSessions"] = org.max_concurrent_sessions ? json::value(*org.max_concurrent_sessions) : nullptr;
  stamp(o, org.created_at, org.updated_at);
  return o;
}

json::object user_json(const store::UserRow& u) {
  json::object o;
  o["id"] = u.id;
  o["username"] = u.username;
  o["orgId"] = u.org_id;
  o["roles"] = to_array(u.roles);
  o["displayName"] = u.display_name;
  o["email"] = u.email;
  o["disabled"] = u.disabled;
  stamp(o, u.created_at, u.updated_at);
  return o;
}

json::object object_json(const store::ObjectRow& row) {
  json::object o;
  o["id"] = row.id;
  o["orgId"] = row.org_id;
  o["name"] = row.name;
  if (row.type == store::kApp) {
    o["exe"] = doc_string(row.doc, "exe");
    o["args"] = doc_string(row.doc, "args");
  } else if (row.type == store::kWorkspace) {
    o["type"] = doc_string(row.doc, "type");
    o["apps"] = to_array(doc_strings(row.doc, "apps"));
    o["requiredTags"] = to_array(doc_strings(row.doc, "requiredTags"));
    o["requiredCapabilities"] = to_array(doc_strings(row.doc, "requiredCapabilities"));
  } else if (row.type == store::kPolicy) {
    o["document"] = policy_document(row);
  }
  stamp(o, row.created_at, row.updated_at);
  return o;
}

json::object entitlement_json(const store::EntitlementRow& e) {
  json::object o;
  o["id"] = e.id;
  o["orgId"] = e.org_id;
  o["subjectType"] = e.subject_type;
  o["subjectId"] = e.subject_id;
  o["workspaceId"] = e.workspace_id;
  o["appIds"] = to_array(e.app_ids);
  o["policyId"] = e.policy_id ? json::value(*e.policy_id) : nullptr;
  stamp(o, e.created_at, e.updated_at);
  return o;
}

json::object member_json(const store::MemberRow& m) {
  return json::object{{"userId", m.user_id}, {"username", m.username}, {"addedAt", iso8601(m.added_at)}};
}

json::object audit_json(const store::AuditRow& a) {
  json::object o;
  o["id"] = a.id;
  o["at"] = iso8601(a.at);
  o["actor"] = a.actor;
  o["actorName"] = a.actor_name;
  o["action"] = a.action;
  o["objectType"] = a.object_type;
  o["objectId"] = a.object_id;
  o["orgId"] = a.org_id;
  return o;
}

sessions::AppInfo app_info(const store::ObjectRow& app) {
  return sessions::AppInfo{app.id, app.name, doc_string(app.doc, "exe"), doc_string(app.doc, "args")};
}

sessions::WorkspaceInfo workspace_info(const store::ObjectRow& ws) {
  sessions::WorkspaceInfo w;
  w.id = ws.id;
  w.org_id = ws.org_id;
  w.name = ws.name;
  w.type = doc_string(ws.doc, "type");
  w.app_ids = doc_strings(ws.doc, "apps");
  w.required_tags = doc_strings(ws.doc, "requiredTags");
  w.required_capabilities = doc_strings(ws.doc, "requiredCapabilities");
  return w;
}

json::object policy_document(const store::ObjectRow& policy) {
  auto it = policy.doc.find("document");
  if (it == policy.doc.end() || !it->value().is_object()) return {};
  return it->value().get_object();
}

}  // namespace webstream::iam
