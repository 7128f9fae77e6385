#pragma once
// Snapshot: the registry's backends at one moment, immutable once published. Request handlers on every
// worker read the current one without a lock (SnapshotPublisher::current() is one atomic load); the
// registry, the one writer, builds the next one after each change and publishes it.
//
// Backends are shared between consecutive snapshots (shared_ptr<const Backend>): a heartbeat replaces one
// backend, the others are not copied.
//
// Thread rules: a Snapshot never changes after publish(); any thread may read it. publish() is called
// by the registry only, under its mutex.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "registry/backend.hpp"

namespace webstream::registry {

using BackendPtr = std::shared_ptr<const Backend>;

struct Snapshot {
  std::uint64_t version = 0;                 // increases with every publish
  std::vector<BackendPtr> backends;          // ordered by id
  Millis heartbeat_stale_after_ms = 30'000;  // 3 × heartbeatInterval: older heartbeats are not routable

  // The backend with this id, or null. O(log n).
  const Backend* find(std::string_view id) const;
  BackendPtr find_ptr(std::string_view id) const;
  // Heartbeat newer than 3 × heartbeatInterval at `now`.
  bool heartbeat_fresh(const Backend& b, Millis now) const {
    return now - b.last_heartbeat_at < heartbeat_stale_after_ms;
  }
  // Healthy/Suspect with a fresh heartbeat: its pinned sessions are served (status and load do not matter).
  bool routable(const Backend& b, Millis now) const {
    return is_routable_state(b.health.state) && heartbeat_fresh(b, now);
  }
};

using SnapshotPtr = std::shared_ptr<const Snapshot>;

class SnapshotPublisher {
 public:
  SnapshotPublisher() : current_(std::make_shared<const Snapshot>()) {}
  SnapshotPtr current() const { return current_.load(std::memory_order_acquire); }
  void publish(SnapshotPtr next) { current_.store(std::move(next), std::memory_order_release); }

 private:
  std::atomic<SnapshotPtr> current_;
};

}  // namespace webstream::registry
