#pragma once
// The JSON shapes of IAM objects in API answers (CONTRACT §6 field names, camelCase), and the typed views
// of stored documents that the entitlement resolver hands to sessions. Never emits a password or hash.
//
// Stored documents (store::ObjectRow::doc) per type:
//   app       {"exe": string, "args": string}
//   workspace {"type": "desktop"|"app", "apps": [appId], "requiredTags": [..], "requiredCapabilities": [..]}
//   policy    {"document": {...}}
//   group     {}
// Thread rules: none (pure functions).
#include <boost/json/object.hpp>

#include "sessions/entitlement_resolver.hpp"
#include "store/iam_store.hpp"

namespace webstream::iam {

boost::json::object org_json(const store::OrgRow& org);
boost::json::object user_json(const store::UserRow& user);
boost::json::object object_json(const store::ObjectRow& object);  // group, app, workspace or policy
boost::json::object entitlement_json(const store::EntitlementRow& e);
boost::json::object member_json(const store::MemberRow& member);
boost::json::object audit_json(const store::AuditRow& audit);

sessions::AppInfo app_info(const store::ObjectRow& app);
sessions::WorkspaceInfo workspace_info(const store::ObjectRow& workspace);
// A policy object's document ({} when it has none).
boost::json::object policy_document(const store::ObjectRow& policy);

// The strings of array field `name` of a stored document (non-strings skipped).
std::vector<std::string> doc_strings(const boost::json::object& doc, std::string_view name);
std::string doc_string(const boost::json::object& doc, std::string_view name);

}  // namespace webstream::iam
