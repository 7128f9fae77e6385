#pragma once
// TokenStore: revoked user tokens (logout, CONTRACT §6), so a logged-out token stays refused after a
// restart. A row lives until the token would have expired anyway; prune_revoked deletes older rows.
//
// Thread rules: implementations are thread-safe; calls block on the store (call from BlockingPool).
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"

namespace webstream::store {

struct RevokedToken {
  std::string jti;
  std::int64_t expires_at = 0;  // seconds since the epoch: the token's own exp
};

class TokenStore {
 public:
  virtual ~TokenStore() = default;
  // Records a revoked token (idempotent: revoking twice keeps one row).
  virtual Status revoke(const RevokedToken& token) = 0;
  // Revoked tokens whose expires_at >= now_s (the ones that still matter).
  virtual Result<std::vector<RevokedToken>> revoked_since(std::int64_t now_s) = 0;
  // Deletes rows with expires_at < before_s; returns how many.
  virtual Result<std::int64_t> prune_revoked(std::int64_t before_s) = 0;
};

}  // namespace webstream::store
