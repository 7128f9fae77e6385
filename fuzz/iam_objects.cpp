// Fuzz target: the IAM REST API (CONTRACT §6; iam/api/resources_api.hpp) driven by a sequence of up to 8
// requests over a fresh in-memory store per input, as an admin, an org-admin or a user of org_a. Input: the
// requests separated by the byte 0xFF; in each, byte 0 picks the route and method, byte 1 the caller, and the
// rest is the JSON body. An item route names the object the sequence created last in that collection (or a
// seeded one). Properties:
//   - every answer is 200, 201, 204 or a contract error (400, 401, 403, 404, 405, 409, 413) — never 5xx —
//     and an error carries {"error":{"code","message"}};
//   - afterwards every list and GET /iam/me/entitlements still answer 200 with JSON for the admin: no
//     sequence of accepted writes leaves a row the readers cannot read.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/testing/fake_clock.hpp"
#include "fuzz_check.hpp"
#include "http/router.hpp"
#include "iam/api/resources_api.hpp"
#include "iam/entitlements.hpp"
#include "iam/passwords.hpp"
#include "iam/testing/seed.hpp"
#include "runtime/blocking_pool.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"

namespace {

using namespace webstream;
namespace json = boost::json;

constexpr const char* kCollections[] = {"orgs", "users", "groups", "apps", "workspaces", "policies", "entitlements"};
constexpr const char* kMethods[] = {"POST", "PATCH", "DELETE", "GET", "PUT"};

core::Principal principal(int who) {
  core::Principal p;
  p.org_id = "org_a";
  switch (who % 3) {
    case 0: p.user_id = "root", p.username = "root", p.roles = {"admin"}; break;
    case 1: p.user_id = "boss", p.username = "boss", p.roles = {"org-admin"}; break;
    default: p.user_id = "alice", p.username = "alice", p.roles = {"user"}; break;
  }
  return p;
}

struct World {
  World()
      : db(store::SqliteDb::open(":memory:").value()), store(store::SqliteIamStore::open(*db).value()),
        entitlements(*store), passwords(iam::PasswordParams::fast_for_tests()) {
    iam::testing::Seed seed(*store);
    seed.org("org_a");
    seed.org("org_b");
    seed.user("root", "org_a", {"admin"});
    seed.user("boss", "org_a", {"org-admin"});
    seed.user("alice", "org_a");
    auto authenticate = [this](const http::RequestContext&) -> Result<core::Principal> { return caller; };
    auto changed = [this](const std::string&) -> std::int64_t { return clock.now_s() + 1; };
    iam::register_resource_routes(
        router, iam::ResourceDeps{*store, entitlements, blocking, clock, authenticate, changed, passwords});
  }

  struct Answer {
    unsigned status = 0;
    std::string body;
    bool routed = true;  // false: no route matched (the server's own 404/405, checked by http's tests)
  };
  Answer call(const std::string& method, const std::string& path, const std::string& body) {
    auto match = router.match(method, path, http::ListenerKind::kPublic, false);
    if (!match.route) return Answer{.status = match.status, .body = "", .routed = false};
    http::Request req{http::bhttp::string_to_verb(method), path, 11};
    req.set(http::bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    http::RequestContext ctx{.req = req, .listener = http::ListenerKind::kPublic};
    ctx.path = path;
    ctx.raw_target = path;
    ctx.params = match.params;
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, match.route->handler(ctx), boost::asio::use_future);
    io.run();
    http::Response res = future.get();
    return Answer{res.result_int(), res.body()};
  }

  webstream::testing::FakeClock clock;
  std::unique_ptr<store::SqliteDb> db;
  std::unique_ptr<store::SqliteIamStore> store;
  iam::EntitlementService entitlements;
  iam::PasswordHasher passwords;
  runtime::BlockingPool blocking{1};
  http::Router router;
  core::Principal caller;
};

void check_answer(const World::Answer& a, const std::string& what) {
  const unsigned s = a.status;
  FUZZ_CHECK(s == 200 || s == 201 || s == 204 || s == 400 || s == 401 || s == 403 || s == 404 || s == 405 || s == 409 ||
                 s == 413,
             what + " answered " + std::to_string(s) + ": " + a.body.substr(0, 200));
  if (s >= 400 && a.routed) {
    boost::system::error_code ec;
    auto v = json::parse(a.body, ec);
    FUZZ_CHECK(!ec && v.is_object() && v.as_object().contains("error") && v.at("error").is_object() &&
                   v.at("error").as_object().contains("code") && v.at("error").as_object().contains("message"),
               what + ": an error without the contract's body: " + a.body.substr(0, 200));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  World world;  // fresh per input: a sequence's effects never leak into the next
  std::map<std::string, std::string> last_id = {{"orgs", "org_b"}, {"users", "alice"}};
  std::size_t start = 0;
  for (int n = 0; n < 8 && start < size; ++n) {
    std::size_t end = start;
    while (end < size && data[end] != 0xFF) ++end;
    if (end - start >= 2) {
      const unsigned char pick = data[start];
      const char* collection = kCollections[pick % 7];
      const char* method = kMethods[(pick / 7) % 5];
      world.caller = principal(data[start + 1]);
      const std::string body(reinterpret_cast<const char*>(data + start + 2), end - start - 2);
      std::string path = std::string("/iam/") + collection;
      const std::string m(method);
      if (m != "POST" && !(m == "GET" && pick % 2 == 0)) {
        const auto it = last_id.find(collection);
        path += "/" + (it == last_id.end() ? std::string("none") : it->second);
        if (m == "PUT") path = "/iam/users/" + last_id["users"] + "/password";
      }
      auto a = world.call(m, path, body);
      check_answer(a, m + " " + path);
      if (m == "POST" && a.status == 201) {
        boost::system::error_code ec;
        auto v = json::parse(a.body, ec);
        if (!ec && v.is_object() && v.as_object().contains("id") && v.at("id").is_string()) {
          last_id[collection] = std::string(v.at("id").as_string());
        }
      }
    }
    start = end + 1;
  }
  world.caller = principal(0);
  for (const char* c : kCollections) {
    auto a = world.call("GET", std::string("/iam/") + c, "");
    FUZZ_CHECK(a.status == 200, std::string("GET /iam/") + c + " answered " + std::to_string(a.status) +
                                    " after the sequence: " + a.body.substr(0, 200));
  }
  auto me = world.call("GET", "/iam/me/entitlements", "");
  FUZZ_CHECK(me.status == 200, "GET /iam/me/entitlements answered " + std::to_string(me.status));
  return 0;
}
