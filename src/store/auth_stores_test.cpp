// The authentication stores: signing keys, revoked tokens, login failures — on every backend.
#include <gtest/gtest.h>

#include "store/testing/store_fixture.hpp"

namespace webstream::store {
namespace {

class KeyStoreTest : public testing::StoreFixture {};
class TokenStoreTest : public testing::StoreFixture {};
class LoginFailureStoreTest : public testing::StoreFixture {};
WEBSTREAM_STORE_BACKENDS(KeyStoreTest);
WEBSTREAM_STORE_BACKENDS(TokenStoreTest);
WEBSTREAM_STORE_BACKENDS(LoginFailureStoreTest);

TEST_P(KeyStoreTest, KeysRoundTripWithBinaryBytes) {
  auto keys = provider().keys().value();
  EXPECT_TRUE(keys->load_keys()->empty());
  SigningKeyRow row{"kid-1", "EdDSA", std::string("\0\x01\xff pub", 7), std::string("\0sec\xfe", 5), 42};
  ASSERT_TRUE(keys->insert_key(row).ok());
  SigningKeyRow newer{"kid-2", "EdDSA", "p2", "s2", 43};
  ASSERT_TRUE(keys->insert_key(newer).ok());
  EXPECT_FALSE(keys->insert_key(row).ok());  // duplicate kid
  auto loaded = keys->load_keys();
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].kid, "kid-1");
  EXPECT_EQ((*loaded)[0].public_key, row.public_key);
  EXPECT_EQ((*loaded)[0].secret_key, row.secret_key);
  EXPECT_EQ((*loaded)[0].created_at, 42);
  EXPECT_EQ((*loaded)[1].kid, "kid-2");
  // Opening again (a restart) applies no migration twice and keeps the rows.
  auto reopened = open_another().value();
  auto again = reopened->keys().value();
  EXPECT_EQ(again->load_keys()->size(), 2u);
}

TEST_P(TokenStoreTest, RevokeListAndPrune) {
  auto tokens = provider().tokens().value();
  ASSERT_TRUE(tokens->revoke({"j-1", 100}).ok());
  ASSERT_TRUE(tokens->revoke({"j-2", 200}).ok());
  ASSERT_TRUE(tokens->revoke({"j-1", 100}).ok());  // idempotent
  auto all = tokens->revoked_since(0);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  auto live = tokens->revoked_since(150);
  ASSERT_EQ(live->size(), 1u);
  EXPECT_EQ((*live)[0].jti, "j-2");
  EXPECT_EQ(*tokens->prune_revoked(150), 1);
  EXPECT_EQ(tokens->revoked_since(0)->size(), 1u);
}

TEST_P(LoginFailureStoreTest, RecordClearListAndPrune) {
  auto failures = provider().login_failures().value();
  ASSERT_TRUE(failures->record_failures({{"ip", "k-ip", 10}, {"user", "k-user", 10}}).ok());
  ASSERT_TRUE(failures->record_failures({{"user", "k-user", 20}, {"user", "k-other", 30}}).ok());
  EXPECT_EQ(failures->failures_since(0)->size(), 4u);
  EXPECT_EQ(failures->failures_since(15)->size(), 2u);
  EXPECT_EQ(*failures->failures_of("user", "k-user", 0), (std::vector<Millis>{10, 20}));
  EXPECT_EQ(*failures->failures_of("user", "k-user", 15), (std::vector<Millis>{20}));
  EXPECT_TRUE(failures->failures_of("ip", "k-user", 0)->empty());  // scopes apart
  ASSERT_TRUE(failures->clear_failures("user", "k-user").ok());
  auto left = failures->failures_since(0);
  ASSERT_EQ(left->size(), 2u);
  EXPECT_EQ((*left)[0].key, "k-ip");
  EXPECT_EQ((*left)[1].key, "k-other");
  EXPECT_EQ(*failures->prune_failures(15), 1);
  EXPECT_EQ(failures->failures_since(0)->size(), 1u);
}

}  // namespace
}  // namespace webstream::store
