#pragma once
// RBAC: who may do what to which IAM object (CONTRACT §6 "Roles"). A pure function so the whole rule set is
// one table test (rbac_test.cpp); the resource handlers ask it before every read and write.
//
// The rules, in order:
//  1. Roles are read-only and visible to every signed-in caller.
//  2. `admin` may do everything (the MCP service principal carries `admin`).
//  3. An object of another org is invisible: read/update/delete answer NotFound (404, never its data);
//     creating one there is Deny (403: only admin names another org).
//  4. `org-admin`, inside its own org: everything, except
//     - its org itself is read-only (creating, renaming, limiting or deleting orgs is admin's);
//     - it cannot create, change, delete or set the password of a user holding `admin`, nor give
//       `admin` to anyone (`Target::admin_involved`).
//  5. `user`: reads and changes itself (its profile fields only — `Target::privileged` marks a change of
//     roles, disabled, username or org — and its password); everything else is Deny.
#include <string>
#include <string_view>

#include "core/principal.hpp"

namespace webstream::iam {

enum class Action { kList, kRead, kCreate, kUpdate, kDelete, kSetPassword };
enum class ObjectType { kOrg, kUser, kGroup, kRole, kApp, kWorkspace, kPolicy, kEntitlement, kAudit };
enum class Decision { kAllow, kDeny, kNotFound };

struct Target {
  ObjectType type = ObjectType::kOrg;
  std::string org_id;           // the object's org (an org's own id; for lists: the org being listed)
  bool self = false;            // the object is the caller's own user
  bool admin_involved = false;  // a user object that holds, or would be given, the admin role
  bool privileged = false;      // a user change touching roles, disabled, username or org
};

Decision can(const core::Principal& who, Action action, const Target& target);

std::string_view to_string(ObjectType type);
std::string_view to_string(Action action);

}  // namespace webstream::iam
