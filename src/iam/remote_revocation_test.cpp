// Lives in src/iam, not beside auth/authenticator.cpp, because it signs real tokens with iam::TokenService,
// a floor above auth.
// The Authenticator as a gateway in standalone/external access-management mode uses it: claims trusted as
// verified (no user directory), revocations fed in from the service (revoke_token_id, apply_cutoff).
#include <gtest/gtest.h>

#include "auth/authenticator.hpp"
#include "auth/testing/fake_user_directory.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/token_service.hpp"
#include "store/memory_token_store.hpp"

namespace webstream::auth {
namespace {

UserRecord subject_user(const std::string& id) {
  UserRecord u;
  u.id = id;
  u.username = id + "-name";
  u.org_id = "org-1";
  u.roles = {"user"};
  return u;
}

class RemoteRevocationTest : public ::testing::Test {
 protected:
  RemoteRevocationTest() : ring_(iam::KeyRing::ephemeral()), tokens_(*ring_, clock_) {
    AuthenticatorOptions options;
    options.check_user_directory = false;
    options.max_token_lifetime_s = 7 * 86400;
    auth_ = std::make_unique<Authenticator>(tokens_, users_, revoked_, clock_, options);
    EXPECT_TRUE(auth_->load().ok());
  }

  webstream::testing::FakeClock clock_;
  fakes::FakeUserDirectory users_;  // empty: the service knows the users, not this gateway
  store::MemoryTokenStore revoked_;
  std::unique_ptr<iam::KeyRing> ring_;
  iam::TokenService tokens_;
  std::unique_ptr<Authenticator> auth_;
};

TEST_F(RemoteRevocationTest, VerifiedClaimsAreTrustedWithoutReadingADirectory) {
  const auto issued = tokens_.issue(subject_user("u-1"));
  auto p = auth_->authenticate_token(issued.jwt);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->user_id, "u-1");
  EXPECT_EQ(p->username, "u-1-name");
  EXPECT_EQ(users_.lookups(), 0);
}

TEST_F(RemoteRevocationTest, ARevokedTokenIdIsRefusedAtOnceEvenFromTheCache) {
  const auto issued = tokens_.issue(subject_user("u-1"));
  auto p = auth_->authenticate_token(issued.jwt);
  ASSERT_TRUE(p.ok());
  auth_->revoke_token_id(issued.jti, issued.expires_at);
  EXPECT_FALSE(auth_->authenticate_token(issued.jwt).ok());
  EXPECT_FALSE(auth_->still_valid(*p));
  auth_->revoke_token_id(issued.jti, issued.expires_at);  // the feed repeats itself: harmless
  EXPECT_FALSE(auth_->authenticate_token(issued.jwt).ok());
  // Another token of the same user is untouched.
  EXPECT_TRUE(auth_->authenticate_token(tokens_.issue(subject_user("u-1")).jwt).ok());
}

TEST_F(RemoteRevocationTest, FedRevocationsAreForgottenOnceTheirTokensHaveExpired) {
  const auto issued = tokens_.issue(subject_user("u-1"));
  auth_->revoke_token_id(issued.jti, issued.expires_at);
  auto p = auth_->authenticate_token(tokens_.issue(subject_user("u-2")).jwt);
  ASSERT_TRUE(p.ok());
  core::Principal revoked_one = *p;
  revoked_one.token_id = issued.jti;
  EXPECT_FALSE(auth_->still_valid(revoked_one));
  // Long after exp (+ leeway, + the prune interval) a later feed entry prunes it from memory.
  clock_.advance_s(3600 + 60 + 601);
  auth_->revoke_token_id("another", clock_.now_s() + 100);
  EXPECT_TRUE(auth_->still_valid(revoked_one));  // only its own exp refuses that token now
}

TEST_F(RemoteRevocationTest, ACutoffRefusesOlderTokensOfThatUserOnly) {
  const auto old_token = tokens_.issue(subject_user("u-1"));
  const auto bystander = tokens_.issue(subject_user("u-2"));
  auto p = auth_->authenticate_token(old_token.jwt);
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(auth_->authenticate_token(bystander.jwt).ok());
  const std::int64_t cutoff = clock_.now_s() + 1;
  auth_->apply_cutoff("u-1", cutoff);
  EXPECT_FALSE(auth_->authenticate_token(old_token.jwt).ok());
  EXPECT_FALSE(auth_->still_valid(*p));
  EXPECT_TRUE(auth_->authenticate_token(bystander.jwt).ok());
  // A token issued at the cutoff (the service's login right after the change) passes.
  const auto fresh = tokens_.issue(subject_user("u-1"), cutoff);
  EXPECT_TRUE(auth_->authenticate_token(fresh.jwt).ok());
  // An older, smaller cutoff arriving late does not lower it.
  auth_->apply_cutoff("u-1", cutoff - 100);
  EXPECT_EQ(auth_->not_before("u-1"), cutoff);
  EXPECT_FALSE(auth_->authenticate_token(old_token.jwt).ok());
  // A cutoff is remembered for the longest token lifetime, not this gateway's own tokenLifetime.
  clock_.advance_s(2 * 86400);
  auth_->apply_cutoff("u-3", clock_.now_s());  // gives the authenticator a chance to prune
  EXPECT_EQ(auth_->not_before("u-1"), cutoff);
}

}  // namespace
}  // namespace webstream::auth
