#pragma once
// StoreLookupGate: what a WebSocket upgrade with a connect token for a session this gateway does not know may
// cost the shared store (CONTRACT §8, §12).
//
// On a shared store such a session may have been selected through another gateway in the last second (before
// the once-a-second sync took it in), so its row is read. A connect token cannot be checked without that row
// (it is an HMAC of the session's id, user and creation time), so anyone can send one: the read is bounded
// instead. (A JWT caller's read needs no gate: it happens only once the token verified.)
//  - a negative cache: session ids the store did not have, for `absent_ttl_ms` (1 s: by then the sync has
//    taken in a session selected elsewhere), at most `max_absent` of them (the oldest go first);
//  - a cap on concurrent reads: `max_in_flight` (2 of the pool's 4 PostgreSQL connections, so probes never
//    starve selects and check-ins); one more is refused at once, answered 503 store_unavailable + Retry-After.
//
// Thread rules: every method is thread-safe (one mutex for the cache, an atomic for the slots). A Slot is
// given back when it is destroyed, on whichever thread.
#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/clock.hpp"

namespace webstream::edge {

struct StoreLookupGateOptions {
  std::size_t max_in_flight = 2;
  Millis absent_ttl_ms = 1000;
  std::size_t max_absent = 4096;
};

class StoreLookupGate {
 public:
  StoreLookupGate(StoreLookupGateOptions options, const Clock& clock);
  StoreLookupGate(const StoreLookupGate&) = delete;
  StoreLookupGate& operator=(const StoreLookupGate&) = delete;

  // One admitted read; the slot is free again when the Slot is destroyed. Moveable.
  class Slot {
   public:
    Slot() = default;
    explicit Slot(StoreLookupGate* gate) : gate_(gate) {}
    Slot(Slot&& other) noexcept : gate_(std::exchange(other.gate_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot();
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    StoreLookupGate* gate_ = nullptr;
  };

  // Whether a read of `session_id` found nothing less than absent_ttl_ms ago.
  bool known_absent(const std::string& session_id);
  // A slot for one read, or an empty Slot when max_in_flight reads are running.
  Slot try_acquire();
  // The store had no live session `session_id`.
  void record_absent(const std::string& session_id);
  // A session with this id exists after all (taken into memory): forget its entry.
  void forget(const std::string& session_id);

  std::size_t in_flight() const;
  std::size_t absent_size() const;

 private:
  void release();
  void expire_locked(Millis now);

  const StoreLookupGateOptions options_;
  const Clock& clock_;
  std::atomic<std::size_t> in_flight_{0};
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Millis> absent_until_;     // GUARDED_BY(mutex_)
  std::deque<std::pair<std::string, Millis>> absent_order_;  // GUARDED_BY(mutex_): oldest first
};

}  // namespace webstream::edge
