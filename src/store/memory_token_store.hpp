#pragma once
// MemoryTokenStore: a TokenStore kept in memory only. A gateway whose IAM is another process (standalone/
// external access management) records there the logouts it proxied, so they take effect at once; the
// access-management service is the one that keeps them across restarts and tells every gateway
// (iam/revocation_feed.hpp), so nothing is lost when this store is.
//
// Thread rules: thread-safe (one mutex); never blocks on I/O.
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/token_store.hpp"

namespace webstream::store {

class MemoryTokenStore final : public TokenStore {
 public:
  Status revoke(const RevokedToken& token) override;
  Result<std::vector<RevokedToken>> revoked_since(std::int64_t now_s) override;
  Result<std::int64_t> prune_revoked(std::int64_t before_s) override;

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::int64_t> revoked_;  // GUARDED_BY(mutex_): jti → exp
};

}  // namespace webstream::store
