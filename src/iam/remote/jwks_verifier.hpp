#pragma once
// JwksTokenVerifier: the token check of a gateway whose IAM is another process (accessManagement.mode=
// standalone|external): user tokens are verified with the public keys that service publishes at
// GET /iam/.well-known/jwks.json, under exactly the rules the built-in IAM applies to its own tokens
// (user_token_rules.hpp: alg EdDSA only, typ JWT, known kid, iss, no aud, exp/nbf/iat with ≤ 60 s leeway).
//
// Keys: Ed25519 OKP keys of the JWKS ({"kty":"OKP","crv":"Ed25519","x","kid"}; "alg", when present, must be
// "EdDSA"); any other entry is ignored. A fetched set REPLACES the previous one (a key the service dropped
// stops verifying).
//
// Refresh rules (docs/access-management.md):
//  - refresh(): an unconditional fetch — at start-up (retried by the caller), and from the gateway's
//    background loop (every 2 s while no set is loaded, every 5 min afterwards).
//  - verify() meeting a kid it does not know (key rotation at the service) fetches the set itself, within
//    `inline_timeout` (500 ms), then looks again — but only when the last fetch attempt of any kind is at
//    least `refresh_floor_ms` (10 s) old, and only on the one thread that wins a try_lock; every other
//    caller answers at once. So a flood of tokens with made-up kids costs the service at most one JWKS
//    request per 10 s, and an I/O thread at most 500 ms per 10 s; a genuinely new key works on its first
//    token instead of costing the user a spurious 401.
//  - No key set yet (the service was unreachable since start): 503 `access_management_unavailable`.
// Unknown kid (after the allowed refresh): 401 `unauthorized`.
//
// Thread rules: any thread. The key set is an immutable snapshot behind a mutex (copied as a shared_ptr);
// fetches are serialised by another mutex. verify() blocks only in the rare inline fetch described above.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "auth/token_verifier.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::iam {

// Fetches the JWKS document's text within `timeout`. Error: unreachable / not 200.
using JwksFetch = std::function<Result<std::string>(std::chrono::milliseconds timeout)>;

// kid → raw 32-byte Ed25519 public key.
using JwksKeys = std::map<std::string, std::string, std::less<>>;

struct JwksVerifierOptions {
  std::string issuer = "webstream";  // the service's TokenOptions::issuer
  std::int64_t leeway_s = 60;        // clamped to [0, 60]
  Millis refresh_floor_ms = 10'000;
  std::chrono::milliseconds inline_timeout{500};
};

class JwksTokenVerifier final : public auth::TokenVerifier {
 public:
  JwksTokenVerifier(JwksFetch fetch, const Clock& clock, JwksVerifierOptions options = {});

  // auth::TokenVerifier
  Result<core::Principal> verify(std::string_view jwt) const override;
  std::int64_t leeway_s() const override { return leeway_s_; }

  // Fetches and installs the key set now (ignores the floor, but counts as an attempt for it). On error the
  // previous set stays.
  Status refresh(std::chrono::milliseconds timeout);
  // True once a key set has been installed.
  bool ready() const;
  std::size_t key_count() const;
  // Fetch attempts so far (refresh() and verify()-triggered).
  std::uint64_t fetches() const;

  // Parses a JWKS document. Error when it is not {"keys":[…]} or holds no usable Ed25519 key.
  static Result<JwksKeys> parse_jwks(std::string_view text);

 private:
  std::shared_ptr<const JwksKeys> snapshot() const;
  // One fetch + install. Caller holds fetch_mutex_.
  Status fetch_locked(std::chrono::milliseconds timeout) const;
  // verify()'s refresh on an unknown kid: true when a fetch ran (whatever its result).
  bool refresh_for_unknown_kid() const;

  const JwksFetch fetch_;
  const Clock& clock_;
  const JwksVerifierOptions options_;
  const std::int64_t leeway_s_;

  mutable std::mutex keys_mutex_;
  mutable std::shared_ptr<const JwksKeys> keys_;  // GUARDED_BY(keys_mutex_); null until the first fetch
  mutable std::mutex fetch_mutex_;                // serialises fetches
  mutable Millis last_attempt_ms_ = 0;            // GUARDED_BY(fetch_mutex_)
  mutable bool attempted_ = false;                // GUARDED_BY(fetch_mutex_)
  mutable std::atomic<std::uint64_t> fetches_{0};
};

}  // namespace webstream::iam
