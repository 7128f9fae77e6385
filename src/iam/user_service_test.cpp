#include "iam/user_service.hpp"

#include <gtest/gtest.h>

#include <functional>

#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::iam {
namespace {

const AuditActor kAdmin{"usr_admin", "admin"};
const AuditActor kSelf{"usr_alice", "alice"};

// A UserService over an in-memory SQLite store whose hasher runs `while_hashing` (once) before it answers:
// the seam that puts an administrator's change between a password change's read and its write, which in
// production is the ~0.25 s the argon2id hash takes.
class UserServiceTest : public ::testing::Test {
 protected:
  UserServiceTest()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteIamStore::open(*db_).value()),
        users_(
            *store_, [this](std::string_view password) { return hash(password); }, clock_,
            [this](const std::string& user_id) {
              told_.push_back(user_id);
              if (auto run = std::exchange(while_told_, nullptr)) run();
              return cutoff_;
            }) {
    const store::OrgRow org{"org_a", "a", std::nullopt, 1, 1};
    EXPECT_TRUE(store_->create_org(org, store::AuditRow{"aud_0", 1, "cli", "cli", "create", "org", "org_a", "org_a"}));
    NewUser alice;
    alice.org_id = "org_a";
    alice.username = "alice";
    auto created = users_.create(alice, "first password", kAdmin);
    EXPECT_TRUE(created) << created.error().message;
    alice_id_ = created->id;
  }

  Result<std::string> hash(std::string_view password) {
    if (auto run = std::exchange(while_hashing_, nullptr)) run();
    return "hash:" + std::string(password);
  }
  store::UserRow alice() { return store_->get_user(alice_id_).value(); }

  webstream::testing::FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteIamStore> store_;
  std::function<void()> while_hashing_;
  // Runs (once) inside the revocation hook, which an edit calls after the caller read the user and before the
  // write: the seam for a change that lands in between.
  std::function<void()> while_told_;
  std::vector<std::string> told_;
  std::int64_t cutoff_ = 0;  // what the revocation hook answers (0: the service's now + 1 s)
  UserService users_;
  std::string alice_id_;
};

TEST_F(UserServiceTest, APasswordChangeKeepsADisableMadeWhileItHashes) {
  const auto before = alice();  // what the password change read
  while_hashing_ = [&] {
    cutoff_ = 1'800'000'000;  // the disable's cutoff is later than the password change's (now + 1 s)
    UserEdit disable;
    disable.disabled = true;
    ASSERT_TRUE(users_.edit(alice(), disable, kAdmin));
    cutoff_ = 0;
  };
  auto changed = users_.set_password(before, "second password", kSelf);
  ASSERT_TRUE(changed) << changed.error().message;
  const auto now = alice();
  EXPECT_TRUE(now.disabled);  // the administrator's disable survives
  EXPECT_EQ(now.password_hash, "hash:second password");
  EXPECT_EQ(now.credentials_changed_at, 1'800'000'000);  // a cutoff only moves forward
}

TEST_F(UserServiceTest, APasswordChangeKeepsARoleChangeMadeWhileItHashes) {
  const auto before = alice();
  while_hashing_ = [&] {
    UserEdit promote;
    promote.roles = std::vector<std::string>{"org-admin"};
    promote.display_name = "Alice A.";
    ASSERT_TRUE(users_.edit(alice(), promote, kAdmin));
  };
  ASSERT_TRUE(users_.set_password(before, "second password", kSelf));
  const auto now = alice();
  EXPECT_EQ(now.roles, std::vector<std::string>{"org-admin"});
  EXPECT_EQ(now.display_name, "Alice A.");
  EXPECT_EQ(now.password_hash, "hash:second password");
}

TEST_F(UserServiceTest, APasswordChangeForAUserDeletedWhileItHashesIsNotFound) {
  const auto before = alice();
  while_hashing_ = [&] { ASSERT_TRUE(users_.remove(alice(), kAdmin)); };
  auto changed = users_.set_password(before, "second password", kSelf);
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().status, 404);
}

TEST_F(UserServiceTest, ADisableKeepsAPasswordChangeThatLandsBeforeItsWrite) {
  const auto before = alice();  // what the PATCH read
  while_told_ = [&] {
    ASSERT_TRUE(store_->set_user_password(
        alice_id_, "hash:changed meanwhile", 0, clock_.now_ms(),
        store::AuditRow{"aud_x", 1, "usr_alice", "alice", "set_password", "user", alice_id_, "org_a"}));
  };
  UserEdit disable;
  disable.disabled = true;
  auto edited = users_.edit(before, disable, kAdmin);
  ASSERT_TRUE(edited) << edited.error().message;
  const auto now = alice();
  EXPECT_TRUE(now.disabled);
  EXPECT_EQ(now.password_hash, "hash:changed meanwhile");  // not the hash the PATCH read
  EXPECT_EQ(edited->password_hash, now.password_hash);     // what edit() returns is what is stored
}

TEST_F(UserServiceTest, ARoleChangeKeepsADisableThatLandsBeforeItsWrite) {
  const auto before = alice();
  while_told_ = [&] {
    auto row = alice();
    row.disabled = true;
    row.credentials_changed_at = 1'800'000'000;
    ASSERT_TRUE(store_->update_user(
        row, store::AuditRow{"aud_y", 1, "usr_other", "other", "update", "user", alice_id_, "org_a"}));
  };
  UserEdit promote;
  promote.roles = std::vector<std::string>{"org-admin"};
  ASSERT_TRUE(users_.edit(before, promote, kAdmin));
  const auto now = alice();
  EXPECT_EQ(now.roles, std::vector<std::string>{"org-admin"});
  EXPECT_TRUE(now.disabled);                             // the other administrator's disable survives
  EXPECT_EQ(now.credentials_changed_at, 1'800'000'000);  // and its later cutoff is not moved back
}

TEST_F(UserServiceTest, AnEditOfAUserDeletedBeforeItsWriteIsNotFound) {
  const auto before = alice();
  while_told_ = [&] {
    ASSERT_TRUE(store_->delete_user(
        alice_id_, store::AuditRow{"aud_z", 1, "usr_admin", "admin", "delete", "user", alice_id_, "org_a"}));
  };
  UserEdit rename;
  rename.username = "alicia";
  auto edited = users_.edit(before, rename, kAdmin);
  ASSERT_FALSE(edited);
  EXPECT_EQ(edited.error().status, 404);
}

TEST_F(UserServiceTest, APasswordChangeRevokesWithTheHooksCutoffAndAuditsTheActor) {
  cutoff_ = 1'800'000'000;
  ASSERT_TRUE(users_.set_password(alice(), "second password", kSelf));
  EXPECT_EQ(told_, std::vector<std::string>{alice_id_});
  EXPECT_EQ(alice().credentials_changed_at, 1'800'000'000);
  EXPECT_EQ(alice().updated_at, clock_.now_ms());
  auto log = store_->list_audit(store::ListQuery{}).value();
  ASSERT_FALSE(log.items.empty());
  bool found = false;
  for (const auto& a : log.items) {
    if (a.action == "set_password") {
      found = true;
      EXPECT_EQ(a.actor, "usr_alice");
      EXPECT_EQ(a.object_id, alice_id_);
      EXPECT_EQ(a.org_id, "org_a");
    }
  }
  EXPECT_TRUE(found);
}

TEST_F(UserServiceTest, ABadNewPasswordIsRefusedBeforeHashing) {
  bool hashed = false;
  while_hashing_ = [&] { hashed = true; };
  auto changed = users_.set_password(alice(), "short", kSelf);
  ASSERT_FALSE(changed);
  EXPECT_EQ(changed.error().status, 400);
  EXPECT_FALSE(hashed);
  EXPECT_EQ(alice().password_hash, "hash:first password");
}

TEST_F(UserServiceTest, RolesMustBeKnownAndAtLeastOne) {
  EXPECT_TRUE(UserService::check_roles({"admin", "org-admin", "user"}));
  EXPECT_EQ(UserService::check_roles({}).error().status, 400);
  EXPECT_EQ(UserService::check_roles({"root"}).error().status, 400);
  NewUser bob;
  bob.org_id = "org_a";
  bob.username = "bob";
  auto created = users_.create(bob, "bob password", kAdmin);
  ASSERT_TRUE(created);
  EXPECT_EQ(created->roles, std::vector<std::string>{"user"});  // none given: "user"
  bob.username = "bob2";
  bob.roles = {"superuser"};
  EXPECT_EQ(users_.create(bob, "bob password", kAdmin).error().status, 400);
}

TEST_F(UserServiceTest, OnlyPrivilegedEditsRevoke) {
  const auto a = alice();
  UserEdit profile;
  profile.display_name = "A";
  profile.roles = std::vector<std::string>{"user"};  // the same set: no change
  EXPECT_FALSE(UserService::effect_of(a, profile).privileged);
  EXPECT_FALSE(UserService::effect_of(a, profile).revokes);
  ASSERT_TRUE(users_.edit(a, profile, kAdmin));
  EXPECT_TRUE(told_.empty());
  EXPECT_EQ(alice().credentials_changed_at, 0);

  UserEdit enable;
  enable.disabled = false;  // already enabled: nothing
  EXPECT_FALSE(UserService::effect_of(a, enable).privileged);
  UserEdit disable;
  disable.disabled = true;
  EXPECT_TRUE(UserService::effect_of(a, disable).revokes);
  UserEdit rename;
  rename.username = "alicia";
  EXPECT_TRUE(UserService::effect_of(a, rename).revokes);
  ASSERT_TRUE(users_.edit(alice(), rename, kAdmin));
  EXPECT_EQ(told_, std::vector<std::string>{alice_id_});
  EXPECT_EQ(alice().credentials_changed_at, clock_.now_s() + 1);  // no cutoff from the hook: now + 1 s
}

}  // namespace
}  // namespace webstream::iam
