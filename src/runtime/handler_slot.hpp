#pragma once
// Memory for one pending asynchronous operation, kept inside the object that starts it.
//
// Asio allocates every pending operation (the handler and the reactor's bookkeeping, ~100-150 bytes) with the
// handler's associated allocator, by default from the heap (it caches only two blocks per thread). An object
// that keeps a wait pending for hours (an idle WebSocket relay) then pins a heap block placed wherever the
// heap had room at the moment it went quiet, usually between the short-lived buffers of other connections'
// handshakes: after a storm of handshakes those holes cannot be given back (docs/proxy.md, "Memory of an idle
// relay"). A HandlerSlot is storage inside the owner; `bind_slot(slot, handler)` makes asio place the
// operation there. Larger operations, or a second one while the slot is taken, fall back to the heap.
//
// Rules: one executor (no locks); the slot must outlive the operation, i.e. the handler must keep the owner
// alive (a shared_ptr capture does: asio frees the operation's memory before it calls or destroys the
// handler it moved out).
#include <boost/asio/bind_allocator.hpp>

#include <cstddef>
#include <new>
#include <utility>

namespace webstream::runtime {

class HandlerSlot {
 public:
  static constexpr std::size_t kBytes = 256;

  HandlerSlot() = default;
  HandlerSlot(const HandlerSlot&) = delete;
  HandlerSlot& operator=(const HandlerSlot&) = delete;

  void* allocate(std::size_t size) {
    if (!in_use_ && size <= kBytes) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(size);
  }
  void deallocate(void* p) noexcept {
    if (p == static_cast<void*>(storage_)) {
      in_use_ = false;
    } else {
      ::operator delete(p);
    }
  }
  bool in_use() const { return in_use_; }

 private:
  alignas(std::max_align_t) unsigned char storage_[kBytes];
  bool in_use_ = false;
};

// A standard allocator over a HandlerSlot (what asio rebinds for its operation types).
template <class T>
class SlotAllocator {
 public:
  using value_type = T;
  explicit SlotAllocator(HandlerSlot& slot) noexcept : slot_(&slot) {}
  template <class U>
  SlotAllocator(const SlotAllocator<U>& other) noexcept : slot_(other.slot()) {}  // NOLINT: rebinding

  T* allocate(std::size_t n) {
    static_assert(alignof(T) <= alignof(std::max_align_t), "over-aligned operation");
    return static_cast<T*>(slot_->allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept { slot_->deallocate(p); }
  HandlerSlot* slot() const noexcept { return slot_; }

  template <class U>
  bool operator==(const SlotAllocator<U>& other) const noexcept {
    return slot_ == other.slot();
  }

 private:
  HandlerSlot* slot_;
};

template <class Handler>
auto bind_slot(HandlerSlot& slot, Handler&& handler) {
  return boost::asio::bind_allocator(SlotAllocator<void>(slot), std::forward<Handler>(handler));
}

}  // namespace webstream::runtime
