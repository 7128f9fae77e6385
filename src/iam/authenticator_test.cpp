// Lives in src/iam, not beside auth/authenticator.cpp, because it signs real tokens with iam::TokenService,
// a floor above auth.
#include "auth/authenticator.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "auth/testing/fake_user_directory.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/token_service.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace webstream::auth {
namespace {

UserRecord user(const std::string& id, std::vector<std::string> roles = {"user"}) {
  UserRecord u;
  u.id = id;
  u.username = id + "-name";
  u.org_id = "org-1";
  u.roles = std::move(roles);
  return u;
}

class AuthenticatorTest : public ::testing::Test {
 protected:
  AuthenticatorTest()
      : db_(store::SqliteDb::open(":memory:").value()), revoked_(store::SqliteTokenStore::open(*db_).value()),
        ring_(iam::KeyRing::ephemeral()), tokens_(*ring_, clock_, iam::TokenOptions{"webstream", 3600, 60}) {
    users_.put(user("u-1"));
    users_.put(user("u-2", {"admin"}));
    auth_ = make();
  }
  std::unique_ptr<Authenticator> make(AuthenticatorOptions options = {}) {
    auto a = std::make_unique<Authenticator>(tokens_, users_, *revoked_, clock_, options);
    EXPECT_TRUE(a->load().ok());
    return a;
  }
  std::string token_for(const std::string& id) {
    return tokens_.issue(*users_.find_by_id(id).value(), auth_->not_before(id)).jwt;
  }
  static void expect_401(const Result<core::Principal>& r, const char* why) {
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().status, 401) << why;
    EXPECT_EQ(r.error().code, "unauthorized") << why;
  }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteTokenStore> revoked_;
  fakes::FakeUserDirectory users_;
  std::unique_ptr<iam::KeyRing> ring_;
  iam::TokenService tokens_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(AuthenticatorTest, ValidTokenIsVerifiedOnceThenServedFromTheCache) {
  const auto jwt = token_for("u-1");
  auto p = auth_->authenticate_token(jwt);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->user_id, "u-1");
  EXPECT_EQ(p->username, "u-1-name");
  EXPECT_EQ(p->org_id, "org-1");
  EXPECT_FALSE(p->token_id.empty());
  const int lookups = users_.lookups();
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(auth_->authenticate_token(jwt).ok());
  EXPECT_EQ(users_.lookups(), lookups);  // no store read on a hit
  EXPECT_EQ(auth_->cached_tokens(), 1u);
  EXPECT_TRUE(auth_->still_valid(*p));
}

TEST_F(AuthenticatorTest, LogoutRevokesACachedTokenAtOnce) {
  const auto jwt = token_for("u-1");
  auto p = auth_->authenticate_token(jwt);
  ASSERT_TRUE(p.ok());
  const auto other = auth_->authenticate_token(token_for("u-1"));  // a second session of the same user
  ASSERT_TRUE(other.ok());
  ASSERT_TRUE(auth_->revoke(*p).ok());
  expect_401(auth_->authenticate_token(jwt), "revoked, cache hit");
  EXPECT_FALSE(auth_->still_valid(*p));
  EXPECT_TRUE(auth_->still_valid(*other));  // only the presented token is logged out
  EXPECT_TRUE(auth_->authenticate_token(token_for("u-1")).ok());
}

TEST_F(AuthenticatorTest, LogoutSurvivesARestart) {
  const auto jwt = token_for("u-1");
  auto p = auth_->authenticate_token(jwt);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(auth_->revoke(*p).ok());
  auto restarted = make();  // same store, empty memory
  expect_401(restarted->authenticate_token(jwt), "revoked before the restart");
  EXPECT_FALSE(restarted->still_valid(*p));
}

TEST_F(AuthenticatorTest, AStoreOutageIsA503NeverA401AndNothingIsCached) {
  const auto jwt = token_for("u-1");
  users_.set_unavailable(true);
  auto during = auth_->authenticate_token(jwt);
  ASSERT_FALSE(during.ok());
  EXPECT_EQ(during.error().status, 503);
  EXPECT_EQ(during.error().code, "store_unavailable");
  users_.set_unavailable(false);
  const int lookups = users_.lookups();
  EXPECT_TRUE(auth_->authenticate_token(jwt).ok());
  EXPECT_EQ(users_.lookups(), lookups + 1);  // the outage's answer was not cached: checked again
}

TEST_F(AuthenticatorTest, DisabledOrDeletedUserIsRefusedOnAMiss) {
  users_.change("u-1", [](UserRecord& u) { u.disabled = true; });
  expect_401(auth_->authenticate_token(token_for("u-1")), "disabled");
  const auto jwt = token_for("u-2");
  users_.remove("u-2");
  expect_401(auth_->authenticate_token(jwt), "deleted");
}

TEST_F(AuthenticatorTest, UserChangeRevokesCachedTokensAtOnceAndAFreshLoginWorks) {
  const auto jwt = token_for("u-1");
  auto p = auth_->authenticate_token(jwt);
  ASSERT_TRUE(p.ok());
  const auto unrelated = auth_->authenticate_token(token_for("u-2"));
  ASSERT_TRUE(unrelated.ok());

  ASSERT_EQ(auth_->cached_tokens(), 2u);
  const std::int64_t cutoff = auth_->on_user_changed("u-1");
  EXPECT_EQ(cutoff, clock_.now_s() + 1);
  EXPECT_EQ(auth_->cached_tokens(), 1u);  // the user's cached token is gone, the other user's stays
  EXPECT_EQ(auth_->not_before("u-1"), cutoff);
  expect_401(auth_->authenticate_token(jwt), "issued before the change, cache hit");
  EXPECT_FALSE(auth_->still_valid(*p));
  EXPECT_TRUE(auth_->still_valid(*unrelated));

  // A login in the same second gets iat = cutoff and is not caught by it.
  auto fresh = auth_->authenticate_token(token_for("u-1"));
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_TRUE(auth_->still_valid(*fresh));
}

TEST_F(AuthenticatorTest, CredentialsChangedAtIsHonouredAfterARestart) {
  const auto jwt = token_for("u-1");
  ASSERT_TRUE(auth_->authenticate_token(jwt).ok());
  clock_.advance_s(5);
  const auto cutoff = auth_->on_user_changed("u-1");
  users_.change("u-1", [&](UserRecord& u) { u.credentials_changed_at = cutoff; });
  auto restarted = make();
  expect_401(restarted->authenticate_token(jwt), "issued before credentials_changed_at");
  const auto fresh = tokens_.issue(*users_.find_by_id("u-1").value(), cutoff).jwt;
  EXPECT_TRUE(restarted->authenticate_token(fresh).ok());
}

TEST_F(AuthenticatorTest, ChangedRolesOrOrgRefuseOldTokensOnAMiss) {
  const auto jwt = token_for("u-2");
  users_.change("u-2", [](UserRecord& u) { u.roles = {"user"}; });
  expect_401(auth_->authenticate_token(jwt), "roles lowered");
  const auto jwt1 = token_for("u-1");
  users_.change("u-1", [](UserRecord& u) { u.org_id = "org-2"; });
  expect_401(auth_->authenticate_token(jwt1), "org changed");
}

TEST_F(AuthenticatorTest, CachedTokenStillExpires) {
  const auto jwt = token_for("u-1");
  ASSERT_TRUE(auth_->authenticate_token(jwt).ok());
  clock_.advance_s(3600 + 59);
  EXPECT_TRUE(auth_->authenticate_token(jwt).ok());
  clock_.advance_s(1);
  expect_401(auth_->authenticate_token(jwt), "expired while cached");
  EXPECT_EQ(auth_->cached_tokens(), 0u);
}

TEST_F(AuthenticatorTest, BadTokensAreRefused) {
  expect_401(auth_->authenticate_token(""), "empty");
  expect_401(auth_->authenticate_token("x.y.z"), "garbage");
  expect_401(auth_->authenticate_token(std::string(10000, 'a')), "huge");
  boost::json::object claims{{"aud", "b-1"},
                             {"sub", "u-1"},
                             {"org", "org-1"},
                             {"name", "u-1-name"},
                             {"roles", boost::json::array{"user"}},
                             {"jti", "j"},
                             {"iat", clock_.now_s()},
                             {"nbf", clock_.now_s()},
                             {"exp", clock_.now_s() + 60}};
  expect_401(auth_->authenticate_token(tokens_.sign(claims, "webstream-assertion+jwt")), "assertion");
  claims.erase("aud");
  expect_401(auth_->authenticate_token(tokens_.sign(claims, "webstream-assertion+jwt")), "assertion without aud");
}

TEST_F(AuthenticatorTest, BearerHeaderParsing) {
  const auto jwt = token_for("u-1");
  http::Request req;
  http::RequestContext ctx{.req = req, .listener = http::ListenerKind::kPublic};
  expect_401(auth_->authenticate_bearer(ctx), "no header");
  req.set("Authorization", "Basic dXNlcjpwYXNz");
  expect_401(auth_->authenticate_bearer(ctx), "basic");
  req.set("Authorization", "Bearer");
  expect_401(auth_->authenticate_bearer(ctx), "no token");
  req.set("Authorization", "Bearer" + jwt);
  expect_401(auth_->authenticate_bearer(ctx), "no space");
  req.set("Authorization", "Bearer " + jwt);
  EXPECT_TRUE(auth_->authenticate_bearer(ctx).ok());
  req.set("Authorization", "bEARER   " + jwt + " ");
  EXPECT_TRUE(auth_->authenticate_bearer(ctx).ok());
  req.set("Authorization", "Bearer " + jwt + "x");
  expect_401(auth_->authenticate_bearer(ctx), "tampered");
}

TEST_F(AuthenticatorTest, PreauthenticatedServicePrincipal) {
  http::Request req;
  http::RequestContext ctx{.req = req, .listener = http::ListenerKind::kPublic};
  ctx.preauthenticated = std::make_shared<const core::Principal>(service_principal("ops-agent"));
  auto p = auth_->authenticate_bearer(ctx);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->service);
  EXPECT_TRUE(p->is_admin());
  EXPECT_EQ(p->user_id, "mcp:ops-agent");
  EXPECT_TRUE(p->token_id.empty());
  EXPECT_TRUE(auth_->still_valid(*p));
  auth_->on_user_changed("mcp:ops-agent");
  EXPECT_TRUE(auth_->still_valid(*p));
  EXPECT_TRUE(auth_->revoke(*p).ok());  // nothing to revoke
}

TEST_F(AuthenticatorTest, CacheIsBounded) {
  AuthenticatorOptions options;
  options.max_cached_tokens = 32;  // 2 per shard
  auto small = make(options);
  std::vector<std::string> jwts;
  for (int i = 0; i < 200; ++i) {
    jwts.push_back(token_for(i % 2 ? "u-1" : "u-2"));
    ASSERT_TRUE(small->authenticate_token(jwts.back()).ok());
  }
  EXPECT_LE(small->cached_tokens(), 32u);
  for (const auto& jwt : jwts) EXPECT_TRUE(small->authenticate_token(jwt).ok());  // evicted ones re-verify
}

TEST_F(AuthenticatorTest, PruneForgetsExpiredRevocations) {
  auto p = auth_->authenticate_token(token_for("u-1"));
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(auth_->revoke(*p).ok());
  ASSERT_EQ(revoked_->revoked_since(0)->size(), 1u);
  clock_.advance_s(3600 + 61);
  ASSERT_TRUE(auth_->prune().ok());
  EXPECT_EQ(revoked_->revoked_since(0)->size(), 0u);
  EXPECT_TRUE(auth_->still_valid(*p));  // forgotten: its exp refuses it now
}

TEST_F(AuthenticatorTest, ConcurrentChecksSeeARevocationAsSoonAsItReturns) {
  const auto jwt = token_for("u-1");
  auto p = auth_->authenticate_token(jwt);
  ASSERT_TRUE(p.ok());
  std::atomic<bool> revoked{false};
  std::atomic<int> late_accepts{0};
  std::atomic<int> checks{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        const bool was_revoked = revoked.load();
        const bool ok = auth_->authenticate_token(jwt).ok() && auth_->still_valid(*p);
        if (was_revoked && ok) late_accepts.fetch_add(1);
        checks.fetch_add(1);
      }
    });
  }
  while (checks.load() < 2000) std::this_thread::yield();
  ASSERT_TRUE(auth_->revoke(*p).ok());
  revoked.store(true);
  for (auto& t : threads) t.join();
  EXPECT_EQ(late_accepts.load(), 0);
  EXPECT_FALSE(auth_->authenticate_token(jwt).ok());
}

}  // namespace
}  // namespace webstream::auth
