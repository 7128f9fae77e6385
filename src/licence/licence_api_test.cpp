#include "licence/licence_api.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include "core/testing/fake_clock.hpp"
#include "licence/licence_test_support.hpp"
#include "store/sqlite/sqlite_licence_store.hpp"

namespace webstream::licence {
namespace {

namespace net = boost::asio;
namespace json = boost::json;
using namespace webstream::licence::testing;

constexpr const char* kGuid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

TEST(LicenceApiParsing, StreamerBody) {
  EXPECT_EQ(parse_streamer_body(std::string("{\"streamerGuid\":\"") + kGuid + "\"}").value(), kGuid);
  EXPECT_EQ(parse_streamer_body("{\"streamerGuid\":\"{3F2504E0-4F89-41D3-9A0C-0305E82C3301}\",\"extra\":1}").value(),
            kGuid);
  for (const char* bad : {"", "nope", "[]", "{}", "{\"streamerGuid\":null}", "{\"streamerGuid\":42}",
                          "{\"streamerGuid\":\"streamer-1\"}", "{\"streamerGuid\":\"3f2504e0-4f89-41d3-9a0c\"}",
                          "{\"streamerGuid\":\"3f2504e0x4f89-41d3-9a0c-0305e82c3301\"}"}) {
    auto r = parse_streamer_body(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().status, 400);
    EXPECT_EQ(r.error().code, "invalid_request");
  }
  EXPECT_NE(parse_streamer_body("{\"streamerGuid\":\"x\"}").error().message.find("streamerGuid"), std::string::npos);
}

TEST(LicenceApiParsing, BackendKeys) {
  std::vector<config::NamedKey> keys{{"eu", "secret-eu"}, {"us", "secret-us"}};
  EXPECT_TRUE(check_backend_key("", {}).ok());
  EXPECT_TRUE(check_backend_key("anything", {}).ok());
  EXPECT_TRUE(check_backend_key("secret-us", keys).ok());
  EXPECT_EQ(check_backend_key("", keys).error().status, 401);
  EXPECT_EQ(check_backend_key("secret-u", keys).error().code, "unauthorized");
}

// The routes, called through the Router as the server would.
class LicenceApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = std::move(store::SqliteDb::open(":memory:").value());
    lstore = std::move(store::SqliteLicenceStore::open(*db).value());
    SeatOptions o;
    o.licence_file = dir.write("licence.json", signed_text(keys.key, licence_fields(2)));
    seats = std::move(SeatRegistry::open(*lstore, clock, o, keys.ring).value());
    register_licence_routes(router, *seats, blocking, [this] { return backend_keys; });
  }

  struct Answer {
    unsigned status = 0;
    json::value body;
  };

  Answer post(const std::string& path, const std::string& body, const std::string& key = "") {
    http::Request req{http::bhttp::verb::post, path, 11};
    req.body() = body;
    if (!key.empty()) req.set("X-Backend-Key", key);
    req.prepare_payload();
    auto match = router.match("POST", path, http::ListenerKind::kInternal, false);
    EXPECT_NE(match.route, nullptr);
    if (match.route == nullptr) return {};
    http::RequestContext ctx{.req = req,
                             .path = path,
                             .raw_target = path,
                             .remote_ip = "127.0.0.1",
                             .listener = http::ListenerKind::kInternal};
    net::io_context io;
    http::Response res;
    net::co_spawn(io, match.route->handler(ctx), [&res](std::exception_ptr e, http::Response r) {
      if (e) std::rethrow_exception(e);
      res = std::move(r);
    });
    io.run();
    return {res.result_int(), json::parse(res.body())};
  }

  static std::string guid_body(int i) {
    char buf[80];
    std::snprintf(buf, sizeof buf, "{\"streamerGuid\":\"00000000-0000-4000-8000-%012d\"}", i);
    return buf;
  }

  TempDir dir;
  TestKeys keys;
  webstream::testing::FakeClock clock;
  std::unique_ptr<store::SqliteDb> db;
  std::unique_ptr<store::SqliteLicenceStore> lstore;
  std::unique_ptr<SeatRegistry> seats;
  runtime::BlockingPool blocking{2};
  http::Router router;
  std::shared_ptr<const std::vector<config::NamedKey>> backend_keys;
};

TEST_F(LicenceApiTest, RoutesAreInternalOnly) {
  EXPECT_EQ(router.match("POST", "/gateway/license/streamer-checkin", http::ListenerKind::kPublic, false).route,
            nullptr);
  EXPECT_NE(router.match("POST", "/gateway/license/streamer-checkout", http::ListenerKind::kInternal, false).route,
            nullptr);
}

TEST_F(LicenceApiTest, CheckinAnswersExactlyTheContract) {
  Answer a = post("/gateway/license/streamer-checkin", guid_body(1));
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.body, json::parse(R"({"success":true,"activeStreamers":1,"maxStreamers":2})"));
  a = post("/gateway/license/streamer-checkin", guid_body(1));  // refresh
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.body.at("activeStreamers"), 1);
  EXPECT_EQ(post("/gateway/license/streamer-checkin", guid_body(2)).status, 200u);
  a = post("/gateway/license/streamer-checkin", guid_body(3));
  EXPECT_EQ(a.status, 409u);
  EXPECT_EQ(a.body.at("error").at("code"), "capacity_reached");
  a = post("/gateway/license/streamer-checkout", guid_body(1));
  EXPECT_EQ(a.status, 200u);
  EXPECT_EQ(a.body, json::parse(R"({"success":true,"activeStreamers":1})"));
  a = post("/gateway/license/streamer-checkout", guid_body(1));
  EXPECT_EQ(a.body, json::parse(R"({"success":true,"activeStreamers":1})"));
  EXPECT_EQ(post("/gateway/license/streamer-checkin", guid_body(3)).status, 200u);
}

TEST_F(LicenceApiTest, BadBodiesAnswer400) {
  for (const char* body :
       {"", "{", "{\"streamerGuid\":\"nope\"}", "{\"guid\":\"3f2504e0-4f89-41d3-9a0c-0305e82c3301\"}"}) {
    Answer a = post("/gateway/license/streamer-checkin", body);
    EXPECT_EQ(a.status, 400u) << body;
    EXPECT_EQ(a.body.at("error").at("code"), "invalid_request");
    EXPECT_EQ(post("/gateway/license/streamer-checkout", body).status, 400u) << body;
  }
}

TEST_F(LicenceApiTest, BackendKeyRequiredWhenConfigured) {
  backend_keys =
      std::make_shared<const std::vector<config::NamedKey>>(std::vector<config::NamedKey>{{"eu", "k-eu-0123456789"}});
  Answer a = post("/gateway/license/streamer-checkin", guid_body(1));
  EXPECT_EQ(a.status, 401u);
  EXPECT_EQ(a.body.at("error").at("code"), "unauthorized");
  EXPECT_EQ(post("/gateway/license/streamer-checkin", guid_body(1), "wrong").status, 401u);
  EXPECT_EQ(post("/gateway/license/streamer-checkout", guid_body(1), "wrong").status, 401u);
  EXPECT_EQ(post("/gateway/license/streamer-checkin", guid_body(1), "k-eu-0123456789").status, 200u);
  // Keys swapped (SIGHUP): the new list applies to the next request.
  backend_keys = std::make_shared<const std::vector<config::NamedKey>>();
  EXPECT_EQ(post("/gateway/license/streamer-checkout", guid_body(1)).status, 200u);
}

TEST_F(LicenceApiTest, ExpiredLicenceAnswers403) {
  ASSERT_EQ(post("/gateway/license/streamer-checkin", guid_body(1)).status, 200u);
  clock.set_ms(kExpiresAt + 1);
  Answer a = post("/gateway/license/streamer-checkin", guid_body(1));
  EXPECT_EQ(a.status, 403u);
  EXPECT_EQ(a.body.at("error").at("code"), "license_expired");
  EXPECT_EQ(post("/gateway/license/streamer-checkout", guid_body(1)).status, 200u);  // always possible
}

}  // namespace
}  // namespace webstream::licence
