#include "store/memory_token_store.hpp"

#include <algorithm>

namespace webstream::store {

Status MemoryTokenStore::revoke(const RevokedToken& token) {
  std::lock_guard lock(mutex_);
  auto& exp = revoked_[token.jti];
  exp = std::max(exp, token.expires_at);
  return Status::success();
}

Result<std::vector<RevokedToken>> MemoryTokenStore::revoked_since(std::int64_t now_s) {
  std::lock_guard lock(mutex_);
  std::vector<RevokedToken> out;
  for (const auto& [jti, exp] : revoked_) {
    if (exp >= now_s) out.push_back(RevokedToken{jti, exp});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.expires_at < b.expires_at; });
  return out;
}

Result<std::int64_t> MemoryTokenStore::prune_revoked(std::int64_t before_s) {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(
      std::erase_if(revoked_, [before_s](const auto& kv) { return kv.second < before_s; }));
}

}  // namespace webstream::store
