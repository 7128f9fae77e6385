#pragma once
// The watchdog of the relays on one thread: one timer ticks every auth_check_interval and visits each relay
// that joined it, instead of a timer and a pending wait per relay (a timer block, its operation and a
// std::function per relay: ~330 bytes in three heap blocks that an idle relay pins wherever the heap had room,
// and 10,000 timer callbacks a second for 10,000 relays; docs/proxy.md, "Memory of an idle relay").
//
// One watch per (io_context, Timers, interval): relays of the same options on the same thread share it. The
// timer comes from RelayOptions::timers (the clock seam: tests drive it with FakeTimers). The first relay to
// join starts the ticks, so a lone relay is visited exactly every interval after it opened; with several, a
// relay's first visit comes within one interval. The watch lives while a relay holds it; when the last one
// leaves, its timer is cancelled (no wait is left behind).
//
// Ownership: the watch holds each joined relay (its `owner`), so an open relay needs no pending operation to stay
// alive (a tunnel waiting only for the closing bound has none); the watch is held by its own pending wait, so an
// io_context torn down with relays open destroys the wait, the watch, and then the relays (no cycle, no leak).
//
// Graceful stop: a watch made with a Lifecycle registers with it once (not once per relay) and, when the
// gateway stops, closes every relay of its list with 1001 on its own executor; a relay that joins after the
// stop began is closed at once.
//
// Thread rules: a watch belongs to one single-threaded executor (a worker's io_context); join, leave and the
// visits run there, without locks.
#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <memory>

#include "http/lifecycle.hpp"
#include "runtime/timers.hpp"

namespace webstream::proxy {

class RelayWatch : public std::enable_shared_from_this<RelayWatch> {
 public:
  // What a relay is to the watch: a node of its list (no allocation to join).
  class Member {
   public:
    // Every interval while joined. May leave() the watch (the relay ended) but must not free itself.
    virtual void on_tick() = 0;
    // The gateway stops (graceful: close 1001). May leave() the watch but must not free itself.
    virtual void on_graceful_stop() = 0;

   protected:
    Member() = default;
    ~Member() = default;
    Member(const Member&) = delete;
    Member& operator=(const Member&) = delete;

    bool joined() const { return watch_ != nullptr; }

   private:
    friend class RelayWatch;
    RelayWatch* watch_ = nullptr;  // while joined
    Member* prev_ = nullptr;
    Member* next_ = nullptr;
    std::shared_ptr<void> owner_;  // what keeps the relay alive while joined
  };

  // The watch of `executor`'s context for these timers, interval and lifecycle (may be null), made if there is
  // none.
  static std::shared_ptr<RelayWatch> of(const boost::asio::any_io_executor& executor, runtime::Timers& timers,
                                        std::chrono::milliseconds interval, http::Lifecycle* lifecycle);

  RelayWatch(const boost::asio::any_io_executor& executor, runtime::Timers& timers, std::chrono::milliseconds interval,
             http::Lifecycle* lifecycle);
  ~RelayWatch();
  RelayWatch(const RelayWatch&) = delete;
  RelayWatch& operator=(const RelayWatch&) = delete;

  // `owner` keeps `m` alive until it leaves (the relay's own shared_ptr).
  void join(Member& m, std::shared_ptr<void> owner);
  // Joined or not. Returns the owner: the caller keeps it while it still uses the member (the last reference
  // may be in it).
  static std::shared_ptr<void> leave(Member& m);
  std::size_t members() const { return count_; }
  std::chrono::milliseconds interval() const { return interval_; }

 private:
  void arm();
  void tick();
  void remove(Member& m);
  // Visits every member (the list may change during a visit).
  template <class Visit>
  void visit_all(Visit visit);
  void stop_all();

  boost::asio::any_io_executor executor_;
  http::Lifecycle* lifecycle_;
  http::Lifecycle::Registration registration_;  // made with the first member
  std::unique_ptr<runtime::CallbackTimer> timer_;
  std::chrono::milliseconds interval_;
  Member* head_ = nullptr;
  Member* visiting_next_ = nullptr;  // during tick(): the member visited next (a leave() may move it)
  std::size_t count_ = 0;
  bool armed_ = false;
  bool registered_ = false;
};

}  // namespace webstream::proxy
