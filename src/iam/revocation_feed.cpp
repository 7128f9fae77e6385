#include "iam/revocation_feed.hpp"

#include <boost/json/array.hpp>

#include "observability/log.hpp"

namespace webstream::iam {
namespace {

namespace json = boost::json;
constexpr std::int64_t kPruneIntervalS = 600;

}  // namespace

RevocationFeed::RevocationFeed(store::RevocationLogStore& log, const Clock& clock, std::int64_t max_token_lifetime_s,
                               std::int64_t leeway_s, std::size_t page_entries)
    : log_(log), clock_(clock), max_token_lifetime_s_(max_token_lifetime_s), leeway_s_(leeway_s),
      page_entries_(page_entries) {}

Status RevocationFeed::record_token(const std::string& jti, std::int64_t expires_at) {
  store::RevocationEntry e;
  e.kind = store::RevocationKind::kToken;
  e.subject = jti;
  e.value = expires_at;
  e.relevant_until = expires_at + leeway_s_;
  auto s = log_.append(e);
  if (s) maybe_prune();
  return s;
}

Status RevocationFeed::record_user_cutoff(const std::string& user_id, std::int64_t not_before) {
  store::RevocationEntry e;
  e.kind = store::RevocationKind::kUserCutoff;
  e.subject = user_id;
  e.value = not_before;
  // Every token issued before the cutoff has expired once the longest lifetime (+ leeway) has passed.
  e.relevant_until = not_before + max_token_lifetime_s_ + leeway_s_;
  auto s = log_.append(e);
  if (s) maybe_prune();
  return s;
}

void RevocationFeed::maybe_prune() {
  const std::int64_t now = clock_.now_s();
  if (now - last_prune_s_.load(std::memory_order_relaxed) < kPruneIntervalS) return;
  last_prune_s_.store(now, std::memory_order_relaxed);
  if (auto pruned = log_.prune(now); !pruned) {
    log::warn("pruning the revocation log failed", {{"error", pruned.error().message}});
  }
}

Result<json::object> RevocationFeed::page(Millis since_ms) {
  auto page = log_.since(since_ms < 0 ? 0 : since_ms, page_entries_);
  if (!page) return page.error();
  json::array revoked;
  json::array cutoffs;
  for (const auto& e : page->entries) {
    if (e.kind == store::RevocationKind::kToken) {
      revoked.push_back(json::object{{"jti", e.subject}, {"exp", e.value}});
    } else {
      cutoffs.push_back(json::object{{"userId", e.subject}, {"notBefore", e.value}});
    }
  }
  return json::object{{"now", page->now_ms},
                      {"revoked", std::move(revoked)},
                      {"userCutoffs", std::move(cutoffs)},
                      {"more", page->more}};
}

Status FeedingTokenStore::revoke(const store::RevokedToken& token) {
  auto stored = inner_.revoke(token);
  if (auto fed = feed_.record_token(token.jti, token.expires_at); !fed) {
    log::error("could not record a token revocation for the gateways", {{"error", fed.error().message}});
    if (stored) return fed;
  }
  return stored;
}

}  // namespace webstream::iam
