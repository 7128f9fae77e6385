#pragma once
// X-WebStream-Assertion (CONTRACT §8): a short-lived JWT, signed by the IAM's token service, that tells a
// session host "these identity headers come from this gateway, for this session, for you".
//
// Claims: aud = backendId, sub = user id, org, sid = session id, ws = workspace id, app = app id,
// pol = SHA-256 of the X-Policy-JSON header value (the base64 text, exactly as sent) encoded base64url
// without padding (the JOSE convention, as for `x5t#S256`), iat, exp = iat + 60. `iss` and `kid` are
// the signer's business. The JWT header's `typ` is "webstream-assertion+jwt".
//
// Signing is never per request: AssertionCache keeps one signed token per session and re-signs only when
// fewer than `renew_before_s` seconds are left, or when anything the token says (backend, user, policy…)
// no longer matches the identity it is asked for.
//
// Thread rules: AssertionCache is used from every worker. Lookups take one shard mutex for a map find and a
// shared_ptr copy; the signer runs outside any lock. Two threads renewing the same session at once may both
// sign; the later token wins and both are valid.
#include <boost/json/object.hpp>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "proxy/header_policy.hpp"

namespace webstream::proxy {

inline constexpr std::string_view kAssertionTyp = "webstream-assertion+jwt";

// Signs `claims` into a compact JWT with JWT header `typ`; returns "" on failure. Provided by the IAM.
using AssertionSigner = std::function<std::string(const boost::json::object& claims, std::string_view typ)>;

// base64url(SHA-256(policy_header_value)), no padding: the `pol` claim.
std::string policy_digest(std::string_view policy_header_value);

// The claims for one assertion (pure). `lifetime_s` is 60 in production.
boost::json::object assertion_claims(const Identity& identity, std::string_view backend_id, std::int64_t iat_s,
                                     std::int64_t lifetime_s);

struct AssertionOptions {
  std::int64_t lifetime_s = 60;      // exp - iat (CONTRACT §8)
  std::int64_t renew_before_s = 20;  // re-sign when fewer seconds than this are left
  std::size_t max_entries = 100000;  // beyond this, expired entries are swept; then the oldest shard entry
};

class AssertionCache {
 public:
  AssertionCache(AssertionSigner signer, const Clock& clock, AssertionOptions options = {});

  // The assertion for `identity` (its session_id is the cache key) towards `backend_id`: the cached one
  // while it has at least renew_before_s left and says the same, else a freshly signed one.
  // Error 500 `assertion_failed` when the signer fails (the request must then not be forwarded).
  Result<std::string> get(const Identity& identity, std::string_view backend_id);

  // The session's identity headers in wire form (header_policy identity_header_lines, with this
  // assertion), built once per signature and shared until the next renewal: the /getConnection hot path
  // copies them into the backend request as one block. Errors as get(), or 500 invalid_identity.
  Result<std::shared_ptr<const std::string>> identity_headers(const Identity& identity, std::string_view backend_id);
  // The same for an identity that cannot change while `source` (the live session it comes from) exists: a
  // cached block made for this very source object and backend is returned without building or comparing
  // the identity (the per-request path); `make_identity` runs only when a block must be (re)signed.
  Result<std::shared_ptr<const std::string>> identity_headers(const std::shared_ptr<const void>& source,
                                                              const std::string& session_id,
                                                              std::string_view backend_id,
                                                              const std::function<Identity()>& make_identity);

  // Drops a session's token (session released or ended).
  void forget(std::string_view session_id);

  std::size_t size() const;
  std::uint64_t signatures() const { return signatures_.load(std::memory_order_relaxed); }

 private:
  struct Token {
    std::string jwt;
    std::int64_t exp_s = 0;
    // What the token and its header lines were made from, compared field by field (no allocation on a hit).
    std::string backend_id;
    Identity identity;                 // assertion left empty
    std::string header_lines;          // identity_header_lines(identity + jwt); "" when they were invalid
    std::weak_ptr<const void> source;  // the live session it was made for, when given (no ABA: weak_ptr)
    bool matches(const Identity& identity, std::string_view backend_id) const;
  };
  // The cached token for `identity`, or a freshly signed one.
  Result<std::shared_ptr<const Token>> token_for(const Identity& identity, std::string_view backend_id,
                                                 const std::shared_ptr<const void>& source = nullptr);
  std::shared_ptr<const Token> cached(const std::string& session_id) const;
  Result<std::shared_ptr<const std::string>> lines_of(const std::shared_ptr<const Token>& token,
                                                      const Identity& identity) const;
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const Token>> tokens;  // GUARDED_BY(mutex)
  };
  static constexpr std::size_t kShards = 16;

  Shard& shard_for(std::string_view session_id);
  const Shard& shard_for(std::string_view session_id) const;
  void store(Shard& shard, const std::string& session_id, std::shared_ptr<const Token> token, std::int64_t now_s);

  const AssertionSigner signer_;
  const Clock& clock_;
  const AssertionOptions options_;
  std::array<Shard, kShards> shards_;
  std::atomic<std::uint64_t> signatures_{0};
};

}  // namespace webstream::proxy
