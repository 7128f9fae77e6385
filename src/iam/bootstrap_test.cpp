#include "iam/bootstrap.hpp"

#include <gtest/gtest.h>

#include <sstream>

#include "core/testing/fake_clock.hpp"
#include "iam/iam_cli.hpp"
#include "iam/testing/seed.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::iam {
namespace {

class BootstrapTest : public ::testing::Test {
 protected:
  BootstrapTest()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteIamStore::open(*db_).value()),
        passwords_(PasswordParams::fast_for_tests()) {}

  int cli(const std::vector<std::string>& args, const std::string& stdin_text = "") {
    std::istringstream in(stdin_text);
    out_.str("");
    err_.str("");
    return run_iam_command(args, *store_, passwords_, clock_, in, out_, err_);
  }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteIamStore> store_;
  PasswordHasher passwords_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(BootstrapTest, AnEmptyStoreGetsOrgDefaultAndAnAdminWithTheGivenPassword) {
  std::ostringstream err;
  auto r = bootstrap(*store_, passwords_, clock_, std::string("Given-Pa55word"), err);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->created);
  EXPECT_FALSE(r->password_generated);
  EXPECT_TRUE(err.str().empty());  // a given password is never printed
  auto org = store_->get_org("default").value();
  EXPECT_EQ(org.name, "default");
  auto admin = store_->find_user_by_username("admin").value();
  EXPECT_EQ(admin.org_id, "default");
  EXPECT_EQ(admin.roles, std::vector<std::string>{"admin"});
  EXPECT_FALSE(admin.disabled);
  EXPECT_TRUE(passwords_.verify(admin.password_hash, "Given-Pa55word"));
  EXPECT_EQ(store_->list_audit(store::ListQuery{}).value().total, 2);
}

TEST_F(BootstrapTest, WithoutAPasswordARandomOneIsPrintedOnceToStderr) {
  std::ostringstream err;
  auto r = bootstrap(*store_, passwords_, clock_, std::nullopt, err);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->password_generated);
  // The printed password is the one that verifies.
  const std::string text = err.str();
  const auto start = text.find("\n\n    ") + 6;
  const std::string password = text.substr(start, text.find('\n', start) - start);
  EXPECT_EQ(password.size(), 20u);
  EXPECT_TRUE(passwords_.verify(store_->find_user_by_username("admin").value().password_hash, password));
  // Second start: nothing created, nothing printed.
  std::ostringstream again;
  auto second = bootstrap(*store_, passwords_, clock_, std::nullopt, again);
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->created);
  EXPECT_TRUE(again.str().empty());
  EXPECT_EQ(store_->list_users(store::ListQuery{}).value().total, 1);
}

TEST_F(BootstrapTest, AnEmptyEnvironmentValueMeansUnsetAndABadOneIsRefusedByName) {
  std::ostringstream err;
  auto bad = bootstrap(*store_, passwords_, clock_, std::string("short"), err);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("WEBSTREAM_ADMIN_PASSWORD"), std::string::npos);
  EXPECT_EQ(bad.error().message.find("short"), std::string::npos);
  EXPECT_TRUE(store_->is_empty().value());
  auto empty = bootstrap(*store_, passwords_, clock_, std::string(""), err);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->password_generated);
}

TEST_F(BootstrapTest, AStoreWithAnyOrgIsLeftAlone) {
  testing::Seed(*store_).org("acme");
  std::ostringstream err;
  auto r = bootstrap(*store_, passwords_, clock_, std::string("Given-Pa55word"), err);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->created);
  EXPECT_EQ(store_->find_user_by_username("admin").error().status, 404);
}

TEST_F(BootstrapTest, CliCreatesUsersReadingThePasswordFromStdin) {
  EXPECT_EQ(cli({"user", "create", "--username", "ops", "--password-stdin", "--role", "admin"}, "Ops-Pa55word\n"), 0)
      << err_.str();
  auto ops = store_->find_user_by_username("ops").value();
  EXPECT_EQ(ops.org_id, "default");  // created on demand
  EXPECT_EQ(ops.roles, std::vector<std::string>{"admin"});
  EXPECT_TRUE(passwords_.verify(ops.password_hash, "Ops-Pa55word"));
  EXPECT_EQ(out_.str().find("Ops-Pa55word"), std::string::npos);
  testing::Seed(*store_).org("acme");
  EXPECT_EQ(cli({"user", "create", "--username=worker", "--password-stdin", "--org", "acme"}, "Worker-Pa55\r\n"), 0)
      << err_.str();
  auto worker = store_->find_user_by_username("worker").value();
  EXPECT_EQ(worker.org_id, "acme");
  EXPECT_EQ(worker.roles, std::vector<std::string>{"user"});
  EXPECT_TRUE(passwords_.verify(worker.password_hash, "Worker-Pa55"));
  // Refusals.
  EXPECT_EQ(cli({"user", "create", "--username", "ops", "--password-stdin"}, "Another-Pa55\n"), 1);
  EXPECT_NE(err_.str().find("taken"), std::string::npos);
  EXPECT_EQ(cli({"user", "create", "--username", "x", "--password-stdin"}, "short\n"), 2);
  EXPECT_EQ(cli({"user", "create", "--username", "x", "--password-stdin", "--role", "root"}, "Long-enough1\n"), 2);
  EXPECT_EQ(cli({"user", "create", "--username", "x", "--password-stdin", "--org", "nope"}, "Long-enough1\n"), 1);
  EXPECT_EQ(cli({"user", "create", "--username", "x", "--password", "inline"}), 2);
  EXPECT_EQ(cli({"user", "create", "--username", "x"}), 2);
}

TEST_F(BootstrapTest, CliResetsPasswordsDisablesEnablesAndLists) {
  testing::Seed(*store_).org("default");
  ASSERT_EQ(cli({"user", "create", "--username", "ann", "--password-stdin"}, "First-Pa55word\n"), 0);
  clock_.set_ms(1'900'000'000'000);
  EXPECT_EQ(cli({"user", "reset-password", "--username", "ann", "--password-stdin"}, "Second-Pa55word\n"), 0)
      << err_.str();
  auto ann = store_->find_user_by_username("ann").value();
  EXPECT_TRUE(passwords_.verify(ann.password_hash, "Second-Pa55word"));
  EXPECT_EQ(ann.credentials_changed_at, 1'900'000'001);
  EXPECT_EQ(cli({"user", "disable", "--username", "ann"}), 0);
  EXPECT_TRUE(store_->find_user_by_username("ann").value().disabled);
  EXPECT_EQ(cli({"user", "list"}), 0);
  EXPECT_NE(out_.str().find("\tann\tdefault\tuser\tyes\n"), std::string::npos) << out_.str();
  EXPECT_EQ(cli({"user", "enable", "--username", "ann"}), 0);
  EXPECT_FALSE(store_->find_user_by_username("ann").value().disabled);
  EXPECT_EQ(cli({"user", "disable", "--username", "nobody"}), 1);
  EXPECT_EQ(cli({"user", "reset-password", "--username", "ann"}), 2);
  EXPECT_EQ(cli({"user", "frobnicate"}), 2);
  EXPECT_EQ(cli({"group", "list"}), 2);
  EXPECT_EQ(cli({"--help"}), 0);
  EXPECT_NE(out_.str().find("reset-password"), std::string::npos);
  // Every CLI change is audited as "cli".
  auto audit = store_->list_audit(store::ListQuery{std::nullopt, 1, 0}).value();
  EXPECT_EQ(audit.items.at(0).actor, "cli");
}

}  // namespace
}  // namespace webstream::iam
