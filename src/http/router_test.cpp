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

}  // namespace
}  // namespace webstream::http
