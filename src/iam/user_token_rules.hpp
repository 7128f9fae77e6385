#pragma once
// The acceptance rules of a user token (CONTRACT §6 "Tokens"), shared by the two verifiers: the built-in
// IAM's TokenService (its own KeyRing) and JwksTokenVerifier (a remote access-management service's JWKS).
// The list of rules is in token_service.hpp; here they are split in the two halves a verifier runs around
// its own key lookup and signature check:
//   1. check_user_token_header: well-formed compact JWS, alg exactly "EdDSA", typ exactly "JWT", no "crit",
//      a kid string (whether the kid is known is the caller's business);
//   2. (caller) kid known, Ed25519 signature of parsed.signing_input valid;
//   3. check_user_token_claims: iss, no aud, sub/jti/org/name/roles/iat/nbf/exp shapes, time with leeway.
// Every failure is 401 `unauthorized`. Pure functions; any thread.
#include <boost/json/object.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"
#include "core/principal.hpp"
#include "iam/jwt.hpp"

namespace webstream::iam {

struct CheckedHeader {
  jwt::Parsed parsed;
  std::string kid;
};

// Steps 1: parse and check the header. The Parsed's signing_input views `token`.
Result<CheckedHeader> check_user_token_header(std::string_view token);

// Step 3: the claims, for a token whose signature is already verified. `leeway_s` within [0, 60].
Result<core::Principal> check_user_token_claims(const boost::json::object& claims, std::string_view issuer,
                                                std::int64_t now_s, std::int64_t leeway_s);

}  // namespace webstream::iam
