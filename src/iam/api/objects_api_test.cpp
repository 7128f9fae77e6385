// Groups and members, apps, workspaces, policies, entitlements, GET /iam/me/entitlements, and the
// cross-org (IDOR) answers for every resource type.
#include "iam/api/resources_api.hpp"

#include "iam/api/testing/api_fixture.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

class ObjectsApiTest : public testing::ApiFixture {
 protected:
  ObjectsApiTest() {
    seed_.org("org_a");
    seed_.org("org_b");
    seed_.user("boss_a", "org_a", {"org-admin"});
    seed_.user("boss_b", "org_b", {"org-admin"});
    seed_.user("alice", "org_a");
    seed_.user("carol", "org_b");
    as("oa", "boss_a", "org_a", {"org-admin"});
    as("ob", "boss_b", "org_b", {"org-admin"});
    as("alice", "alice", "org_a", {"user"});
  }

  std::string make(const std::string& path, const std::string& who, const std::string& body) {
    auto a = call("POST", path, who, body);
    EXPECT_EQ(a.status, 201u) << path << " " << body << " → " << a.raw;
    return a.body.is_object() && a.body.as_object().contains("id") ? str(a.body, "id") : "";
  }
};

TEST_F(ObjectsApiTest, GroupMembersAreAddedListedAndRemoved) {
  const auto g = make("/iam/groups", "oa", R"({"name":"staff"})");
  auto added = call("POST", "/iam/groups/" + g + "/members", "oa", R"({"userId":"alice"})");
  ASSERT_EQ(added.status, 201u) << added.raw;
  EXPECT_EQ(added.body.at("userId"), "alice");
  EXPECT_EQ(str(added.body, "groupId"), g);
  EXPECT_EQ(call("POST", "/iam/groups/" + g + "/members", "oa", R"({"userId":"alice"})").status, 409u);
  auto cross = call("POST", "/iam/groups/" + g + "/members", "oa", R"({"userId":"carol"})");
  EXPECT_EQ(cross.status, 400u);
  EXPECT_NE(message(cross).find("'userId'"), std::string::npos);
  EXPECT_EQ(call("POST", "/iam/groups/" + g + "/members", "oa", R"({})").status, 400u);
  auto list = call("GET", "/iam/groups/" + g + "/members", "oa");
  ASSERT_EQ(list.status, 200u);
  EXPECT_EQ(list.body.at("total"), 1);
  EXPECT_EQ(list.body.at("items").at(0).at("username"), "alice");
  EXPECT_EQ(call("DELETE", "/iam/groups/" + g + "/members/alice", "oa").status, 204u);
  EXPECT_EQ(call("DELETE", "/iam/groups/" + g + "/members/alice", "oa").status, 404u);
  EXPECT_EQ(call("GET", "/iam/groups/" + g + "/members", "oa").body.at("total"), 0);
  EXPECT_EQ(call("GET", "/iam/groups/" + g + "/members", "alice").status, 403u);
  EXPECT_EQ(call("POST", "/iam/groups", "oa", R"({"name":"staff"})").status, 409u);
}

TEST_F(ObjectsApiTest, AppsNeedNameAndExeWithoutControlCharacters) {
  auto app = call("POST", "/iam/apps", "oa", R"({"name":"Word","exe":"C:\\Office\\word.exe","args":"/safe"})");
  ASSERT_EQ(app.status, 201u) << app.raw;
  EXPECT_EQ(app.body.at("exe"), "C:\\Office\\word.exe");
  EXPECT_EQ(app.body.at("args"), "/safe");
  EXPECT_EQ(app.body.at("orgId"), "org_a");
  EXPECT_EQ(call("POST", "/iam/apps", "oa", R"({"name":"NoArgs","exe":"x.exe"})").body.at("args"), "");
  for (const auto& [body, field] :
       std::vector<std::pair<std::string, std::string>>{{R"({"exe":"x.exe"})", "'name'"},
                                                        {R"({"name":"x"})", "'exe'"},
                                                        {R"({"name":"x","exe":"a\r\nX-User-ID: admin"})", "'exe'"},
                                                        {R"({"name":"x","exe":"x.exe","args":"-a\n-b"})", "'args'"},
                                                        {R"({"name":"x","exe":3})", "'exe'"}}) {
    auto a = call("POST", "/iam/apps", "oa", body);
    EXPECT_EQ(a.status, 400u) << body;
    EXPECT_NE(message(a).find(field), std::string::npos) << body << " → " << message(a);
  }
  const std::string id = str(app.body, "id");
  auto patched = call("PATCH", "/iam/apps/" + id, "oa", R"({"args":"/new"})");
  ASSERT_EQ(patched.status, 200u);
  EXPECT_EQ(patched.body.at("args"), "/new");
  EXPECT_EQ(patched.body.at("exe"), "C:\\Office\\word.exe");
}

TEST_F(ObjectsApiTest, WorkspacesListAppsOfTheirOrgOnly) {
  const auto word = make("/iam/apps", "oa", R"({"name":"Word","exe":"word.exe"})");
  const auto b_app = make("/iam/apps", "ob", R"({"name":"B","exe":"b.exe"})");
  auto ws = call("POST", "/iam/workspaces", "oa",
                 R"({"name":"Office","type":"app","apps":[")" + word +
                     R"("],"requiredTags":["gpu"],"requiredCapabilities":["h264"]})");
  ASSERT_EQ(ws.status, 201u) << ws.raw;
  EXPECT_EQ(ws.body.at("type"), "app");
  EXPECT_EQ(ws.body.at("apps"), json::array{json::value(word)});
  EXPECT_EQ(ws.body.at("requiredTags"), json::parse(R"(["gpu"])"));
  EXPECT_EQ(ws.body.at("requiredCapabilities"), json::parse(R"(["h264"])"));
  auto desk = call("POST", "/iam/workspaces", "oa", R"({"name":"Desk"})");
  ASSERT_EQ(desk.status, 201u);
  EXPECT_EQ(desk.body.at("type"), "desktop");
  EXPECT_TRUE(desk.body.at("apps").as_array().empty());
  auto cross = call("POST", "/iam/workspaces", "oa", R"({"name":"X","type":"app","apps":[")" + b_app + R"("]})");
  EXPECT_EQ(cross.status, 400u);
  EXPECT_NE(message(cross).find("'apps'"), std::string::npos);
  auto type = call("POST", "/iam/workspaces", "oa", R"({"name":"Y","type":"vm"})");
  EXPECT_EQ(type.status, 400u);
  EXPECT_NE(message(type).find("'type'"), std::string::npos);
  auto tags = call("POST", "/iam/workspaces", "oa", R"({"name":"Z","requiredTags":"gpu"})");
  EXPECT_EQ(tags.status, 400u);
  EXPECT_NE(message(tags).find("'requiredTags'"), std::string::npos);
  // An app a workspace lists cannot be deleted.
  auto in_use = call("DELETE", "/iam/apps/" + word, "oa");
  EXPECT_EQ(in_use.status, 409u);
  EXPECT_EQ(code(in_use), "conflict");
}

TEST_F(ObjectsApiTest, PoliciesHoldAValidatedDocument) {
  auto p = call("POST", "/iam/policies", "oa",
                R"({"name":"strict","document":{"maxConcurrentSessions":2,"clipboard":false,"idleTimeout":900}})");
  ASSERT_EQ(p.status, 201u) << p.raw;
  EXPECT_EQ(p.body.at("document").at("maxConcurrentSessions"), 2);
  auto bad = call("POST", "/iam/policies", "oa", R"({"name":"bad","document":{"maxConcurrentSessions":"two"}})");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(message(bad).find("document.maxConcurrentSessions"), std::string::npos);
  auto not_object = call("POST", "/iam/policies", "oa", R"({"name":"bad2","document":[1]})");
  EXPECT_EQ(not_object.status, 400u);
  EXPECT_NE(message(not_object).find("'document'"), std::string::npos);
  auto patched = call("PATCH", "/iam/policies/" + str(p.body, "id"), "oa", R"({"document":{"audio":true}})");
  ASSERT_EQ(patched.status, 200u);
  EXPECT_EQ(patched.body.at("document"), json::parse(R"({"audio":true})"));
}

TEST_F(ObjectsApiTest, EntitlementsCheckEveryReferenceAndFeedMyEntitlements) {
  const auto word = make("/iam/apps", "oa", R"({"name":"Word","exe":"word.exe"})");
  const auto excel = make("/iam/apps", "oa", R"({"name":"Excel","exe":"excel.exe"})");
  const auto other = make("/iam/apps", "oa", R"({"name":"Other","exe":"other.exe"})");
  const auto ws =
      make("/iam/workspaces", "oa", R"({"name":"Office","type":"app","apps":[")" + word + R"(",")" + excel + R"("]})");
  const auto b_ws = make("/iam/workspaces", "ob", R"({"name":"B"})");
  const auto pol = make("/iam/policies", "oa", R"({"name":"p","document":{"maxConcurrentSessions":3}})");
  const auto b_pol = make("/iam/policies", "ob", R"({"name":"p","document":{}})");
  const auto g = make("/iam/groups", "oa", R"({"name":"staff"})");
  struct Bad {
    std::string body;
    const char* field;
  } bad[] = {
      {R"({"subjectType":"team","subjectId":"alice","workspaceId":")" + ws + R"("})", "'subjectType'"},
      {R"({"subjectType":"user","workspaceId":")" + ws + R"("})", "'subjectId'"},
      {R"({"subjectType":"user","subjectId":"alice"})", "'workspaceId'"},
      {R"({"subjectType":"user","subjectId":"carol","workspaceId":")" + ws + R"("})", "'subjectId'"},
      {R"({"subjectType":"group","subjectId":"alice","workspaceId":")" + ws + R"("})", "'subjectId'"},
      {R"({"subjectType":"org","subjectId":"org_b","workspaceId":")" + ws + R"("})", "'subjectId'"},
      {R"({"subjectType":"user","subjectId":"alice","workspaceId":")" + b_ws + R"("})", "'workspaceId'"},
      {R"({"subjectType":"user","subjectId":"alice","workspaceId":")" + ws + R"(","appIds":[")" + other + R"("]})",
       "'appIds'"},
      {R"({"subjectType":"user","subjectId":"alice","workspaceId":")" + ws + R"(","policyId":")" + b_pol + R"("})",
       "'policyId'"},
  };
  for (const auto& b : bad) {
    auto a = call("POST", "/iam/entitlements", "oa", b.body);
    EXPECT_EQ(a.status, 400u) << b.body;
    EXPECT_NE(message(a).find(b.field), std::string::npos) << b.body << " → " << message(a);
  }
  auto e = call("POST", "/iam/entitlements", "oa",
                R"({"subjectType":"group","subjectId":")" + g + R"(","workspaceId":")" + ws + R"(","appIds":[")" +
                    word + R"("],"policyId":")" + pol + R"("})");
  ASSERT_EQ(e.status, 201u) << e.raw;
  EXPECT_EQ(e.body.at("subjectType"), "group");
  EXPECT_EQ(str(e.body, "policyId"), pol);
  EXPECT_EQ(call("POST", "/iam/entitlements", "oa",
                 R"({"subjectType":"group","subjectId":")" + g + R"(","workspaceId":")" + ws + R"("})")
                .status,
            409u);
  // Nothing yet for alice: she is not in the group.
  auto none = call("GET", "/iam/me/entitlements", "alice");
  ASSERT_EQ(none.status, 200u);
  EXPECT_TRUE(none.body.at("items").as_array().empty());
  ASSERT_EQ(call("POST", "/iam/groups/" + g + "/members", "oa", R"({"userId":"alice"})").status, 201u);
  auto mine = call("GET", "/iam/me/entitlements", "alice");
  ASSERT_EQ(mine.status, 200u);
  const auto& items = mine.body.at("items").as_array();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(str(items[0].at("workspace"), "id"), ws);
  ASSERT_EQ(items[0].at("apps").as_array().size(), 1u);
  EXPECT_EQ(items[0].at("apps").at(0).at("exe"), "word.exe");
  EXPECT_EQ(items[0].at("policy").at("maxConcurrentSessions"), 3);
  // Widening the subset and dropping the policy shows at once.
  auto patched = call("PATCH", "/iam/entitlements/" + str(e.body, "id"), "oa", R"({"appIds":[],"policyId":null})");
  ASSERT_EQ(patched.status, 200u) << patched.raw;
  EXPECT_TRUE(patched.body.at("policyId").is_null());
  auto wider = call("GET", "/iam/me/entitlements", "alice");
  EXPECT_EQ(wider.body.at("items").at(0).at("apps").as_array().size(), 2u);
  EXPECT_EQ(wider.body.at("items").at(0).at("policy"), json::parse(R"({"maxConcurrentSessions":1})"));
  // The policy can go once no entitlement names it.
  EXPECT_EQ(call("DELETE", "/iam/policies/" + pol, "oa").status, 204u);
  EXPECT_EQ(call("DELETE", "/iam/entitlements/" + str(e.body, "id"), "oa").status, 204u);
  EXPECT_TRUE(call("GET", "/iam/me/entitlements", "alice").body.at("items").as_array().empty());
  EXPECT_EQ(call("GET", "/iam/entitlements", "alice").status, 403u);
}

// IDOR: an org-admin of org_b asks for, changes and deletes every kind of org_a object by id. Every answer
// is 404 not_found with nothing of the object in it, and nothing changes.
TEST_F(ObjectsApiTest, AnotherOrgsObjectsAreNotFoundForEveryResourceType) {
  const auto app = make("/iam/apps", "oa", R"({"name":"SecretApp","exe":"secret.exe"})");
  const auto ws = make("/iam/workspaces", "oa", R"({"name":"SecretWs","type":"app","apps":[")" + app + R"("]})");
  const auto pol = make("/iam/policies", "oa", R"({"name":"SecretPol","document":{}})");
  const auto g = make("/iam/groups", "oa", R"({"name":"SecretGroup"})");
  const auto ent =
      make("/iam/entitlements", "oa", R"({"subjectType":"org","subjectId":"org_a","workspaceId":")" + ws + R"("})");
  const std::vector<std::pair<std::string, std::string>> objects = {
      {"/iam/orgs/", "org_a"},  {"/iam/users/", "alice"}, {"/iam/groups/", g},        {"/iam/apps/", app},
      {"/iam/workspaces/", ws}, {"/iam/policies/", pol},  {"/iam/entitlements/", ent}};
  for (const auto& [path, id] : objects) {
    for (const char* method : {"GET", "PATCH", "DELETE"}) {
      auto a = call(method, path + id, "ob", R"({"name":"pwned"})");
      EXPECT_EQ(a.status, 404u) << method << " " << path << id;
      EXPECT_EQ(code(a), "not_found") << method << " " << path << id;
      EXPECT_EQ(a.raw.find("Secret"), std::string::npos) << a.raw;
      EXPECT_EQ(a.raw.find(id), std::string::npos) << a.raw;
    }
  }
  for (const auto& extra : {std::pair<std::string, std::string>{"GET", "/iam/groups/" + g + "/members"},
                            {"POST", "/iam/groups/" + g + "/members"},
                            {"DELETE", "/iam/groups/" + g + "/members/alice"},
                            {"PUT", "/iam/users/alice/password"}}) {
    auto a = call(extra.first, extra.second, "ob", R"({"userId":"carol","password":"pwned pwned"})");
    EXPECT_EQ(a.status, 404u) << extra.first << " " << extra.second;
  }
  // Lists never show them.
  for (const char* path : {"/iam/users", "/iam/groups", "/iam/apps", "/iam/workspaces", "/iam/policies",
                           "/iam/entitlements", "/iam/audit", "/iam/orgs"}) {
    auto a = call("GET", path, "ob");
    ASSERT_EQ(a.status, 200u) << path;
    EXPECT_EQ(a.raw.find("Secret"), std::string::npos) << path;
    EXPECT_EQ(a.raw.find("org_a"), std::string::npos) << path;
  }
  // Nothing changed.
  EXPECT_EQ(store_->get_object(store::kApp, app).value().name, "SecretApp");
  EXPECT_TRUE(store_->get_entitlement(ent));
  EXPECT_TRUE(changed().empty());
  // And creating in org_a by naming it is refused.
  EXPECT_EQ(call("POST", "/iam/apps", "ob", R"({"name":"x","exe":"x","orgId":"org_a"})").status, 403u);
}

}  // namespace
}  // namespace webstream::iam
