#include "mcp/path_guard.hpp"

#include <gtest/gtest.h>

namespace webstream::mcp {
namespace {

TEST(PathGuard, PlainPathsPass) {
  EXPECT_TRUE(check_forwardable_path("v1/metrics"));
  EXPECT_TRUE(check_forwardable_path("v1/metrics/cpu%20load"));
  EXPECT_TRUE(check_forwardable_path(""));
  EXPECT_TRUE(check_forwardable_path("a..b/c"));
}

TEST(PathGuard, TraversalInEveryEncodingIsRefused) {
  for (const char* bad : {"../secret", "a/../../etc", "./x", "%2e%2e/x", "%2E%2E/x", ".%2e/x", "%252e%252e/x",
                          "%25252e%25252e/x", "a%2f..%2fb", "..%5cx", "a\\..\\b", "%2e%2e%5c", "x/%00", "%zz",
                          "a%2fb", "%"}) {
    EXPECT_FALSE(check_forwardable_path(bad)) << bad;
  }
}

}  // namespace
}  // namespace webstream::mcp
