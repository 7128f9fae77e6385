#pragma once
// RevocationFeed: the access-management service's side of "a logout or a user change done here reaches every
// gateway" (standalone/external mode; docs/access-management.md). It records, in the store's revocation log
// (store/revocation_log_store.hpp), every revoked token (logout) and every per-user cutoff (user disabled,
// deleted, password/roles/org changed), and answers GET /iam/internal/revocations?since=<ms> from it:
//   {"now":<ms>, "revoked":[{"jti","exp"}], "userCutoffs":[{"userId","notBefore"}], "more":<bool>}
// A gateway polls with since = the previous answer's "now" (minus a small overlap); since=0 gives every entry
// still relevant — also after a restart of this service, because the log is in the store. An answer holds at
// most about kMaxPageEntries entries (~1 MB of JSON, well under a gateway's 8 MiB answer limit); "more":true
// says entries were left out and "now" is where the next page starts (ask again at once, with no overlap).
//
// Where the records come from: FeedingTokenStore (below) is the TokenStore the service's Authenticator
// writes logouts through; the IAM resources' UserChanged hook calls record_user_cutoff with the cutoff the
// Authenticator returned.
//
// Thread rules: thread-safe; every call blocks on the store (call from BlockingPool — the logout handler
// and the resource operations already run there).
#include <boost/json/object.hpp>

#include <atomic>
#include <memory>
#include <string>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "store/revocation_log_store.hpp"
#include "store/token_store.hpp"

namespace webstream::iam {

class RevocationFeed {
 public:
  // `max_token_lifetime_s`: accessManagement.tokenLifetime — how long a user cutoff matters.
  static constexpr std::size_t kMaxPageEntries = 10000;

  // `page_entries`: the most entries one answer holds (smaller in tests).
  RevocationFeed(store::RevocationLogStore& log, const Clock& clock, std::int64_t max_token_lifetime_s,
                 std::int64_t leeway_s = 60, std::size_t page_entries = kMaxPageEntries);

  Status record_token(const std::string& jti, std::int64_t expires_at);
  Status record_user_cutoff(const std::string& user_id, std::int64_t not_before);

  // The answer of GET /iam/internal/revocations?since=<since_ms>.
  Result<boost::json::object> page(Millis since_ms);

 private:
  void maybe_prune();

  store::RevocationLogStore& log_;
  const Clock& clock_;
  const std::int64_t max_token_lifetime_s_;
  const std::int64_t leeway_s_;
  const std::size_t page_entries_;
  std::atomic<std::int64_t> last_prune_s_{0};
};

// A TokenStore that writes through to `inner` and records each revocation in the feed (the token is
// refused locally even if the feed write fails; that failure is logged).
class FeedingTokenStore final : public store::TokenStore {
 public:
  FeedingTokenStore(store::TokenStore& inner, RevocationFeed& feed) : inner_(inner), feed_(feed) {}
  Status revoke(const store::RevokedToken& token) override;
  Result<std::vector<store::RevokedToken>> revoked_since(std::int64_t now_s) override {
    return inner_.revoked_since(now_s);
  }
  Result<std::int64_t> prune_revoked(std::int64_t before_s) override { return inner_.prune_revoked(before_s); }

 private:
  store::TokenStore& inner_;
  RevocationFeed& feed_;
};

}  // namespace webstream::iam
