#pragma once
// The authentication endpoints (CONTRACT §6), all Exposure::kPublic:
//   POST /iam/auth/login  {username, password}
//        → 200 {"token","tokenType":"Bearer","expiresIn":<tokenLifetime>,
//               "user":{"id","username","orgId","roles":[…]}}
//        → 400 invalid_request (body), 401 invalid_credentials, 429 locked_out + Retry-After
//   POST /iam/auth/logout  (Bearer) → 200 {"success":true}; the presented token is refused from then on
//   GET  /iam/auth/me      (Bearer) → 200 {"id","username","orgId","roles","displayName","email","disabled",
//                                          "user":{"id","username","orgId","roles"}}  (the user object, plus
//                                          the same "user" member the login answer has)
//   GET  /iam/.well-known/jwks.json → 200 {"keys":[{"kty":"OKP","crv":"Ed25519","x","kid","alg":"EdDSA",
//                                          "use":"sig"}]} (cacheable for 5 minutes)
// Login, logout and me touch argon2id or the store, so they run on the given BlockingPool (preferably one
// reserved for password hashing: each hash holds 64 MiB for ~0.1–0.3 s).
#include "auth/authenticator.hpp"
#include "http/router.hpp"
#include "iam/login_service.hpp"
#include "iam/token_service.hpp"
#include "iam/user_directory.hpp"
#include "runtime/blocking_pool.hpp"

namespace webstream::iam {

struct AuthApiDeps {
  LoginService& login;
  auth::Authenticator& authenticator;
  const TokenService& tokens;
  UserDirectory& users;
  runtime::BlockingPool& blocking;
};

void register_auth_routes(http::Router& router, AuthApiDeps deps);

// The login answer's body (exposed for tests).
boost::json::object login_body(const LoginResult& result, std::int64_t expires_in_s);

}  // namespace webstream::iam
