// Fuzz target: user-token verification (CONTRACT §6 "Tokens") and JWKS parsing — the built-in IAM's
// TokenService::verify and the remote-IAM JwksTokenVerifier::verify side by side (a differential check: they
// promise the same rules, iam/user_token_rules.hpp), and JwksTokenVerifier::parse_jwks. The first byte picks:
//   0: the rest is a token, verified by both;
//   1: the rest is the CLAIMS JSON, signed by the harness with the IAM key under a valid header — reaches
//      the claim rules behind the signature;
//   2: the rest is the HEADER JSON, signed over valid claims — reaches the header rules (alg, typ, crit, kid);
//   3: the rest is a JWKS document for parse_jwks.
// The key is the harness's own (a fixed seed, so committed seeds stay valid); the clock is fixed.
// Properties: both verifiers accept exactly the same tokens; an accepted token has alg EdDSA, typ JWT, no
// crit, iss "webstream", no aud, sub = the principal's user id, and is inside exp/nbf with <= 60 s leeway;
// parse_jwks yields only 32-byte keys; nothing crashes.
#include <sodium.h>

#include <boost/json.hpp>

#include "core/encoding.hpp"
#include "core/testing/fake_clock.hpp"
#include "fuzz_check.hpp"
#include "iam/jwt.hpp"
#include "iam/key_ring.hpp"
#include "iam/remote/jwks_verifier.hpp"
#include "iam/token_service.hpp"

namespace {

using namespace webstream;
namespace json = boost::json;

constexpr Millis kNowMs = 1'800'000'000'000;
constexpr std::int64_t kNowS = kNowMs / 1000;

class FixedKeyStore final : public store::KeyStore {
 public:
  Result<std::vector<store::SigningKeyRow>> load_keys() override {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    unsigned char seed[crypto_sign_SEEDBYTES] = {'w', 'e', 'b', 's', 't', 'r', 'e', 'a', 'm', '-', 'j', 'w', 't'};
    crypto_sign_seed_keypair(pk, sk, seed);
    store::SigningKeyRow row;
    row.public_key.assign(reinterpret_cast<char*>(pk), sizeof pk);
    row.secret_key.assign(reinterpret_cast<char*>(sk), sizeof sk);
    row.kid = iam::KeyRing::thumbprint(row.public_key);
    row.algorithm = "EdDSA";
    row.created_at = kNowMs - 1000;
    return std::vector<store::SigningKeyRow>{row};
  }
  Status insert_key(const store::SigningKeyRow&) override { return Error::internal("read-only"); }
};

struct World {
  testing::FakeClock clock{kNowMs};
  FixedKeyStore key_store;
  std::unique_ptr<iam::KeyRing> ring;
  std::unique_ptr<iam::TokenService> tokens;
  std::unique_ptr<iam::JwksTokenVerifier> remote;
  World() {
    FUZZ_CHECK(sodium_init() >= 0, "sodium_init");
    auto r = iam::KeyRing::open(key_store, clock);
    FUZZ_CHECK(r.ok(), "the key ring does not open");
    ring = std::move(r.value());
    tokens = std::make_unique<iam::TokenService>(*ring, clock);
    const std::string jwks = json::serialize(tokens->jwks());
    remote = std::make_unique<iam::JwksTokenVerifier>(
        [jwks](std::chrono::milliseconds) -> Result<std::string> { return jwks; }, clock);
    FUZZ_CHECK(remote->refresh(std::chrono::milliseconds(100)).ok(), "the JWKS does not load");
  }
};
World& world() {
  static World w;
  return w;
}

std::string sign_raw(std::string_view header_text, std::string_view claims_text) {
  std::string input = base64url_encode(header_text) + "." + base64url_encode(claims_text);
  return iam::jwt::assemble(input, world().ring->sign(input));
}

std::string valid_header() {
  json::object h{{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", world().ring->signing_kid()}};
  return json::serialize(h);
}
std::string valid_claims() {
  json::object c{{"iss", "webstream"},
                 {"sub", "u-1"},
                 {"name", "alice"},
                 {"org", "org-1"},
                 {"roles", json::array{"user"}},
                 {"iat", kNowS - 10},
                 {"nbf", kNowS - 10},
                 {"exp", kNowS + 3600},
                 {"jti", "j-1"}};
  return json::serialize(c);
}

void verify_both(const std::string& token) {
  const auto local = world().tokens->verify(token);
  const auto remote = world().remote->verify(token);
  FUZZ_CHECK(local.ok() == remote.ok(), "the built-in and the JWKS verifier disagree");
  if (!local) {
    FUZZ_CHECK(local.error().status == 401, "a refused token answers " + std::to_string(local.error().status));
    FUZZ_CHECK(remote.error().status == 401, "a refused token answers " + std::to_string(remote.error().status));
    return;
  }
  auto parsed = iam::jwt::parse(token);
  FUZZ_CHECK(parsed.ok(), "an accepted token does not parse");
  const auto& h = parsed.value().header;
  const auto& c = parsed.value().claims;
  FUZZ_CHECK(h.contains("alg") && h.at("alg") == "EdDSA", "accepted without alg EdDSA");
  FUZZ_CHECK(h.contains("typ") && h.at("typ") == "JWT", "accepted without typ JWT");
  FUZZ_CHECK(!h.contains("crit"), "accepted with crit");
  FUZZ_CHECK(c.contains("iss") && c.at("iss") == "webstream", "accepted with another issuer");
  FUZZ_CHECK(!c.contains("aud"), "accepted with an audience");
  FUZZ_CHECK(c.contains("sub") && c.at("sub").is_string() && c.at("sub").as_string() == local.value().user_id,
             "the principal is not the token's subject");
  FUZZ_CHECK(local.value().expires_at + 60 >= kNowS, "accepted after exp + 60 s");
  if (c.contains("nbf") && c.at("nbf").is_int64()) {
    FUZZ_CHECK(c.at("nbf").as_int64() <= kNowS + 60, "accepted before nbf - 60 s");
  }
  FUZZ_CHECK(local.value().user_id == remote.value().user_id && local.value().roles == remote.value().roles &&
                 local.value().expires_at == remote.value().expires_at,
             "the two verifiers read different principals");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  if (size == 0) return 0;
  const auto rest = webstream::fuzz::as_text(data + 1, size - 1);
  switch (data[0] & 3) {
    case 0: verify_both(std::string(rest)); break;
    case 1: verify_both(sign_raw(valid_header(), rest)); break;
    case 2: verify_both(sign_raw(rest, valid_claims())); break;
    default: {
      auto keys = iam::JwksTokenVerifier::parse_jwks(rest);
      if (keys) {
        FUZZ_CHECK(!keys.value().empty(), "parse_jwks accepted a set without a key");
        for (const auto& [kid, key] : keys.value()) FUZZ_CHECK(key.size() == 32, "a JWKS key that is not 32 bytes");
      }
    }
  }
  return 0;
}
