#include "registry/registry_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace webstream::registry {
namespace {

namespace json = boost::json;

class RegistryApiTest : public ::testing::Test {
 protected:
  RegistryApiTest()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteRegistryStore::open(*db_).value()),
        registry_(RegistrySettings{}, *store_, clock_) {
    keys_ = std::make_shared<const std::vector<config::NamedKey>>();
    register_routes(router_, registry_, blocking_, [this] { return std::atomic_load(&keys_); });
  }

  void set_keys(std::vector<config::NamedKey> keys) {
    std::atomic_store(&keys_, std::make_shared<const std::vector<config::NamedKey>>(std::move(keys)));
  }

  struct Answer {
    unsigned status = 0;
    json::value body;
    std::string retry_after;
  };

  Answer post(const std::string& path, const std::string& body, const std::string& key = "") {
    auto match = router_.match("POST", path, http::ListenerKind::kInternal, false);
    EXPECT_TRUE(match.route) << path;
    if (!match.route) return {};
    http::Request req{http::bhttp::verb::post, path, 11};
    if (!key.empty()) req.set("X-Backend-Key", key);
    req.body() = body;
    req.prepare_payload();
    http::RequestContext ctx{.req = req,
                             .path = path,
                             .raw_target = path,
                             .remote_ip = "127.0.0.1",
                             .listener = http::ListenerKind::kInternal};
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, match.route->handler(ctx), boost::asio::use_future);
    io.run();
    http::Response res = future.get();
    Answer a;
    a.status = res.result_int();
    boost::system::error_code ec;
    a.body = json::parse(res.body(), ec);
    EXPECT_FALSE(ec) << res.body();
    return a;
  }

  static std::string code(const Answer& a) {
    if (!a.body.is_object() || !a.body.as_object().contains("error")) return "";
    return std::string(a.body.at("error").at("code").as_string());
  }
  static std::string message(const Answer& a) { return std::string(a.body.at("error").at("message").as_string()); }

  testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteRegistryStore> store_;
  Registry registry_;
  runtime::BlockingPool blocking_{1};
  http::Router router_;
  std::shared_ptr<const std::vector<config::NamedKey>> keys_;
};

TEST_F(RegistryApiTest, RoutesAreOnTheInternalListenerOnly) {
  for (const char* path : {"/gateway/register", "/gateway/heartbeat", "/gateway/unregister"}) {
    EXPECT_TRUE(router_.match("POST", path, http::ListenerKind::kInternal, false).route) << path;
    EXPECT_EQ(router_.match("POST", path, http::ListenerKind::kPublic, false).status, 404u) << path;
  }
}

TEST_F(RegistryApiTest, RegisterAnswersAsTheContractSays) {
  auto a = post("/gateway/register",
                R"({"serverUrl":"HTTP://10.0.0.5:8080/","maxSessions":20,"instanceType":"g4dn.xlarge",)"
                R"("ec2InstanceId":"i-1","tags":["gpu"],"capabilities":["h264"],"version":"2.1","extra":{"x":1}})");
  ASSERT_EQ(a.status, 200u);
  const auto& o = a.body.as_object();
  EXPECT_EQ(o.at("success").as_bool(), true);
  EXPECT_EQ(o.at("heartbeatInterval").as_int64(), 10);
  const std::string id(o.at("backendId").as_string());
  EXPECT_EQ(id.rfind("b-", 0), 0u);
  EXPECT_EQ(o.size(), 3u);
  auto b = registry_.find(id);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->server_url, "http://10.0.0.5:8080");  // normalised identity
  EXPECT_EQ(b->max_sessions, 20);
  EXPECT_EQ(b->ec2_instance_id, "i-1");
  EXPECT_EQ(b->version, "2.1");
  // Registered before the answer: it is in the store.
  EXPECT_EQ(store_->load_all().value().size(), 1u);

  // The same backend written another way is the same backend.
  auto again = post("/gateway/register", R"({"serverUrl":"http://10.0.0.5:8080","maxSessions":30})");
  ASSERT_EQ(again.status, 200u);
  EXPECT_EQ(again.body.at("backendId").as_string(), id);
}

TEST_F(RegistryApiTest, HeartbeatAndUnregisterAnswerSuccess) {
  auto reg = post("/gateway/register", R"({"serverUrl":"http://h:1","maxSessions":5})");
  const std::string id(reg.body.at("backendId").as_string());
  auto hb =
      post("/gateway/heartbeat", R"({"serverUrl":"http://h:1","status":"Draining","activeSessions":3,"maxSessions":5,)"
                                 R"("instanceType":"t","tags":["a"],"cpuUsage":12.5,"memoryUsage":40,)"
                                 R"("timestamp":"2026-01-01T00:00:00Z"})");
  ASSERT_EQ(hb.status, 200u);
  EXPECT_EQ(json::serialize(hb.body), R"({"success":true})");
  EXPECT_EQ(registry_.find(id)->status, "Draining");
  EXPECT_EQ(registry_.find(id)->active_sessions, 3);

  auto un = post("/gateway/unregister", R"({"serverUrl":"http://h:1"})");
  ASSERT_EQ(un.status, 200u);
  EXPECT_EQ(json::serialize(un.body), R"({"success":true})");
  EXPECT_FALSE(registry_.find(id));
  EXPECT_TRUE(store_->load_all().value().empty());
  // Unknown: still success.
  EXPECT_EQ(post("/gateway/unregister", R"({"serverUrl":"http://h:1"})").status, 200u);
}

TEST_F(RegistryApiTest, HeartbeatFromUnknownRegisters) {
  auto hb = post("/gateway/heartbeat", R"({"serverUrl":"http://h:2","status":"Ready","maxSessions":4})");
  ASSERT_EQ(hb.status, 200u);
  ASSERT_EQ(registry_.snapshot()->backends.size(), 1u);
  EXPECT_EQ(registry_.snapshot()->backends[0]->max_sessions, 4);
}

TEST_F(RegistryApiTest, InvalidBodiesNameTheField) {
  struct Case {
    const char* path;
    const char* body;
    const char* field;  // expected in the message
  };
  const Case cases[] = {
      {"/gateway/register", "not json", "JSON"},
      {"/gateway/register", "[1,2]", "object"},
      {"/gateway/register", R"({"maxSessions":1})", "serverUrl"},
      {"/gateway/register", R"({"serverUrl":42})", "serverUrl"},
      {"/gateway/register", R"({"serverUrl":"10.0.0.1:8080"})", "serverUrl"},
      {"/gateway/register", R"({"serverUrl":"ftp://h/"})", "serverUrl"},
      {"/gateway/register", R"({"serverUrl":"/relative/path"})", "serverUrl"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","maxSessions":100001})", "maxSessions"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","maxSessions":-1})", "maxSessions"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","maxSessions":"10"})", "maxSessions"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","maxSessions":1.5})", "maxSessions"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","tags":"gpu"})", "tags"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","tags":[1]})", "tags"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","capabilities":{}})", "capabilities"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","version":3})", "version"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","ec2InstanceId":true})", "ec2InstanceId"},
      {"/gateway/register", R"({"serverUrl":"http://h:1","instanceType":[]})", "instanceType"},
      {"/gateway/heartbeat", R"({"status":"Ready"})", "serverUrl"},
      {"/gateway/heartbeat", R"({"serverUrl":"http://h:1","status":1})", "status"},
      {"/gateway/heartbeat", R"({"serverUrl":"http://h:1","activeSessions":"3"})", "activeSessions"},
      {"/gateway/heartbeat", R"({"serverUrl":"http://h:1","cpuUsage":"high"})", "cpuUsage"},
      {"/gateway/heartbeat", R"({"serverUrl":"http://h:1","memoryUsage":[]})", "memoryUsage"},
      {"/gateway/heartbeat", R"({"serverUrl":"http://h:1","timestamp":{}})", "timestamp"},
      {"/gateway/unregister", R"({})", "serverUrl"},
      {"/gateway/unregister", R"({"serverUrl":null})", "serverUrl"},
  };
  for (const auto& c : cases) {
    auto a = post(c.path, c.body);
    EXPECT_EQ(a.status, 400u) << c.path << " " << c.body;
    EXPECT_EQ(code(a), "invalid_request") << c.body;
    if (code(a) == "invalid_request") {
      EXPECT_NE(message(a).find(c.field), std::string::npos) << message(a);
    }
  }
  EXPECT_TRUE(registry_.snapshot()->backends.empty());
}

TEST_F(RegistryApiTest, MaxSessionsBoundsAreInclusive) {
  EXPECT_EQ(post("/gateway/register", R"({"serverUrl":"http://h:1","maxSessions":0})").status, 200u);
  EXPECT_EQ(post("/gateway/register", R"({"serverUrl":"http://h:2","maxSessions":100000})").status, 200u);
}

TEST_F(RegistryApiTest, KeysAreRequiredWhenConfigured) {
  set_keys({{.name = "hosts-eu", .key = "secret-eu-0123456789"}, {.name = "hosts-us", .key = "secret-us-0123456789"}});
  const std::string body = R"({"serverUrl":"http://h:1","maxSessions":5})";
  auto none = post("/gateway/register", body);
  EXPECT_EQ(none.status, 401u);
  EXPECT_EQ(code(none), "unauthorized");
  auto wrong = post("/gateway/register", body, "secret-eu-012345678X");
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_EQ(post("/gateway/heartbeat", body, "nope").status, 401u);
  EXPECT_EQ(post("/gateway/unregister", body).status, 401u);
  // 401 comes before the body is looked at.
  EXPECT_EQ(post("/gateway/register", "garbage").status, 401u);
  EXPECT_TRUE(registry_.snapshot()->backends.empty());

  auto ok = post("/gateway/register", body, "secret-eu-0123456789");
  ASSERT_EQ(ok.status, 200u);
  const std::string id(ok.body.at("backendId").as_string());
  EXPECT_EQ(registry_.find(id)->owner_key, "hosts-eu");

  // Another key: 403, nothing changes.
  auto hb = post("/gateway/heartbeat", R"({"serverUrl":"http://h:1","status":"Maintenance"})", "secret-us-0123456789");
  EXPECT_EQ(hb.status, 403u);
  EXPECT_EQ(code(hb), "forbidden");
  EXPECT_EQ(registry_.find(id)->status, "Ready");
  auto un = post("/gateway/unregister", R"({"serverUrl":"http://h:1"})", "secret-us-0123456789");
  EXPECT_EQ(un.status, 403u);
  EXPECT_TRUE(registry_.find(id));
  // Its own key: fine.
  EXPECT_EQ(post("/gateway/heartbeat", R"({"serverUrl":"http://h:1"})", "secret-eu-0123456789").status, 200u);
  EXPECT_EQ(post("/gateway/unregister", R"({"serverUrl":"http://h:1"})", "secret-eu-0123456789").status, 200u);
  EXPECT_FALSE(registry_.find(id));
}

TEST_F(RegistryApiTest, KeysReloadAtRunTime) {
  const std::string body = R"({"serverUrl":"http://h:1"})";
  EXPECT_EQ(post("/gateway/heartbeat", body).status, 200u);
  set_keys({{.name = "k", .key = "0123456789abcdef"}});
  EXPECT_EQ(post("/gateway/heartbeat", body).status, 401u);
  EXPECT_EQ(post("/gateway/heartbeat", body, "0123456789abcdef").status, 200u);
  set_keys({});
  EXPECT_EQ(post("/gateway/heartbeat", body).status, 200u);
}

TEST(RegistryApiParse, AbsentFieldsStayAbsent) {
  auto r = parse_heartbeat_body(R"({"serverUrl":"http://h:1"})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->server_url, "http://h:1");
  EXPECT_FALSE(r->max_sessions);
  EXPECT_FALSE(r->status);
  EXPECT_FALSE(r->tags);
  EXPECT_FALSE(r->active_sessions);
  auto tags = parse_register_body(R"({"serverUrl":"http://h:1","tags":[]})");
  ASSERT_TRUE(tags);
  ASSERT_TRUE(tags->tags);
  EXPECT_TRUE(tags->tags->empty());  // present and empty: clears the tags
}

}  // namespace
}  // namespace webstream::registry
