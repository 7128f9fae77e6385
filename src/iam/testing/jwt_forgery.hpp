#pragma once
// Test helpers: tokens with any header and claims, signed by a real key ring — for the verify tests where
// exactly one field is off (token_service_test, jwks_verifier_test).
#include <boost/json.hpp>

#include <string>

#include "core/clock.hpp"
#include "iam/jwt.hpp"
#include "iam/key_ring.hpp"

namespace webstream::iam::forgery {

inline std::string forge(const KeyRing& ring, const boost::json::object& header, const boost::json::object& claims) {
  const std::string input = jwt::signing_input(header, claims);
  return jwt::assemble(input, ring.sign(input));
}

// The header and claims of a valid token of user "u-alice" (org-1, role user), issued now for an hour.
inline boost::json::object good_header(const KeyRing& ring) {
  return {{"alg", "EdDSA"}, {"typ", "JWT"}, {"kid", ring.signing_kid()}};
}
inline boost::json::object good_claims(const Clock& clock) {
  const auto now = clock.now_s();
  return {{"iss", "webstream"},
          {"sub", "u-alice"},
          {"name", "alice"},
          {"org", "org-1"},
          {"roles", boost::json::array{"user"}},
          {"iat", now},
          {"nbf", now},
          {"exp", now + 3600},
          {"jti", "j-1"}};
}

}  // namespace webstream::iam::forgery
