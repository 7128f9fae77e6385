#include "proxy/assertion.hpp"

#include <algorithm>

#include "core/encoding.hpp"

namespace webstream::proxy {

std::string policy_digest(std::string_view policy_header_value) {
  return base64url_encode(sha256(policy_header_value));
}

boost::json::object assertion_claims(const Identity& identity, std::string_view backend_id, std::int64_t iat_s,
                                     std::int64_t lifetime_s) {
  boost::json::object claims;
  claims["aud"] = backend_id;
  claims["sub"] = identity.user_id;
  claims["org"] = identity.org_id;
  claims["sid"] = identity.session_id;
  claims["ws"] = identity.workspace_id;
  claims["app"] = identity.app_id;
  claims["pol"] = policy_digest(policy_header_value(identity.policy_json));
  claims["iat"] = iat_s;
  claims["exp"] = iat_s + lifetime_s;
  return claims;
}

bool AssertionCache::Token::matches(const Identity& id, std::string_view backend) const {
  return backend_id == backend && user_id == id.user_id && org_id == id.org_id &&
         workspace_id == id.workspace_id && app_id == id.app_id && policy_json == id.policy_json;
}

AssertionCache::AssertionCache(AssertionSigner signer, const Clock& clock, AssertionOptions options)
    : signer_(std::move(signer)), clock_(clock), options_(options) {}

AssertionCache::Shard& AssertionCache::shard_for(std::string_view session_id) {
  return shards_[std::hash<std::string_view>{}(session_id) % kShards];
}

Result<std::string> AssertionCache::get(const Identity& identity, std::string_view backend_id) {
  const std::int64_t now_s = clock_.now_s();
  Shard& shard = shard_for(identity.session_id);
  std::shared_ptr<const Token> cached;
  {
    std::lock_guard lock(shard.mutex);
    auto it = shard.tokens.find(identity.session_id);
    if (it != shard.tokens.end()) cached = it->second;
  }
  if (cached && cached->exp_s - now_s >= options_.renew_before_s && cached->matches(identity, backend_id)) {
    return cached->jwt;
  }

  // Sign outside the lock: the signer does an ECDSA/EdDSA signature.
  const auto claims = assertion_claims(identity, backend_id, now_s, options_.lifetime_s);
  std::string jwt = signer_ ? signer_(claims, kAssertionTyp) : std::string{};
  if (jwt.empty()) return Error{500, "assertion_failed", "could not sign the backend assertion"};
  signatures_.fetch_add(1, std::memory_order_relaxed);

  auto token = std::make_shared<Token>();
  token->jwt = jwt;
  token->exp_s = now_s + options_.lifetime_s;
  token->backend_id = backend_id;
  token->user_id = identity.user_id;
  token->org_id = identity.org_id;
  token->workspace_id = identity.workspace_id;
  token->app_id = identity.app_id;
  token->policy_json = identity.policy_json;
  store(shard, identity.session_id, std::move(token), now_s);
  return jwt;
}

void AssertionCache::store(Shard& shard, const std::string& session_id, std::shared_ptr<const Token> token,
                           std::int64_t now_s) {
  const std::size_t per_shard = std::max<std::size_t>(1, options_.max_entries / kShards);
  std::lock_guard lock(shard.mutex);
  auto it = shard.tokens.find(session_id);
  if (it != shard.tokens.end()) {
    it->second = std::move(token);
    return;
  }
  if (shard.tokens.size() >= per_shard) {
    // Sessions that ended without forget(): their tokens have expired. Sweep those first; if the shard is
    // still full, drop any one entry (it is re-signed on its next use).
    std::erase_if(shard.tokens, [now_s](const auto& kv) { return kv.second->exp_s <= now_s; });
    if (shard.tokens.size() >= per_shard) shard.tokens.erase(shard.tokens.begin());
  }
  shard.tokens.emplace(session_id, std::move(token));
}

void AssertionCache::forget(std::string_view session_id) {
  Shard& shard = shard_for(session_id);
  std::lock_guard lock(shard.mutex);
  shard.tokens.erase(std::string(session_id));
}

std::size_t AssertionCache::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    n += shard.tokens.size();
  }
  return n;
}

}  // namespace webstream::proxy
