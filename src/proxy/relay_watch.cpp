#include "proxy/relay_watch.hpp"

#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/query.hpp>

#include <tuple>
#include <vector>

namespace webstream::proxy {

namespace {

struct Key {
  const void* context;
  const runtime::Timers* timers;
  std::chrono::milliseconds::rep interval;
  const http::Lifecycle* lifecycle;
  bool operator==(const Key&) const = default;
};

// This thread's watches. Weak: a watch lives while a relay holds it; an expired entry is reused.
thread_local std::vector<std::pair<Key, std::weak_ptr<RelayWatch>>> watches;

}  // namespace

std::shared_ptr<RelayWatch> RelayWatch::of(const boost::asio::any_io_executor& executor, runtime::Timers& timers,
                                           std::chrono::milliseconds interval, http::Lifecycle* lifecycle) {
  const Key key{&boost::asio::query(executor, boost::asio::execution::context), &timers, interval.count(), lifecycle};
  std::pair<Key, std::weak_ptr<RelayWatch>>* free_entry = nullptr;
  for (auto& entry : watches) {
    if (entry.second.expired()) {
      free_entry = &entry;
      continue;
    }
    if (entry.first == key) return entry.second.lock();
  }
  auto watch = std::make_shared<RelayWatch>(executor, timers, interval, lifecycle);
  if (free_entry) {
    *free_entry = {key, watch};
  } else {
    watches.emplace_back(key, watch);
  }
  return watch;
}

RelayWatch::RelayWatch(const boost::asio::any_io_executor& executor, runtime::Timers& timers,
                       std::chrono::milliseconds interval, http::Lifecycle* lifecycle)
    : executor_(executor), lifecycle_(lifecycle), timer_(timers.make_timer(executor)), interval_(interval) {}

RelayWatch::~RelayWatch() {
  // The io_context went down with relays open: they are released here (after this loop, not during it).
  std::vector<std::shared_ptr<void>> owners;
  owners.reserve(count_);
  for (Member* m = head_; m;) {
    Member* next = m->next_;
    m->watch_ = nullptr;
    m->prev_ = m->next_ = nullptr;
    owners.push_back(std::move(m->owner_));
    m = next;
  }
  head_ = nullptr;
  count_ = 0;
}

void RelayWatch::join(Member& m, std::shared_ptr<void> owner) {
  if (m.watch_) return;
  m.watch_ = this;
  m.owner_ = std::move(owner);
  m.prev_ = nullptr;
  m.next_ = head_;
  if (head_) head_->prev_ = &m;
  head_ = &m;
  ++count_;
  if (!armed_) arm();
  if (lifecycle_) {
    if (lifecycle_->stopping()) {
      // Joined after the stop began (a handshake that was under way): closed at once, on a turn of its own.
      boost::asio::post(executor_, [owner = m.owner_, &m] {
        if (m.joined()) m.on_graceful_stop();
      });
    } else if (!registered_) {
      registered_ = true;
      // Weak: the registration lives in the watch and must not keep it.
      registration_ = lifecycle_->add(executor_, [weak = weak_from_this()] {
        if (auto self = weak.lock()) self->stop_all();
      });
    }
  }
}

std::shared_ptr<void> RelayWatch::leave(Member& m) {
  if (!m.watch_) return nullptr;
  auto owner = std::move(m.owner_);
  m.watch_->remove(m);
  return owner;
}

void RelayWatch::remove(Member& m) {
  m.watch_ = nullptr;
  if (visiting_next_ == &m) visiting_next_ = m.next_;
  if (m.prev_) {
    m.prev_->next_ = m.next_;
  } else {
    head_ = m.next_;
  }
  if (m.next_) m.next_->prev_ = m.prev_;
  m.prev_ = m.next_ = nullptr;
  if (--count_ == 0 && armed_) {
    armed_ = false;
    timer_->cancel();  // no wait left behind once the last relay is gone; the aborted wait frees the watch
  }
}

void RelayWatch::arm() {
  armed_ = true;
  // The pending wait is what holds the watch (see the header).
  timer_->wait_after(interval_, [self = shared_from_this()](boost::system::error_code ec) {
    if (ec) return;  // cancelled: the last relay left (a new one re-arms)
    self->tick();
  });
}

template <class Visit>
void RelayWatch::visit_all(Visit visit) {
  auto keep = shared_from_this();  // a visit may end the last relay, and with it the watch's last holder
  for (Member* m = head_; m; m = visiting_next_) {
    visiting_next_ = m->next_;
    auto owner = m->owner_;  // the visit may end the relay and drop the watch's reference to it
    visit(*m);
  }
  visiting_next_ = nullptr;
}

void RelayWatch::tick() {
  armed_ = false;
  visit_all([](Member& m) { m.on_tick(); });
  if (count_ > 0 && !armed_) arm();
}

void RelayWatch::stop_all() {
  visit_all([](Member& m) { m.on_graceful_stop(); });
}

}  // namespace webstream::proxy
