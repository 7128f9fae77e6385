#include "portal/portal_routes.hpp"

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include <optional>

#include "portal/embedded_files.hpp"

namespace webstream::portal {
namespace {

namespace bhttp = boost::beast::http;

// Routes `method path` through a Router holding only the portal's routes and runs the handler to completion.
struct Answer {
  unsigned match_status = 0;  // the router's status when no route matched
  std::optional<http::Response> response;
};

Answer call(std::string_view method, std::string_view path, std::string if_none_match = {},
            http::ListenerKind listener = http::ListenerKind::kPublic, bool dev_mode = false) {
  http::Router router;
  register_portal_routes(router);
  Answer answer;
  auto match = router.match(method, path, listener, dev_mode);
  if (!match.route) {
    answer.match_status = match.status;
    return answer;
  }
  http::Request req{bhttp::string_to_verb(method), std::string(path), 11};
  if (!if_none_match.empty()) req.set(bhttp::field::if_none_match, if_none_match);
  http::RequestContext ctx{.req = req,
                           .path = std::string(path),
                           .raw_target = std::string(path),
                           .params = match.params,
                           .remote_ip = "127.0.0.1",
                           .listener = http::ListenerKind::kPublic};
  boost::asio::io_context io;
  boost::asio::co_spawn(io, match.route->handler(ctx), [&](std::exception_ptr e, http::Response res) {
    if (!e) answer.response = std::move(res);
  });
  io.run();
  return answer;
}

void expect_security_headers(const http::Response& res) {
  EXPECT_EQ(res["Content-Security-Policy"], kContentSecurityPolicy);
  EXPECT_NE(res["Content-Security-Policy"].find("default-src 'self'"), std::string_view::npos);
  EXPECT_NE(res["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string_view::npos);
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Referrer-Policy"], "no-referrer");
}

TEST(EmbeddedFiles, HoldsThePortalFilesWithTheirBytes) {
  for (const char* name :
       {"index.html", "app.js", "admin.js", "admin_iam.js", "api.js", "live.js", "media.js", "ui.js", "styles.css"}) {
    const EmbeddedFile* file = find_embedded_file(name);
    ASSERT_NE(file, nullptr) << name;
    EXPECT_FALSE(file->content.empty()) << name;
    EXPECT_EQ(file->etag.size(), 34u) << name;  // 32 hex digits in quotes
    EXPECT_EQ(file->etag.front(), '"');
  }
  EXPECT_EQ(find_embedded_file("missing.js"), nullptr);
  const EmbeddedFile* index = find_embedded_file("index.html");
  EXPECT_TRUE(index->content.starts_with("<!DOCTYPE html>"));
  // No external resources: the page must work with nothing outside this gateway reachable.
  for (const auto& file : embedded_files()) {
    EXPECT_EQ(file.content.find("http://"), std::string_view::npos) << file.name;
    EXPECT_EQ(file.content.find("https://"), std::string_view::npos) << file.name;
  }
}

TEST(EmbeddedFiles, ContentTypes) {
  EXPECT_EQ(content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("styles.css"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("blob"), "application/octet-stream");
  EXPECT_EQ(content_type_for(".js"), "application/octet-stream");
}

TEST(PortalRoutes, RootServesIndexHtml) {
  Answer a = call("GET", "/");
  ASSERT_TRUE(a.response);
  const http::Response& res = *a.response;
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res[bhttp::field::content_type], "text/html; charset=utf-8");
  EXPECT_EQ(res[bhttp::field::cache_control], "no-cache");
  EXPECT_EQ(res[bhttp::field::etag], find_embedded_file("index.html")->etag);
  expect_security_headers(res);
  EXPECT_EQ(res.body(), find_embedded_file("index.html")->content);
  EXPECT_EQ(res[bhttp::field::content_length], std::to_string(res.body().size()));
}

TEST(PortalRoutes, FilesWithTheirTypes) {
  const std::pair<const char*, const char*> cases[] = {
      {"/portal/app.js", "text/javascript; charset=utf-8"},
      {"/portal/admin.js", "text/javascript; charset=utf-8"},
      {"/portal/styles.css", "text/css; charset=utf-8"},
      {"/portal/index.html", "text/html; charset=utf-8"},
  };
  for (const auto& [path, type] : cases) {
    Answer a = call("GET", path);
    ASSERT_TRUE(a.response) << path;
    EXPECT_EQ(a.response->result_int(), 200u) << path;
    EXPECT_EQ((*a.response)[bhttp::field::content_type], type) << path;
    EXPECT_EQ((*a.response)[bhttp::field::cache_control], "no-cache") << path;
    expect_security_headers(*a.response);
  }
}

TEST(PortalRoutes, UnknownFileIsJson404) {
  Answer a = call("GET", "/portal/nope.js");
  ASSERT_TRUE(a.response);
  EXPECT_EQ(a.response->result_int(), 404u);
  EXPECT_EQ((*a.response)[bhttp::field::content_type], "application/json");
  auto body = boost::json::parse(a.response->body());
  EXPECT_EQ(body.at("error").at("code").as_string(), "not_found");
  EXPECT_FALSE(body.at("error").at("message").as_string().empty());
  expect_security_headers(*a.response);

  // Nothing beyond one segment, and no way out of the embedded set.
  EXPECT_EQ(call("GET", "/portal/a/b.js").match_status, 404u);
  Answer dots = call("GET", "/portal/..");
  ASSERT_TRUE(dots.response);
  EXPECT_EQ(dots.response->result_int(), 404u);
}

TEST(PortalRoutes, MatchingEtagAnswers304) {
  const std::string etag(find_embedded_file("app.js")->etag);
  Answer a = call("GET", "/portal/app.js", etag);
  ASSERT_TRUE(a.response);
  EXPECT_EQ(a.response->result_int(), 304u);
  EXPECT_TRUE(a.response->body().empty());
  EXPECT_EQ((*a.response)[bhttp::field::etag], etag);
  expect_security_headers(*a.response);

  Answer list = call("GET", "/portal/app.js", "\"other\", W/" + etag);
  ASSERT_TRUE(list.response);
  EXPECT_EQ(list.response->result_int(), 304u);

  Answer stale = call("GET", "/portal/app.js", "\"0123\"");
  ASSERT_TRUE(stale.response);
  EXPECT_EQ(stale.response->result_int(), 200u);
}

TEST(PortalRoutes, PublicOnlyAndGetOnly) {
  // With HTTPS on, the internal (HTTP) listener does not serve the portal; in development mode it does.
  EXPECT_EQ(call("GET", "/", {}, http::ListenerKind::kInternal, false).match_status, 404u);
  EXPECT_TRUE(call("GET", "/", {}, http::ListenerKind::kInternal, true).response);
  EXPECT_EQ(call("POST", "/").match_status, 405u);
  EXPECT_EQ(call("DELETE", "/portal/app.js").match_status, 405u);
}

}  // namespace
}  // namespace webstream::portal
