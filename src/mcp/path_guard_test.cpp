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
  for (const char* bad : {"../secret",
                          "a/../../etc",
                          "./x",
                          "%2e%2e/x",
                          "%2E%2E/x",
                          ".%2e/x",
                          "%252e%252e/x",
                          "%25252e%25252e/x",
                          "a%2f..%2fb",
                          "..%5cx",
                          "a\\..\\b",
                          "%2e%2e%5c",
                          "x/%00",
                          "%zz",
                          "%",
                          "..;/admin",
                          ".;/admin",
                          "x/..;jsessionid=1/y",
                          "%2e%2e%3b/admin",
                          "%c0%ae%c0%ae/admin",
                          "%e0%80%ae/x",
                          "%ed%a0%80",
                          "%ff",
                          "%2525252e%2525252e/admin",
                          "a%5cb",
                          "a%0d%0aX-Injected:%201",
                          "a%7f"}) {
    EXPECT_FALSE(check_forwardable_path(bad)) << bad;
  }
}

TEST(PathGuard, ThePrefixIsMatchedOnTheDecodedPath) {
  auto routed = guard_path("/mcp/%61pi/metrics", "/mcp/api/");
  ASSERT_TRUE(routed);
  EXPECT_EQ(routed->decoded_rest, "metrics");
  EXPECT_EQ(routed->forwarded_rest, "metrics");
  EXPECT_FALSE(guard_path("/mcp/ap%69x/metrics", "/mcp/api/"));
  EXPECT_FALSE(guard_path("/mcp/api/../iam/users", "/mcp/api/"));
  EXPECT_FALSE(guard_path("/mcp/iam", "/mcp/iam/"));
}

TEST(PathGuard, WhatIsForwardedIsTheDecodedPathEncodedOnce) {
  auto p = guard_path("/mcp/api/v1/cpu%20load/%c3%a9t%c3%a9/a%2fb/x%3By/q%3f", "/mcp/api/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->decoded_rest, "v1/cpu load/\xc3\xa9t\xc3\xa9/a/b/x;y/q?");
  EXPECT_EQ(p->forwarded_rest, "v1/cpu%20load/%C3%A9t%C3%A9/a/b/x%3By/q%3F");
  // Decoding what is forwarded gives back the decoded path: a server behind us sees what we guarded.
  auto again = guard_path("/" + p->forwarded_rest, "/");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->decoded_rest, p->decoded_rest);
}

TEST(PathGuard, EncodePathKeepsOnlySafeBytes) {
  EXPECT_EQ(encode_path("a b/%;?#\\"), "a%20b/%25%3B%3F%23%5C");
  EXPECT_EQ(encode_path("v1/x-y_z.~:@!$&'()*+,="), "v1/x-y_z.~:@!$&'()*+,=");
}

}  // namespace
}  // namespace webstream::mcp
