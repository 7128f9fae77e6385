#pragma once
// Effective policy: the pure, field-by-field merge of the policy documents that apply to one user and one
// workspace (CONTRACT §6; the rule is written out in docs/iam-policy.md).
//
//   effective = default {"maxConcurrentSessions":1}
//               ← the org entitlement's policy
//               ← the group entitlements' policies, combined
//               ← the user entitlement's policy
// Each "←" copies every field the more specific layer sets over what is there (a field the layer does not
// set keeps the less specific value; JSON null counts as "not set"). Nested objects are replaced whole.
//
// Several group layers (the user is in several groups entitled to the workspace) combine per field, most
// permissive first: a boolean is true if any group's is true; a number is the largest; any other value is
// taken from the group entitlement whose id sorts first. Only then does the group result meet the others.
//
// Thread rules: none (pure functions).
#include <boost/json/object.hpp>

#include <optional>
#include <vector>

#include "core/error.hpp"

namespace webstream::iam {

// The built-in default: {"maxConcurrentSessions":1}.
boost::json::object default_policy();

struct PolicyLayers {
  std::optional<boost::json::object> user;
  std::vector<boost::json::object> groups;  // in the order of their entitlements' ids
  std::optional<boost::json::object> org;
};

boost::json::object effective_policy(const PolicyLayers& layers);

// Checks a policy document written by an operator: a JSON object of at most 64 fields; the fields the
// gateway acts on have their types (maxConcurrentSessions: integer 0..10000; idleTimeout: integer seconds
// 0..2592000; clipboard, audio, fileTransfer: boolean or string). The Error names the field as
// "document.<field>".
Status validate_policy_document(const boost::json::object& document);

}  // namespace webstream::iam
