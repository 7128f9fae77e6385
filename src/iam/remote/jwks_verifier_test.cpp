// JwksTokenVerifier: a remote access-management service's tokens checked against its JWKS — the same
// acceptance rules as the built-in IAM, plus the fetch/refresh rules (floor, unknown kid, no keys yet).
#include "iam/remote/jwks_verifier.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/encoding.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/jwt.hpp"
#include "iam/key_ring.hpp"
#include "iam/testing/jwt_forgery.hpp"
#include "iam/token_service.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

auth::UserRecord alice() {
  auth::UserRecord u;
  u.id = "u-alice";
  u.username = "alice";
  u.org_id = "org-1";
  u.roles = {"user", "org-admin"};
  return u;
}

// A stand-in for the service's GET /iam/.well-known/jwks.json: answers the JWKS of `ring` (or fails).
class FakeJwks {
 public:
  void serve(const KeyRing* ring) {
    std::lock_guard lock(mutex_);
    ring_ = ring;
  }
  void serve_text(std::string text) {
    std::lock_guard lock(mutex_);
    text_ = std::move(text);
    ring_ = nullptr;
  }
  JwksFetch fetch() {
    return [this](std::chrono::milliseconds) -> Result<std::string> {
      calls_.fetch_add(1);
      std::lock_guard lock(mutex_);
      if (ring_) return json::serialize(ring_->jwks());
      if (!text_.empty()) return text_;
      return Error{503, "access_management_unavailable", "down"};
    };
  }
  int calls() const { return calls_.load(); }

 private:
  std::mutex mutex_;
  const KeyRing* ring_ = nullptr;
  std::string text_;
  std::atomic<int> calls_{0};
};

class JwksVerifierTest : public ::testing::Test {
 protected:
  JwksVerifierTest()
      : ring_(KeyRing::ephemeral()), other_ring_(KeyRing::ephemeral()), tokens_(*ring_, clock_),
        other_tokens_(*other_ring_, clock_), verifier_(jwks_.fetch(), clock_) {}

  std::string forge(const json::object& header, const json::object& claims) const {
    return forgery::forge(*ring_, header, claims);
  }
  json::object good_header() const { return forgery::good_header(*ring_); }
  json::object good_claims() const { return forgery::good_claims(clock_); }
  void expect_status(const std::string& token, int status, const char* why) const {
    auto r = verifier_.verify(token);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().status, status) << why << ": " << r.error().message;
  }

  testing::FakeClock clock_;
  std::unique_ptr<KeyRing> ring_;
  std::unique_ptr<KeyRing> other_ring_;
  TokenService tokens_;
  TokenService other_tokens_;
  FakeJwks jwks_;
  JwksTokenVerifier verifier_;
};

TEST_F(JwksVerifierTest, ATokenOfTheServiceVerifiesWithEveryClaim) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  EXPECT_TRUE(verifier_.ready());
  EXPECT_EQ(verifier_.key_count(), 1u);
  const auto issued = tokens_.issue(alice());
  auto p = verifier_.verify(issued.jwt);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->user_id, "u-alice");
  EXPECT_EQ(p->username, "alice");
  EXPECT_EQ(p->org_id, "org-1");
  EXPECT_EQ(p->roles, (std::vector<std::string>{"user", "org-admin"}));
  EXPECT_EQ(p->token_id, issued.jti);
  EXPECT_EQ(p->issued_at, issued.issued_at);
  EXPECT_EQ(p->expires_at, issued.expires_at);
  EXPECT_FALSE(p->service);
  EXPECT_EQ(jwks_.calls(), 1);  // a known kid never fetches
}

TEST_F(JwksVerifierTest, NoKeySetYetIs503AndAFetchLoadsOne) {
  // The service is down: no keys at all.
  EXPECT_FALSE(verifier_.refresh(1s).ok());
  EXPECT_FALSE(verifier_.ready());
  const auto jwt = tokens_.issue(alice()).jwt;
  clock_.advance_s(11);
  expect_status(jwt, 503, "no keys: the gateway cannot check tokens yet");
  EXPECT_EQ(jwks_.calls(), 2);  // the floor allowed one inline fetch
  expect_status(jwt, 503, "still no keys; floor not passed");
  EXPECT_EQ(jwks_.calls(), 2);
  // The service comes back: the next allowed fetch (after the floor) loads the keys and the token passes.
  jwks_.serve(ring_.get());
  clock_.advance_s(10);
  EXPECT_TRUE(verifier_.verify(jwt).ok());
  EXPECT_EQ(jwks_.calls(), 3);
}

TEST_F(JwksVerifierTest, UnknownKidRefreshesOnceThenTheRotatedKeyWorks) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  clock_.advance_s(10);
  // The service rotated to a new key: its first token works at once (one inline fetch).
  jwks_.serve(other_ring_.get());
  const auto rotated = other_tokens_.issue(alice()).jwt;
  auto p = verifier_.verify(rotated);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(jwks_.calls(), 2);
  // The new set replaced the old one: the dropped key no longer verifies.
  expect_status(tokens_.issue(alice()).jwt, 401, "a key the service dropped");
}

TEST_F(JwksVerifierTest, AFloodOfMadeUpKidsFetchesAtMostOncePerFloor) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  auto header = good_header();
  for (int i = 0; i < 200; ++i) {
    header["kid"] = "made-up-" + std::to_string(i);
    expect_status(forge(header, good_claims()), 401, "unknown kid");
    clock_.advance_ms(20);  // 200 × 20 ms = 4 s: within one floor of the start-up fetch
  }
  EXPECT_EQ(jwks_.calls(), 1);
  clock_.advance_s(7);
  for (int i = 0; i < 200; ++i) {
    header["kid"] = "made-up-again-" + std::to_string(i);
    expect_status(forge(header, good_claims()), 401, "unknown kid");
  }
  EXPECT_EQ(jwks_.calls(), 2);  // one more, no matter how many
}

TEST_F(JwksVerifierTest, ConcurrentUnknownKidsNeverWaitForAnotherThreadsFetch) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  clock_.advance_s(11);
  auto header = good_header();
  header["kid"] = "nobody";
  const auto token = forge(header, good_claims());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) EXPECT_FALSE(verifier_.verify(token).ok());
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(jwks_.calls(), 2);
}

TEST_F(JwksVerifierTest, AlgorithmsOtherThanEdDsaAreRefusedWithoutAFetch) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  clock_.advance_s(11);
  auto none = good_header();
  none["alg"] = "none";
  expect_status(jwt::signing_input(none, good_claims()) + ".", 401, "alg none without signature");
  expect_status(forge(none, good_claims()), 401, "alg none");

  // HS256 keyed with the service's public key (the classic confusion attack).
  auto hs = good_header();
  hs["alg"] = "HS256";
  const std::string input = jwt::signing_input(hs, good_claims());
  const auto jwk = ring_->jwks().at("keys").as_array().at(0).as_object();
  const auto pub = *base64url_decode(std::string(jwk.at("x").as_string()));
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  HMAC(EVP_sha256(), pub.data(), static_cast<int>(pub.size()), reinterpret_cast<const unsigned char*>(input.data()),
       input.size(), mac, &mac_len);
  expect_status(jwt::assemble(input, std::string(reinterpret_cast<char*>(mac), mac_len)), 401, "HS256 confusion");
  auto es = good_header();
  es["alg"] = "ES256";
  expect_status(forge(es, good_claims()), 401, "ES256");
  EXPECT_EQ(jwks_.calls(), 1);  // refused before any key lookup
}

TEST_F(JwksVerifierTest, TimeIsCheckedWithAtMostSixtySecondsOfLeeway) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  const auto issued = tokens_.issue(alice());
  clock_.advance_s(3600 + 59);
  EXPECT_TRUE(verifier_.verify(issued.jwt).ok()) << "within the leeway after exp";
  clock_.advance_s(1);
  expect_status(issued.jwt, 401, "expired");

  auto claims = good_claims();
  claims["nbf"] = clock_.now_s() + 61;
  expect_status(forge(good_header(), claims), 401, "not valid yet");
  claims["nbf"] = clock_.now_s() + 59;
  EXPECT_TRUE(verifier_.verify(forge(good_header(), claims)).ok()) << "nbf within the leeway";
}

TEST_F(JwksVerifierTest, OnlyUserTokensOfTheServiceIssuerPass) {
  jwks_.serve(ring_.get());
  ASSERT_TRUE(verifier_.refresh(1s).ok());
  auto claims = good_claims();
  claims["iss"] = "someone-else";
  expect_status(forge(good_header(), claims), 401, "issuer");
  // An X-WebStream-Assertion signed by the same keys is never a user token.
  json::object assertion{
      {"sub", "u-alice"}, {"aud", "backend-1"}, {"iat", clock_.now_s()}, {"exp", clock_.now_s() + 60}};
  expect_status(tokens_.sign(assertion, "webstream-assertion+jwt"), 401, "assertion typ");
  auto typed = good_header();
  typed["crit"] = json::array{"exp"};
  expect_status(forge(typed, good_claims()), 401, "crit");
  // A bad signature under a known kid.
  std::string token = tokens_.issue(alice()).jwt;
  token[token.size() - 3] = token[token.size() - 3] == 'A' ? 'B' : 'A';
  expect_status(token, 401, "tampered signature");
  expect_status("not.a.jwt", 401, "malformed");
}

TEST(JwksParse, KeepsEd25519KeysAndIgnoresTheRest) {
  auto ring = KeyRing::ephemeral();
  json::object doc = ring->jwks();
  auto& keys = doc["keys"].as_array();
  keys.push_back(json::object{{"kty", "EC"}, {"crv", "P-256"}, {"kid", "ec"}, {"x", "AA"}, {"y", "AA"}});
  keys.push_back(json::object{{"kty", "OKP"}, {"crv", "Ed25519"}, {"kid", "short"}, {"x", "AAAA"}});
  keys.push_back(json::object{{"kty", "OKP"},
                              {"crv", "Ed25519"},
                              {"kid", "rsa-alg"},
                              {"alg", "RS256"},
                              {"x", base64url_encode(std::string(32, 'x'))}});
  auto parsed = JwksTokenVerifier::parse_jwks(json::serialize(doc));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_TRUE(parsed->contains(ring->signing_kid()));
  EXPECT_FALSE(JwksTokenVerifier::parse_jwks("{\"keys\":[]}").ok());
  EXPECT_FALSE(JwksTokenVerifier::parse_jwks("[]").ok());
  EXPECT_FALSE(JwksTokenVerifier::parse_jwks("nope").ok());
}

TEST(JwksParse, ABrokenDocumentKeepsThePreviousKeys) {
  testing::FakeClock clock;
  auto ring = KeyRing::ephemeral();
  TokenService tokens(*ring, clock);
  FakeJwks jwks;
  JwksTokenVerifier verifier(jwks.fetch(), clock);
  jwks.serve(ring.get());
  ASSERT_TRUE(verifier.refresh(1s).ok());
  jwks.serve_text("{\"keys\":\"oops\"}");
  auto s = verifier.refresh(1s);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().status, 502);
  EXPECT_TRUE(verifier.verify(tokens.issue(alice()).jwt).ok());
}

}  // namespace
}  // namespace webstream::iam
