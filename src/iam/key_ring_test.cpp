#include "iam/key_ring.hpp"

#include <gtest/gtest.h>

#include "core/encoding.hpp"
#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_key_store.hpp"

namespace webstream::iam {
namespace {

TEST(KeyRingTest, ThumbprintMatchesRfc8037Example) {
  // RFC 8037 appendix A.3: the thumbprint of the example Ed25519 public key.
  const auto x = base64url_decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
  ASSERT_TRUE(x);
  EXPECT_EQ(KeyRing::thumbprint(*x), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
}

TEST(KeyRingTest, FirstOpenGeneratesAndStoresAKeyLaterOpensReuseIt) {
  webstream::testing::FakeClock clock;
  auto db = store::SqliteDb::open(":memory:").value();
  auto keys = store::SqliteKeyStore::open(*db).value();
  auto first = KeyRing::open(*keys, clock);
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string kid = (*first)->signing_kid();
  const std::string signature = (*first)->sign("message");

  auto rows = keys->load_keys();
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].kid, kid);
  EXPECT_EQ((*rows)[0].algorithm, "EdDSA");

  auto second = KeyRing::open(*keys, clock);  // a restart
  ASSERT_TRUE(second.ok());
  EXPECT_EQ((*second)->signing_kid(), kid);
  EXPECT_TRUE((*second)->verify(kid, "message", signature));
  EXPECT_EQ(keys->load_keys()->size(), 1u);
}

TEST(KeyRingTest, VerifyNeedsTheRightKidMessageAndSignature) {
  auto ring = KeyRing::ephemeral();
  const std::string kid = ring->signing_kid();
  const std::string sig = ring->sign("hello");
  ASSERT_EQ(sig.size(), 64u);
  EXPECT_TRUE(ring->knows(kid));
  EXPECT_FALSE(ring->knows("other"));
  EXPECT_TRUE(ring->verify(kid, "hello", sig));
  EXPECT_FALSE(ring->verify("other", "hello", sig));
  EXPECT_FALSE(ring->verify(kid, "hellO", sig));
  EXPECT_FALSE(ring->verify(kid, "hello", sig.substr(1)));
  std::string flipped = sig;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x80);
  EXPECT_FALSE(ring->verify(kid, "hello", flipped));
  EXPECT_FALSE(ring->verify(kid, "hello", std::string(64, '\0')));
}

TEST(KeyRingTest, TwoRingsHaveDifferentKeys) {
  EXPECT_NE(KeyRing::ephemeral()->signing_kid(), KeyRing::ephemeral()->signing_kid());
}

TEST(KeyRingTest, ACorruptStoredKeyIsAnError) {
  webstream::testing::FakeClock clock;
  auto db = store::SqliteDb::open(":memory:").value();
  auto keys = store::SqliteKeyStore::open(*db).value();
  store::SigningKeyRow bad;
  bad.kid = "k1";
  bad.algorithm = "EdDSA";
  bad.public_key = std::string(32, 'a');
  bad.secret_key = std::string(64, 'b');
  ASSERT_TRUE(keys->insert_key(bad).ok());
  auto ring = KeyRing::open(*keys, clock);
  ASSERT_FALSE(ring.ok());
  EXPECT_NE(ring.error().message.find("k1"), std::string::npos);
  EXPECT_EQ(ring.error().message.find(std::string(64, 'b')), std::string::npos);
}

}  // namespace
}  // namespace webstream::iam
