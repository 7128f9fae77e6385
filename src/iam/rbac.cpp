#include "iam/rbac.hpp"

namespace webstream::iam {

Decision can(const core::Principal& who, Action action, const Target& target) {
  const bool reading = action == Action::kList || action == Action::kRead;
  if (target.type == ObjectType::kRole) return reading ? Decision::kAllow : Decision::kDeny;
  if (who.is_admin()) return Decision::kAllow;
  if (target.org_id != who.org_id) return action == Action::kCreate ? Decision::kDeny : Decision::kNotFound;

  if (who.has_role("org-admin")) {
    switch (target.type) {
      case ObjectType::kOrg: return reading ? Decision::kAllow : Decision::kDeny;
      case ObjectType::kUser:
        if (target.admin_involved && !reading) return Decision::kDeny;
        return Decision::kAllow;
      case ObjectType::kAudit: return reading ? Decision::kAllow : Decision::kDeny;
      default: return Decision::kAllow;
    }
  }

  // Plain user (or no recognised role): itself only.
  if (target.type == ObjectType::kUser && target.self) {
    switch (action) {
      case Action::kRead:
      case Action::kSetPassword: return Decision::kAllow;
      case Action::kUpdate: return target.privileged ? Decision::kDeny : Decision::kAllow;
      default: return Decision::kDeny;
    }
  }
  return Decision::kDeny;
}

std::string_view to_string(ObjectType type) {
  switch (type) {
    case ObjectType::kOrg: return "org";
    case ObjectType::kUser: return "user";
    case ObjectType::kGroup: return "group";
    case ObjectType::kRole: return "role";
    case ObjectType::kApp: return "app";
    case ObjectType::kWorkspace: return "workspace";
    case ObjectType::kPolicy: return "policy";
    case ObjectType::kEntitlement: return "entitlement";
    case ObjectType::kAudit: return "audit";
  }
  return "object";
}

std::string_view to_string(Action action) {
  switch (action) {
    case Action::kList: return "list";
    case Action::kRead: return "read";
    case Action::kCreate: return "create";
    case Action::kUpdate: return "update";
    case Action::kDelete: return "delete";
    case Action::kSetPassword: return "set_password";
  }
  return "act";
}

}  // namespace webstream::iam
