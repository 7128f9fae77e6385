#include "edge/store_lookup_gate.hpp"

namespace webstream::edge {

StoreLookupGate::StoreLookupGate(StoreLookupGateOptions options, const Clock& clock)
    : options_(options), clock_(clock) {}

StoreLookupGate::Slot& StoreLookupGate::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    if (gate_) gate_->release();
    gate_ = std::exchange(other.gate_, nullptr);
  }
  return *this;
}

StoreLookupGate::Slot::~Slot() {
  if (gate_) gate_->release();
}

StoreLookupGate::Slot StoreLookupGate::try_acquire() {
  std::size_t current = in_flight_.load(std::memory_order_relaxed);
  do {
    if (current >= options_.max_in_flight) return Slot();
  } while (!in_flight_.compare_exchange_weak(current, current + 1, std::memory_order_acq_rel));
  return Slot(this);
}

void StoreLookupGate::release() { in_flight_.fetch_sub(1, std::memory_order_acq_rel); }

std::size_t StoreLookupGate::in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

bool StoreLookupGate::known_absent(const std::string& session_id) {
  const Millis now = clock_.now_ms();
  std::lock_guard lock(mutex_);
  auto it = absent_until_.find(session_id);
  return it != absent_until_.end() && now < it->second;
}

void StoreLookupGate::expire_locked(Millis now) {
  // Entries are appended with the same TTL, so the oldest expire first. An id recorded again has a newer
  // entry further back: only the entry whose deadline the map still holds removes the id.
  while (!absent_order_.empty() && absent_order_.front().second <= now) {
    auto& [id, until] = absent_order_.front();
    if (auto it = absent_until_.find(id); it != absent_until_.end() && it->second == until) absent_until_.erase(it);
    absent_order_.pop_front();
  }
}

void StoreLookupGate::record_absent(const std::string& session_id) {
  if (options_.max_absent == 0 || options_.absent_ttl_ms <= 0) return;
  const Millis now = clock_.now_ms();
  const Millis until = now + options_.absent_ttl_ms;
  std::lock_guard lock(mutex_);
  expire_locked(now);
  // Bounded by the queue, which holds every id of the map (and stale entries of ids recorded again or forgotten).
  while (absent_order_.size() >= options_.max_absent) {
    auto& [id, oldest] = absent_order_.front();
    if (auto it = absent_until_.find(id); it != absent_until_.end() && it->second == oldest) absent_until_.erase(it);
    absent_order_.pop_front();
  }
  absent_until_[session_id] = until;
  absent_order_.emplace_back(session_id, until);
}

void StoreLookupGate::forget(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  absent_until_.erase(session_id);  // its queue entry no longer matches the map and goes without effect
}

std::size_t StoreLookupGate::absent_size() const {
  std::lock_guard lock(mutex_);
  return absent_until_.size();
}

}  // namespace webstream::edge
