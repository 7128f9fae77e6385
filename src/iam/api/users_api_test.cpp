// /iam/users and PUT /iam/users/{id}/password: hashing, RBAC per role, revocation hooks.
#include "iam/api/resources_api.hpp"

#include "iam/api/testing/api_fixture.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

class UsersApiTest : public testing::ApiFixture {
 protected:
  UsersApiTest() {
    seed_.org("org_a");
    seed_.org("org_b");
    seed_.user("root", "org_a", {"admin"});
    seed_.user("boss_a", "org_a", {"org-admin"});
    seed_.user("alice", "org_a");
    seed_.user("bob", "org_a");
    seed_.user("carol", "org_b");
    as("admin", "root", "org_a", {"admin"});
    as("oa", "boss_a", "org_a", {"org-admin"});
    as("alice", "alice", "org_a", {"user"});
  }
};

TEST_F(UsersApiTest, CreateHashesThePasswordAndNeverReturnsIt) {
  auto a = call("POST", "/iam/users", "oa",
                R"({"username":"dave","password":"correct horse","displayName":"Dave","email":"dave@example.test"})");
  ASSERT_EQ(a.status, 201u) << a.raw;
  const std::string id = str(a.body, "id");
  EXPECT_EQ(a.location, "/iam/users/" + id);
  EXPECT_EQ(a.body.at("username"), "dave");
  EXPECT_EQ(a.body.at("orgId"), "org_a");
  EXPECT_EQ(a.body.at("roles"), json::parse(R"(["user"])"));
  EXPECT_EQ(a.body.at("disabled"), false);
  EXPECT_EQ(a.body.at("displayName"), "Dave");
  EXPECT_EQ(a.raw.find("correct horse"), std::string::npos);
  EXPECT_EQ(a.raw.find("argon2"), std::string::npos);
  EXPECT_FALSE(a.body.as_object().contains("password"));
  auto row = store_->get_user(id).value();
  EXPECT_EQ(row.password_hash.rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(passwords_.verify(row.password_hash, "correct horse"));
  auto got = call("GET", "/iam/users/" + id, "oa");
  EXPECT_EQ(got.raw.find("argon2"), std::string::npos);
}

TEST_F(UsersApiTest, CreateValidatesEachFieldByName) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"password":"long enough"})", "'username'"},
      {R"({"username":"eve"})", "'password'"},
      {R"({"username":"eve","password":"short"})", "'password'"},
      {R"({"username":"e ve","password":"long enough"})", "'username'"},
      {R"({"username":"e\u0000ve","password":"long enough"})", "'username'"},
      {R"({"username":"eve","password":"long enough","roles":["root"]})", "'roles'"},
      {R"({"username":"eve","password":"long enough","roles":[]})", "'roles'"},
      {R"({"username":"eve","password":"long enough","email":"nope"})", "'email'"},
      {R"({"username":"eve","password":"long enough","disabled":"yes"})", "'disabled'"},
      {R"({"username":"eve","password":"long enough","orgId":"org_zz"})", "'orgId'"},
      {R"({"username":"eve","password":"long enough","displayName":"\u001b[31m"})", "'displayName'"},
  };
  for (const auto& c : cases) {
    auto a = call("POST", "/iam/users", "admin", c.body);
    EXPECT_EQ(a.status, 400u) << c.body;
    EXPECT_EQ(code(a), "invalid_request") << c.body;
    EXPECT_NE(message(a).find(c.field), std::string::npos) << c.body << " → " << message(a);
  }
  auto dup = call("POST", "/iam/users", "admin", R"({"username":"ALICE","password":"long enough"})");
  EXPECT_EQ(dup.status, 409u);
  EXPECT_EQ(code(dup), "conflict");
}

TEST_F(UsersApiTest, OnlyAdminCreatesAdminsOrUsersInAnotherOrg) {
  EXPECT_EQ(call("POST", "/iam/users", "oa", R"({"username":"x1","password":"long enough","roles":["admin"]})").status,
            403u);
  EXPECT_EQ(call("POST", "/iam/users", "oa", R"({"username":"x2","password":"long enough","orgId":"org_b"})").status,
            403u);
  EXPECT_EQ(call("POST", "/iam/users", "alice", R"({"username":"x3","password":"long enough"})").status, 403u);
  auto by_admin = call("POST", "/iam/users", "admin",
                       R"({"username":"x4","password":"long enough","orgId":"org_b","roles":["admin"]})");
  ASSERT_EQ(by_admin.status, 201u) << by_admin.raw;
  EXPECT_EQ(by_admin.body.at("orgId"), "org_b");
  // An org-admin may make org-admins in its own org.
  EXPECT_EQ(
      call("POST", "/iam/users", "oa", R"({"username":"x5","password":"long enough","roles":["org-admin"]})").status,
      201u);
}

TEST_F(UsersApiTest, AUserSeesAndEditsOnlyItself) {
  auto self = call("GET", "/iam/users/alice", "alice");
  ASSERT_EQ(self.status, 200u);
  EXPECT_EQ(self.body.at("username"), "alice");
  EXPECT_EQ(call("GET", "/iam/users/bob", "alice").status, 403u);
  EXPECT_EQ(call("GET", "/iam/users/carol", "alice").status, 404u);
  EXPECT_EQ(call("GET", "/iam/users", "alice").status, 403u);
  auto renamed = call("PATCH", "/iam/users/alice", "alice", R"({"displayName":"Alice A."})");
  ASSERT_EQ(renamed.status, 200u) << renamed.raw;
  EXPECT_EQ(renamed.body.at("displayName"), "Alice A.");
  EXPECT_EQ(call("PATCH", "/iam/users/alice", "alice", R"({"roles":["admin"]})").status, 403u);
  EXPECT_EQ(call("PATCH", "/iam/users/alice", "alice", R"({"disabled":true})").status, 403u);
  EXPECT_EQ(call("PATCH", "/iam/users/bob", "alice", R"({"displayName":"x"})").status, 403u);
  EXPECT_EQ(call("DELETE", "/iam/users/alice", "alice").status, 403u);
  EXPECT_EQ(call("PUT", "/iam/users/bob/password", "alice", R"({"password":"new password"})").status, 403u);
  EXPECT_EQ(store_->get_user("alice").value().roles, std::vector<std::string>{"user"});
}

TEST_F(UsersApiTest, DisablingTellsTheAuthenticatorAndMovesTheCutoff) {
  clock_.set_ms(1'800'000'000'000);
  auto a = call("PATCH", "/iam/users/bob", "oa", R"({"disabled":true})");
  ASSERT_EQ(a.status, 200u) << a.raw;
  EXPECT_EQ(a.body.at("disabled"), true);
  EXPECT_EQ(changed(), std::vector<std::string>{"bob"});
  auto row = store_->get_user("bob").value();
  EXPECT_TRUE(row.disabled);
  EXPECT_EQ(row.credentials_changed_at, 1'800'000'001);
  // Re-enabling revokes nothing; changing the profile neither.
  ASSERT_EQ(call("PATCH", "/iam/users/bob", "oa", R"({"disabled":false,"email":"bob@example.test"})").status, 200u);
  EXPECT_EQ(changed().size(), 1u);
  // A change of roles does.
  ASSERT_EQ(call("PATCH", "/iam/users/bob", "oa", R"({"roles":["org-admin"]})").status, 200u);
  EXPECT_EQ(changed().size(), 2u);
  // The same roles again do not.
  ASSERT_EQ(call("PATCH", "/iam/users/bob", "oa", R"({"roles":["org-admin"]})").status, 200u);
  EXPECT_EQ(changed().size(), 2u);
}

TEST_F(UsersApiTest, PatchRefusesPasswordAndOrgMoves) {
  auto pw = call("PATCH", "/iam/users/bob", "oa", R"({"password":"new password"})");
  EXPECT_EQ(pw.status, 400u);
  EXPECT_NE(message(pw).find("'password'"), std::string::npos);
  auto org = call("PATCH", "/iam/users/bob", "admin", R"({"orgId":"org_b"})");
  EXPECT_EQ(org.status, 400u);
  EXPECT_NE(message(org).find("'orgId'"), std::string::npos);
  EXPECT_EQ(call("PATCH", "/iam/users/bob", "admin", R"({"orgId":"org_a"})").status, 200u);
  EXPECT_EQ(call("PATCH", "/iam/users/bob", "oa", R"({"username":"alice"})").status, 409u);
}

TEST_F(UsersApiTest, PasswordChangeHashesRevokesAndAnswers204) {
  auto a = call("PUT", "/iam/users/alice/password", "alice", R"({"password":"a new password"})");
  ASSERT_EQ(a.status, 204u) << a.raw;
  EXPECT_TRUE(a.raw.empty());
  EXPECT_TRUE(passwords_.verify(store_->get_user("alice").value().password_hash, "a new password"));
  EXPECT_EQ(changed(), std::vector<std::string>{"alice"});
  auto too_short = call("PUT", "/iam/users/alice/password", "alice", R"({"password":"x"})");
  EXPECT_EQ(too_short.status, 400u);
  EXPECT_NE(message(too_short).find("'password'"), std::string::npos);
  EXPECT_EQ(call("PUT", "/iam/users/bob/password", "oa", R"({"password":"reset by boss"})").status, 204u);
  EXPECT_EQ(call("PUT", "/iam/users/carol/password", "oa", R"({"password":"reset by boss"})").status, 404u);
  EXPECT_EQ(call("PUT", "/iam/users/nobody/password", "admin", R"({"password":"whatever1"})").status, 404u);
}

TEST_F(UsersApiTest, AnOrgAdminCannotTouchAnAdmin) {
  EXPECT_EQ(call("GET", "/iam/users/root", "oa").status, 200u);
  EXPECT_EQ(call("PUT", "/iam/users/root/password", "oa", R"({"password":"taken over"})").status, 403u);
  EXPECT_EQ(call("PATCH", "/iam/users/root", "oa", R"({"disabled":true})").status, 403u);
  EXPECT_EQ(call("DELETE", "/iam/users/root", "oa").status, 403u);
  EXPECT_EQ(call("PATCH", "/iam/users/bob", "oa", R"({"roles":["admin"]})").status, 403u);
  EXPECT_FALSE(store_->get_user("root").value().disabled);
  EXPECT_TRUE(changed().empty());
}

TEST_F(UsersApiTest, DeleteRevokesAndRemovesTheUser) {
  ASSERT_EQ(call("DELETE", "/iam/users/bob", "oa").status, 204u);
  EXPECT_EQ(changed(), std::vector<std::string>{"bob"});
  EXPECT_EQ(call("GET", "/iam/users/bob", "oa").status, 404u);
  EXPECT_EQ(call("DELETE", "/iam/users/bob", "oa").status, 404u);
  EXPECT_EQ(call("DELETE", "/iam/users/carol", "oa").status, 404u);
  EXPECT_TRUE(store_->get_user("carol"));
}

TEST_F(UsersApiTest, ListsUsersOfTheCallersOrg) {
  auto a = call("GET", "/iam/users", "oa");
  ASSERT_EQ(a.status, 200u);
  EXPECT_EQ(a.body.at("total"), 4);
  for (const auto& u : a.body.at("items").as_array()) {
    EXPECT_EQ(u.at("orgId"), "org_a");
    EXPECT_FALSE(u.as_object().contains("password"));
    EXPECT_FALSE(u.as_object().contains("passwordHash"));
  }
  EXPECT_EQ(call("GET", "/iam/users", "admin").body.at("total"), 5);
}

}  // namespace
}  // namespace webstream::iam
