#include "proxy/assertion.hpp"

#include <gtest/gtest.h>
#include <boost/json/serialize.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "core/encoding.hpp"
#include "core/testing/fake_clock.hpp"

namespace webstream::proxy {
namespace {

// A signer that records what it was asked to sign and returns a recognisable token.
struct RecordingSigner {
  std::atomic<int> calls{0};
  std::vector<boost::json::object> claims;  // written only from the single-threaded tests
  std::string typ;
  AssertionSigner fn(bool record = true) {
    return [this, record](const boost::json::object& c, std::string_view t) {
      const int n = ++calls;
      if (record) {
        claims.push_back(c);
        typ = std::string(t);
      }
      return "jwt-" + std::to_string(n);
    };
  }
};

Identity bob() {
  Identity id;
  id.user_id = "u-bob";
  id.org_id = "org-7";
  id.session_id = "sess-1";
  id.workspace_id = "ws-3";
  id.app_id = "app-4";
  id.policy_json = R"({"clipboard":true})";
  return id;
}

TEST(Assertion, ClaimsFollowTheContract) {
  const auto claims = assertion_claims(bob(), "backend-eu-1", 1'700'000'000, 60);
  EXPECT_EQ(claims.at("aud").as_string(), "backend-eu-1");
  EXPECT_EQ(claims.at("sub").as_string(), "u-bob");
  EXPECT_EQ(claims.at("org").as_string(), "org-7");
  EXPECT_EQ(claims.at("sid").as_string(), "sess-1");
  EXPECT_EQ(claims.at("ws").as_string(), "ws-3");
  EXPECT_EQ(claims.at("app").as_string(), "app-4");
  EXPECT_EQ(claims.at("iat").as_int64(), 1'700'000'000);
  EXPECT_EQ(claims.at("exp").as_int64(), 1'700'000'060);
  // pol = base64url(SHA-256(X-Policy-JSON header value)), no padding.
  const std::string header_value = base64_encode(R"({"clipboard":true})");
  EXPECT_EQ(claims.at("pol").as_string(), base64url_encode(sha256(header_value)));
  EXPECT_EQ(claims.at("pol").as_string().size(), 43u);
}

TEST(Assertion, CachedPerSessionAndRenewedBeforeExpiry) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionCache cache(signer.fn(), clock);

  auto first = cache.get(bob(), "b1");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(*first, "jwt-1");
  EXPECT_EQ(signer.typ, "webstream-assertion+jwt");
  EXPECT_EQ(signer.claims.back().at("iat").as_int64(), clock.now_s());

  // 39 s later 21 s are left: still the same token, no signature.
  clock.advance_s(39);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(*cache.get(bob(), "b1"), "jwt-1");
  EXPECT_EQ(signer.calls.load(), 1);

  // 41 s after signing only 19 s are left: renewed, with fresh times.
  clock.advance_s(2);
  EXPECT_EQ(*cache.get(bob(), "b1"), "jwt-2");
  EXPECT_EQ(signer.claims.back().at("iat").as_int64(), clock.now_s());
  EXPECT_EQ(signer.claims.back().at("exp").as_int64(), clock.now_s() + 60);
  EXPECT_EQ(*cache.get(bob(), "b1"), "jwt-2");
  EXPECT_EQ(cache.signatures(), 2u);
}

TEST(Assertion, ReSignsWhenTheTokenNoLongerSaysTheSame) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionCache cache(signer.fn(), clock);
  EXPECT_EQ(*cache.get(bob(), "b1"), "jwt-1");
  EXPECT_EQ(*cache.get(bob(), "b2"), "jwt-2");  // re-pinned to another backend
  EXPECT_EQ(signer.claims.back().at("aud").as_string(), "b2");
  auto changed = bob();
  changed.policy_json = R"({"clipboard":false})";
  EXPECT_EQ(*cache.get(changed, "b2"), "jwt-3");
  EXPECT_EQ(*cache.get(changed, "b2"), "jwt-3");
  auto other = bob();
  other.session_id = "sess-2";
  EXPECT_EQ(*cache.get(other, "b2"), "jwt-4");
  EXPECT_EQ(cache.size(), 2u);
  cache.forget("sess-2");
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_EQ(*cache.get(other, "b2"), "jwt-5");
}

TEST(Assertion, IdentityHeadersAreBuiltOncePerSignature) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionCache cache(signer.fn(), clock);
  auto first = cache.identity_headers(bob(), "b1");
  ASSERT_TRUE(first.ok());
  auto expected_identity = bob();
  expected_identity.assertion = "jwt-1";
  EXPECT_EQ(*first.value(), identity_header_lines(expected_identity).value());
  auto again = cache.identity_headers(bob(), "b1");
  EXPECT_EQ(again.value().get(), first.value().get()) << "the same block is shared, not rebuilt";
  // A field that only the headers carry (not the claims) still invalidates the block.
  auto renamed = bob();
  renamed.username = "robert";
  auto third = cache.identity_headers(renamed, "b1");
  ASSERT_TRUE(third.ok());
  EXPECT_NE(third.value()->find("X-Username: robert\r\n"), std::string::npos);
  EXPECT_EQ(signer.calls.load(), 2);
}

TEST(Assertion, IdentityHeadersBySourceSkipBuildingTheIdentityOnAHit) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionCache cache(signer.fn(), clock);
  auto session = std::make_shared<int>(1);  // stands for the live session object
  int built = 0;
  auto make = [&] {
    ++built;
    return bob();
  };
  auto first = cache.identity_headers(session, "sess-1", "b1", make);
  ASSERT_TRUE(first.ok());
  for (int i = 0; i < 10; ++i) {
    auto again = cache.identity_headers(session, "sess-1", "b1", make);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again.value().get(), first.value().get());
  }
  EXPECT_EQ(built, 1);
  // Another backend, or renewal time: built and signed again.
  ASSERT_TRUE(cache.identity_headers(session, "sess-1", "b2", make).ok());
  EXPECT_EQ(built, 2);
  clock.advance_s(45);
  ASSERT_TRUE(cache.identity_headers(session, "sess-1", "b2", make).ok());
  EXPECT_EQ(built, 3);
  EXPECT_EQ(signer.calls.load(), 3);
  // A new live session under the same id (released, selected again) never gets the old block unchecked,
  // even if it happens to live at the same address.
  session.reset();
  auto reborn = std::make_shared<int>(2);
  auto other = bob();
  other.workspace_id = "ws-other";
  auto lines = cache.identity_headers(reborn, "sess-1", "b2", [&] { return other; });
  ASSERT_TRUE(lines.ok());
  EXPECT_NE(lines.value()->find("X-Workspace-ID: ws-other\r\n"), std::string::npos);
}

TEST(Assertion, IdentityHeadersRefuseControlCharacters) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionCache cache(signer.fn(), clock);
  auto evil = bob();
  evil.app_args = "x\r\nX-User-ID: admin";
  auto lines = cache.identity_headers(evil, "b1");
  ASSERT_FALSE(lines.ok());
  EXPECT_EQ(lines.error().code, "invalid_identity");
  EXPECT_EQ(lines.error().message.find("admin"), std::string::npos);
}

TEST(Assertion, SignerFailureIsAnError) {
  testing::FakeClock clock;
  AssertionCache cache([](const boost::json::object&, std::string_view) { return std::string(); }, clock);
  auto r = cache.get(bob(), "b1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().status, 500);
  EXPECT_EQ(r.error().code, "assertion_failed");
  EXPECT_EQ(cache.size(), 0u);
}

TEST(Assertion, BoundedEntriesSweepExpiredFirst) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionOptions options;
  options.max_entries = 16;  // one per shard
  AssertionCache cache(signer.fn(false), clock, options);
  for (int i = 0; i < 200; ++i) {
    auto id = bob();
    id.session_id = "s" + std::to_string(i);
    ASSERT_TRUE(cache.get(id, "b").ok());
  }
  EXPECT_LE(cache.size(), 16u);
}

TEST(Assertion, ConcurrentUseFromManyThreads) {
  testing::FakeClock clock;
  RecordingSigner signer;
  AssertionCache cache(signer.fn(false), clock);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20000; ++i) {
        auto id = bob();
        id.session_id = "s" + std::to_string((i + t) % 8);
        auto r = cache.get(id, "b");
        if (!r.ok() || r->rfind("jwt-", 0) != 0) ++failures;
        if (t == 0 && i % 5000 == 0) clock.advance_s(30);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  // 8 sessions, re-signed a few times as the clock moves; never once per request.
  EXPECT_LT(signer.calls.load(), 200);
  EXPECT_GE(signer.calls.load(), 8);
}

}  // namespace
}  // namespace webstream::proxy
