// The gateway's HTTP API is documented, and what is documented is served: the router a gateway builds (the
// same register_base_routes() and build_components() that Gateway::start() calls, over an in-memory SQLite
// store, accessManagement.mode builtin) is compared with docs/api/gateway.yaml and docs/api/iam.yaml.
//   - every route is documented with its method: /iam/* in iam.yaml, everything else in gateway.yaml;
//   - every operation documented in gateway.yaml is served;
//   - for gateway.yaml, the listener each route is served on (x-webstream-listener: public | internal | both)
//     and whether it is a WebSocket upgrade (x-webstream-websocket: true) match the registration.
// The YAML is read as iam_api's openapi_test reads iam.yaml: a path is a line "  /...:" (two spaces); below
// it, a method is a line "    get:" and an extension a line "    x-webstream-…: value" (four spaces). A "{name}"
// segment matches a route's "{}"; a path item with "x-webstream-prefix: true" documents a prefix route "/a/*"
// as "/a/{rest}", and a route of any method ("*") is documented when get, post, put, patch and delete are.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

#include "app/components.hpp"
#include "app/wiring.hpp"
#include "config/config.hpp"
#include "http/lifecycle.hpp"
#include "http/router.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/workers.hpp"
#include "store/store_provider.hpp"

namespace webstream::app {
namespace {

// What one documented path says.
struct DocumentedPath {
  std::set<std::string> methods;  // "GET", "POST", …
  std::string listener;           // x-webstream-listener ("" when not given)
  bool websocket = false;         // x-webstream-websocket: true
  bool prefix = false;            // x-webstream-prefix: true
};

// "/iam/users/{userId}/password" → "/iam/users/{}/password".
std::string normalise(const std::string& path) { return std::regex_replace(path, std::regex(R"(\{[^}/]*\})"), "{}"); }

// The router's pattern for a documented path: a prefix path "/mcp/api/{}" is the route "/mcp/api/*".
std::string route_pattern(const std::string& normalised, bool prefix) {
  if (prefix && normalised.size() >= 3 && normalised.compare(normalised.size() - 3, 3, "/{}") == 0) {
    return normalised.substr(0, normalised.size() - 2) + "*";
  }
  return normalised;
}

std::map<std::string, DocumentedPath> read_yaml(const std::string& relative) {
  std::ifstream file(std::string(WEBSTREAM_SOURCE_DIR) + "/" + relative);
  EXPECT_TRUE(file.good()) << relative << " is missing";
  std::map<std::string, DocumentedPath> raw;  // keyed by the normalised documented path
  const std::regex path_line(R"(^  (/[^:\s]*):\s*$)");
  const std::regex method_line(R"(^    (get|post|put|patch|delete|head|options):)");
  const std::regex extension_line(R"(^    (x-webstream-[a-z]+):\s*([A-Za-z]+)\s*$)");
  bool in_paths = false;
  std::string current;
  std::string line;
  while (std::getline(file, line)) {
    std::smatch m;
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      in_paths = false;  // another top-level section
      current.clear();
      continue;
    }
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_line)) {
      current = normalise(m[1]);
      raw[current];
    } else if (!current.empty() && std::regex_search(line, m, method_line)) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      raw[current].methods.insert(method);
    } else if (!current.empty() && std::regex_match(line, m, extension_line)) {
      if (m[1] == "x-webstream-listener") raw[current].listener = m[2];
      if (m[1] == "x-webstream-websocket") raw[current].websocket = m[2] == "true";
      if (m[1] == "x-webstream-prefix") raw[current].prefix = m[2] == "true";
    }
  }
  std::map<std::string, DocumentedPath> out;  // keyed by the router's pattern
  for (auto& [path, doc] : raw) out[route_pattern(path, doc.prefix)] = doc;
  return out;
}

std::string listener_name(http::Exposure exposure) {
  switch (exposure) {
    case http::Exposure::kPublic: return "public";
    case http::Exposure::kInternal: return "internal";
    case http::Exposure::kBoth: return "both";
  }
  return "?";
}

const std::set<std::string> kAnyMethod = {"GET", "POST", "PUT", "PATCH", "DELETE"};

bool documents_method(const DocumentedPath& doc, const std::string& method) {
  if (method != "*") return doc.methods.count(method) > 0;
  for (const auto& m : kAnyMethod) {
    if (!doc.methods.count(m)) return false;
  }
  return true;
}

// A gateway's router, built as Gateway::start() builds it.
class GatewayOpenApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // The IAM bootstrap of an empty store takes the admin password from here instead of printing one.
    ::setenv("WEBSTREAM_ADMIN_PASSWORD", "openapi-test-Password-1", 1);
    config_.source_path = "openapi_test";
    auto stores = store::open_sqlite_provider(":memory:");
    ASSERT_TRUE(stores) << stores.error().message;
    stores_ = std::move(stores.value());
    register_base_routes(router_);
    WiringContext ctx{.config = config_,
                      .access_management_only = false,
                      .stores = *stores_,
                      .workers = workers_,
                      .blocking = blocking_,
                      .router = router_,
                      .lifecycle = &lifecycle_};
    auto components = build_components(ctx);
    ASSERT_TRUE(components) << components.error().message;
    components_ = std::move(components.value());
  }

  config::Config config_;
  std::unique_ptr<store::StoreProvider> stores_;
  runtime::Workers workers_{1};
  runtime::BlockingPool blocking_{1};
  http::Lifecycle lifecycle_;
  http::Router router_;
  std::unique_ptr<Components> components_;
};

TEST_F(GatewayOpenApiTest, EveryRouteIsDocumented) {
  const auto gateway = read_yaml("docs/api/gateway.yaml");
  const auto iam = read_yaml("docs/api/iam.yaml");
  int gateway_routes = 0;
  for (const auto& route : router_.routes()) {
    const bool is_iam = route.pattern.rfind("/iam/", 0) == 0;
    const auto& docs = is_iam ? iam : gateway;
    const char* file = is_iam ? "docs/api/iam.yaml" : "docs/api/gateway.yaml";
    auto it = docs.find(route.pattern);
    if (it == docs.end()) {
      ADD_FAILURE() << route.method << " " << route.pattern << " is served but not in " << file;
      continue;
    }
    EXPECT_TRUE(documents_method(it->second, route.method))
        << route.method << " " << route.pattern << " is served but its method is not in " << file;
    if (is_iam) continue;
    ++gateway_routes;
    EXPECT_EQ(it->second.listener, listener_name(route.exposure))
        << route.pattern << ": x-webstream-listener in " << file << " differs from the registration";
    EXPECT_EQ(it->second.websocket, static_cast<bool>(route.upgrade))
        << route.pattern << ": x-webstream-websocket in " << file << " differs from the registration";
  }
  // health, metrics, jwks, 3 session, getConnection, 3 WebSockets, 2 admin, 3 registry, 2 licence, 2 MCP, 2 portal
  EXPECT_GE(gateway_routes, 21);
}

TEST_F(GatewayOpenApiTest, EveryDocumentedOperationIsServed) {
  std::map<std::string, const http::Route*> served;  // "METHOD pattern"
  for (const auto& route : router_.routes()) served[route.method + " " + route.pattern] = &route;
  const auto gateway = read_yaml("docs/api/gateway.yaml");
  EXPECT_FALSE(gateway.empty()) << "no paths read from docs/api/gateway.yaml";
  for (const auto& [pattern, doc] : gateway) {
    EXPECT_FALSE(doc.methods.empty()) << pattern << " documents no operation";
    for (const auto& method : doc.methods) {
      const bool found = served.count(method + " " + pattern) || (doc.prefix && served.count("* " + pattern));
      EXPECT_TRUE(found) << method << " " << pattern << " is documented in docs/api/gateway.yaml but not served";
    }
  }
}

TEST(GatewayOpenApiYaml, PathsBecomeRoutePatterns) {
  EXPECT_EQ(route_pattern(normalise("/portal/{file}"), false), "/portal/{}");
  EXPECT_EQ(route_pattern(normalise("/mcp/api/{path}"), true), "/mcp/api/*");
  EXPECT_EQ(route_pattern(normalise("/gateway/health"), false), "/gateway/health");
  DocumentedPath any;
  any.methods = kAnyMethod;
  EXPECT_TRUE(documents_method(any, "*"));
  any.methods.erase("PATCH");
  EXPECT_FALSE(documents_method(any, "*"));
  EXPECT_TRUE(documents_method(any, "GET"));
}

}  // namespace
}  // namespace webstream::app
