// The IAM store on every backend.
#include <gtest/gtest.h>

#include "store/testing/store_fixture.hpp"

namespace webstream::store {
namespace {

AuditRow audit(const std::string& action, const std::string& type, const std::string& id, const std::string& org) {
  static int n = 0;
  return AuditRow{"aud_" + std::to_string(++n), 1000 + n, "usr_actor", "actor", action, type, id, org};
}

class IamStoreTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    store_ = provider().iam().value();
  }

  void add_org(const std::string& id, const std::string& name) {
    ASSERT_TRUE(store_->create_org(OrgRow{id, name, std::nullopt, 1, 1}, audit("create", "org", id, id)).ok());
  }
  void add_user(const std::string& id, const std::string& org, const std::string& username) {
    UserRow u;
    u.id = id;
    u.org_id = org;
    u.username = username;
    u.password_hash = "$argon2id$fake";
    u.roles = {"user"};
    u.created_at = u.updated_at = 5;
    ASSERT_TRUE(store_->create_user(u, audit("create", "user", id, org)).ok());
  }
  void add_object(const std::string& type, const std::string& id, const std::string& org, const std::string& name,
                  boost::json::object doc = {}) {
    ObjectRow o{type, id, org, name, std::move(doc), 7, 7};
    auto s = store_->create_object(o, audit("create", type, id, org));
    ASSERT_TRUE(s.ok()) << s.error().message;
  }
  EntitlementRow entitlement(const std::string& id, const std::string& org, const std::string& subject_type,
                             const std::string& subject_id, const std::string& ws) {
    EntitlementRow e;
    e.id = id;
    e.org_id = org;
    e.subject_type = subject_type;
    e.subject_id = subject_id;
    e.workspace_id = ws;
    return e;
  }

  std::unique_ptr<IamStore> store_;
};
WEBSTREAM_STORE_BACKENDS(IamStoreTest);

TEST_P(IamStoreTest, EmptyUntilAnOrgExists) {
  EXPECT_TRUE(store_->is_empty().value());
  add_org("org_a", "a");
  EXPECT_FALSE(store_->is_empty().value());
}

TEST_P(IamStoreTest, OrgNamesAreUniqueAndListsPage) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  auto dup = store_->create_org(OrgRow{"org_c", "a", std::nullopt, 1, 1}, audit("create", "org", "org_c", "org_c"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().status, 409);
  EXPECT_EQ(dup.error().code, "conflict");
  auto page = store_->list_orgs(ListQuery{std::nullopt, 1, 1}).value();
  EXPECT_EQ(page.total, 2);
  ASSERT_EQ(page.items.size(), 1u);
  EXPECT_EQ(page.items[0].id, "org_b");
  auto only = store_->list_orgs(ListQuery{std::string("org_a"), 10, 0}).value();
  EXPECT_EQ(only.total, 1);
  EXPECT_EQ(store_->find_org_by_name("b").value().id, "org_b");
  EXPECT_EQ(store_->get_org("nope").error().status, 404);
}

TEST_P(IamStoreTest, OrgUpdateKeepsNamesUniqueAndDeleteNeedsAnEmptyOrg) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  auto clash = store_->update_org(OrgRow{"org_b", "a", 3, 1, 2}, audit("update", "org", "org_b", "org_b"));
  EXPECT_EQ(clash.error().status, 409);
  ASSERT_TRUE(store_->update_org(OrgRow{"org_b", "bee", 3, 1, 2}, audit("update", "org", "org_b", "org_b")).ok());
  auto b = store_->get_org("org_b").value();
  EXPECT_EQ(b.name, "bee");
  EXPECT_EQ(b.max_concurrent_sessions, 3);
  add_user("usr_1", "org_a", "alice");
  EXPECT_EQ(store_->delete_org("org_a", audit("delete", "org", "org_a", "org_a")).error().status, 409);
  EXPECT_TRUE(store_->delete_org("org_b", audit("delete", "org", "org_b", "org_b")).ok());
  EXPECT_EQ(store_->get_org("org_b").error().status, 404);
}

TEST_P(IamStoreTest, UsernamesAreUniqueCaseInsensitivelyOverAllOrgs) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  add_user("usr_1", "org_a", "Alice");
  UserRow u;
  u.id = "usr_2";
  u.org_id = "org_b";
  u.username = "alice";
  u.roles = {"user"};
  auto dup = store_->create_user(u, audit("create", "user", "usr_2", "org_b"));
  EXPECT_EQ(dup.error().status, 409);
  EXPECT_EQ(store_->find_user_by_username("ALICE").value().id, "usr_1");
  u.org_id = "org_missing";
  u.username = "bob";
  EXPECT_EQ(store_->create_user(u, audit("create", "user", "usr_2", "x")).error().status, 404);
}

TEST_P(IamStoreTest, UserUpdateRoundTripsEveryField) {
  add_org("org_a", "a");
  add_user("usr_1", "org_a", "alice");
  auto u = store_->get_user("usr_1").value();
  u.roles = {"org-admin", "user"};
  u.display_name = "Alice A.";
  u.email = "a@example.test";
  u.disabled = true;
  u.password_hash = "$argon2id$other";
  u.credentials_changed_at = 99;
  u.updated_at = 12;
  ASSERT_TRUE(store_->update_user(u, audit("update", "user", "usr_1", "org_a")).ok());
  auto back = store_->get_user("usr_1").value();
  EXPECT_EQ(back.roles, (std::vector<std::string>{"org-admin", "user"}));
  EXPECT_EQ(back.display_name, "Alice A.");
  EXPECT_EQ(back.email, "a@example.test");
  EXPECT_TRUE(back.disabled);
  EXPECT_EQ(back.password_hash, "$argon2id$other");
  EXPECT_EQ(back.credentials_changed_at, 99);
  EXPECT_EQ(back.created_at, 5);
  EXPECT_EQ(back.updated_at, 12);
}

TEST_P(IamStoreTest, APasswordChangeWritesOnlyTheHashAndMovesTheCutoffForward) {
  add_org("org_a", "a");
  add_user("usr_1", "org_a", "alice");
  // An administrator's change lands after the password change read the row.
  auto u = store_->get_user("usr_1").value();
  u.roles = {"org-admin"};
  u.disabled = true;
  u.credentials_changed_at = 500;
  ASSERT_TRUE(store_->update_user(u, audit("update", "user", "usr_1", "org_a")).ok());
  ASSERT_TRUE(
      store_->set_user_password("usr_1", "$argon2id$new", 400, 20, audit("set_password", "user", "usr_1", "org_a"))
          .ok());
  auto back = store_->get_user("usr_1").value();
  EXPECT_EQ(back.password_hash, "$argon2id$new");
  EXPECT_TRUE(back.disabled);
  EXPECT_EQ(back.roles, std::vector<std::string>{"org-admin"});
  EXPECT_EQ(back.credentials_changed_at, 500);  // never moved back
  EXPECT_EQ(back.updated_at, 20);
  ASSERT_TRUE(
      store_->set_user_password("usr_1", "$argon2id$newer", 600, 30, audit("set_password", "user", "usr_1", "org_a"))
          .ok());
  EXPECT_EQ(store_->get_user("usr_1").value().credentials_changed_at, 600);
  auto missing =
      store_->set_user_password("usr_2", "$argon2id$x", 1, 1, audit("set_password", "user", "usr_2", "org_a"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().status, 404);
}

TEST_P(IamStoreTest, ModifyUserEditsTheRowAsStoredAndWritesNothingOnError) {
  add_org("org_a", "a");
  add_user("usr_1", "org_a", "alice");
  add_user("usr_2", "org_a", "bob");
  ASSERT_TRUE(
      store_->set_user_password("usr_1", "$argon2id$newer", 50, 9, audit("set_password", "user", "usr_1", "org_a"))
          .ok());
  auto s = store_->modify_user(
      "usr_1",
      [](UserRow& u) -> Status {
        EXPECT_EQ(u.password_hash, "$argon2id$newer");  // the row as stored now
        u.disabled = true;
        u.updated_at = 10;
        return Status::success();
      },
      audit("update", "user", "usr_1", "org_a"));
  ASSERT_TRUE(s.ok()) << s.error().message;
  auto back = store_->get_user("usr_1").value();
  EXPECT_TRUE(back.disabled);
  EXPECT_EQ(back.password_hash, "$argon2id$newer");
  EXPECT_EQ(back.credentials_changed_at, 50);
  EXPECT_EQ(back.updated_at, 10);

  const auto audited = store_->list_audit(ListQuery{}).value().total;
  auto refused = store_->modify_user(
      "usr_1",
      [](UserRow& u) -> Status {
        u.display_name = "never written";
        return Error::invalid("no");
      },
      audit("update", "user", "usr_1", "org_a"));
  EXPECT_EQ(refused.error().status, 400);
  EXPECT_EQ(store_->get_user("usr_1").value().display_name, "");
  EXPECT_EQ(store_->list_audit(ListQuery{}).value().total, audited);  // no audit entry for a write not made

  auto taken = store_->modify_user(
      "usr_1",
      [](UserRow& u) -> Status {
        u.username = "BOB";
        return Status::success();
      },
      audit("update", "user", "usr_1", "org_a"));
  EXPECT_EQ(taken.error().status, 409);
  auto missing = store_->modify_user(
      "usr_9", [](UserRow&) -> Status { return Status::success(); }, audit("update", "user", "usr_9", "org_a"));
  EXPECT_EQ(missing.error().status, 404);
}

TEST_P(IamStoreTest, ObjectsAreUniquePerTypeAndOrg) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  add_object(kApp, "app_1", "org_a", "notepad", {{"exe", "notepad.exe"}, {"args", ""}});
  add_object(kApp, "app_2", "org_b", "notepad");    // same name, other org: fine
  add_object(kGroup, "grp_1", "org_a", "notepad");  // same name, other type: fine
  auto dup = store_->create_object(ObjectRow{kApp, "app_3", "org_a", "notepad", {}, 1, 1},
                                   audit("create", "app", "app_3", "org_a"));
  EXPECT_EQ(dup.error().status, 409);
  auto app = store_->get_object(kApp, "app_1").value();
  EXPECT_EQ(app.doc.at("exe").as_string(), "notepad.exe");
  EXPECT_EQ(store_->get_object(kGroup, "app_1").error().status, 404);  // the type is part of the key
  auto list = store_->list_objects(kApp, ListQuery{std::string("org_a"), 10, 0}).value();
  EXPECT_EQ(list.total, 1);
  auto all = store_->list_objects(kApp, ListQuery{std::nullopt, 10, 0}).value();
  EXPECT_EQ(all.total, 2);
}

TEST_P(IamStoreTest, AnAppAWorkspaceListsAndAPolicyInUseCannotBeDeleted) {
  add_org("org_a", "a");
  add_object(kApp, "app_1", "org_a", "notepad");
  add_object(kPolicy, "pol_1", "org_a", "strict", {{"document", boost::json::object{{"maxConcurrentSessions", 2}}}});
  boost::json::object ws{{"type", "app"}, {"apps", boost::json::array{"app_1"}}};
  add_object(kWorkspace, "ws_1", "org_a", "office", ws);
  auto e = entitlement("ent_1", "org_a", "org", "org_a", "ws_1");
  e.policy_id = "pol_1";
  ASSERT_TRUE(store_->create_entitlement(e, audit("create", "entitlement", "ent_1", "org_a")).ok());
  EXPECT_EQ(store_->delete_object(kApp, "app_1", audit("delete", "app", "app_1", "org_a")).error().status, 409);
  EXPECT_EQ(store_->delete_object(kPolicy, "pol_1", audit("delete", "policy", "pol_1", "org_a")).error().status, 409);
  // Deleting the workspace takes its entitlements with it; then both can go.
  ASSERT_TRUE(store_->delete_object(kWorkspace, "ws_1", audit("delete", "workspace", "ws_1", "org_a")).ok());
  EXPECT_EQ(store_->get_entitlement("ent_1").error().status, 404);
  EXPECT_TRUE(store_->delete_object(kApp, "app_1", audit("delete", "app", "app_1", "org_a")).ok());
  EXPECT_TRUE(store_->delete_object(kPolicy, "pol_1", audit("delete", "policy", "pol_1", "org_a")).ok());
}

TEST_P(IamStoreTest, MembersBelongToTheGroupsOrgAndGoWithTheUserOrGroup) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  add_user("usr_1", "org_a", "alice");
  add_user("usr_2", "org_b", "bob");
  add_object(kGroup, "grp_1", "org_a", "staff");
  ASSERT_TRUE(store_->add_member("grp_1", "usr_1", 10, audit("add_member", "group", "grp_1", "org_a")).ok());
  EXPECT_EQ(store_->add_member("grp_1", "usr_1", 11, audit("add_member", "group", "grp_1", "org_a")).error().status,
            409);
  EXPECT_EQ(store_->add_member("grp_1", "usr_2", 11, audit("add_member", "group", "grp_1", "org_a")).error().status,
            404);
  EXPECT_EQ(store_->add_member("grp_x", "usr_1", 11, audit("add_member", "group", "grp_x", "org_a")).error().status,
            404);
  auto members = store_->list_members("grp_1", 10, 0).value();
  ASSERT_EQ(members.total, 1);
  EXPECT_EQ(members.items[0].username, "alice");
  EXPECT_EQ(store_->groups_of("usr_1").value(), std::vector<std::string>{"grp_1"});
  ASSERT_TRUE(store_->delete_user("usr_1", audit("delete", "user", "usr_1", "org_a")).ok());
  EXPECT_EQ(store_->list_members("grp_1", 10, 0).value().total, 0);
  EXPECT_EQ(store_->remove_member("grp_1", "usr_1", audit("remove_member", "group", "grp_1", "org_a")).error().status,
            404);
}

TEST_P(IamStoreTest, EntitlementsAreUniquePerSubjectAndWorkspaceAndFoundBySubject) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  add_user("usr_1", "org_a", "alice");
  add_object(kGroup, "grp_1", "org_a", "staff");
  add_object(kGroup, "grp_2", "org_a", "other");
  add_object(kWorkspace, "ws_1", "org_a", "desk", {{"type", "desktop"}, {"apps", boost::json::array{}}});
  add_object(kWorkspace, "ws_b", "org_b", "desk", {{"type", "desktop"}, {"apps", boost::json::array{}}});
  ASSERT_TRUE(
      store_->create_entitlement(entitlement("ent_1", "org_a", "user", "usr_1", "ws_1"), audit("c", "e", "1", "org_a"))
          .ok());
  ASSERT_TRUE(
      store_->create_entitlement(entitlement("ent_2", "org_a", "group", "grp_1", "ws_1"), audit("c", "e", "2", "org_a"))
          .ok());
  ASSERT_TRUE(
      store_->create_entitlement(entitlement("ent_3", "org_a", "group", "grp_2", "ws_1"), audit("c", "e", "3", "org_a"))
          .ok());
  ASSERT_TRUE(
      store_->create_entitlement(entitlement("ent_4", "org_a", "org", "org_a", "ws_1"), audit("c", "e", "4", "org_a"))
          .ok());
  auto dup =
      store_->create_entitlement(entitlement("ent_5", "org_a", "user", "usr_1", "ws_1"), audit("c", "e", "5", "org_a"));
  EXPECT_EQ(dup.error().status, 409);
  // A workspace of another org is not a valid target.
  auto cross =
      store_->create_entitlement(entitlement("ent_6", "org_a", "user", "usr_1", "ws_b"), audit("c", "e", "6", "org_a"));
  EXPECT_EQ(cross.error().status, 400);
  auto mine = store_->entitlements_of("org_a", "usr_1", {"grp_1"}).value();
  ASSERT_EQ(mine.size(), 3u);
  EXPECT_EQ(mine[0].id, "ent_1");
  EXPECT_EQ(mine[1].id, "ent_2");
  EXPECT_EQ(mine[2].id, "ent_4");
  // Deleting the group removes its entitlements.
  ASSERT_TRUE(store_->delete_object(kGroup, "grp_1", audit("delete", "group", "grp_1", "org_a")).ok());
  EXPECT_EQ(store_->get_entitlement("ent_2").error().status, 404);
  auto e = store_->get_entitlement("ent_3").value();
  e.app_ids = {"app_x"};
  e.updated_at = 50;
  ASSERT_TRUE(store_->update_entitlement(e, audit("update", "entitlement", "ent_3", "org_a")).ok());
  EXPECT_EQ(store_->get_entitlement("ent_3").value().app_ids, std::vector<std::string>{"app_x"});
}

TEST_P(IamStoreTest, AuditIsWrittenWithEveryChangeAndListedNewestFirst) {
  add_org("org_a", "a");
  add_org("org_b", "b");
  add_user("usr_1", "org_a", "alice");
  auto all = store_->list_audit(ListQuery{std::nullopt, 10, 0}).value();
  EXPECT_EQ(all.total, 3);
  ASSERT_EQ(all.items.size(), 3u);
  EXPECT_EQ(all.items[0].object_id, "usr_1");
  EXPECT_EQ(all.items[0].action, "create");
  auto a = store_->list_audit(ListQuery{std::string("org_a"), 10, 0}).value();
  EXPECT_EQ(a.total, 2);
  // A failed change writes no audit entry.
  auto dup = store_->create_org(OrgRow{"org_c", "a", std::nullopt, 1, 1}, audit("create", "org", "org_c", "org_c"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(store_->list_audit(ListQuery{std::nullopt, 10, 0}).value().total, 3);
  ASSERT_TRUE(store_->append_audit(audit("mcp_call", "mcp", "GET /iam/users", "")).ok());
  auto after = store_->list_audit(ListQuery{std::nullopt, 10, 0}).value();
  EXPECT_EQ(after.total, 4);
  EXPECT_EQ(after.items[0].action, "mcp_call");
}

TEST_P(IamStoreTest, AWriteSurvivesReopening) {
  ASSERT_TRUE(store_->create_org(OrgRow{"org_a", "a", 4, 1, 1}, audit("create", "org", "org_a", "org_a")).ok());
  auto reopened = open_another().value();  // migrations already applied: a no-op
  EXPECT_EQ(reopened->iam().value()->get_org("org_a").value().max_concurrent_sessions, 4);
}

}  // namespace
}  // namespace webstream::store
