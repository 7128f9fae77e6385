// The access-management service's internal API and its clients, over real HTTP on 127.0.0.1: the service
// key check, POST /iam/internal/resolve through RemoteEntitlementResolver, the revocation feed through
// RevocationPoller, the MCP audit hook, and the service gate in front of the /iam/* routes.
#include "iam/api/internal_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json.hpp>

#include <map>
#include <mutex>

#include "auth/authenticator.hpp"
#include "core/testing/fake_clock.hpp"
#include "http/server.hpp"
#include "iam/api/service_gate.hpp"
#include "iam/remote/am_client.hpp"
#include "iam/remote/remote_resolver.hpp"
#include "iam/remote/revocation_poller.hpp"
#include "iam/resolution_json.hpp"
#include "iam/revocation_feed.hpp"
#include "store/sqlite/sqlite_revocation_log_store.hpp"

namespace webstream::iam {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr const char* kKey = "service-key-0123456789abcdef";
constexpr std::size_t kPageEntries = 3;  // the feed's page size here: small, so that paging is exercised

// Entitles "u-1" to "ws-1" (app "app-1" or none); everything else is 403 not_entitled.
class FakeResolver final : public sessions::EntitlementResolver {
 public:
  Result<sessions::Resolution> resolve(const std::string& user, const std::string& ws,
                                       const std::optional<std::string>& app) override {
    if (user != "u-1" || ws != "ws-1" || (app && *app != "app-1")) {
      return Error{403, "not_entitled", "the user is not entitled to this workspace or app"};
    }
    sessions::Resolution r;
    r.workspace = sessions::WorkspaceInfo{"ws-1", "org-1", "Office", "app", {"app-1", "app-2"}, {"gpu"}, {"h264"}};
    if (app) r.app = sessions::AppInfo{"app-1", "Notepad", "notepad.exe", "/A \"x y\""};
    r.policy = json::object{{"maxConcurrentSessions", 3}, {"clipboard", true}};
    r.org_max_concurrent_sessions = 10;
    return r;
  }
};

struct Audited {
  std::string key, method, path;
  unsigned status = 0;
};

// The internal API (and a gated echo route standing in for the /iam/* routes) on a real server.
class InternalApiTest : public ::testing::Test {
 protected:
  explicit InternalApiTest(std::string service_key = kKey)
      : db_(store::SqliteDb::open(":memory:").value()),
        log_(store::SqliteRevocationLogStore::open(*db_, clock_).value()),
        feed_(*log_, clock_, 3600, 60, kPageEntries) {
    register_internal_routes(
        router_, InternalApiDeps{service_key, resolver_, feed_, blocking_,
                                 [this](const std::string& k, const std::string& m, const std::string& p, unsigned s) {
                                   std::lock_guard lock(mutex_);
                                   audited_.push_back(Audited{k, m, p, s});
                                 }});
    http::Router staging;
    staging.add("GET", "/iam/echo", http::Exposure::kPublic,
                [](http::RequestContext& ctx) -> net::awaitable<http::Response> {
                  json::object body{{"ip", ctx.remote_ip}};
                  if (ctx.preauthenticated) {
                    body["principal"] = ctx.preauthenticated->user_id;
                    body["service"] = ctx.preauthenticated->service;
                    body["admin"] = ctx.preauthenticated->is_admin();
                  }
                  co_return http::json_response(200, body, ctx.req);
                });
    add_service_gated_routes(router_, staging, service_key);
    workers_ = std::make_unique<runtime::Workers>(1);
    server_ = std::make_unique<http::Server>(router_, limits_, *workers_, true);
    EXPECT_TRUE(server_->listen(http::ListenerKind::kInternal, "127.0.0.1", 0, nullptr));
    port_ = server_->bound_port(0);
    server_->start();
    workers_->start();
  }
  ~InternalApiTest() override {
    server_->begin_stop();
    workers_->stop_and_join(2s);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  AmClient client(std::string key = kKey) const { return AmClient::create(url(), std::move(key)).value(); }
  AmReply get(const std::string& target, std::vector<std::pair<std::string, std::string>> headers = {},
              std::string key = kKey) {
    AmRequest r;
    r.target = target;
    r.headers = std::move(headers);
    auto reply = client(std::move(key)).call(r, 2s);
    EXPECT_TRUE(reply.ok());
    return reply.ok() ? reply.value() : AmReply{};
  }
  static std::string code(const AmReply& r) { return reply_error(r, "").code; }

  testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteRevocationLogStore> log_;
  RevocationFeed feed_;
  FakeResolver resolver_;
  runtime::BlockingPool blocking_{1};
  http::Router router_;
  config::LimitsConfig limits_;
  std::unique_ptr<runtime::Workers> workers_;
  std::unique_ptr<http::Server> server_;
  int port_ = 0;
  std::mutex mutex_;
  std::vector<Audited> audited_;
};

TEST_F(InternalApiTest, EveryInternalCallNeedsTheServiceKey) {
  for (const char* target : {"/iam/internal/revocations?since=0"}) {
    EXPECT_EQ(get(target, {}, "").status, 401u) << "missing key";
    EXPECT_EQ(get(target, {}, "wrong-key-0123456789abcdef").status, 401u) << "wrong key";
    EXPECT_EQ(get(target, {}, std::string(kKey) + "x").status, 401u) << "longer key";
    EXPECT_EQ(get(target).status, 200u);
  }
  AmRequest resolve;
  resolve.method = boost::beast::http::verb::post;
  resolve.target = "/iam/internal/resolve";
  resolve.body = R"({"userId":"u-1","workspaceId":"ws-1"})";
  auto no_key = client("").call(resolve, 2s);
  ASSERT_TRUE(no_key.ok());
  EXPECT_EQ(no_key->status, 401u);
  EXPECT_EQ(code(*no_key), "unauthorized");
  resolve.target = "/iam/internal/mcp-audit";
  resolve.body = R"({"keyName":"ops","method":"GET","path":"/iam/users","status":200})";
  EXPECT_EQ(client("bad-key-0123456789abcdef").call(resolve, 2s)->status, 401u);
  std::lock_guard lock(mutex_);
  EXPECT_TRUE(audited_.empty());
}

TEST_F(InternalApiTest, RemoteResolverGetsTheResolutionOrTheServicesError) {
  auto c = client();
  RemoteEntitlementResolver resolver(c, 2s);
  auto r = resolver.resolve("u-1", "ws-1", std::string("app-1"));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->workspace.id, "ws-1");
  EXPECT_EQ(r->workspace.org_id, "org-1");
  EXPECT_EQ(r->workspace.name, "Office");
  EXPECT_EQ(r->workspace.type, "app");
  EXPECT_EQ(r->workspace.app_ids, (std::vector<std::string>{"app-1", "app-2"}));
  EXPECT_EQ(r->workspace.required_tags, (std::vector<std::string>{"gpu"}));
  EXPECT_EQ(r->workspace.required_capabilities, (std::vector<std::string>{"h264"}));
  ASSERT_TRUE(r->app.has_value());
  EXPECT_EQ(r->app->exe, "notepad.exe");
  EXPECT_EQ(r->app->args, "/A \"x y\"");
  EXPECT_EQ(r->policy.at("maxConcurrentSessions").as_int64(), 3);
  EXPECT_EQ(r->org_max_concurrent_sessions, 10);

  auto desktop = resolver.resolve("u-1", "ws-1", std::nullopt);
  ASSERT_TRUE(desktop.ok());
  EXPECT_FALSE(desktop->app.has_value());

  auto refused = resolver.resolve("u-2", "ws-1", std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().status, 403);
  EXPECT_EQ(refused.error().code, "not_entitled");

  // A gateway with the wrong key: not the browser's fault — 502, never 401 to the browser.
  auto wrong = client("wrong-key-0123456789abcdef");
  RemoteEntitlementResolver misconfigured(wrong, 2s);
  auto denied = misconfigured.resolve("u-1", "ws-1", std::nullopt);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().status, 502);
  EXPECT_EQ(denied.error().code, "access_management_error");
}

TEST(RemoteResolverDown, AnUnreachableServiceIs503) {
  // A port nobody listens on (bound, then closed).
  net::io_context io;
  net::ip::tcp::acceptor acceptor(io, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const auto port = acceptor.local_endpoint().port();
  acceptor.close();
  auto c = AmClient::create("http://127.0.0.1:" + std::to_string(port), kKey).value();
  RemoteEntitlementResolver resolver(c, 500ms);
  auto r = resolver.resolve("u-1", "ws-1", std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 503);
  EXPECT_EQ(r.error().code, "access_management_unavailable");
}

TEST(AmClientUrl, OnlyPlainHttpBaseUrls) {
  EXPECT_TRUE(AmClient::create("http://10.0.0.5:9500", kKey).ok());
  EXPECT_TRUE(AmClient::create("http://am.internal/base/", kKey).ok());
  EXPECT_FALSE(AmClient::create("https://am.internal", kKey).ok());
  EXPECT_FALSE(AmClient::create("http://user:pw@am.internal", kKey).ok());
  EXPECT_FALSE(AmClient::create("http://am.internal/?x=1", kKey).ok());
  EXPECT_FALSE(AmClient::create("am.internal:9500", kKey).ok());
}

TEST_F(InternalApiTest, RevocationsReachThePollersSinkIncrementally) {
  std::mutex m;
  std::map<std::string, std::int64_t> revoked;
  std::map<std::string, std::int64_t> cutoffs;
  RevocationPoller poller(client(),
                          RevocationSink{[&](const std::string& j, std::int64_t e) {
                                           std::lock_guard lock(m);
                                           revoked[j] = e;
                                         },
                                         [&](const std::string& u, std::int64_t nb) {
                                           std::lock_guard lock(m);
                                           cutoffs[u] = nb;
                                         }},
                          clock_);
  EXPECT_FALSE(poller.synced());
  EXPECT_FALSE(poller.fresh());
  const auto now = clock_.now_s();
  ASSERT_TRUE(feed_.record_token("jti-1", now + 600).ok());
  ASSERT_TRUE(feed_.record_user_cutoff("u-9", now + 1).ok());
  ASSERT_TRUE(poller.poll_blocking().ok());
  EXPECT_TRUE(poller.synced());
  EXPECT_TRUE(poller.fresh());
  EXPECT_EQ(revoked, (std::map<std::string, std::int64_t>{{"jti-1", now + 600}}));
  EXPECT_EQ(cutoffs, (std::map<std::string, std::int64_t>{{"u-9", now + 1}}));
  // The next poll asks from the answer's "now" minus the overlap.
  EXPECT_EQ(poller.next_since(), clock_.now_ms() - 2000);
  clock_.advance_s(5);
  ASSERT_TRUE(feed_.record_token("jti-2", now + 700).ok());
  ASSERT_TRUE(poller.poll_blocking().ok());
  EXPECT_EQ(revoked.size(), 2u);
  EXPECT_EQ(revoked["jti-2"], now + 700);

  // Silence for longer than the staleness bound: no longer fresh (the gateway then answers 503).
  clock_.advance_s(61);
  EXPECT_FALSE(poller.fresh());
  EXPECT_TRUE(poller.synced());
}

TEST_F(InternalApiTest, ALongFeedComesInPagesAndThePollerReadsThemAll) {
  std::mutex m;
  std::map<std::string, std::int64_t> revoked;
  RevocationPoller poller(client(),
                          RevocationSink{[&](const std::string& j, std::int64_t e) {
                                           std::lock_guard lock(m);
                                           revoked[j] = e;
                                         },
                                         {}},
                          clock_);
  const auto now = clock_.now_s();
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(feed_.record_token("jti-" + std::to_string(i), now + 600).ok());
    clock_.advance_ms(1);  // distinct stamps: pages of kPageEntries
  }
  auto first = json::parse(get("/iam/internal/revocations?since=0").body).as_object();
  EXPECT_EQ(first.at("revoked").as_array().size(), kPageEntries);
  EXPECT_TRUE(first.at("more").as_bool());

  ASSERT_TRUE(poller.poll_blocking().ok());  // follows "more" to the last page
  EXPECT_EQ(revoked.size(), 10u);
  EXPECT_TRUE(poller.synced());
  EXPECT_EQ(poller.next_since(), clock_.now_ms() - 2000);  // the last page: its "now" minus the overlap
}

TEST_F(InternalApiTest, APageWithMoreToComeIsNotYetSyncedAndIsFollowedFromItsNowExactly) {
  RevocationPoller poller(client(), RevocationSink{}, clock_);
  ASSERT_TRUE(poller.apply(R"({"now":5000,"revoked":[],"userCutoffs":[],"more":true})").ok());
  EXPECT_FALSE(poller.synced());
  EXPECT_EQ(poller.next_since(), 5000);
  ASSERT_TRUE(poller.apply(R"({"now":9000,"revoked":[],"userCutoffs":[],"more":false})").ok());
  EXPECT_TRUE(poller.synced());
  EXPECT_EQ(poller.next_since(), 7000);
  // A service from before paging sends no "more": one whole answer.
  ASSERT_TRUE(poller.apply(R"({"now":12000,"revoked":[],"userCutoffs":[]})").ok());
  EXPECT_EQ(poller.next_since(), 10000);
  EXPECT_FALSE(poller.apply(R"({"now":1,"revoked":[],"userCutoffs":[],"more":"yes"})").ok());
}

TEST_F(InternalApiTest, APollWithTheWrongKeyOrAGarbledAnswerFails) {
  EXPECT_FALSE(RevocationPoller(client("wrong-key-0123456789abcdef"), RevocationSink{}, clock_).poll_blocking().ok());
  auto bad = RevocationPoller(client(), RevocationSink{}, clock_).apply(R"({"now":"x"})");
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().status, 502);
}

TEST_F(InternalApiTest, SinceMustBeAWholeNumber) {
  EXPECT_EQ(get("/iam/internal/revocations?since=abc").status, 400u);
  EXPECT_EQ(get("/iam/internal/revocations?since=-5").status, 400u);
  auto all = get("/iam/internal/revocations");
  ASSERT_EQ(all.status, 200u);
  auto body = json::parse(all.body).as_object();
  EXPECT_TRUE(body.contains("now"));
  EXPECT_TRUE(body.at("revoked").is_array());
  EXPECT_TRUE(body.at("userCutoffs").is_array());
}

TEST_F(InternalApiTest, McpAuditIsRecordedUnderTheKeyName) {
  AmRequest r;
  r.method = boost::beast::http::verb::post;
  r.target = "/iam/internal/mcp-audit";
  r.body = R"({"keyName":"ops-agent","method":"DELETE","path":"/iam/users/u-1","status":204})";
  auto reply = client().call(r, 2s);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 204u);
  r.body = R"({"keyName":"ops-agent","method":"DELETE"})";
  EXPECT_EQ(client().call(r, 2s)->status, 400u);
  // A method or a path that would make a malformed audit entry is refused, and nothing is recorded.
  for (const char* bad : {R"({"keyName":"k","method":"get","path":"/iam/users","status":200})",
                          R"({"keyName":"k","method":"GET 200 x","path":"/iam/users","status":200})",
                          R"({"keyName":"k","method":"GET","path":"iam/users","status":200})",
                          R"({"keyName":"k","method":"GET","path":"/iam/users\u0000x","status":200})",
                          R"({"keyName":"k","method":"GET","path":"/iam/\nusers","status":200})"}) {
    r.body = bad;
    auto answer = client().call(r, 2s);
    ASSERT_TRUE(answer.ok());
    EXPECT_EQ(answer->status, 400u) << bad;
    EXPECT_EQ(code(*answer), "invalid_request") << bad;
  }
  std::lock_guard lock(mutex_);
  ASSERT_EQ(audited_.size(), 1u);
  EXPECT_EQ(audited_[0].key, "ops-agent");
  EXPECT_EQ(audited_[0].method, "DELETE");
  EXPECT_EQ(audited_[0].path, "/iam/users/u-1");
  EXPECT_EQ(audited_[0].status, 204u);
}

TEST_F(InternalApiTest, TheGateTrustsForwardedForAndServicePrincipalOnlyWithTheKey) {
  // A direct client: its own address; the headers mean nothing without the key.
  AmRequest r;
  r.target = "/iam/echo";
  r.headers = {{"X-Forwarded-For", "203.0.113.7"}, {"X-WebStream-Service-Principal", "ops"}};
  auto direct = client("").call(r, 2s);
  ASSERT_TRUE(direct.ok());
  ASSERT_EQ(direct->status, 200u);
  auto body = json::parse(direct->body).as_object();
  EXPECT_EQ(body.at("ip").as_string(), "127.0.0.1");
  EXPECT_FALSE(body.contains("principal"));

  // Through a gateway (the key): the browser's address and the MCP key's service principal.
  auto gated = client().call(r, 2s);
  ASSERT_EQ(gated->status, 200u);
  body = json::parse(gated->body).as_object();
  EXPECT_EQ(body.at("ip").as_string(), "203.0.113.7");
  EXPECT_EQ(body.at("principal").as_string(), "mcp:ops");
  EXPECT_TRUE(body.at("service").as_bool());
  EXPECT_TRUE(body.at("admin").as_bool());

  // A forwarded value that is no address is ignored.
  r.headers = {{"X-Forwarded-For", "not-an-ip, 10.0.0.1"}};
  body = json::parse(client().call(r, 2s)->body).as_object();
  EXPECT_EQ(body.at("ip").as_string(), "127.0.0.1");

  // A wrong key is refused outright.
  auto wrong = client("wrong-key-0123456789abcdef").call(r, 2s);
  EXPECT_EQ(wrong->status, 401u);
}

// An -am process without a serviceKey refuses every internal call, and every gated call that claims one.
class NoServiceKeyTest : public InternalApiTest {
 protected:
  NoServiceKeyTest() : InternalApiTest("") {}
};

TEST_F(NoServiceKeyTest, EveryInternalCallIs401) {
  EXPECT_EQ(get("/iam/internal/revocations?since=0").status, 401u);
  EXPECT_EQ(get("/iam/internal/revocations?since=0", {}, "").status, 401u);
  AmRequest r;
  r.target = "/iam/echo";
  EXPECT_EQ(client().call(r, 2s)->status, 401u);
  EXPECT_EQ(client("").call(r, 2s)->status, 200u);  // a direct client is served
}

TEST(ResolutionJson, RoundTripsAndNamesABadField) {
  sessions::Resolution r;
  r.workspace = sessions::WorkspaceInfo{"ws", "org", "W", "desktop", {}, {}, {}};
  r.policy = json::object{{"maxConcurrentSessions", 1}};
  auto back = resolution_from_json(resolution_to_json(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->workspace.type, "desktop");
  EXPECT_FALSE(back->app.has_value());
  EXPECT_FALSE(back->org_max_concurrent_sessions.has_value());
  auto broken = resolution_to_json(r);
  broken["workspace"].as_object().erase("name");
  auto e = resolution_from_json(broken);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().status, 502);
  EXPECT_NE(e.error().message.find("workspace.name"), std::string::npos);
}

}  // namespace
}  // namespace webstream::iam
