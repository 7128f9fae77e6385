// Fuzz target: POST /iam/auth/login bodies (CONTRACT §6) through the real route (iam/api/auth_api.cpp) and the
// real LoginService, lockout and token service, over in-memory stores and one user ("admin" /
// "admin-password-1"). The clock moves on an hour per input, so a lockout from earlier inputs never hides a
// right answer. Properties:
//   - the answer is 200, 400, 401 or 429 (never 5xx, never a crash), always with a JSON body;
//   - 200 only when the body is a JSON object whose "username" is "admin" (any case) and whose "password" is
//     exactly the password, and then the token verifies as u-admin's;
//   - the right username and password in a body the route reads get 200, never 401 or 429.
// Thread rules: the route runs on a private io_context; the BlockingPool's one thread does the hashing.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <memory>
#include <string>

#include "auth/authenticator.hpp"
#include "auth/testing/fake_user_directory.hpp"
#include "core/testing/fake_clock.hpp"
#include "fuzz_check.hpp"
#include "http/router.hpp"
#include "iam/api/auth_api.hpp"
#include "iam/key_ring.hpp"
#include "iam/login_limiter.hpp"
#include "iam/login_service.hpp"
#include "iam/testing/fast_hasher.hpp"
#include "iam/token_service.hpp"
#include "runtime/blocking_pool.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_login_failure_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace {

using namespace webstream;
namespace json = boost::json;

constexpr const char* kPassword = "admin-password-1";

struct World {
  World()
      : db(store::SqliteDb::open(":memory:").value()), revoked(store::SqliteTokenStore::open(*db).value()),
        failures(store::SqliteLoginFailureStore::open(*db).value()), ring(iam::KeyRing::ephemeral()),
        tokens(*ring, clock, iam::TokenOptions{"webstream", 1800, 60}), authenticator(tokens, users, *revoked, clock),
        limiter(clock), login(users, iam::testing::fast_hasher(), tokens, authenticator, limiter, *failures, clock) {
    auth::UserRecord u;
    u.id = "u-admin";
    u.username = "admin";
    u.org_id = "org-default";
    u.roles = {"admin"};
    u.password_hash = *iam::testing::fast_hasher().hash(kPassword);
    users.put(u);
    iam::register_auth_routes(router, iam::AuthApiDeps{login, authenticator, tokens, users, blocking});
  }

  webstream::testing::FakeClock clock;
  std::unique_ptr<store::SqliteDb> db;
  std::unique_ptr<store::SqliteTokenStore> revoked;
  std::unique_ptr<store::SqliteLoginFailureStore> failures;
  auth::fakes::FakeUserDirectory users;
  std::unique_ptr<iam::KeyRing> ring;
  iam::TokenService tokens;
  auth::Authenticator authenticator;
  iam::LoginLimiter limiter;
  iam::LoginService login;
  runtime::BlockingPool blocking{1};
  http::Router router;
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Whether `body` is an object naming the right user and password (as Boost.JSON reads it).
bool right_credentials(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const auto* u = v.as_object().if_contains("username");
  const auto* p = v.as_object().if_contains("password");
  return u && p && u->is_string() && p->is_string() && lower(std::string(u->as_string())) == "admin" &&
         p->as_string() == kPassword;
}

unsigned post_login(World& w, std::string_view body, std::string& answer) {
  auto match = w.router.match("POST", "/iam/auth/login", http::ListenerKind::kPublic, false);
  FUZZ_CHECK(match.route != nullptr, "no login route");
  http::Request req{http::bhttp::verb::post, "/iam/auth/login", 11};
  req.set(http::bhttp::field::content_type, "application/json");
  req.body() = std::string(body);
  req.prepare_payload();
  http::RequestContext ctx{.req = req,
                           .path = "/iam/auth/login",
                           .raw_target = "/iam/auth/login",
                           .remote_ip = "192.0.2.1",
                           .tls = true,
                           .listener = http::ListenerKind::kPublic};
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, match.route->handler(ctx), boost::asio::use_future);
  io.run();
  http::Response res = future.get();
  answer = res.body();
  return res.result_int();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  static World world;
  world.clock.advance_s(3600);  // past every lockout window of earlier inputs
  const std::string_view body = fuzz::as_text(data, size);
  std::string answer;
  const unsigned status = post_login(world, body, answer);
  FUZZ_CHECK(status == 200 || status == 400 || status == 401 || status == 429,
             "login answered " + std::to_string(status));
  boost::system::error_code ec;
  auto parsed = json::parse(answer, ec);
  FUZZ_CHECK(!ec && parsed.is_object(), "the answer is not a JSON object");
  const bool right = right_credentials(body);
  if (status == 200) {
    FUZZ_CHECK(right, "200 for a body without the right username and password");
    const auto* token = parsed.as_object().if_contains("token");
    FUZZ_CHECK(token && token->is_string(), "200 without a token");
    auto principal = world.tokens.verify(std::string(token->as_string()));
    FUZZ_CHECK(principal.ok() && principal->user_id == "u-admin", "the token does not verify as the admin's");
  } else {
    FUZZ_CHECK(!right || status == 400, "the right username and password were refused with " + std::to_string(status));
  }
  return 0;
}
