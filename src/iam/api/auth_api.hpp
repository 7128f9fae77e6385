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
// Login, logout and me touch argon2id or the store, so they never run on the I/O thread. A login's password
// check runs on `hashing` when given — a BoundedPool of its own (each hash holds 64 MiB for ~0.1–0.3 s of a
// core): when all its slots are taken the login answers at once 503 `login_busy` with Retry-After: 1
// (counted in webstream_login_busy_total), so a login storm queues no further and never delays the store work
// of the other endpoints, which stays on `blocking`. Without `hashing`, logins run on `blocking` too.
// The lockout check (429) comes first, on the I/O thread, and takes no slot.
#include "auth/authenticator.hpp"
#include "auth/user_directory.hpp"
#include "http/router.hpp"
#include "iam/login_service.hpp"
#include "iam/token_service.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/bounded_pool.hpp"

namespace webstream::iam {

struct AuthApiDeps {
  LoginService& login;
  auth::Authenticator& authenticator;
  const TokenService& tokens;
  auth::UserDirectory& users;
  runtime::BlockingPool& blocking;
  runtime::BoundedPool* hashing = nullptr;  // logins' argon2id; null: `blocking`
};

void register_auth_routes(http::Router& router, AuthApiDeps deps);

// The login hashing pool for a machine with `cores` cores: one thread per core up to 8 (each running hash
// holds 64 MiB: at most 512 MiB), 4 logins queued or running per thread (about 0.5–1 s of waiting at most),
// at nice +10 so that the I/O threads (nice 0, or -5 with gateway.elevateGatewayPriority) get the CPU first
// whenever they have work; idle, the hashes use every core.
runtime::BoundedPoolOptions login_hashing_options(unsigned cores);

// The login answer's body (exposed for tests).
boost::json::object login_body(const LoginResult& result, std::int64_t expires_in_s);

}  // namespace webstream::iam
