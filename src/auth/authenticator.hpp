#pragma once
// Authenticator: THE token check of the gateway (CONTRACT §6, §7, §8). Every component that needs to know
// who is calling asks it: authenticate_bearer() for "Authorization: Bearer …", authenticate_token() for a
// JWT given otherwise (?token= on a WebSocket upgrade), still_valid() from open WebSocket relays once a
// second. Failures are 401 `unauthorized`.
//
// Cost: a verified token is cached, keyed by SHA-256 of its text, until its exp (+ leeway); a cache hit
// costs one SHA-256, one shard lock and one still_valid() — microseconds. A miss costs an Ed25519 verify and
// one UserDirectory lookup (a store read: the user must exist, not be disabled, hold the token's org and
// roles, and have changed credentials no later than the token's iat). The cache is bounded
// (max_cached_tokens): a full shard drops expired entries first, then arbitrary ones.
//
// Revocation takes effect AT ONCE despite the cache, because every hit re-checks two in-memory sets:
//  - revoked jtis (logout): revoke() adds one and persists it (store/token_store.hpp); load() reads the
//    unexpired ones back at start, so a logout survives a restart;
//  - per-user cutoffs: on_user_changed(user) — called by the IAM when a user is disabled, deleted, or their
//    password, roles or org change — makes every token of that user issued before now+1 s invalid. The
//    returned cutoff is what the IAM should store as the user's credentials_changed_at, so that the rule
//    also holds after a restart (the cache-miss path compares iat with credentials_changed_at). A login in
//    the same second passes not_before(user) to TokenService::issue so its fresh token is not caught.
// still_valid() checks exactly those two sets (and is true for service principals). It deliberately does
// not check exp: a WebSocket authorised at its upgrade is not cut when the token later expires — only
// when the token or the user is revoked.
//
// Thread rules: any thread. The cache is 16 mutex-guarded shards; the revocation sets sit behind one
// shared_mutex that still_valid() takes shared (and skips entirely while both sets are empty). authenticate_*
// and still_valid never write the store; a cache miss READS it (UserDirectory) on the calling thread. load(),
// revoke() and prune() write the store: call them from runtime::BlockingPool.
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/token_verifier.hpp"
#include "auth/user_directory.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/principal.hpp"
#include "http/types.hpp"
#include "store/token_store.hpp"

namespace webstream::metrics {
class Counter;
}

namespace webstream::auth {

struct AuthenticatorOptions {
  std::size_t max_cached_tokens = 100'000;  // verified tokens kept in memory
  // The longest lifetime a token can have (accessManagement.tokenLifetime): a user cutoff older than this
  // (plus leeway) can no longer matter and is forgotten. (Set too low, an old token is not let through: it
  // misses the cache and meets the store's credentials_changed_at.)
  std::int64_t max_token_lifetime_s = 3600;
  std::int64_t prune_interval_s = 600;  // revoke() prunes expired revocations at most this often
  // true: a cache miss also checks the user in the UserDirectory (exists, enabled, same org and roles,
  // credentials unchanged since iat). false: the verifier's claims are taken as they are — for a gateway
  // whose IAM is another process (standalone/external mode), which vouches for its tokens' claims and
  // reports disabled/changed users through apply_cutoff(); the directory is then never read.
  bool check_user_directory = true;
};

class Authenticator {
 public:
  Authenticator(const TokenVerifier& verifier, UserDirectory& users, store::TokenStore& revoked, const Clock& clock,
                AuthenticatorOptions options = {});

  // Loads the revoked tokens that have not expired yet. Blocks; call once at start.
  Status load();

  // Authorization: Bearer <jwt> (scheme case-insensitive). A request dispatched in-process with a
  // preauthenticated service principal (the MCP proxy) answers that principal without reading a header.
  Result<core::Principal> authenticate_bearer(const http::RequestContext& ctx);
  // A JWT given directly.
  Result<core::Principal> authenticate_token(std::string_view jwt);
  // The same checks, answering the cached principal itself instead of a copy (the proxy's hot path: a copy
  // is five strings and a vector per request, docs/proxy.md "Hot path"). The object is immutable and shared
  // with the cache; it stays valid as long as the pointer is held, after the cache dropped it too.
  Result<std::shared_ptr<const core::Principal>> authenticate_bearer_shared(const http::RequestContext& ctx);
  Result<std::shared_ptr<const core::Principal>> authenticate_token_shared(std::string_view jwt);

  // False once the principal's token was revoked or its user changed (see above). Cheap; any thread.
  bool still_valid(const core::Principal& principal) const;

  // Logout: revokes the principal's token at once (memory) and persists it. A service principal has no
  // token: success, nothing done. Error when the store write fails (the token is still refused until a
  // restart). Blocks.
  Status revoke(const core::Principal& principal);

  // A user was disabled, deleted, or changed password, roles or org: their tokens issued before the
  // returned instant (seconds; now + 1) stop working now. Store the returned value as the user's
  // credentials_changed_at. Also drops the user's cached tokens (one pass over the cache: user changes are
  // rare). Never blocks on the store.
  std::int64_t on_user_changed(const std::string& user_id);
  // The user's in-memory cutoff (0 when none): TokenService::issue's not_before for a fresh login.
  std::int64_t not_before(const std::string& user_id) const;

  // Revocations learned from elsewhere — a remote access-management service's feed, in standalone/external
  // mode (iam/remote/revocation_poller.hpp). Memory only (the service keeps the record), idempotent, never block:
  // a token id refused until `expires_at` (+ leeway)…
  void revoke_token_id(const std::string& jti, std::int64_t expires_at);
  // …and every token of `user_id` issued before `not_before` refused (the larger cutoff wins). Drops the
  // user's cached tokens only when the cutoff moved, so a feed that repeats itself costs nothing.
  void apply_cutoff(const std::string& user_id, std::int64_t not_before);

  // Forgets expired revocations and cutoffs in memory and expired rows in the store. Blocks.
  Status prune();

  std::size_t cached_tokens() const;

 private:
  struct Entry {
    std::shared_ptr<const core::Principal> principal;  // never null
    std::int64_t valid_until = 0;                      // exp + leeway (seconds)
  };
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, Entry> entries;  // GUARDED_BY(mutex); key: SHA-256 of the token
  };
  static constexpr std::size_t kShards = 16;

  Shard& shard_for(std::string_view key);
  void remember(const std::string& key, const std::shared_ptr<const core::Principal>& principal, std::int64_t now_s);
  Status check_user(const core::Principal& principal) const;
  void prune_memory(std::int64_t now_s);

  const TokenVerifier& verifier_;
  UserDirectory& users_;
  store::TokenStore& revoked_store_;
  const Clock& clock_;
  const AuthenticatorOptions options_;

  std::array<Shard, kShards> shards_;

  mutable std::shared_mutex state_mutex_;
  std::unordered_map<std::string, std::int64_t> revoked_;  // GUARDED_BY(state_mutex_): jti → exp
  std::unordered_map<std::string, std::int64_t> cutoffs_;  // GUARDED_BY(state_mutex_): user id → not before
  std::atomic<std::size_t> state_size_{0};                 // revoked_.size() + cutoffs_.size()
  std::atomic<std::int64_t> last_prune_s_{0};

  metrics::Counter& cache_hits_;
  metrics::Counter& cache_misses_;
  metrics::Counter& rejected_;
};

// The principal of an MCP key acting on /mcp/iam/* (CONTRACT §9): user id and username "mcp:<name>",
// role admin, service = true, no token. `org_id`: the org objects created without an orgId land in
// ("" leaves it to the IAM's default).
core::Principal service_principal(std::string key_name, std::string org_id = {});

}  // namespace webstream::auth
