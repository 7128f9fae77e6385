#include "registry/backend_keys.hpp"

#include <gtest/gtest.h>

namespace webstream::registry {
namespace {

TEST(BackendKeys, NoKeysConfiguredAllowsEveryoneAsNoName) {
  auto r = check_backend_key("", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, "");
  EXPECT_EQ(check_backend_key("anything", {}).value(), "");
}

TEST(BackendKeys, MatchingKeyGivesItsName) {
  std::vector<config::NamedKey> keys = {{.name = "eu", .key = "key-eu-abcdef"}, {.name = "us", .key = "key-us-abcdef"}};
  EXPECT_EQ(check_backend_key("key-us-abcdef", keys).value(), "us");
  EXPECT_EQ(check_backend_key("key-eu-abcdef", keys).value(), "eu");
  for (const char* bad : {"", "key-us-abcde", "key-us-abcdefg", "KEY-US-ABCDEF", "eu"}) {
    auto r = check_backend_key(bad, keys);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, 401);
    EXPECT_EQ(r.error().code, "unauthorized");
    EXPECT_EQ(r.error().message.find("key-"), std::string::npos);  // never echoes a key
  }
}

TEST(BackendKeys, AnEmptyConfiguredKeyNeverMatches) {
  std::vector<config::NamedKey> keys = {{.name = "blank", .key = ""}};
  EXPECT_FALSE(check_backend_key("", keys));
}

TEST(BackendKeys, FixedKeysSource) {
  auto source = fixed_keys({{.name = "a", .key = "k"}});
  ASSERT_TRUE(source());
  EXPECT_EQ(source()->size(), 1u);
}

}  // namespace
}  // namespace webstream::registry
