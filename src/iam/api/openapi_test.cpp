// docs/api/iam.yaml covers the IAM: every /iam route the IAM registers (resources, authentication and the
// access-management service's internal API) is
// documented there with its method, and every path documented there is served. The YAML is read crudely:
// a path is a line "  /iam/...:" (two spaces), a method a line "    get:" (four spaces) below it; a route's
// "{}" segment matches any "{name}" segment.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "auth/authenticator.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/api/auth_api.hpp"
#include "iam/api/internal_api.hpp"
#include "iam/api/resources_api.hpp"
#include "iam/key_ring.hpp"
#include "iam/login_limiter.hpp"
#include "iam/login_service.hpp"
#include "iam/revocation_feed.hpp"
#include "iam/store_user_directory.hpp"
#include "iam/token_service.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"
#include "store/sqlite/sqlite_login_failure_store.hpp"
#include "store/sqlite/sqlite_revocation_log_store.hpp"
#include "store/sqlite/sqlite_token_store.hpp"

namespace webstream::iam {
namespace {

// "/iam/users/{userId}/password" → "/iam/users/{}/password".
std::string normalise(const std::string& path) { return std::regex_replace(path, std::regex(R"(\{[^}/]*\})"), "{}"); }

std::set<std::string> documented() {
  std::ifstream file(std::string(WEBSTREAM_SOURCE_DIR) + "/docs/api/iam.yaml");
  EXPECT_TRUE(file.good()) << "docs/api/iam.yaml is missing";
  std::set<std::string> out;  // "METHOD path"
  const std::regex path_line(R"(^  (/iam/[^:\s]*):\s*$)");
  const std::regex method_line(R"(^    (get|post|put|patch|delete):)");
  std::string line;
  std::string current;
  while (std::getline(file, line)) {
    std::smatch m;
    if (std::regex_match(line, m, path_line)) {
      current = normalise(m[1]);
      out.insert("PATH " + current);
    } else if (!current.empty() && std::regex_search(line, m, method_line)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.insert(method + " " + current);
    } else if (!line.empty() && line[0] != ' ') {
      current.clear();  // left the paths section
    }
  }
  return out;
}

class OpenApiTest : public ::testing::Test {
 protected:
  OpenApiTest()
      : db_(store::SqliteDb::open(":memory:").value()), iam_store_(store::SqliteIamStore::open(*db_).value()),
        revoked_(store::SqliteTokenStore::open(*db_).value()),
        failures_(store::SqliteLoginFailureStore::open(*db_).value()), ring_(KeyRing::ephemeral()),
        tokens_(*ring_, clock_), users_(*iam_store_), authenticator_(tokens_, users_, *revoked_, clock_),
        limiter_(clock_), passwords_(PasswordParams::fast_for_tests()),
        login_(users_, passwords_, tokens_, authenticator_, limiter_, *failures_, clock_), entitlements_(*iam_store_) {
    register_auth_routes(router_, AuthApiDeps{login_, authenticator_, tokens_, users_, blocking_});
    auto authenticate = [this](const http::RequestContext& ctx) { return authenticator_.authenticate_bearer(ctx); };
    auto changed = [this](const std::string& id) { return authenticator_.on_user_changed(id); };
    register_resource_routes(
        router_, ResourceDeps{*iam_store_, entitlements_, blocking_, clock_, authenticate, changed, passwords_});
    // The internal API of `webstream -am` (tag "internal" in the YAML).
    revocation_log_ = store::SqliteRevocationLogStore::open(*db_, clock_).value();
    feed_ = std::make_unique<RevocationFeed>(*revocation_log_, clock_, 3600);
    register_internal_routes(router_,
                             InternalApiDeps{"openapi-test-key-0123456789", entitlements_, *feed_, blocking_, {}});
  }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteIamStore> iam_store_;
  std::unique_ptr<store::SqliteTokenStore> revoked_;
  std::unique_ptr<store::SqliteLoginFailureStore> failures_;
  std::unique_ptr<KeyRing> ring_;
  TokenService tokens_;
  StoreUserDirectory users_;
  auth::Authenticator authenticator_;
  LoginLimiter limiter_;
  PasswordHasher passwords_;
  LoginService login_;
  EntitlementService entitlements_;
  runtime::BlockingPool blocking_{1};
  std::unique_ptr<store::SqliteRevocationLogStore> revocation_log_;
  std::unique_ptr<RevocationFeed> feed_;
  http::Router router_;
};

TEST_F(OpenApiTest, EveryIamRouteIsDocumented) {
  const auto docs = documented();
  int iam_routes = 0;
  for (const auto& route : router_.routes()) {
    if (route.pattern.rfind("/iam/", 0) != 0) continue;
    ++iam_routes;
    EXPECT_TRUE(docs.count(route.method + " " + route.pattern))
        << route.method << " " << route.pattern << " is not in docs/api/iam.yaml";
  }
  EXPECT_GE(iam_routes, 40);  // resources (45) and authentication (4)
}

TEST_F(OpenApiTest, EveryDocumentedOperationIsServed) {
  std::set<std::string> served;
  for (const auto& route : router_.routes()) served.insert(route.method + " " + route.pattern);
  for (const auto& entry : documented()) {
    if (entry.rfind("PATH ", 0) == 0) continue;
    EXPECT_TRUE(served.count(entry)) << entry << " is documented but not served";
  }
}

TEST(OpenApiNormalise, NamedSegmentsBecomeBraces) {
  EXPECT_EQ(normalise("/iam/groups/{groupId}/members/{userId}"), "/iam/groups/{}/members/{}");
  EXPECT_EQ(normalise("/iam/.well-known/jwks.json"), "/iam/.well-known/jwks.json");
}

}  // namespace
}  // namespace webstream::iam
