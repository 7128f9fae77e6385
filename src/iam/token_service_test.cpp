#include "iam/token_service.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/jwt.hpp"
#include "iam/testing/jwt_forgery.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;

auth::UserRecord alice() {
  auth::UserRecord u;
  u.id = "u-alice";
  u.username = "alice";
  u.org_id = "org-1";
  u.roles = {"user"};
  return u;
}

class TokenServiceTest : public ::testing::Test {
 protected:
  TokenServiceTest() : ring_(KeyRing::ephemeral()), tokens_(*ring_, clock_, TokenOptions{"webstream", 3600, 60}) {}

  std::string forge(const json::object& header, const json::object& claims) const {
    return forgery::forge(*ring_, header, claims);
  }
  json::object good_header() const { return forgery::good_header(*ring_); }
  json::object good_claims() const { return forgery::good_claims(clock_); }
  static json::object decode_segment(const std::string& token, int index) {
    std::size_t start = 0;
    for (int i = 0; i < index; ++i) start = token.find('.', start) + 1;
    const auto end = token.find('.', start);
    return json::parse(*base64url_decode(token.substr(start, end - start))).as_object();
  }
  void expect_refused(const std::string& token, const char* why) const {
    auto r = tokens_.verify(token);
    ASSERT_FALSE(r.ok()) << why;
    EXPECT_EQ(r.error().status, 401) << why;
    EXPECT_EQ(r.error().code, "unauthorized") << why;
  }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<KeyRing> ring_;
  TokenService tokens_;
};

TEST_F(TokenServiceTest, IssuedTokenVerifiesWithEveryClaim) {
  const auto issued = tokens_.issue(alice());
  const auto header = decode_segment(issued.jwt, 0);
  EXPECT_EQ(header.at("alg"), "EdDSA");
  EXPECT_EQ(header.at("typ"), "JWT");
  EXPECT_EQ(header.at("kid").as_string(), ring_->signing_kid());
  const auto claims = decode_segment(issued.jwt, 1);
  for (const char* name : {"iss", "sub", "name", "org", "roles", "iat", "nbf", "exp", "jti"}) {
    EXPECT_TRUE(claims.contains(name)) << name;
  }
  EXPECT_EQ(claims.at("exp").as_int64() - claims.at("iat").as_int64(), 3600);

  auto p = tokens_.verify(issued.jwt);
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->user_id, "u-alice");
  EXPECT_EQ(p->username, "alice");
  EXPECT_EQ(p->org_id, "org-1");
  EXPECT_EQ(p->roles, std::vector<std::string>{"user"});
  EXPECT_EQ(p->token_id, issued.jti);
  EXPECT_EQ(p->issued_at, clock_.now_s());
  EXPECT_EQ(p->expires_at, clock_.now_s() + 3600);
  EXPECT_FALSE(p->service);
}

TEST_F(TokenServiceTest, EveryTokenHasItsOwnJti) { EXPECT_NE(tokens_.issue(alice()).jti, tokens_.issue(alice()).jti); }

TEST_F(TokenServiceTest, IssueHonoursNotBefore) {
  const auto issued = tokens_.issue(alice(), clock_.now_s() + 1);
  EXPECT_EQ(issued.issued_at, clock_.now_s() + 1);
  EXPECT_TRUE(tokens_.verify(issued.jwt).ok());  // 1 s ahead is inside the leeway
}

TEST_F(TokenServiceTest, ExpiryWithLeewayEdge) {
  const auto issued = tokens_.issue(alice());
  clock_.advance_s(3600 + 59);  // exp + 59 s: inside the 60 s leeway
  EXPECT_TRUE(tokens_.verify(issued.jwt).ok());
  clock_.advance_s(1);  // exp + 60 s
  expect_refused(issued.jwt, "expired past the leeway");
  clock_.advance_s(86400);
  expect_refused(issued.jwt, "long expired");
}

TEST_F(TokenServiceTest, NotYetValidWithLeewayEdge) {
  auto claims = good_claims();
  claims["nbf"] = clock_.now_s() + 60;
  EXPECT_TRUE(tokens_.verify(forge(good_header(), claims)).ok());
  claims["nbf"] = clock_.now_s() + 61;
  expect_refused(forge(good_header(), claims), "nbf beyond the leeway");
  claims = good_claims();
  claims["iat"] = clock_.now_s() + 3600;
  claims["nbf"] = clock_.now_s();
  claims["exp"] = clock_.now_s() + 7200;
  expect_refused(forge(good_header(), claims), "iat in the future");
}

TEST_F(TokenServiceTest, LeewayIsClampedTo60Seconds) {
  TokenService lax(*ring_, clock_, TokenOptions{"webstream", 3600, 3600});
  EXPECT_EQ(lax.leeway_s(), 60);
  const auto issued = lax.issue(alice());
  clock_.advance_s(3600 + 61);
  EXPECT_FALSE(lax.verify(issued.jwt).ok());
}

TEST_F(TokenServiceTest, AlgNoneIsRefused) {
  json::object header{{"alg", "none"}, {"typ", "JWT"}, {"kid", ring_->signing_kid()}};
  const std::string input = jwt::signing_input(header, good_claims());
  expect_refused(input + ".", "alg none, empty signature");
  expect_refused(input, "alg none, no signature segment");
  expect_refused(forge(header, good_claims()), "alg none with a real EdDSA signature");
  header["alg"] = "None";
  expect_refused(forge(header, good_claims()), "alg None");
}

TEST_F(TokenServiceTest, Hs256KeyedWithThePublicKeyIsRefused) {
  json::object header{{"alg", "HS256"}, {"typ", "JWT"}, {"kid", ring_->signing_kid()}};
  const std::string input = jwt::signing_input(header, good_claims());
  const auto jwks = ring_->jwks();
  const std::string x(jwks.at("keys").as_array().at(0).as_object().at("x").as_string());
  const std::string raw_public = *base64url_decode(x);
  const std::string jwk_text = json::serialize(jwks.at("keys").as_array().at(0));
  for (const std::string& secret : {raw_public, x, jwk_text}) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
    expect_refused(jwt::assemble(input, std::string(reinterpret_cast<char*>(mac), mac_len)), "HS256");
  }
}

TEST_F(TokenServiceTest, OtherAsymmetricAlgorithmsAreRefusedEvenWithAValidSignature) {
  for (const char* alg : {"ES256", "RS256", "PS256", "Ed25519", "eddsa", ""}) {
    json::object header{{"alg", alg}, {"typ", "JWT"}, {"kid", ring_->signing_kid()}};
    expect_refused(forge(header, good_claims()), alg);
  }
  json::object no_alg{{"typ", "JWT"}, {"kid", ring_->signing_kid()}};
  expect_refused(forge(no_alg, good_claims()), "no alg");
}

TEST_F(TokenServiceTest, UnknownKidIsRefused) {
  auto other_ring = KeyRing::ephemeral();
  TokenService other(*other_ring, clock_);
  expect_refused(other.issue(alice()).jwt, "signed by another key");
  auto header = good_header();
  header["kid"] = "not-a-key";
  expect_refused(forge(header, good_claims()), "unknown kid, our signature");
  header.erase("kid");
  expect_refused(forge(header, good_claims()), "no kid");
  // Another ring's token relabelled with our kid: the signature does not verify with our key.
  header = good_header();
  const std::string input = jwt::signing_input(header, good_claims());
  expect_refused(jwt::assemble(input, other_ring->sign(input)), "our kid, another key's signature");
}

TEST_F(TokenServiceTest, TamperedPayloadIsRefused) {
  const auto issued = tokens_.issue(alice());
  const auto first = issued.jwt.find('.');
  const auto second = issued.jwt.find('.', first + 1);
  auto claims = decode_segment(issued.jwt, 1);
  claims["roles"] = json::array{"admin"};
  const std::string tampered =
      issued.jwt.substr(0, first + 1) + base64url_encode(json::serialize(claims)) + issued.jwt.substr(second);
  expect_refused(tampered, "roles raised to admin");
  auto header = decode_segment(issued.jwt, 0);
  header["typ"] = "jwt+x";
  expect_refused(base64url_encode(json::serialize(header)) + issued.jwt.substr(first), "header changed");
}

TEST_F(TokenServiceTest, TamperedSignatureIsRefused) {
  const auto issued = tokens_.issue(alice());
  const auto dot = issued.jwt.rfind('.');
  std::string sig = *base64url_decode(issued.jwt.substr(dot + 1));
  for (std::size_t i : {std::size_t{0}, std::size_t{31}, std::size_t{63}}) {
    std::string flipped = sig;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x01);
    expect_refused(issued.jwt.substr(0, dot + 1) + base64url_encode(flipped), "one bit flipped");
  }
  expect_refused(issued.jwt.substr(0, dot + 1) + base64url_encode(sig.substr(0, 63)), "short signature");
  expect_refused(issued.jwt.substr(0, dot + 1) + base64url_encode(sig + "x"), "long signature");
  // The last base64url character carries 2 spare bits: another character with the same 64 bytes must not
  // be a second valid spelling.
  std::string text = issued.jwt;
  char& last = text.back();
  last = last == 'A' ? 'B' : static_cast<char>(last + 1);
  expect_refused(text, "non-canonical base64url");
}

TEST_F(TokenServiceTest, AssertionTypIsNeverAUserToken) {
  json::object claims{{"aud", "b-1"}, {"sub", "u-alice"},      {"org", "org-1"},
                      {"sid", "s-1"}, {"ws", "w-1"},           {"app", "a-1"},
                      {"pol", "x"},   {"iat", clock_.now_s()}, {"exp", clock_.now_s() + 60}};
  const std::string assertion = tokens_.sign(claims, "webstream-assertion+jwt");
  ASSERT_FALSE(assertion.empty());
  EXPECT_EQ(decode_segment(assertion, 0).at("typ"), "webstream-assertion+jwt");
  EXPECT_EQ(decode_segment(assertion, 1).at("iss"), "webstream");
  expect_refused(assertion, "assertion");
  // Even with exactly a user token's claims, the typ alone refuses it.
  expect_refused(tokens_.sign(good_claims(), "webstream-assertion+jwt"), "assertion typ, user claims");
  // And a user-typed token carrying an audience is not ours either.
  auto with_aud = good_claims();
  with_aud["aud"] = "b-1";
  expect_refused(forge(good_header(), with_aud), "aud claim");
  auto no_typ = good_header();
  no_typ.erase("typ");
  expect_refused(forge(no_typ, good_claims()), "no typ");
}

TEST_F(TokenServiceTest, SignRefusesUserTyp) {
  EXPECT_EQ(tokens_.sign(good_claims(), "JWT"), "");
  EXPECT_EQ(tokens_.sign(good_claims(), ""), "");
}

TEST_F(TokenServiceTest, ClaimsMustBeComplete) {
  for (const char* missing : {"iss", "sub", "name", "org", "roles", "iat", "nbf", "exp", "jti"}) {
    auto claims = good_claims();
    claims.erase(missing);
    expect_refused(forge(good_header(), claims), missing);
  }
  auto claims = good_claims();
  claims["iss"] = "someone-else";
  expect_refused(forge(good_header(), claims), "issuer");
  claims = good_claims();
  claims["roles"] = json::array{"user", 7};
  expect_refused(forge(good_header(), claims), "role not a string");
  claims = good_claims();
  claims["exp"] = "never";
  expect_refused(forge(good_header(), claims), "exp not a number");
  claims = good_claims();
  claims["exp"] = claims["iat"];
  expect_refused(forge(good_header(), claims), "exp not after iat");
  claims = good_claims();
  claims["sub"] = "";
  expect_refused(forge(good_header(), claims), "empty sub");
  auto header = good_header();
  header["crit"] = json::array{"exp"};
  expect_refused(forge(header, good_claims()), "crit");
}

TEST_F(TokenServiceTest, MalformedTokensAreRefused) {
  const auto issued = tokens_.issue(alice());
  for (const std::string& bad : {std::string(), std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
                                 std::string(".."), std::string("!!!.###.$$$"), issued.jwt + ".x",
                                 "Bearer " + issued.jwt, issued.jwt + "=", std::string(9000, 'a') + "." + "b.c"}) {
    expect_refused(bad, bad.substr(0, 40).c_str());
  }
  const auto first = issued.jwt.find('.');
  expect_refused(base64url_encode("[1,2]") + issued.jwt.substr(first), "header not an object");
}

TEST_F(TokenServiceTest, JwksListsThePublicKey) {
  const auto jwks = tokens_.jwks();
  const auto& keys = jwks.at("keys").as_array();
  ASSERT_EQ(keys.size(), 1u);
  const auto& k = keys.at(0).as_object();
  EXPECT_EQ(k.at("kty"), "OKP");
  EXPECT_EQ(k.at("crv"), "Ed25519");
  EXPECT_EQ(k.at("alg"), "EdDSA");
  EXPECT_EQ(k.at("use"), "sig");
  EXPECT_EQ(k.at("kid").as_string(), ring_->signing_kid());
  EXPECT_EQ(base64url_decode(std::string(k.at("x").as_string()))->size(), 32u);
  EXPECT_FALSE(k.contains("d"));  // never the private part
}

}  // namespace
}  // namespace webstream::iam
