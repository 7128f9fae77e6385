#include "iam/rbac.hpp"

#include <gtest/gtest.h>

namespace webstream::iam {
namespace {

core::Principal principal(const std::string& role, const std::string& org = "org_a") {
  core::Principal p;
  p.user_id = "usr_me";
  p.username = "me";
  p.org_id = org;
  p.roles = {role};
  return p;
}

constexpr Decision A = Decision::kAllow;
constexpr Decision D = Decision::kDeny;
constexpr Decision N = Decision::kNotFound;

struct Row {
  const char* role;
  Action action;
  ObjectType type;
  const char* org;
  bool self;
  bool admin_involved;
  bool privileged;
  Decision expected;
};

// The whole rule set. "org_a" is the caller's org, "org_b" another one.
const Row kTable[] = {
    // admin: everything, any org; roles stay read-only.
    {"admin", Action::kCreate, ObjectType::kOrg, "org_b", false, false, false, A},
    {"admin", Action::kDelete, ObjectType::kOrg, "org_b", false, false, false, A},
    {"admin", Action::kCreate, ObjectType::kUser, "org_b", false, true, true, A},
    {"admin", Action::kSetPassword, ObjectType::kUser, "org_b", false, true, false, A},
    {"admin", Action::kRead, ObjectType::kWorkspace, "org_b", false, false, false, A},
    {"admin", Action::kList, ObjectType::kAudit, "org_b", false, false, false, A},
    {"admin", Action::kCreate, ObjectType::kRole, "org_a", false, false, false, D},
    {"admin", Action::kDelete, ObjectType::kRole, "org_a", false, false, false, D},
    // org-admin inside its org.
    {"org-admin", Action::kRead, ObjectType::kOrg, "org_a", false, false, false, A},
    {"org-admin", Action::kList, ObjectType::kOrg, "org_a", false, false, false, A},
    {"org-admin", Action::kUpdate, ObjectType::kOrg, "org_a", false, false, false, D},
    {"org-admin", Action::kDelete, ObjectType::kOrg, "org_a", false, false, false, D},
    {"org-admin", Action::kCreate, ObjectType::kOrg, "org_a", false, false, false, D},
    {"org-admin", Action::kCreate, ObjectType::kUser, "org_a", false, false, true, A},
    {"org-admin", Action::kCreate, ObjectType::kUser, "org_a", false, true, true, D},
    {"org-admin", Action::kUpdate, ObjectType::kUser, "org_a", false, false, true, A},
    {"org-admin", Action::kUpdate, ObjectType::kUser, "org_a", false, true, true, D},
    {"org-admin", Action::kDelete, ObjectType::kUser, "org_a", false, true, false, D},
    {"org-admin", Action::kSetPassword, ObjectType::kUser, "org_a", false, true, false, D},
    {"org-admin", Action::kSetPassword, ObjectType::kUser, "org_a", false, false, false, A},
    {"org-admin", Action::kRead, ObjectType::kUser, "org_a", false, true, false, A},
    {"org-admin", Action::kCreate, ObjectType::kGroup, "org_a", false, false, false, A},
    {"org-admin", Action::kDelete, ObjectType::kApp, "org_a", false, false, false, A},
    {"org-admin", Action::kUpdate, ObjectType::kWorkspace, "org_a", false, false, false, A},
    {"org-admin", Action::kCreate, ObjectType::kPolicy, "org_a", false, false, false, A},
    {"org-admin", Action::kCreate, ObjectType::kEntitlement, "org_a", false, false, false, A},
    {"org-admin", Action::kList, ObjectType::kAudit, "org_a", false, false, false, A},
    {"org-admin", Action::kList, ObjectType::kRole, "org_a", false, false, false, A},
    // org-admin and another org: invisible, and no creating there.
    {"org-admin", Action::kRead, ObjectType::kOrg, "org_b", false, false, false, N},
    {"org-admin", Action::kRead, ObjectType::kUser, "org_b", false, false, false, N},
    {"org-admin", Action::kUpdate, ObjectType::kGroup, "org_b", false, false, false, N},
    {"org-admin", Action::kDelete, ObjectType::kApp, "org_b", false, false, false, N},
    {"org-admin", Action::kSetPassword, ObjectType::kUser, "org_b", false, false, false, N},
    {"org-admin", Action::kRead, ObjectType::kEntitlement, "org_b", false, false, false, N},
    {"org-admin", Action::kCreate, ObjectType::kWorkspace, "org_b", false, false, false, D},
    {"org-admin", Action::kCreate, ObjectType::kUser, "org_b", false, false, false, D},
    // user: itself only.
    {"user", Action::kRead, ObjectType::kUser, "org_a", true, false, false, A},
    {"user", Action::kUpdate, ObjectType::kUser, "org_a", true, false, false, A},
    {"user", Action::kUpdate, ObjectType::kUser, "org_a", true, false, true, D},
    {"user", Action::kSetPassword, ObjectType::kUser, "org_a", true, false, false, A},
    {"user", Action::kDelete, ObjectType::kUser, "org_a", true, false, false, D},
    {"user", Action::kRead, ObjectType::kUser, "org_a", false, false, false, D},
    {"user", Action::kSetPassword, ObjectType::kUser, "org_a", false, false, false, D},
    {"user", Action::kList, ObjectType::kUser, "org_a", false, false, false, D},
    {"user", Action::kRead, ObjectType::kOrg, "org_a", false, false, false, D},
    {"user", Action::kList, ObjectType::kWorkspace, "org_a", false, false, false, D},
    {"user", Action::kCreate, ObjectType::kGroup, "org_a", false, false, false, D},
    {"user", Action::kList, ObjectType::kAudit, "org_a", false, false, false, D},
    {"user", Action::kList, ObjectType::kRole, "org_a", false, false, false, A},
    {"user", Action::kRead, ObjectType::kRole, "org_b", false, false, false, A},
    {"user", Action::kRead, ObjectType::kUser, "org_b", false, false, false, N},
    {"user", Action::kRead, ObjectType::kWorkspace, "org_b", false, false, false, N},
    {"user", Action::kCreate, ObjectType::kApp, "org_b", false, false, false, D},
};

TEST(Rbac, Table) {
  int i = 0;
  for (const auto& row : kTable) {
    Target target{row.type, row.org, row.self, row.admin_involved, row.privileged};
    EXPECT_EQ(can(principal(row.role), row.action, target), row.expected)
        << "row " << i << ": " << row.role << " " << to_string(row.action) << " " << to_string(row.type) << " in "
        << row.org;
    ++i;
  }
}

TEST(Rbac, ACallerWithoutAKnownRoleIsAPlainUser) {
  core::Principal p = principal("guest");
  EXPECT_EQ(can(p, Action::kList, Target{ObjectType::kGroup, "org_a"}), D);
  EXPECT_EQ(can(p, Action::kRead, Target{.type = ObjectType::kUser, .org_id = "org_a", .self = true}), A);
}

TEST(Rbac, AServicePrincipalWithAdminMayDoEverything) {
  core::Principal p;
  p.service = true;
  p.roles = {"admin"};
  EXPECT_EQ(can(p, Action::kDelete,
                Target{.type = ObjectType::kUser, .org_id = "org_z", .admin_involved = true, .privileged = true}),
            A);
}

}  // namespace
}  // namespace webstream::iam
