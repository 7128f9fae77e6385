#include "proxy/assertion.hpp"

#include <algorithm>

#include "core/encoding.hpp"
#include "proxy/header_policy.hpp"

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
  // Every identity field but the assertion itself.
  return backend_id == backend && identity.same_as(id) && identity.session_id == id.session_id;
}

AssertionCache::AssertionCache(AssertionSigner signer, const Clock& clock, AssertionOptions options)
    : signer_(std::move(signer)), clock_(clock), options_(options) {}

AssertionCache::Shard& AssertionCache::shard_for(std::string_view session_id) {
  return shards_[std::hash<std::string_view>{}(session_id) % kShards];
}

const AssertionCache::Shard& AssertionCache::shard_for(std::string_view session_id) const {
  return shards_[std::hash<std::string_view>{}(session_id) % kShards];
}

std::shared_ptr<const AssertionCache::Token> AssertionCache::cached(const std::string& session_id) const {
  const Shard& shard = shard_for(session_id);
  std::lock_guard lock(shard.mutex);
  auto it = shard.tokens.find(session_id);
  return it == shard.tokens.end() ? nullptr : it->second;
}

Result<std::shared_ptr<const AssertionCache::Token>> AssertionCache::token_for(
    const Identity& identity, std::string_view backend_id, const std::shared_ptr<const void>& source) {
  const std::int64_t now_s = clock_.now_s();
  Shard& shard = shard_for(identity.session_id);
  auto hit = cached(identity.session_id);
  if (hit && hit->exp_s - now_s >= options_.renew_before_s && hit->matches(identity, backend_id)) {
    if (!source || (!hit->source.owner_before(source) && !source.owner_before(hit->source))) return hit;
    // Same token, now known to belong to this live session: remember that (no new signature).
    auto tagged = std::make_shared<Token>(*hit);
    tagged->source = source;
    std::shared_ptr<const Token> result = tagged;
    store(shard, identity.session_id, std::move(tagged), now_s);
    return result;
  }

  // Sign outside the lock: the signer does an ECDSA/EdDSA signature.
  const auto claims = assertion_claims(identity, backend_id, now_s, options_.lifetime_s);
  std::string jwt = signer_ ? signer_(claims, kAssertionTyp) : std::string{};
  if (jwt.empty()) return Error{500, "assertion_failed", "could not sign the backend assertion"};
  signatures_.fetch_add(1, std::memory_order_relaxed);

  auto token = std::make_shared<Token>();
  token->jwt = std::move(jwt);
  token->exp_s = now_s + options_.lifetime_s;
  token->backend_id = backend_id;
  token->identity = identity;
  token->identity.assertion = token->jwt;
  if (auto lines = identity_header_lines(token->identity); lines) token->header_lines = std::move(lines.value());
  token->identity.assertion.clear();
  token->source = source;
  std::shared_ptr<const Token> result = token;
  store(shard, identity.session_id, std::move(token), now_s);
  return result;
}

Result<std::string> AssertionCache::get(const Identity& identity, std::string_view backend_id) {
  auto token = token_for(identity, backend_id);
  if (!token) return token.error();
  return token.value()->jwt;
}

Result<std::shared_ptr<const std::string>> AssertionCache::identity_headers(const Identity& identity,
                                                                            std::string_view backend_id) {
  auto token = token_for(identity, backend_id);
  if (!token) return token.error();
  return lines_of(token.value(), identity);
}

Result<std::shared_ptr<const std::string>> AssertionCache::identity_headers(
    const std::shared_ptr<const void>& source, const std::string& session_id, std::string_view backend_id,
    const std::function<Identity()>& make_identity) {
  auto hit = cached(session_id);
  if (hit && source && !hit->header_lines.empty() && hit->backend_id == backend_id &&
      hit->exp_s - clock_.now_s() >= options_.renew_before_s && !hit->source.expired() &&
      !hit->source.owner_before(source) && !source.owner_before(hit->source)) {
    return std::shared_ptr<const std::string>(hit, &hit->header_lines);
  }
  const Identity identity = make_identity();
  auto token = token_for(identity, backend_id, source);
  if (!token) return token.error();
  return lines_of(token.value(), identity);
}

Result<std::shared_ptr<const std::string>> AssertionCache::lines_of(const std::shared_ptr<const Token>& t,
                                                                    const Identity& identity) const {
  if (t->header_lines.empty()) {
    // Say which header is wrong (never its value).
    Identity with_assertion = identity;
    with_assertion.assertion = t->jwt;
    auto lines = identity_header_lines(with_assertion);
    return lines ? Error{500, "invalid_identity", "identity headers could not be built"} : lines.error();
  }
  return std::shared_ptr<const std::string>(t, &t->header_lines);
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
