#include "iam/entitlements.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "iam/store_user_directory.hpp"
#include "iam/testing/seed.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

class EntitlementsTest : public ::testing::Test {
 protected:
  EntitlementsTest()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteIamStore::open(*db_).value()),
        seed_(*store_), service_(*store_) {
    seed_.org("org_a", 10);
    seed_.org("org_b");
    seed_.user("alice", "org_a");
    seed_.user("bob", "org_a");
    seed_.user("carol", "org_b");
    seed_.user("dave", "org_a", {"user"}, /*disabled=*/true);
    seed_.app("word", "org_a", "word.exe");
    seed_.app("excel", "org_a", "excel.exe");
    seed_.app("paint", "org_a", "paint.exe");
    seed_.app("b_app", "org_b");
    seed_.workspace("office", "org_a", {"word", "excel", "paint"});
    seed_.workspace("desk", "org_a", {}, "desktop");
    seed_.workspace("b_ws", "org_b", {"b_app"});
    seed_.policy("pol_user", "org_a", R"({"maxConcurrentSessions":4,"clipboard":false})");
    seed_.policy("pol_g1", "org_a", R"({"maxConcurrentSessions":2,"clipboard":true,"audio":false})");
    seed_.policy("pol_g2", "org_a", R"({"maxConcurrentSessions":3,"audio":false})");
    seed_.policy("pol_org", "org_a", R"({"idleTimeout":600,"audio":true})");
    seed_.group("g1", "org_a", {"alice"});
    seed_.group("g2", "org_a", {"alice", "bob"});
  }

  static std::string code(const Result<sessions::Resolution>& r) { return r ? "" : r.error().code; }

  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteIamStore> store_;
  testing::Seed seed_;
  EntitlementService service_;
};

TEST_F(EntitlementsTest, NoEntitlementIsNotEntitled) {
  auto r = service_.resolve("alice", "office", std::string("word"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 403);
  EXPECT_EQ(r.error().code, "not_entitled");
}

TEST_F(EntitlementsTest, AUserEntitlementGivesTheWorkspaceItsAppsAndTheOrgLimit) {
  seed_.entitle("e1", "org_a", "user", "alice", "office");
  auto r = service_.resolve("alice", "office", std::string("excel"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->workspace.name, "office");
  EXPECT_EQ(r->workspace.app_ids, (std::vector<std::string>{"word", "excel", "paint"}));
  ASSERT_TRUE(r->app);
  EXPECT_EQ(r->app->exe, "excel.exe");
  EXPECT_EQ(r->app->args, "--excel");
  EXPECT_EQ(json::value(r->policy), json::parse(R"({"maxConcurrentSessions":1})"));
  EXPECT_EQ(r->org_max_concurrent_sessions, 10);
  // Another user of the same org is not entitled by alice's entitlement.
  EXPECT_EQ(code(service_.resolve("bob", "office", std::string("excel"))), "not_entitled");
}

TEST_F(EntitlementsTest, TheAppMustBeInTheSubsetAndInTheWorkspace) {
  seed_.entitle("e1", "org_a", "user", "alice", "office", {"word"});
  EXPECT_TRUE(service_.resolve("alice", "office", std::string("word")));
  EXPECT_EQ(code(service_.resolve("alice", "office", std::string("excel"))), "not_entitled");
  EXPECT_EQ(code(service_.resolve("alice", "office", std::string("b_app"))), "not_entitled");
  EXPECT_EQ(code(service_.resolve("alice", "office", std::string("nope"))), "not_entitled");
  // Without an app: the workspace alone.
  auto r = service_.resolve("alice", "office", std::nullopt);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->app);
}

TEST_F(EntitlementsTest, SubsetsOfSeveralEntitlementsAddUp) {
  seed_.entitle("e1", "org_a", "group", "g1", "office", {"word"});
  seed_.entitle("e2", "org_a", "group", "g2", "office", {"paint"});
  EXPECT_TRUE(service_.resolve("alice", "office", std::string("word")));
  EXPECT_TRUE(service_.resolve("alice", "office", std::string("paint")));
  EXPECT_EQ(code(service_.resolve("alice", "office", std::string("excel"))), "not_entitled");
  EXPECT_EQ(code(service_.resolve("bob", "office", std::string("word"))), "not_entitled");
  EXPECT_TRUE(service_.resolve("bob", "office", std::string("paint")));
}

TEST_F(EntitlementsTest, OrgEntitlementCoversEveryUserOfTheOrgOnly) {
  seed_.entitle("e1", "org_a", "org", "org_a", "desk");
  EXPECT_TRUE(service_.resolve("alice", "desk", std::nullopt));
  EXPECT_TRUE(service_.resolve("bob", "desk", std::nullopt));
  EXPECT_EQ(code(service_.resolve("carol", "desk", std::nullopt)), "not_entitled");
}

TEST_F(EntitlementsTest, UnknownDisabledAndOtherOrgAreNotEntitled) {
  seed_.entitle("e1", "org_a", "org", "org_a", "office");
  EXPECT_EQ(code(service_.resolve("dave", "office", std::nullopt)), "not_entitled");
  EXPECT_EQ(code(service_.resolve("nobody", "office", std::nullopt)), "not_entitled");
  EXPECT_EQ(code(service_.resolve("alice", "b_ws", std::nullopt)), "not_entitled");
  EXPECT_EQ(code(service_.resolve("alice", "no_such_ws", std::nullopt)), "not_entitled");
  EXPECT_EQ(code(service_.resolve("carol", "office", std::nullopt)), "not_entitled");
}

TEST_F(EntitlementsTest, PolicyIsUserOverGroupsOverOrgOverDefault) {
  seed_.entitle("e_org", "org_a", "org", "org_a", "office", {}, std::string("pol_org"));
  seed_.entitle("e_g1", "org_a", "group", "g1", "office", {}, std::string("pol_g1"));
  seed_.entitle("e_g2", "org_a", "group", "g2", "office", {}, std::string("pol_g2"));
  seed_.entitle("e_user", "org_a", "user", "alice", "office", {}, std::string("pol_user"));
  auto alice = service_.resolve("alice", "office", std::string("word"));
  ASSERT_TRUE(alice);
  // user: 4 sessions, no clipboard; groups: audio false in both; org: idleTimeout 600.
  EXPECT_EQ(json::value(alice->policy),
            json::parse(R"({"maxConcurrentSessions":4,"idleTimeout":600,"audio":false,"clipboard":false})"));
  auto bob = service_.resolve("bob", "office", std::string("word"));
  ASSERT_TRUE(bob);
  EXPECT_EQ(json::value(bob->policy), json::parse(R"({"maxConcurrentSessions":3,"idleTimeout":600,"audio":false})"));
  auto carol_org = service_.resolve("carol", "office", std::nullopt);
  EXPECT_FALSE(carol_org);
}

TEST_F(EntitlementsTest, MyEntitlementsListWorkspacesAppsAndPolicies) {
  seed_.entitle("e1", "org_a", "group", "g2", "office", {"excel", "word"}, std::string("pol_g2"));
  seed_.entitle("e2", "org_a", "org", "org_a", "desk");
  auto items = service_.entitlements_for("bob");
  ASSERT_TRUE(items);
  ASSERT_EQ(items->size(), 2u);
  const auto& desk = items->at(0).as_object();
  EXPECT_EQ(desk.at("workspace").at("name"), "desk");
  EXPECT_EQ(desk.at("workspace").at("type"), "desktop");
  EXPECT_TRUE(desk.at("apps").as_array().empty());
  const auto& office = items->at(1).as_object();
  EXPECT_EQ(office.at("workspace").at("id"), "office");
  const auto& apps = office.at("apps").as_array();
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].at("id"), "word");  // the workspace's order
  EXPECT_EQ(apps[1].at("exe"), "excel.exe");
  EXPECT_EQ(office.at("policy").at("maxConcurrentSessions"), 3);
  EXPECT_TRUE(service_.entitlements_for("carol")->empty());
  EXPECT_TRUE(service_.entitlements_for("dave")->empty());
  EXPECT_TRUE(service_.entitlements_for("nobody")->empty());
}

TEST(StoreUserDirectory, FindsUsersByNameAndIdWithTheirHashAndFlags) {
  auto db = store::SqliteDb::open(":memory:").value();
  auto store = store::SqliteIamStore::open(*db).value();
  testing::Seed seed(*store);
  seed.org("org_a");
  seed.user("alice", "org_a", {"org-admin"}, true);
  StoreUserDirectory dir(*store);
  auto found = dir.find_by_username("ALICE");
  ASSERT_TRUE(found);
  const auto& byname = found.value();
  ASSERT_TRUE(byname);
  EXPECT_EQ(byname->id, "alice");
  EXPECT_EQ(byname->org_id, "org_a");
  EXPECT_EQ(byname->roles, std::vector<std::string>{"org-admin"});
  EXPECT_TRUE(byname->disabled);
  EXPECT_FALSE(byname->password_hash.empty());
  EXPECT_TRUE(dir.find_by_id("alice").value());
  EXPECT_FALSE(dir.find_by_id("bob").value());  // no such user: an answer, not an error
  EXPECT_FALSE(dir.find_by_username("").value());
}

}  // namespace
}  // namespace webstream::iam
