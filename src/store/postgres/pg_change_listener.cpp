#include "store/postgres/pg_change_listener.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace webstream::store::pg {
namespace {

constexpr int kSliceMs = 200;  // how often a wait looks at the stop request

metrics::Counter& notifications() {
  return metrics::Registry::global().counter("webstream_store_change_notifications_total",
                                             "Change notifications (LISTEN/NOTIFY) this gateway received");
}
metrics::Counter& wakeups(const std::string& topic) {
  return metrics::Registry::global().counter("webstream_store_change_wakeups_total",
                                             "Times a change of the topic woke this gateway's readers",
                                             {{"topic", topic}});
}
metrics::Counter& reconnects() {
  return metrics::Registry::global().counter("webstream_store_change_listen_reconnects_total",
                                             "Times the change listener connected again after losing its connection");
}
metrics::Gauge& listening() {
  return metrics::Registry::global().gauge("webstream_store_change_listening",
                                           "Whether the change listener is LISTENing (1) or reconnecting (0)");
}

}  // namespace

void register_change_feed_metrics() {
  (void)notifications();
  (void)reconnects();
  (void)listening();
  for (const char* t : {kRevocationsTopic, kIamTopic, kRegistryTopic}) (void)wakeups(t);
}

void PgChangeListener::start(std::function<void(const std::string& topic)> on_change) {
  if (thread_.joinable()) return;
  on_change_ = std::move(on_change);
  register_change_feed_metrics();
  listening().set(0);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

void PgChangeListener::stop() {
  if (!thread_.joinable()) return;
  thread_.request_stop();
  thread_.join();
  conn_.reset();
  listening().set(0);
}

bool PgChangeListener::connect() {
  auto opened = PgConnection::open(conninfo_, setting_);
  if (!opened) {
    if (!failing_) log::warn("change listener cannot connect; retrying", {{"error", opened.error().message}});
    failing_ = true;
    return false;
  }
  try {
    (*opened)->exec_script("SET application_name = 'webstream-listen:" + std::to_string(::getpid()) + "'");
    (*opened)->exec_script("LISTEN webstream_changes");
  } catch (const PgError& e) {
    if (!failing_) log::warn("change listener cannot connect; retrying", {{"error", e.message}});
    failing_ = true;
    return false;
  }
  conn_ = std::move(opened.value());
  if (connected_once_) {
    reconnects().inc();
    log::info("change listener listening again");
  }
  connected_once_ = true;
  failing_ = false;
  listening().set(1);
  return true;
}

void PgChangeListener::wake_all() {
  for (const char* t : {kRevocationsTopic, kIamTopic, kRegistryTopic}) {
    wakeups(t).inc();
    on_change_(t);
  }
}

void PgChangeListener::check(bool all) {
  auto q = conn_->exec("SELECT topic, version FROM change_versions");
  for (int i = 0; i < q.rows(); ++i) {
    const std::string topic = q.text(i, 0);
    const std::int64_t version = q.integer(i, 1);
    auto it = versions_.find(topic);
    const bool moved = it == versions_.end() || it->second != version;
    versions_[topic] = version;
    if (moved || all) {
      wakeups(topic).inc();
      on_change_(topic);
    }
  }
}

bool PgChangeListener::wait(int ms, bool& notified) {
  PGconn* raw = conn_->raw();
  const auto drain = [&] {
    while (PGnotify* n = PQnotifies(raw)) {
      notified = true;
      notifications().inc();
      PQfreemem(n);
    }
  };
  drain();  // notifications libpq already read while the last check's query ran
  if (notified) return true;
  const int fd = PQsocket(raw);
  if (fd < 0) return false;
  pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
  const int ready = ::poll(&p, 1, ms);
  if (ready < 0) return true;  // EINTR: look again
  if (ready > 0) {
    if (PQconsumeInput(raw) != 1) return false;
    drain();
  }
  return PQstatus(raw) == CONNECTION_OK;
}

void PgChangeListener::run(std::stop_token stop) {
  using Clock = std::chrono::steady_clock;
  auto pause = [&stop](std::chrono::milliseconds d) {
    for (auto end = Clock::now() + d; Clock::now() < end && !stop.stop_requested();) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kSliceMs));
    }
  };
  while (!stop.stop_requested()) {
    if (!conn_) {
      if (!connect()) {
        // No notifications and no versions to check: every topic is woken every second instead, so the
        // readers poll as often as the version check would have looked.
        wake_all();
        pause(std::chrono::seconds(1));
        continue;
      }
      try {
        check(true);  // after (re)connecting: every topic, whatever its version (the gap's changes)
      } catch (const PgError&) {
        conn_.reset();
        listening().set(0);
        continue;
      }
    }
    auto next_check = Clock::now() + kChangeCheckPeriod;
    bool notified = false;
    bool alive = true;
    while (alive && !notified && !stop.stop_requested() && Clock::now() < next_check) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - Clock::now()).count();
      alive = wait(static_cast<int>(std::clamp<std::int64_t>(left, 0, kSliceMs)), notified);
    }
    if (stop.stop_requested()) return;
    try {
      if (!alive) throw PgError{.sqlstate = "", .message = "connection lost", .connection_lost = true};
      check(false);  // a notification, or the fallback check every kChangeCheckPeriod
    } catch (const PgError& e) {
      log::warn("change listener lost its connection; reconnecting", {{"error", e.message}});
      conn_.reset();
      listening().set(0);
      // A moment before reconnecting: a server that is restarting refuses at once. The gap costs at most
      // this plus a connection: every topic is read again once LISTENing.
      pause(std::chrono::milliseconds(500));
    }
  }
}

}  // namespace webstream::store::pg
