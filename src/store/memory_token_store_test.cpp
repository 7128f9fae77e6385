// The in-memory token store a gateway in standalone/external access-management mode uses.
#include <gtest/gtest.h>

#include "store/memory_token_store.hpp"

namespace webstream::store {
namespace {

TEST(MemoryTokenStoreTest, RevokeListAndPruneLikeTheSqliteStore) {
  MemoryTokenStore tokens;
  ASSERT_TRUE(tokens.revoke({"j-1", 100}).ok());
  ASSERT_TRUE(tokens.revoke({"j-2", 200}).ok());
  ASSERT_TRUE(tokens.revoke({"j-1", 90}).ok());  // idempotent; the later exp is kept
  auto all = tokens.revoked_since(0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].jti, "j-1");
  EXPECT_EQ((*all)[0].expires_at, 100);
  EXPECT_EQ(tokens.revoked_since(150)->size(), 1u);
  EXPECT_EQ(tokens.prune_revoked(150).value(), 1);
  EXPECT_EQ(tokens.revoked_since(0)->size(), 1u);
}

}  // namespace
}  // namespace webstream::store
