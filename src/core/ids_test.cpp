#include "core/ids.hpp"

#include <gtest/gtest.h>

namespace webstream {
namespace {

TEST(Ids, RandomIdsAreUniqueAndPrefixed) {
  auto a = random_id("b-");
  auto b = random_id("b-");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.substr(0, 2), "b-");
  EXPECT_EQ(a.size(), 34u);
  EXPECT_EQ(random_token().size(), 43u);
}

TEST(Ids, Uuid) {
  EXPECT_TRUE(is_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c3301"));
  EXPECT_TRUE(is_uuid("{3F2504E0-4F89-11D3-9A0C-0305E82C3301}"));
  EXPECT_FALSE(is_uuid("3f2504e04f8911d39a0c0305e82c3301"));
  EXPECT_FALSE(is_uuid("3f2504e0-4f89-11d3-9a0c-0305e82c330g"));
  EXPECT_FALSE(is_uuid(""));
}

TEST(Ids, ConstantTimeEquals) {
  EXPECT_TRUE(constant_time_equals("secret", "secret"));
  EXPECT_FALSE(constant_time_equals("secret", "secreT"));
  EXPECT_FALSE(constant_time_equals("secret", "secret2"));
}

}  // namespace
}  // namespace webstream
