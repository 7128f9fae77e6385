#include "http/router.hpp"

#include <gtest/gtest.h>

namespace webstream::http {
namespace {

boost::asio::awaitable<Response> dummy(RequestContext&) { co_return Response{}; }

TEST(Router, ExactParamsAndPrefix) {
  Router r;
  r.add("GET", "/iam/users", Exposure::kPublic, dummy);
  r.add("GET", "/iam/users/{}", Exposure::kPublic, dummy);
  r.add("PUT", "/iam/users/{}/password", Exposure::kPublic, dummy);
  r.add("*", "/mcp/api/*", Exposure::kPublic, dummy);
  r.add("POST", "/gateway/register", Exposure::kInternal, dummy);
  r.add("GET", "/gateway/health", Exposure::kBoth, dummy);

  auto m = r.match("GET", "/iam/users/u-1", ListenerKind::kPublic, false);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.route->pattern, "/iam/users/{}");
  EXPECT_EQ(m.params, std::vector<std::string>{"u-1"});

  m = r.match("PUT", "/iam/users/u-1/password", ListenerKind::kPublic, false);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params[0], "u-1");

  m = r.match("DELETE", "/mcp/api/v1/x", ListenerKind::kPublic, false);
  ASSERT_TRUE(m.route);
  EXPECT_EQ(m.params[0], "v1/x");

  m = r.match("POST", "/iam/users/u-1", ListenerKind::kPublic, false);
  EXPECT_FALSE(m.route);
  EXPECT_EQ(m.status, 405u);
  EXPECT_EQ(m.allow, "GET");

  EXPECT_EQ(r.match("GET", "/iam/users/", ListenerKind::kPublic, false).status, 404u);
  EXPECT_EQ(r.match("GET", "/nothing", ListenerKind::kPublic, false).status, 404u);
}

TEST(Router, ExposureByListener) {
  Router r;
  r.add("POST", "/gateway/register", Exposure::kInternal, dummy);
  r.add("GET", "/iam/auth/me", Exposure::kPublic, dummy);
  r.add("GET", "/gateway/health", Exposure::kBoth, dummy);
  // HTTPS on: registry only on the internal listener, browser routes only on the public one.
  EXPECT_FALSE(r.match("POST", "/gateway/register", ListenerKind::kPublic, false).route);
  EXPECT_TRUE(r.match("POST", "/gateway/register", ListenerKind::kInternal, false).route);
  EXPECT_FALSE(r.match("GET", "/iam/auth/me", ListenerKind::kInternal, false).route);
  // Development mode: the HTTP (internal) listener serves the public routes too.
  EXPECT_TRUE(r.match("GET", "/iam/auth/me", ListenerKind::kInternal, true).route);
  EXPECT_TRUE(r.match("GET", "/gateway/health", ListenerKind::kPublic, false).route);
  EXPECT_TRUE(r.match("GET", "/gateway/health", ListenerKind::kInternal, false).route);
}

TEST(Router, HeadMatchesGet) {
  Router r;
  r.add("GET", "/gateway/health", Exposure::kBoth, dummy);
  EXPECT_TRUE(r.match("HEAD", "/gateway/health", ListenerKind::kPublic, false).route);
}

// The exact-path table answers what the scan of the route list answers, for every method, path, listener
// and mode: literal routes beside {} patterns that match the same path (added before and after them), the
// same path twice with different methods and exposures, prefixes, HEAD on GET, a path that is not a
// pattern's literal form.
TEST(Router, ExactTableAgreesWithTheScan) {
  Router r;
  r.add("GET", "/getConnection", Exposure::kPublic, dummy);
  r.add("GET", "/iam/users/{}", Exposure::kPublic, dummy);
  r.add("GET", "/iam/users/me", Exposure::kPublic, dummy);  // shadowed: the {} route above was added first
  r.add("POST", "/iam/users", Exposure::kPublic, dummy);
  r.add("GET", "/iam/users", Exposure::kInternal, dummy);
  r.add("GET", "/iam/users", Exposure::kPublic, dummy);
  r.add("DELETE", "/a/b", Exposure::kBoth, dummy);
  r.add("*", "/a/{}", Exposure::kPublic, dummy);  // added after /a/b: shadows it
  r.add("*", "/mcp/api/*", Exposure::kPublic, dummy);
  r.add("GET", "/mcp/api/exact", Exposure::kPublic, dummy);
  r.add("GET", "/gateway/health", Exposure::kBoth, dummy);
  r.add("POST", "/x{}", Exposure::kPublic, dummy);  // not a {} segment: a literal
  r.add_upgrade("/capture", Exposure::kPublic,
                [](RequestContext&, ClientStream&&) -> boost::asio::awaitable<void> { co_return; });

  const std::vector<std::string> methods = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
  const std::vector<std::string> paths = {"/getConnection",
                                          "/getconnection",
                                          "/getConnection/",
                                          "/iam/users/me",
                                          "/iam/users/u-1",
                                          "/iam/users",
                                          "/iam/users/",
                                          "/a/b",
                                          "/a/c",
                                          "/a",
                                          "/mcp/api/exact",
                                          "/mcp/api/other",
                                          "/mcp/api/",
                                          "/gateway/health",
                                          "/x{}",
                                          "/capture",
                                          "/",
                                          "",
                                          "getConnection",
                                          "/nothing"};
  for (const auto& method : methods) {
    for (const auto& path : paths) {
      for (const auto listener : {ListenerKind::kPublic, ListenerKind::kInternal}) {
        for (const bool dev : {false, true}) {
          const auto fast = r.match(method, path, listener, dev);
          const auto slow = r.scan_for_test(method, path, listener, dev);
          SCOPED_TRACE(method + " " + path + (listener == ListenerKind::kPublic ? " public" : " internal") +
                       (dev ? " dev" : ""));
          EXPECT_EQ(fast.route, slow.route);
          EXPECT_EQ(fast.params, slow.params);
          EXPECT_EQ(fast.status, slow.status);
          EXPECT_EQ(fast.allow, slow.allow);
        }
      }
    }
  }
  // The table is used: the literal beside no {} pattern is found, the shadowed one is the {} route's.
  EXPECT_EQ(r.match("GET", "/getConnection", ListenerKind::kPublic, false).route->pattern, "/getConnection");
  EXPECT_EQ(r.match("GET", "/iam/users/me", ListenerKind::kPublic, false).route->pattern, "/iam/users/{}");
  EXPECT_EQ(r.match("DELETE", "/a/b", ListenerKind::kPublic, false).route->pattern, "/a/b");
  EXPECT_EQ(r.match("GET", "/iam/users", ListenerKind::kPublic, false).route->exposure, Exposure::kPublic);
  EXPECT_EQ(r.match("GET", "/iam/users", ListenerKind::kInternal, true).route->exposure, Exposure::kInternal);
}

}  // namespace
}  // namespace webstream::http
