#include "iam/login_service.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "iam/testing/fast_hasher.hpp"
#include "iam/testing/login_stores.hpp"
#include "store/postgres/testing/pg_test_server.hpp"
#include "store/store_provider.hpp"

namespace webstream::iam {
namespace {

// Everything a login needs, over one in-memory database; restart() rebuilds the in-memory parts.
class LoginServiceTest : public ::testing::Test, protected testing::LoginStores {
 protected:
  LoginServiceTest() : LoginStores(3600) {
    add_user("u-alice", "alice", "alice-password-1");
    add_user("u-bob", "bob", "bob-password-12");
    restart();
  }
  void add_user(const std::string& id, const std::string& name, const std::string& password) {
    auth::UserRecord u;
    u.id = id;
    u.username = name;
    u.org_id = "org-1";
    u.roles = {"user"};
    u.password_hash = *testing::fast_hasher().hash(password);
    users_.put(u);
  }
  void restart(const PasswordHasher& passwords = testing::fast_hasher()) {
    login_.reset();
    authenticator_ = std::make_unique<auth::Authenticator>(tokens_, users_, *revoked_, clock_);
    ASSERT_TRUE(authenticator_->load().ok());
    limiter_ = std::make_unique<LoginLimiter>(clock_);
    login_ = std::make_unique<LoginService>(users_, passwords, tokens_, *authenticator_, *limiter_, *failures_, clock_);
    ASSERT_TRUE(login_->load().ok());
  }
  Result<LoginResult> login(const std::string& name, const std::string& password,
                            const std::string& ip = "198.51.100.1") {
    return login_->login(name, password, ip);
  }
  static void expect_error(const Result<LoginResult>& r, int status, const char* code, const char* why) {
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().status, status) << why;
    EXPECT_EQ(r.error().code, code) << why;
  }

  std::unique_ptr<auth::Authenticator> authenticator_;
  std::unique_ptr<LoginLimiter> limiter_;
  std::unique_ptr<LoginService> login_;
};

TEST_F(LoginServiceTest, RightPasswordGivesAWorkingToken) {
  auto r = login("alice", "alice-password-1");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->user.id, "u-alice");
  EXPECT_TRUE(r->user.password_hash.empty());
  EXPECT_EQ(r->token.expires_at - r->token.issued_at, 3600);
  auto p = authenticator_->authenticate_token(r->token.jwt);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->user_id, "u-alice");
  EXPECT_TRUE(login("ALICE", "alice-password-1").ok());  // usernames are case-insensitive
}

TEST_F(LoginServiceTest, UnknownUserWrongPasswordAndDisabledUserAnswerAlike) {
  auto unknown = login("nobody", "alice-password-1");
  auto wrong = login("alice", "not-her-password");
  users_.change("u-bob", [](auth::UserRecord& u) { u.disabled = true; });
  auto disabled = login("bob", "bob-password-12");
  users_.change("u-bob", [](auth::UserRecord& u) {
    u.disabled = false;
    u.password_hash.clear();
  });
  auto no_password = login("bob", "");
  for (const auto* r : {&unknown, &wrong, &disabled, &no_password}) {
    expect_error(*r, 401, "invalid_credentials", "");
    EXPECT_EQ(r->error().message, unknown.error().message);
  }
}

TEST_F(LoginServiceTest, UnknownUserAndWrongPasswordTakeAboutTheSameTime) {
  static const PasswordHasher production;
  add_user("u-carol", "carol", "placeholder-1");
  users_.change("u-carol", [](auth::UserRecord& u) { u.password_hash = *production.hash("carol-password-1"); });
  restart(production);
  using Steady = std::chrono::steady_clock;
  auto time = [&](const std::string& name, int n) {
    const auto start = Steady::now();
    for (int i = 0; i < n; ++i) {
      clock_.advance_s(1000);  // stay clear of the lockout
      (void)login(name, "wrong-password-" + std::to_string(i), "203.0.113." + std::to_string(i));
    }
    return std::chrono::duration<double>(Steady::now() - start).count();
  };
  const double unknown = time("nobody-at-all", 3);
  const double wrong = time("carol", 3);
  EXPECT_LT(unknown, wrong * 2) << unknown << " s vs " << wrong << " s";
  EXPECT_LT(wrong, unknown * 2) << unknown << " s vs " << wrong << " s";
}

TEST_F(LoginServiceTest, FiveFailuresLockTheUsernameEvenForTheRightPassword) {
  for (int i = 0; i < 5; ++i) expect_error(login("alice", "wrong"), 401, "invalid_credentials", "failure");
  auto locked = login("alice", "alice-password-1");
  expect_error(locked, 429, "locked_out", "locked");
  EXPECT_EQ(locked.error().retry_after, 900);
  EXPECT_TRUE(login("bob", "bob-password-12").ok());  // another user from the same address is fine
  clock_.advance_s(900);
  EXPECT_TRUE(login("alice", "alice-password-1").ok());
}

TEST_F(LoginServiceTest, AStoreOutageAnswers503AndCountsTowardsNoLockout) {
  users_.set_unavailable(true);
  for (int i = 0; i < 10; ++i) {
    auto during = login("alice", "wrong");
    expect_error(during, 503, "store_unavailable", "outage");
    EXPECT_GT(during.error().retry_after, 0);
  }
  users_.set_unavailable(false);
  EXPECT_TRUE(login("alice", "alice-password-1").ok());  // ten refusals in the outage locked nothing
}

TEST_F(LoginServiceTest, OnASharedStoreFailuresMadeThroughAnotherGatewayCount) {
  // Two gateways on one real PostgreSQL (the store admits each attempt: LoginFailureStore::claim_attempt),
  // each with its own limiter and service.
  auto server = store::pg::testing::PgTestServer::shared();
  ASSERT_TRUE(server.ok()) << "cannot start the test PostgreSQL: " << server.error().message;
  auto db = (*server)->create_database();
  ASSERT_TRUE(db.ok()) << db.error().message;
  auto pg_here = store::open_postgres_provider(*db, clock_, 2);
  ASSERT_TRUE(pg_here.ok()) << pg_here.error().message;
  (*pg_here)->startup_complete();
  auto pg_there = store::open_postgres_provider(*db, clock_, 2);
  ASSERT_TRUE(pg_there.ok()) << pg_there.error().message;
  (*pg_there)->startup_complete();
  auto failures_here = (*pg_here)->login_failures().value();
  auto failures_there = (*pg_there)->login_failures().value();
  LoginService here(users_, testing::fast_hasher(), tokens_, *authenticator_, *limiter_, *failures_here, clock_);
  auth::Authenticator other_auth(tokens_, users_, *revoked_, clock_);
  ASSERT_TRUE(other_auth.load().ok());
  LoginLimiter other_limiter(clock_);
  LoginService other(users_, testing::fast_hasher(), tokens_, other_auth, other_limiter, *failures_there, clock_);
  other.set_shared_store(true);
  here.set_shared_store(true);
  for (int i = 0; i < 3; ++i)
    expect_error(here.login("alice", "wrong", "198.51.100.1"), 401, "invalid_credentials", "here");
  for (int i = 0; i < 2; ++i) {
    expect_error(other.login("alice", "wrong", "198.51.100.2"), 401, "invalid_credentials", "there");
  }
  // Five failures in all, on two gateways: both refuse even the right password.
  expect_error(other.login("alice", "alice-password-1", "198.51.100.3"), 429, "locked_out", "there");
  expect_error(here.login("alice", "alice-password-1", "198.51.100.1"), 429, "locked_out", "here");
  EXPECT_TRUE(other.login("bob", "bob-password-12", "198.51.100.3").ok());
  // An attempt admitted on one gateway and still being checked counts on the other (in flight): with 4
  // failures and one attempt in flight, bob is refused before his password is looked at.
  for (int i = 0; i < 4; ++i)
    expect_error(here.login("bob", "wrong", "198.51.100.4"), 401, "invalid_credentials", "bob");
  auto claimed = failures_here->claim_attempt(LoginLimiter::key_for(LimitScope::kUser, "bob"),
                                              LoginLimiter::key_for(LimitScope::kIp, "198.51.100.9"),
                                              clock_.now_ms() - 15 * 60 * 1000, 5, 50, clock_.now_ms());
  ASSERT_TRUE(claimed.ok() && claimed->admitted);  // the fifth guess, in flight on this gateway
  auto refused = other.login("bob", "bob-password-12", "198.51.100.5");
  expect_error(refused, 429, "locked_out", "bob while a guess is in flight");
}

TEST_F(LoginServiceTest, LockoutSurvivesARestart) {
  for (int i = 0; i < 5; ++i) (void)login("alice", "wrong");
  clock_.advance_s(100);
  restart();
  auto locked = login("alice", "alice-password-1");
  expect_error(locked, 429, "locked_out", "locked after restart");
  EXPECT_EQ(locked.error().retry_after, 800);
}

TEST_F(LoginServiceTest, UnknownNamesAreNeverWrittenToTheStore) {
  (void)login("Pw-secret-typed-in-the-wrong-field", "x");
  (void)login("alice", "wrong");
  auto rows = failures_->failures_since(0);
  ASSERT_TRUE(rows.ok());
  int user_rows = 0;
  for (const auto& r : *rows) {
    EXPECT_EQ(r.key.find("Pw-secret"), std::string::npos);
    if (r.scope == "user") {
      ++user_rows;
      EXPECT_EQ(r.key, LoginLimiter::key_for(LimitScope::kUser, "alice"));
    }
  }
  EXPECT_EQ(user_rows, 1);
  EXPECT_EQ(rows->size(), 3u);  // two address rows, one username row
}

TEST_F(LoginServiceTest, AddressLockoutAfterFiftyFailures) {
  for (int i = 0; i < 50; ++i) (void)login("spray-" + std::to_string(i), "guess", "192.0.2.50");
  expect_error(login("alice", "alice-password-1", "192.0.2.50"), 429, "locked_out", "address locked");
  EXPECT_TRUE(login("alice", "alice-password-1", "192.0.2.51").ok());
  restart();
  expect_error(login("bob", "bob-password-12", "192.0.2.50"), 429, "locked_out", "address locked after restart");
}

TEST_F(LoginServiceTest, SuccessClearsStoredFailures) {
  for (int i = 0; i < 4; ++i) (void)login("alice", "wrong");
  ASSERT_TRUE(login("alice", "alice-password-1").ok());
  restart();
  for (int i = 0; i < 4; ++i) expect_error(login("alice", "wrong"), 401, "invalid_credentials", "fresh count");
}

TEST_F(LoginServiceTest, LoginRightAfterAUserChangeIsNotCaughtByTheCutoff) {
  auto before = login("alice", "alice-password-1");
  ASSERT_TRUE(before.ok());
  authenticator_->on_user_changed("u-alice");
  auto after = login("alice", "alice-password-1");  // same second
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(authenticator_->authenticate_token(before->token.jwt).ok());
  EXPECT_TRUE(authenticator_->authenticate_token(after->token.jwt).ok());
}

}  // namespace
}  // namespace webstream::iam
