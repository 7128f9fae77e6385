#include "iam/revocation_follower.hpp"

#include <algorithm>
#include <condition_variable>

#include "observability/log.hpp"

namespace webstream::iam {

RevocationFollower::RevocationFollower(store::RevocationLogStore& log, RevocationTargets targets, Options options)
    : log_(log), targets_(std::move(targets)), options_(options) {}

Status RevocationFollower::poll_once() {
  Millis since = since_ms_;
  for (;;) {
    auto page = log_.since(since, options_.page_entries);
    if (!page) return page.error();
    for (const auto& e : page->entries) {
      if (e.kind == store::RevocationKind::kToken) {
        if (targets_.revoke_token) targets_.revoke_token(e.subject, e.value);
      } else if (targets_.cutoff) {
        targets_.cutoff(e.subject, e.value);
      }
    }
    if (page->more) {
      since = page->now_ms;  // the rest of this read, with no overlap (see RevocationPage)
      continue;
    }
    since_ms_ = std::max<Millis>(0, page->now_ms - options_.overlap_ms);
    return Status::success();
  }
}

void RevocationFollower::start() {
  if (thread_.joinable()) return;
  thread_ = std::jthread([this](std::stop_token stop) {
    bool failing = false;
    for (;;) {
      auto s = poll_once();
      if (!s && !failing) {
        log::warn("revocation log unreadable; retrying", {{"error", s.error().message}});
      } else if (s && failing) {
        log::info("revocation log readable again");
      }
      failing = !s;
      std::unique_lock lock(wake_mutex_);
      // Returns early on a wake() or a stop request.
      (void)wake_cv_.wait_for(lock, stop, options_.period, [this] { return woken_; });
      woken_ = false;
      if (stop.stop_requested()) return;
    }
  });
}

void RevocationFollower::wake() {
  {
    std::lock_guard lock(wake_mutex_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

void RevocationFollower::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
}

}  // namespace webstream::iam
