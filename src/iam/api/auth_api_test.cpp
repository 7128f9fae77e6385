#include "iam/api/auth_api.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <future>
#include <thread>

#include "core/encoding.hpp"
#include "iam/testing/fast_hasher.hpp"
#include "iam/testing/login_stores.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

class AuthApiTest : public ::testing::Test, protected testing::LoginStores {
 protected:
  AuthApiTest()
      : LoginStores(1800), authenticator_(tokens_, users_, *revoked_, clock_), limiter_(clock_),
        login_(users_, testing::fast_hasher(), tokens_, authenticator_, limiter_, *failures_, clock_) {
    auth::UserRecord u;
    u.id = "u-admin";
    u.username = "admin";
    u.org_id = "org-default";
    u.roles = {"admin"};
    u.display_name = "The Admin";
    u.password_hash = *testing::fast_hasher().hash("admin-password-1");
    users_.put(u);
    register_auth_routes(router_, AuthApiDeps{login_, authenticator_, tokens_, users_, blocking_});
  }

  struct Answer {
    unsigned status = 0;
    json::value body;
    http::Response raw;
  };

  Answer call(const char* method, const std::string& path, const std::string& body = "",
              const std::string& bearer = "") {
    auto match = (pooled_ ? pooled_router_ : router_).match(method, path, http::ListenerKind::kPublic, false);
    EXPECT_TRUE(match.route) << path;
    if (!match.route) return {};
    http::Request req{std::string(method) == "GET" ? http::bhttp::verb::get : http::bhttp::verb::post, path, 11};
    if (!bearer.empty()) req.set("Authorization", "Bearer " + bearer);
    req.body() = body;
    req.prepare_payload();
    http::RequestContext ctx{.req = req,
                             .path = path,
                             .raw_target = path,
                             .remote_ip = "192.0.2.1",
                             .tls = true,
                             .listener = http::ListenerKind::kPublic};
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, match.route->handler(ctx), boost::asio::use_future);
    io.run();
    Answer a;
    a.raw = future.get();
    a.status = a.raw.result_int();
    boost::system::error_code ec;
    a.body = json::parse(a.raw.body(), ec);
    EXPECT_FALSE(ec) << a.raw.body();
    return a;
  }
  static std::string code(const Answer& a) {
    if (!a.body.is_object() || !a.body.as_object().contains("error")) return "";
    return std::string(a.body.at("error").at("code").as_string());
  }
  std::string login_token() {
    auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1"})");
    EXPECT_EQ(a.status, 200u) << a.raw.body();
    return a.status == 200 ? std::string(a.body.at("token").as_string()) : "";
  }

  auth::Authenticator authenticator_;
  LoginLimiter limiter_;
  LoginService login_;
  runtime::BlockingPool blocking_{1};
  http::Router router_;
  // The same routes with logins on a BoundedPool of one slot (call() uses them when pooled_ is set).
  runtime::BoundedPool hashing_{runtime::BoundedPoolOptions{1, 1, 0}};
  http::Router pooled_router_;
  bool pooled_ = false;

  void use_hashing_pool() {
    AuthApiDeps deps{login_, authenticator_, tokens_, users_, blocking_};
    deps.hashing = &hashing_;
    register_auth_routes(pooled_router_, deps);
    pooled_ = true;
  }
};

// Holds the hashing pool's only slot until released (a login that hashes for as long as the test wants).
class SlotHolder {
 public:
  explicit SlotHolder(runtime::BoundedPool& pool) : open_(gate_.get_future().share()) {
    boost::asio::co_spawn(
        io_,
        [&pool, open = open_]() -> boost::asio::awaitable<void> {
          auto job = [open] {
            open.wait();
            return 0;
          };
          co_await pool.try_run(std::move(job));
        },
        boost::asio::detached);
    thread_ = std::thread([this] { io_.run(); });
    while (pool.in_flight() == 0) std::this_thread::yield();
  }
  ~SlotHolder() { release(); }
  void release() {
    if (thread_.joinable()) {
      gate_.set_value();
      thread_.join();
    }
  }

 private:
  boost::asio::io_context io_;
  std::promise<void> gate_;
  std::shared_future<void> open_;
  std::thread thread_;
};

TEST_F(AuthApiTest, LoginAnswersTheContractShape) {
  auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1","extra":1})");
  ASSERT_EQ(a.status, 200u) << a.raw.body();
  const auto& o = a.body.as_object();
  EXPECT_FALSE(o.at("token").as_string().empty());
  EXPECT_EQ(o.at("tokenType"), "Bearer");
  EXPECT_EQ(o.at("expiresIn"), 1800);
  const auto& user = o.at("user").as_object();
  EXPECT_EQ(user.at("id"), "u-admin");
  EXPECT_EQ(user.at("username"), "admin");
  EXPECT_EQ(user.at("orgId"), "org-default");
  EXPECT_EQ(user.at("roles"), json::array{"admin"});
  EXPECT_FALSE(user.contains("password"));
  EXPECT_FALSE(user.contains("passwordHash"));
  EXPECT_EQ(a.raw.body().find("argon2"), std::string::npos);
}

TEST_F(AuthApiTest, BadBodiesAre400NamingTheField) {
  auto a = call("POST", "/iam/auth/login", "not json");
  EXPECT_EQ(a.status, 400u);
  EXPECT_EQ(code(a), "invalid_request");
  a = call("POST", "/iam/auth/login", R"({"password":"x"})");
  EXPECT_EQ(a.status, 400u);
  EXPECT_NE(a.raw.body().find("username"), std::string::npos);
  a = call("POST", "/iam/auth/login", R"({"username":"admin","password":5})");
  EXPECT_EQ(a.status, 400u);
  EXPECT_NE(a.raw.body().find("password"), std::string::npos);
}

TEST_F(AuthApiTest, WrongCredentialsThenLockout) {
  for (int i = 0; i < 5; ++i) {
    auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"nope"})");
    EXPECT_EQ(a.status, 401u);
    EXPECT_EQ(code(a), "invalid_credentials");
  }
  auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1"})");
  EXPECT_EQ(a.status, 429u);
  EXPECT_EQ(code(a), "locked_out");
  EXPECT_EQ(a.raw[http::bhttp::field::retry_after], "900");
}

TEST_F(AuthApiTest, MeLogoutAndMeAgain) {
  const std::string token = login_token();
  auto me = call("GET", "/iam/auth/me", "", token);
  ASSERT_EQ(me.status, 200u) << me.raw.body();
  EXPECT_EQ(me.body.at("id"), "u-admin");
  EXPECT_EQ(me.body.at("username"), "admin");
  EXPECT_EQ(me.body.at("roles"), json::array{"admin"});
  EXPECT_EQ(me.body.at("displayName"), "The Admin");
  EXPECT_EQ(me.body.at("user").at("username"), "admin");

  auto out = call("POST", "/iam/auth/logout", "", token);
  EXPECT_EQ(out.status, 200u);
  EXPECT_EQ(out.body.at("success"), true);
  auto again = call("GET", "/iam/auth/me", "", token);
  EXPECT_EQ(again.status, 401u);
  EXPECT_EQ(code(again), "unauthorized");
  EXPECT_EQ(call("POST", "/iam/auth/logout", "", token).status, 401u);
  EXPECT_EQ(call("GET", "/iam/auth/me", "", login_token()).status, 200u);  // a new login works
}

TEST_F(AuthApiTest, MeAndLogoutNeedAToken) {
  EXPECT_EQ(call("GET", "/iam/auth/me").status, 401u);
  EXPECT_EQ(call("POST", "/iam/auth/logout").status, 401u);
  auto a = call("GET", "/iam/auth/me", "", "abc.def.ghi");
  EXPECT_EQ(a.status, 401u);
  EXPECT_EQ(a.raw[http::bhttp::field::www_authenticate], "Bearer");
}

TEST_F(AuthApiTest, DisabledUsersTokenStopsAtOnce) {
  const std::string token = login_token();
  ASSERT_EQ(call("GET", "/iam/auth/me", "", token).status, 200u);
  users_.change("u-admin", [](auth::UserRecord& u) { u.disabled = true; });
  authenticator_.on_user_changed("u-admin");
  EXPECT_EQ(call("GET", "/iam/auth/me", "", token).status, 401u);
  EXPECT_EQ(call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1"})").status, 401u);
}

TEST_F(AuthApiTest, JwksVerifiesTheLoginToken) {
  auto a = call("GET", "/iam/.well-known/jwks.json");
  ASSERT_EQ(a.status, 200u);
  const auto& key = a.body.at("keys").as_array().at(0).as_object();
  EXPECT_EQ(key.at("kty"), "OKP");
  EXPECT_EQ(key.at("crv"), "Ed25519");
  EXPECT_EQ(key.at("alg"), "EdDSA");
  EXPECT_EQ(key.at("use"), "sig");
  const std::string token = login_token();
  const auto header = json::parse(*base64url_decode(token.substr(0, token.find('.'))));
  EXPECT_EQ(header.at("kid"), key.at("kid"));
  // Verify with the published key alone.
  const auto x = base64url_decode(std::string(key.at("x").as_string()));
  const auto dot = token.rfind('.');
  const auto sig = base64url_decode(token.substr(dot + 1));
  ASSERT_TRUE(x && sig);
  EXPECT_EQ(KeyRing::thumbprint(*x), std::string(key.at("kid").as_string()));
  ASSERT_EQ(x->size(), crypto_sign_PUBLICKEYBYTES);
  ASSERT_EQ(sig->size(), crypto_sign_BYTES);
  const std::string input = token.substr(0, dot);
  EXPECT_EQ(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig->data()),
                                        reinterpret_cast<const unsigned char*>(input.data()), input.size(),
                                        reinterpret_cast<const unsigned char*>(x->data())),
            0);
}

TEST_F(AuthApiTest, LoginOnTheHashingPoolAnswersAsUsual) {
  use_hashing_pool();
  auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1"})");
  ASSERT_EQ(a.status, 200u) << a.raw.body();
  EXPECT_FALSE(a.body.at("token").as_string().empty());
  EXPECT_EQ(call("POST", "/iam/auth/login", R"({"username":"admin","password":"nope"})").status, 401u);
  EXPECT_EQ(hashing_.in_flight(), 0u);
}

TEST_F(AuthApiTest, FullHashingPoolAnswers503WithRetryAfterAndCountsNoFailure) {
  use_hashing_pool();
  {
    SlotHolder busy(hashing_);
    // More refusals than the lockout's 5 failures: none of them counts as one.
    for (int i = 0; i < 7; ++i) {
      auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"nope"})");
      ASSERT_EQ(a.status, 503u) << a.raw.body();
      EXPECT_EQ(code(a), "login_busy");
      EXPECT_EQ(a.raw[http::bhttp::field::retry_after], "1");
    }
  }
  auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1"})");
  EXPECT_EQ(a.status, 200u) << a.raw.body();
}

TEST_F(AuthApiTest, LockoutIsAnsweredBeforeTheHashingPoolIsAsked) {
  use_hashing_pool();
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(call("POST", "/iam/auth/login", R"({"username":"admin","password":"nope"})").status, 401u);
  }
  SlotHolder busy(hashing_);
  auto a = call("POST", "/iam/auth/login", R"({"username":"admin","password":"admin-password-1"})");
  EXPECT_EQ(a.status, 429u);
  EXPECT_EQ(code(a), "locked_out");
}

TEST(LoginHashingOptions, OneThreadPerCoreUpToEightFourSlotsEachAtNiceTen) {
  auto one = login_hashing_options(0);
  EXPECT_EQ(one.threads, 1u);
  EXPECT_EQ(one.max_in_flight, 4u);
  EXPECT_EQ(one.nice, 10);
  EXPECT_EQ(login_hashing_options(2).threads, 2u);
  EXPECT_EQ(login_hashing_options(2).max_in_flight, 8u);
  EXPECT_EQ(login_hashing_options(64).threads, 8u);
}

}  // namespace
}  // namespace webstream::iam
