#pragma once
// ChangeFeed: what other gateways changed, as a wake-up (CONTRACT §12, "Per-request cost"). Several gateways
// on one store keep what the hot path needs in memory (revocations, the backend registry) and re-read it when
// the database says it changed: each change bumps a topic's version in the database in the transaction that
// makes it, and the feed calls on_change(topic) for every topic whose version moved. The fast path is a
// notification (PostgreSQL LISTEN/NOTIFY, milliseconds); the fallback is a version check every
// kChangeCheckPeriod, so a lost notification delays a change by at most that. After its connection is lost
// the feed reconnects, LISTENs again, then calls on_change for EVERY topic (a change made during the gap,
// whose notification went nowhere, is read then).
//
// Topics: kRevocationsTopic (logouts, token revocations, user cutoffs: disabled, deleted, password or role
// changed), kIamTopic (users, roles, orgs, workspaces, apps, policies, groups, entitlements), kRegistryTopic
// (backends registered, heartbeats, unregistered).
//
// Thread rules: start() and stop() from one thread; on_change runs on the feed's own thread and must not
// block long (wake a loop; do not read the store there).
#include <chrono>
#include <functional>
#include <string>

namespace webstream::store {

inline constexpr const char* kRevocationsTopic = "revocations";
inline constexpr const char* kIamTopic = "iam";
inline constexpr const char* kRegistryTopic = "registry";
inline constexpr std::chrono::seconds kChangeCheckPeriod{1};

class ChangeFeed {
 public:
  virtual ~ChangeFeed() = default;
  virtual void start(std::function<void(const std::string& topic)> on_change) = 0;
  // Stops (idempotent); on_change is not called after it returns.
  virtual void stop() = 0;
};

}  // namespace webstream::store
