#include "iam/passwords.hpp"

#include <gtest/gtest.h>

#include <chrono>

#include "iam/testing/fast_hasher.hpp"

namespace webstream::iam {
namespace {

TEST(PasswordsTest, HashThenVerify) {
  auto h = testing::fast_hasher().hash("correct horse battery staple");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u) << *h;
  EXPECT_EQ(h->find("correct"), std::string::npos);
  EXPECT_TRUE(testing::fast_hasher().verify(*h, "correct horse battery staple"));
  EXPECT_FALSE(testing::fast_hasher().verify(*h, "correct horse battery stapl"));
  EXPECT_FALSE(testing::fast_hasher().verify(*h, ""));
}

TEST(PasswordsTest, SaltMakesEveryHashDifferent) {
  EXPECT_NE(*testing::fast_hasher().hash("same password"), *testing::fast_hasher().hash("same password"));
}

TEST(PasswordsTest, MalformedOrForeignHashesNeverVerify) {
  EXPECT_FALSE(testing::fast_hasher().verify("", "x"));
  EXPECT_FALSE(testing::fast_hasher().verify("plaintext", "plaintext"));
  EXPECT_FALSE(testing::fast_hasher().verify("$argon2id$v=19$garbage", "x"));
  // An argon2i (not id) hash of the right password is refused: only argon2id is accepted.
  EXPECT_FALSE(testing::fast_hasher().verify("$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "x"));
  EXPECT_FALSE(testing::fast_hasher().verify(std::string(500, '$'), "x"));
}

TEST(PasswordsTest, ProductionParametersAreAtLeastOwasp) {
  const auto p = PasswordParams::production();
  EXPECT_GE(p.opslimit, 2u);
  EXPECT_GE(p.memlimit, 19u * 1024 * 1024);
}

TEST(PasswordsTest, ProductionHashCarriesItsParametersAndNeedsNoRehash) {
  const PasswordHasher production;
  auto h = production.hash("a-production-password");
  ASSERT_TRUE(h.ok());
  EXPECT_NE(h->find("m=65536,t=3,p=1"), std::string::npos) << *h;
  EXPECT_TRUE(production.verify(*h, "a-production-password"));
  EXPECT_FALSE(production.needs_rehash(*h));
  EXPECT_TRUE(production.needs_rehash(*testing::fast_hasher().hash("x")));  // weaker parameters: rehash at next login
}

TEST(PasswordsTest, DummyVerifyCostsAboutAsMuchAsAFailedVerify) {
  const PasswordHasher production;
  const auto h = *production.hash("the-real-password");
  using Clock = std::chrono::steady_clock;
  auto time = [](auto&& fn) {
    const auto start = Clock::now();
    for (int i = 0; i < 3; ++i) fn();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  const double wrong = time([&] { (void)production.verify(h, "wrong-password"); });
  const double dummy = time([&] { production.dummy_verify("wrong-password"); });
  // Same parameters, same work: within a factor of 2 even on a busy machine.
  EXPECT_LT(dummy, wrong * 2) << "dummy " << dummy << " s, wrong " << wrong << " s";
  EXPECT_LT(wrong, dummy * 2) << "dummy " << dummy << " s, wrong " << wrong << " s";
}

TEST(PasswordsTest, NewPasswordRules) {
  EXPECT_FALSE(validate_new_password("short").ok());
  EXPECT_EQ(validate_new_password("short", "newPassword").error().message.find("newPassword") != std::string::npos,
            true);
  EXPECT_TRUE(validate_new_password("eight888").ok());
  EXPECT_TRUE(validate_new_password(std::string(1024, 'x')).ok());
  EXPECT_FALSE(validate_new_password(std::string(1025, 'x')).ok());
}

}  // namespace
}  // namespace webstream::iam
