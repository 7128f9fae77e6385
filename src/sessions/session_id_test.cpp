#include "sessions/session_id.hpp"

#include <gtest/gtest.h>

#include <string>

namespace webstream::sessions {
namespace {

// A request with these X-Session-ID header (unset when null) and query.
struct Req {
  http::Request req;
  http::RequestContext ctx{.req = req};
  Req(const char* header, std::string query) {
    if (header) req.set("X-Session-ID", header);
    ctx.query = std::move(query);
  }
};

TEST(SessionIdTest, TheRuleIsOneTo128OfLettersDigitsUnderscoreAndHyphen) {
  EXPECT_TRUE(is_valid_session_id("a"));
  EXPECT_TRUE(is_valid_session_id("AZaz09_-"));
  EXPECT_TRUE(is_valid_session_id(std::string(128, 'x')));
  EXPECT_FALSE(is_valid_session_id(""));
  EXPECT_FALSE(is_valid_session_id(std::string(129, 'x')));
  for (const char* bad : {"has space", "semi;colon", "dot.ted", "slash/", "p%41", "tab\t", "é"}) {
    EXPECT_FALSE(is_valid_session_id(bad)) << bad;
  }
}

TEST(SessionIdTest, TheSessionApiReadsOnlyTheHeader) {
  Req ok("s-1", "");
  ASSERT_TRUE(session_id_from_header(ok.ctx));
  EXPECT_EQ(session_id_from_header(ok.ctx).value(), "s-1");

  Req query_only(nullptr, "sessionId=s-1");
  auto missing = session_id_from_header(query_only.ctx);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().status, 400);
  EXPECT_EQ(missing.error().code, "invalid_request");
  EXPECT_EQ(missing.error().message, "header 'X-Session-ID' must be 1-128 characters of A-Z, a-z, 0-9, '_' or '-'");
  Req bad("has space", "");
  EXPECT_FALSE(session_id_from_header(bad.ctx));
}

TEST(SessionIdTest, AProxiedRouteReadsTheQueryOnlyWhenAskedAndTheHeaderIsAbsent) {
  Req header_and_query("from-header", "sessionId=from-query");
  EXPECT_EQ(proxied_session_id(header_and_query.ctx, SessionIdQuery::kRead).value(), "from-header");
  Req query_only(nullptr, "token=t&sessionId=from-query");
  EXPECT_EQ(proxied_session_id(query_only.ctx, SessionIdQuery::kRead).value(), "from-query");

  auto ignored = proxied_session_id(query_only.ctx, SessionIdQuery::kIgnored);
  ASSERT_FALSE(ignored);
  EXPECT_EQ(ignored.error().status, 400);
  EXPECT_EQ(ignored.error().code, "invalid_request");
  EXPECT_EQ(ignored.error().message,
            "a session id (X-Session-ID or ?sessionId=) of 1-128 characters of A-Z, a-z, 0-9, '_', '-' is required");
  Req bad_query(nullptr, "sessionId=a%20b");  // decoded: "a b"
  EXPECT_FALSE(proxied_session_id(bad_query.ctx, SessionIdQuery::kRead));
  Req too_long(nullptr, "sessionId=" + std::string(129, 'x'));
  EXPECT_FALSE(proxied_session_id(too_long.ctx, SessionIdQuery::kRead));
}

}  // namespace
}  // namespace webstream::sessions
