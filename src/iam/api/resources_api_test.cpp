// Orgs, roles, audit, paging and the common answers (401, 400 not JSON, 405) of the IAM resource routes.
#include "iam/api/resources_api.hpp"

#include "iam/api/testing/api_fixture.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

class ResourcesApiTest : public testing::ApiFixture {
 protected:
  ResourcesApiTest() {
    seed_.org("org_a");
    seed_.org("org_b");
    seed_.user("root", "org_a", {"admin"});
    seed_.user("boss_a", "org_a", {"org-admin"});
    seed_.user("boss_b", "org_b", {"org-admin"});
    seed_.user("alice", "org_a");
    as("admin", "root", "org_a", {"admin"});
    as("oa", "boss_a", "org_a", {"org-admin"});
    as("ob", "boss_b", "org_b", {"org-admin"});
    as("alice", "alice", "org_a", {"user"});
  }
};

TEST_F(ResourcesApiTest, EveryRouteNeedsAPrincipal) {
  for (const auto& [method, path] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/iam/orgs"},
                                                        {"POST", "/iam/users"},
                                                        {"GET", "/iam/roles"},
                                                        {"GET", "/iam/audit"},
                                                        {"DELETE", "/iam/groups/x"},
                                                        {"GET", "/iam/me/entitlements"},
                                                        {"PUT", "/iam/users/x/password"}}) {
    auto a = call(method, path, "", "{}");
    EXPECT_EQ(a.status, 401u) << method << " " << path;
    EXPECT_EQ(code(a), "unauthorized");
  }
}

TEST_F(ResourcesApiTest, RolesAreTheThreeBuiltInOnesForEveryone) {
  auto a = call("GET", "/iam/roles", "alice");
  ASSERT_EQ(a.status, 200u);
  const auto& items = a.body.at("items").as_array();
  ASSERT_EQ(items.size(), 3u);
  EXPECT_EQ(a.body.at("total"), 3);
  std::vector<std::string> ids;
  for (const auto& r : items) {
    ids.push_back(str(r, "id"));
    EXPECT_EQ(r.at("name"), r.at("id"));
    EXPECT_FALSE(r.at("description").as_string().empty());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"admin", "org-admin", "user"}));
  EXPECT_EQ(call("GET", "/iam/roles/org-admin", "alice").status, 200u);
  EXPECT_EQ(call("GET", "/iam/roles/root", "alice").status, 404u);
  EXPECT_EQ(call("POST", "/iam/roles", "admin", "{}").status, 405u);
}

TEST_F(ResourcesApiTest, AdminCreatesReadsChangesAndDeletesAnOrg) {
  auto created = call("POST", "/iam/orgs", "admin", R"({"name":"Acme","maxConcurrentSessions":5})");
  ASSERT_EQ(created.status, 201u) << created.raw;
  const std::string id = str(created.body, "id");
  EXPECT_EQ(created.location, "/iam/orgs/" + id);
  EXPECT_EQ(created.body.at("name"), "Acme");
  EXPECT_EQ(created.body.at("maxConcurrentSessions"), 5);
  EXPECT_FALSE(created.body.as_object().contains("orgId"));
  auto got = call("GET", "/iam/orgs/" + id, "admin");
  ASSERT_EQ(got.status, 200u);
  EXPECT_EQ(got.body.at("name"), "Acme");
  auto patched = call("PATCH", "/iam/orgs/" + id, "admin", R"({"maxConcurrentSessions":null,"name":"Acme2"})");
  ASSERT_EQ(patched.status, 200u) << patched.raw;
  EXPECT_TRUE(patched.body.at("maxConcurrentSessions").is_null());
  EXPECT_EQ(patched.body.at("name"), "Acme2");
  EXPECT_EQ(call("DELETE", "/iam/orgs/" + id, "admin").status, 204u);
  EXPECT_EQ(call("GET", "/iam/orgs/" + id, "admin").status, 404u);
  EXPECT_EQ(call("DELETE", "/iam/orgs/" + id, "admin").status, 404u);
}

TEST_F(ResourcesApiTest, OrgValidationDuplicatesAndInUse) {
  auto missing = call("POST", "/iam/orgs", "admin", R"({})");
  EXPECT_EQ(missing.status, 400u);
  EXPECT_EQ(code(missing), "invalid_request");
  EXPECT_NE(message(missing).find("'name'"), std::string::npos);
  auto control = call("POST", "/iam/orgs", "admin", R"({"name":"a\nb"})");
  EXPECT_EQ(control.status, 400u);
  EXPECT_NE(message(control).find("'name'"), std::string::npos);
  auto too_long = call("POST", "/iam/orgs", "admin", json::serialize(json::object{{"name", std::string(200, 'x')}}));
  EXPECT_EQ(too_long.status, 400u);
  auto bad_max = call("POST", "/iam/orgs", "admin", R"({"name":"x","maxConcurrentSessions":-1})");
  EXPECT_EQ(bad_max.status, 400u);
  EXPECT_NE(message(bad_max).find("maxConcurrentSessions"), std::string::npos);
  auto dup = call("POST", "/iam/orgs", "admin", R"({"name":"org_b"})");
  EXPECT_EQ(dup.status, 409u);
  EXPECT_EQ(code(dup), "conflict");
  auto not_json = call("POST", "/iam/orgs", "admin", "name=x");
  EXPECT_EQ(not_json.status, 400u);
  EXPECT_EQ(code(not_json), "invalid_request");
  EXPECT_EQ(call("DELETE", "/iam/orgs/org_a", "admin").status, 409u);  // still holds users
}

TEST_F(ResourcesApiTest, OrgAdminSeesOnlyItsOwnOrgAndCannotChangeOrgs) {
  auto list = call("GET", "/iam/orgs", "oa");
  ASSERT_EQ(list.status, 200u);
  ASSERT_EQ(list.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(list.body.at("items").at(0).at("id"), "org_a");
  EXPECT_EQ(list.body.at("total"), 1);
  EXPECT_EQ(call("GET", "/iam/orgs/org_a", "oa").status, 200u);
  auto other = call("GET", "/iam/orgs/org_b", "oa");
  EXPECT_EQ(other.status, 404u);
  EXPECT_EQ(other.raw.find("org_b"), std::string::npos);
  EXPECT_EQ(call("POST", "/iam/orgs", "oa", R"({"name":"mine"})").status, 403u);
  EXPECT_EQ(call("PATCH", "/iam/orgs/org_a", "oa", R"({"maxConcurrentSessions":99})").status, 403u);
  EXPECT_EQ(call("DELETE", "/iam/orgs/org_b", "oa").status, 404u);
  EXPECT_EQ(call("GET", "/iam/orgs", "alice").status, 403u);
  // Asking for another org's list gives nothing of it.
  auto asked = call("GET", "/iam/users?orgId=org_b", "oa");
  ASSERT_EQ(asked.status, 200u);
  EXPECT_EQ(asked.body.at("total"), 0);
}

TEST_F(ResourcesApiTest, ListsArePagedWithTotals) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(call("POST", "/iam/groups", "oa", R"({"name":"g)" + std::to_string(i) + R"("})").status, 201u);
  }
  auto page = call("GET", "/iam/groups?limit=2&offset=1", "oa");
  ASSERT_EQ(page.status, 200u);
  EXPECT_EQ(page.body.at("total"), 5);
  EXPECT_EQ(page.body.at("limit"), 2);
  EXPECT_EQ(page.body.at("offset"), 1);
  ASSERT_EQ(page.body.at("items").as_array().size(), 2u);
  EXPECT_EQ(page.body.at("items").at(0).at("name"), "g1");
  auto defaults = call("GET", "/iam/groups", "oa");
  EXPECT_EQ(defaults.body.at("limit"), 50);
  EXPECT_EQ(defaults.body.at("offset"), 0);
  for (const char* bad : {"limit=0", "limit=abc", "limit=1001", "offset=-1", "limit=1.5"}) {
    auto a = call("GET", std::string("/iam/groups?") + bad, "oa");
    EXPECT_EQ(a.status, 400u) << bad;
    EXPECT_NE(message(a).find(std::string(bad).substr(0, std::string(bad).find('='))), std::string::npos) << bad;
  }
  // Admin sees every org, or one with ?orgId=.
  ASSERT_EQ(call("POST", "/iam/groups", "ob", R"({"name":"gb"})").status, 201u);
  EXPECT_EQ(call("GET", "/iam/groups", "admin").body.at("total"), 6);
  EXPECT_EQ(call("GET", "/iam/groups?orgId=org_b", "admin").body.at("total"), 1);
}

TEST_F(ResourcesApiTest, EveryChangeIsAuditedAndTheAuditIsScoped) {
  auto g = call("POST", "/iam/groups", "oa", R"({"name":"staff"})");
  ASSERT_EQ(g.status, 201u);
  ASSERT_EQ(call("PATCH", "/iam/groups/" + str(g.body, "id"), "oa", R"({"name":"staff2"})").status, 200u);
  ASSERT_EQ(call("POST", "/iam/groups", "ob", R"({"name":"bstaff"})").status, 201u);
  auto mine = call("GET", "/iam/audit", "oa");
  ASSERT_EQ(mine.status, 200u);
  // Seeded rows are audited too; the newest first.
  const auto& first = mine.body.at("items").at(0).as_object();
  EXPECT_EQ(first.at("action"), "update");
  EXPECT_EQ(first.at("objectType"), "group");
  EXPECT_EQ(first.at("objectId"), g.body.at("id"));
  EXPECT_EQ(first.at("orgId"), "org_a");
  EXPECT_EQ(first.at("actor"), "boss_a");
  for (const char* field : {"id", "at"}) EXPECT_TRUE(first.contains(field)) << field;
  for (const auto& item : mine.body.at("items").as_array()) EXPECT_EQ(item.at("orgId"), "org_a");
  auto all = call("GET", "/iam/audit?limit=1", "admin");
  EXPECT_EQ(all.body.at("items").at(0).at("orgId"), "org_b");
  EXPECT_EQ(call("GET", "/iam/audit", "alice").status, 403u);
}

TEST_F(ResourcesApiTest, AServicePrincipalWithoutAnOrgCreatesInTheDefaultOrg) {
  seed_.org("default");
  auto service = std::make_shared<core::Principal>();
  service->user_id = "mcp:ops";
  service->username = "mcp:ops";
  service->roles = {"admin"};
  service->service = true;
  principals_["svc"] = *service;
  auto g = call("POST", "/iam/groups", "svc", R"({"name":"ops"})");
  ASSERT_EQ(g.status, 201u) << g.raw;
  EXPECT_EQ(g.body.at("orgId"), "default");
  auto audit = call("GET", "/iam/audit?limit=1", "admin");
  EXPECT_EQ(audit.body.at("items").at(0).at("actor"), "mcp:ops");
  auto mine = call("GET", "/iam/me/entitlements", "svc");
  ASSERT_EQ(mine.status, 200u);
  EXPECT_TRUE(mine.body.at("items").as_array().empty());
}

}  // namespace
}  // namespace webstream::iam
