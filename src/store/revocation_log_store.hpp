#pragma once
// RevocationLogStore: the access-management service's log of token revocations (logout) and per-user
// cutoffs (user disabled, deleted, password/roles/org changed), kept so that gateways running in
// standalone/external mode can follow them (GET /iam/internal/revocations, docs/access-management.md).
//
// Every entry carries the time it was recorded (at_ms, stamped by the store inside its write lock, so a
// reader that reads "now" under the same lock never misses an entry stamped before it) and the time until
// which it still matters (relevant_until, seconds): a revoked token until its exp, a user cutoff until every
// token issued before it has expired. Entries past relevant_until are pruned.
//
// Thread rules: implementations are thread-safe; calls block on the store (call from BlockingPool).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/error.hpp"

namespace webstream::store {

enum class RevocationKind { kToken, kUserCutoff };

struct RevocationEntry {
  RevocationKind kind = RevocationKind::kToken;
  std::string subject;              // jti (kToken) or user id (kUserCutoff)
  std::int64_t value = 0;           // seconds: the token's exp (kToken) or the user's not-before (kUserCutoff)
  std::int64_t relevant_until = 0;  // seconds: pruned after this
  Millis at_ms = 0;                 // when it was recorded (set by append)
};

struct RevocationPage {
  // The next `since`: the store's clock when the page was read, or, when `more`, one past the last
  // entry's at_ms (a page ends only between two stamps, so asking from there loses and repeats nothing).
  Millis now_ms = 0;
  std::vector<RevocationEntry> entries;
  bool more = false;  // entries were left out: ask again from now_ms at once
};

class RevocationLogStore {
 public:
  virtual ~RevocationLogStore() = default;
  // Records an entry, stamping at_ms with the store's clock. For one subject and kind the largest value wins.
  virtual Status append(const RevocationEntry& entry) = 0;
  // The entries recorded at or after since_ms that are still relevant at the store's clock (since_ms 0:
  // every relevant entry), oldest first, with the time of the read. At most about `limit` entries: a page
  // is cut after the last entry with the limit-th entry's stamp (entries sharing one stamp stay together).
  virtual Result<RevocationPage> since(Millis since_ms, std::size_t limit) = 0;
  // Deletes entries whose relevant_until < before_s; returns how many.
  virtual Result<std::int64_t> prune(std::int64_t before_s) = 0;
};

}  // namespace webstream::store
