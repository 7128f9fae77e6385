#pragma once
// TokenVerifier: checks a user token's signature and claims and says who it names. The authenticator
// (authenticator.hpp) is written against this interface so that it needs no IAM code: the built-in IAM's
// iam::TokenService implements it with its own keys; a verifier over a remote IAM's JWKS (standalone /
// external accessManagement modes) can implement it the same way.
//
// Thread rules: implementations are thread-safe and must not block for long: verify() runs on I/O threads.
// (TokenService never does I/O; iam::JwksTokenVerifier may make one fetch bounded to 500 ms, at most once per
// 10 s, when it meets an unknown kid — see jwks_verifier.hpp.)
#include <cstdint>
#include <string_view>

#include "core/error.hpp"
#include "core/principal.hpp"

namespace webstream::auth {

class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  // The principal a valid user token names: user_id, username, org_id, roles, token_id (jti),
  // issued_at (iat) and expires_at (exp). Error 401 `unauthorized` for any token that is not one of ours,
  // is not a user token, or is out of its validity window.
  virtual Result<core::Principal> verify(std::string_view jwt) const = 0;
  // The clock leeway verify() allows on exp/nbf (seconds).
  virtual std::int64_t leeway_s() const = 0;
};

}  // namespace webstream::auth
