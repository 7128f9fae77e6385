// store copy: a SQLite store moves into an empty PostgreSQL database with everything a running deployment
// needs (users, keys, secrets, sessions, backends, seats), and a non-empty target is refused.
#include "store/postgres/pg_copy.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "core/testing/fake_clock.hpp"
#include "store/postgres/pg_schema.hpp"
#include "store/postgres/testing/pg_test_server.hpp"
#include "store/sqlite/sqlite_provider.hpp"

namespace webstream::store::pg {
namespace {

AuditRow audit(const std::string& id, const std::string& action, const std::string& object) {
  return AuditRow{id, 1000, "usr_admin", "admin", action, "org", object, "org_a"};
}

TEST(PgCopyTest, CopiesEveryTableIntoAnEmptyDatabaseAndRefusesANonEmptyOne) {
  // Times as a real deployment has them (the PostgreSQL stores map the gateway's clock onto the database's).
  webstream::testing::FakeClock clock{SystemClock::instance().now_ms()};
  const auto path =
      (std::filesystem::temp_directory_path() / ("copy_test_" + std::to_string(::getpid()) + ".db")).string();
  std::filesystem::remove(path);
  auto sqlite = open_sqlite_provider(path).value();
  // A single gateway's store with a bit of everything.
  auto iam = sqlite->iam().value();
  ASSERT_TRUE(iam->create_org(OrgRow{"org_a", "a", 3, 1, 1}, audit("a-1", "create", "org_a")));
  UserRow u;
  u.id = "usr_1";
  u.org_id = "org_a";
  u.username = "Alice";
  u.password_hash = "$argon2id$v=19$hash";
  u.roles = {"user", "org-admin"};
  u.disabled = true;
  u.credentials_changed_at = 77;
  u.created_at = u.updated_at = 5;
  ASSERT_TRUE(iam->create_user(u, audit("a-2", "create", "usr_1")));
  boost::json::object doc;
  doc["apps"] = boost::json::array{"app_1"};
  ASSERT_TRUE(iam->create_object(ObjectRow{kApp, "app_1", "org_a", "Calc", {}, 6, 6}, audit("a-3", "create", "app_1")));
  ASSERT_TRUE(
      iam->create_object(ObjectRow{kWorkspace, "ws_1", "org_a", "Desk", doc, 7, 7}, audit("a-4", "create", "ws_1")));
  ASSERT_TRUE(iam->create_object(ObjectRow{kGroup, "grp_1", "org_a", "G", {}, 8, 8}, audit("a-5", "create", "grp_1")));
  ASSERT_TRUE(iam->add_member("grp_1", "usr_1", 9, audit("a-6", "add_member", "grp_1")));
  EntitlementRow e{"ent_1", "org_a", "group", "grp_1", "ws_1", {"app_1"}, std::nullopt, 10, 10};
  ASSERT_TRUE(iam->create_entitlement(e, audit("a-7", "create", "ent_1")));
  ASSERT_TRUE(sqlite->keys().value()->insert_key(SigningKeyRow{"kid-1", "EdDSA", std::string("\0pub", 4), "sec", 11}));
  ASSERT_TRUE(sqlite->tokens().value()->revoke({"jti-1", 4'000'000'000}));
  ASSERT_TRUE(sqlite->login_failures().value()->record_failures({{"user", "k", clock.now_ms()}}));
  BackendRow b;
  b.id = "b-1";
  b.server_url = "http://h:1";
  b.max_sessions = 4;
  b.tags = {"gpu"};
  b.cpu_usage = 12.5;
  b.status = "Ready";
  ASSERT_TRUE(sqlite->registry().value()->upsert({b}));
  SessionRecord s;
  s.id = "sess-1";
  s.user_id = "usr_1";
  s.org_id = "org_a";
  s.workspace_id = "ws_1";
  s.app_id = "app_1";
  s.backend_id = "b-1";
  s.created_at = clock.now_ms();
  auto sessions = sqlite->sessions().value();
  ASSERT_TRUE(sessions->reserve(s, ReserveLimits{1, std::nullopt, 4, 0}));
  const auto secret = sessions->connect_token_secret().value();
  ASSERT_TRUE(sqlite->licence().value()->claim_seat("5f0c5b1e-0000-4000-8000-000000000001", clock.now_ms(), 0, 5));

  auto server = testing::PgTestServer::shared();
  ASSERT_TRUE(server.ok()) << server.error().message;
  const auto conninfo = (*server)->create_database().value();
  auto postgres = open_postgres_provider(conninfo, clock).value();
  postgres->startup_complete();
  auto pool = PgPool::open(conninfo, 1).value();
  auto& db = static_cast<SqliteProvider&>(*sqlite).db();
  auto copied = copy_sqlite_to_postgres(db, *pool);
  ASSERT_TRUE(copied.ok()) << copied.error().message;
  EXPECT_GE(copied->rows, 14);

  // Read back through the PostgreSQL stores.
  auto pg_iam = postgres->iam().value();
  auto user = pg_iam->find_user_by_username("alice");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->password_hash, u.password_hash);
  EXPECT_EQ(user->roles, u.roles);
  EXPECT_TRUE(user->disabled);
  EXPECT_EQ(user->credentials_changed_at, 77);
  EXPECT_EQ(pg_iam->get_org("org_a")->max_concurrent_sessions, 3);
  EXPECT_EQ(pg_iam->get_object(kWorkspace, "ws_1")->doc.at("apps").as_array().size(), 1u);
  EXPECT_EQ(pg_iam->groups_of("usr_1").value(), std::vector<std::string>{"grp_1"});
  EXPECT_EQ(pg_iam->entitlements_of("org_a", "usr_1", {"grp_1"})->size(), 1u);
  auto log = pg_iam->list_audit(ListQuery{std::nullopt, 10, 0}).value();
  ASSERT_EQ(log.total, 7);
  EXPECT_EQ(log.items.front().id, "a-7");  // newest first, order kept
  auto keys = postgres->keys().value()->load_keys().value();
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_EQ(keys[0].public_key, std::string("\0pub", 4));
  EXPECT_EQ(postgres->tokens().value()->revoked_since(0)->size(), 1u);
  EXPECT_EQ(postgres->login_failures().value()->failures_since(clock.now_ms() - 60'000)->size(), 1u);
  auto backends = postgres->registry().value()->load_all().value();
  ASSERT_EQ(backends.size(), 1u);
  EXPECT_EQ(backends[0].tags, b.tags);
  EXPECT_DOUBLE_EQ(backends[0].cpu_usage, 12.5);
  auto pg_sessions = postgres->sessions().value();
  ASSERT_TRUE(pg_sessions->get("sess-1").has_value());
  EXPECT_EQ(pg_sessions->get("sess-1")->state, kReserved);
  EXPECT_EQ(pg_sessions->connect_token_secret().value(), secret);  // connect tokens stay valid
  EXPECT_EQ(postgres->licence().value()->active_seats(clock.now_ms() - 45'000)->size(), 1u);

  // A second copy into the now non-empty database is refused and changes nothing.
  auto again = copy_sqlite_to_postgres(db, *pool);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().status, 409);
  EXPECT_NE(again.error().message.find("not empty"), std::string::npos);
  EXPECT_EQ(pg_iam->list_users(ListQuery{std::nullopt, 10, 0})->total, 1);
  sqlite.reset();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
}  // namespace webstream::store::pg
