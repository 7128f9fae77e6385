#pragma once
// TokenService: the built-in IAM's JWTs (CONTRACT §6 "Tokens", §8 "X-WebStream-Assertion").
//
// User tokens: JWT header {"alg":"EdDSA","typ":"JWT","kid":…}; claims iss, sub (user id), name (username),
// org, roles, iat, nbf (= iat), exp (= iat + accessManagement.tokenLifetime), jti (random, 128 bits).
//
// verify() accepts a token only when ALL of these hold (anything else: 401 unauthorized):
//  - it is a well-formed compact JWS (iam/jwt.hpp), at most 8 KiB;
//  - header alg is exactly "EdDSA" — our only algorithm: "none", HS256 (e.g. HMAC keyed with our public
//    key), ES256, RS256… are refused before any key is looked at, so no algorithm confusion is possible;
//  - header kid names a key of our KeyRing; there is no "crit" member;
//  - header typ is exactly "JWT": an X-WebStream-Assertion ("webstream-assertion+jwt") or any other typed
//    token signed by the same keys is never a user token;
//  - the Ed25519 signature verifies (libsodium; it also rejects non-canonical signatures);
//  - claims: iss = ours, no aud (assertions carry one), sub/jti non-empty strings, org/name strings, roles an
//    array of strings, iat/nbf/exp integers with exp > iat;
//  - time, with leeway L ≤ 60 s: now < exp + L, now ≥ nbf − L, iat ≤ now + L.
// Revocation, user state and caching are the authenticator's (auth/authenticator.hpp), not this class's.
//
// Thread rules: immutable after construction; any thread. Never blocks (Ed25519 sign ≈ 20 µs, verify ≈ 50 µs).
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "auth/token_verifier.hpp"
#include "auth/user_directory.hpp"
#include "core/clock.hpp"
#include "iam/key_ring.hpp"

namespace webstream::iam {

inline constexpr std::string_view kUserTokenTyp = "JWT";
inline constexpr std::int64_t kMaxLeewayS = 60;

struct TokenOptions {
  std::string issuer = "webstream";  // iss of every token; verify() requires it
  std::int64_t lifetime_s = 3600;    // accessManagement.tokenLifetime
  std::int64_t leeway_s = 60;        // clock skew allowed on exp/nbf/iat; clamped to [0, 60]
};

struct IssuedToken {
  std::string jwt;
  std::string jti;
  std::int64_t issued_at = 0;   // seconds
  std::int64_t expires_at = 0;  // seconds
};

class TokenService final : public auth::TokenVerifier {
 public:
  TokenService(const KeyRing& keys, const Clock& clock, TokenOptions options = {});

  // A user token for `user`. iat = nbf = max(now, not_before_s): a login in the same second as a change of
  // the user (password, roles…) gets a token that the change's cutoff does not cover
  // (Authenticator::on_user_changed); exp = iat + lifetime.
  IssuedToken issue(const auth::UserRecord& user, std::int64_t not_before_s = 0) const;

  // Signs arbitrary `claims` with JWT header {"alg":"EdDSA","typ":typ,"kid"}, adding "iss" when absent —
  // for X-WebStream-Assertion tokens (proxy::AssertionSigner). typ "JWT" is refused (returns ""): user
  // tokens come only from issue().
  std::string sign(const boost::json::object& claims, std::string_view typ) const;

  // auth::TokenVerifier
  Result<core::Principal> verify(std::string_view jwt) const override;
  std::int64_t leeway_s() const override { return leeway_s_; }

  std::int64_t lifetime_s() const { return options_.lifetime_s; }
  const std::string& issuer() const { return options_.issuer; }
  // GET /iam/.well-known/jwks.json
  boost::json::object jwks() const { return keys_.jwks(); }

 private:
  std::string sign_with_header(const boost::json::object& claims, std::string_view typ) const;

  const KeyRing& keys_;
  const Clock& clock_;
  const TokenOptions options_;
  const std::int64_t leeway_s_;
};

}  // namespace webstream::iam
