#pragma once
// ApiFixture: the IAM resource routes on a Router over an in-memory store, called the way http/connection
// calls them (a Request, a RequestContext, the handler run to completion). Callers are named principals:
// the fixture's authenticate() looks the X-Test-As header up in `principals`.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>

#include <map>
#include <mutex>

#include "core/testing/fake_clock.hpp"
#include "iam/api/resources_api.hpp"
#include "iam/testing/seed.hpp"
#include "store/sqlite/sqlite_iam_store.hpp"

namespace webstream::iam::testing {

class ApiFixture : public ::testing::Test {
 protected:
  struct Answer {
    unsigned status = 0;
    boost::json::value body;
    std::string location;
    std::string raw;
  };

  ApiFixture()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteIamStore::open(*db_).value()),
        seed_(*store_), entitlements_(*store_), passwords_(PasswordParams::fast_for_tests()) {
    auto authenticate = [this](const http::RequestContext& ctx) -> Result<core::Principal> {
      if (ctx.preauthenticated) return *ctx.preauthenticated;
      auto it = principals_.find(std::string(ctx.header("X-Test-As")));
      if (it == principals_.end()) return Error{401, "unauthorized", "no valid token"};
      return it->second;
    };
    auto changed = [this](const std::string& user_id) -> std::int64_t {
      std::lock_guard lock(mutex_);
      changed_.push_back(user_id);
      return clock_.now_s() + 1;
    };
    register_resource_routes(
        router_, ResourceDeps{*store_, entitlements_, blocking_, clock_, authenticate, changed, passwords_});
  }

  void as(const std::string& name, const std::string& user_id, const std::string& org, std::vector<std::string> roles) {
    core::Principal p;
    p.user_id = user_id;
    p.username = name;
    p.org_id = org;
    p.roles = std::move(roles);
    principals_[name] = p;
  }

  std::vector<std::string> changed() {
    std::lock_guard lock(mutex_);
    return changed_;
  }

  Answer call(const std::string& method, const std::string& target, const std::string& who,
              const std::string& body = "") {
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    auto match = router_.match(method, path, http::ListenerKind::kPublic, false);
    Answer a;
    if (!match.route) {
      a.status = match.status;
      return a;
    }
    http::Request req{http::bhttp::string_to_verb(method), target, 11};
    if (!who.empty()) req.set("X-Test-As", who);
    req.body() = body;
    req.prepare_payload();
    http::RequestContext ctx{.req = req, .listener = http::ListenerKind::kPublic};
    ctx.path = path;
    ctx.raw_target = target;
    ctx.query = q == std::string::npos ? "" : target.substr(q + 1);
    ctx.params = match.params;
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, match.route->handler(ctx), boost::asio::use_future);
    io.run();
    http::Response res = future.get();
    a.status = res.result_int();
    a.raw = res.body();
    a.location = std::string(res[http::bhttp::field::location]);
    if (!a.raw.empty()) {
      boost::system::error_code ec;
      a.body = boost::json::parse(a.raw, ec);
      EXPECT_FALSE(ec) << a.raw;
    }
    return a;
  }

  static std::string code(const Answer& a) {
    if (!a.body.is_object() || !a.body.as_object().contains("error")) return "";
    return std::string(a.body.at("error").at("code").as_string());
  }
  static std::string message(const Answer& a) {
    if (!a.body.is_object() || !a.body.as_object().contains("error")) return "";
    return std::string(a.body.at("error").at("message").as_string());
  }
  static std::string str(const boost::json::value& v, const char* key) { return std::string(v.at(key).as_string()); }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteIamStore> store_;
  Seed seed_;
  EntitlementService entitlements_;
  PasswordHasher passwords_;
  runtime::BlockingPool blocking_{1};
  http::Router router_;
  std::map<std::string, core::Principal> principals_;
  std::mutex mutex_;
  std::vector<std::string> changed_;
};

}  // namespace webstream::iam::testing
