#include "auth/authenticator.hpp"

#include <algorithm>
#include <cctype>
#include <optional>
#include <vector>

#include "core/encoding.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace webstream::auth {
namespace {

constexpr std::size_t kMaxTokenBytes = 8192;

Error unauthorized(std::string message) { return Error{401, "unauthorized", std::move(message)}; }

metrics::Counter& cache_counter(const char* result) {
  return metrics::Registry::global().counter("webstream_auth_token_cache_total",
                                             "Token checks answered from the verified-token cache (hit) or not (miss)",
                                             {{"result", result}});
}

// The token of "Bearer <token>" (scheme case-insensitive, RFC 7235), or "" when the header is no such thing.
std::string_view bearer_token(std::string_view header) {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  std::string_view rest = header.substr(kScheme.size());
  if (rest.front() != ' ') return {};
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

bool same_roles(std::vector<std::string> a, std::vector<std::string> b) {
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  return a == b;
}

}  // namespace

Authenticator::Authenticator(const TokenVerifier& verifier, UserDirectory& users, store::TokenStore& revoked,
                             const Clock& clock, AuthenticatorOptions options)
    : verifier_(verifier), users_(users), revoked_store_(revoked), clock_(clock), options_(options),
      cache_hits_(cache_counter("hit")), cache_misses_(cache_counter("miss")),
      rejected_(
          metrics::Registry::global().counter("webstream_auth_rejected_total", "Bearer tokens refused with 401")) {}

Status Authenticator::load() {
  const std::int64_t now = clock_.now_s();
  auto rows = revoked_store_.revoked_since(now - verifier_.leeway_s());
  if (!rows) return rows.error();
  std::unique_lock lock(state_mutex_);
  for (const auto& r : *rows) revoked_[r.jti] = r.expires_at;
  state_size_.store(revoked_.size() + cutoffs_.size(), std::memory_order_release);
  last_prune_s_.store(now, std::memory_order_relaxed);
  return Status::success();
}

Result<core::Principal> Authenticator::authenticate_bearer(const http::RequestContext& ctx) {
  auto shared = authenticate_bearer_shared(ctx);
  if (!shared) return shared.error();
  return core::Principal(*shared.value());
}

Result<core::Principal> Authenticator::authenticate_token(std::string_view jwt) {
  auto shared = authenticate_token_shared(jwt);
  if (!shared) return shared.error();
  return core::Principal(*shared.value());
}

Result<std::shared_ptr<const core::Principal>> Authenticator::authenticate_bearer_shared(
    const http::RequestContext& ctx) {
  if (ctx.preauthenticated) return ctx.preauthenticated;
  const std::string_view header = ctx.header("Authorization");
  if (header.empty()) {
    rejected_.inc();
    return unauthorized("a Bearer token is required");
  }
  const std::string_view token = bearer_token(header);
  if (token.empty()) {
    rejected_.inc();
    return unauthorized("the Authorization header must be 'Bearer <token>'");
  }
  return authenticate_token_shared(token);
}

Authenticator::Shard& Authenticator::shard_for(std::string_view key) {
  // The key is a SHA-256 digest: its first byte is already uniformly spread.
  return shards_[static_cast<unsigned char>(key[0]) % kShards];
}

Result<std::shared_ptr<const core::Principal>> Authenticator::authenticate_token_shared(std::string_view jwt) {
  if (jwt.empty() || jwt.size() > kMaxTokenBytes) {
    rejected_.inc();
    return unauthorized("the token is malformed");
  }
  const std::int64_t now = clock_.now_s();
  const std::string key = sha256(jwt);
  std::shared_ptr<const core::Principal> cached;
  {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto it = shard.entries.find(key);
    if (it != shard.entries.end()) {
      if (now < it->second.valid_until) {
        cached = it->second.principal;
      } else {
        shard.entries.erase(it);
      }
    }
  }
  if (cached) {
    cache_hits_.inc();
    if (!still_valid(*cached)) {
      rejected_.inc();
      return unauthorized("the token has been revoked");
    }
    return cached;
  }

  cache_misses_.inc();
  auto principal = verifier_.verify(jwt);
  if (!principal) {
    rejected_.inc();
    return principal.error();
  }
  if (!still_valid(*principal)) {
    rejected_.inc();
    return unauthorized("the token has been revoked");
  }
  if (options_.check_user_directory) {
    if (auto s = check_user(*principal); !s) {
      rejected_.inc();
      return s.error();
    }
  }
  auto shared = std::make_shared<const core::Principal>(std::move(principal.value()));
  remember(key, shared, now);
  return shared;
}

Status Authenticator::check_user(const core::Principal& p) const {
  auto found = users_.find_by_id(p.user_id);
  if (!found) return found.error();  // the store cannot answer: not the token's fault, nothing is cached
  const auto& user = found.value();
  if (!user) return unauthorized("the token's user does not exist");
  if (user->disabled) return unauthorized("the token's user is disabled");
  if (p.issued_at < user->credentials_changed_at) return unauthorized("the token has been revoked");
  if (user->org_id != p.org_id || !same_roles(user->roles, p.roles)) {
    return unauthorized("the user's roles have changed: sign in again");
  }
  return Status::success();
}

void Authenticator::remember(const std::string& key, const std::shared_ptr<const core::Principal>& principal,
                             std::int64_t now_s) {
  const std::size_t per_shard = std::max<std::size_t>(1, options_.max_cached_tokens / kShards);
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= per_shard && !shard.entries.contains(key)) {
    std::erase_if(shard.entries, [now_s](const auto& kv) { return kv.second.valid_until <= now_s; });
    // Still full: drop arbitrary entries (they are re-verified on their next use, nothing is lost but time).
    while (shard.entries.size() >= per_shard) shard.entries.erase(shard.entries.begin());
  }
  shard.entries[key] = Entry{principal, principal->expires_at + verifier_.leeway_s()};
}

bool Authenticator::still_valid(const core::Principal& p) const {
  if (p.service) return true;
  if (state_size_.load(std::memory_order_acquire) == 0) return true;
  std::shared_lock lock(state_mutex_);
  if (!p.token_id.empty() && revoked_.contains(p.token_id)) return false;
  auto it = cutoffs_.find(p.user_id);
  return it == cutoffs_.end() || p.issued_at >= it->second;
}

Status Authenticator::revoke(const core::Principal& p) {
  if (p.service || p.token_id.empty()) return Status::success();
  {
    std::unique_lock lock(state_mutex_);
    auto& exp = revoked_[p.token_id];
    exp = std::max(exp, p.expires_at);
    state_size_.store(revoked_.size() + cutoffs_.size(), std::memory_order_release);
  }
  auto stored = revoked_store_.revoke(store::RevokedToken{p.token_id, p.expires_at});
  if (!stored) {
    log::error("could not persist a token revocation", {{"userId", p.user_id}, {"error", stored.error().message}});
    return stored;
  }
  const std::int64_t now = clock_.now_s();
  if (now - last_prune_s_.load(std::memory_order_relaxed) >= options_.prune_interval_s) {
    if (auto s = prune(); !s) log::warn("pruning revoked tokens failed", {{"error", s.error().message}});
  }
  return Status::success();
}

std::int64_t Authenticator::on_user_changed(const std::string& user_id) {
  const std::int64_t now = clock_.now_s();
  const std::int64_t cutoff = now + 1;
  {
    std::unique_lock lock(state_mutex_);
    auto& c = cutoffs_[user_id];
    c = std::max(c, cutoff);
    state_size_.store(revoked_.size() + cutoffs_.size(), std::memory_order_release);
  }
  // The cutoff already refuses the user's cached tokens; dropping them as well means that once the cutoff is
  // pruned, an old token meets the store check (credentials_changed_at) again instead of a stale cache entry.
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    std::erase_if(shard.entries, [&](const auto& kv) { return kv.second.principal->user_id == user_id; });
  }
  if (now - last_prune_s_.load(std::memory_order_relaxed) >= options_.prune_interval_s) prune_memory(now);
  return cutoff;
}

std::int64_t Authenticator::not_before(const std::string& user_id) const {
  if (state_size_.load(std::memory_order_acquire) == 0) return 0;
  std::shared_lock lock(state_mutex_);
  auto it = cutoffs_.find(user_id);
  return it == cutoffs_.end() ? 0 : it->second;
}

void Authenticator::revoke_token_id(const std::string& jti, std::int64_t expires_at) {
  if (jti.empty()) return;
  {
    std::unique_lock lock(state_mutex_);
    auto& exp = revoked_[jti];
    exp = std::max(exp, expires_at);
    state_size_.store(revoked_.size() + cutoffs_.size(), std::memory_order_release);
  }
  const std::int64_t now = clock_.now_s();
  if (now - last_prune_s_.load(std::memory_order_relaxed) >= options_.prune_interval_s) prune_memory(now);
}

void Authenticator::apply_cutoff(const std::string& user_id, std::int64_t not_before) {
  if (user_id.empty()) return;
  {
    std::unique_lock lock(state_mutex_);
    auto& c = cutoffs_[user_id];
    const bool moved = not_before > c;
    c = std::max(c, not_before);
    state_size_.store(revoked_.size() + cutoffs_.size(), std::memory_order_release);
    if (!moved) return;
  }
  for (auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    std::erase_if(shard.entries, [&](const auto& kv) {
      return kv.second.principal->user_id == user_id && kv.second.principal->issued_at < not_before;
    });
  }
  const std::int64_t now = clock_.now_s();
  if (now - last_prune_s_.load(std::memory_order_relaxed) >= options_.prune_interval_s) prune_memory(now);
}

void Authenticator::prune_memory(std::int64_t now_s) {
  last_prune_s_.store(now_s, std::memory_order_relaxed);
  const std::int64_t leeway = verifier_.leeway_s();
  std::unique_lock lock(state_mutex_);
  // A revoked token past exp + leeway is refused by its exp alone.
  std::erase_if(revoked_, [&](const auto& kv) { return kv.second + leeway < now_s; });
  // Every token issued before a cutoff has expired once max lifetime + leeway have passed since it.
  std::erase_if(cutoffs_, [&](const auto& kv) { return kv.second + options_.max_token_lifetime_s + leeway < now_s; });
  state_size_.store(revoked_.size() + cutoffs_.size(), std::memory_order_release);
}

Status Authenticator::prune() {
  const std::int64_t now = clock_.now_s();
  prune_memory(now);
  auto pruned = revoked_store_.prune_revoked(now - verifier_.leeway_s());
  if (!pruned) return pruned.error();
  return Status::success();
}

std::size_t Authenticator::cached_tokens() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.entries.size();
  }
  return n;
}

core::Principal service_principal(std::string key_name, std::string org_id) {
  core::Principal p;
  p.user_id = "mcp:" + key_name;
  p.username = p.user_id;
  p.org_id = std::move(org_id);
  p.roles = {"admin"};
  p.service = true;
  return p;
}

}  // namespace webstream::auth
