#pragma once
// PgChangeListener: the PostgreSQL ChangeFeed (store/change_feed.hpp) on a connection of its own (not the
// pool's: a LISTENing connection must stay the same one), named application_name "webstream-listen:<pid>" so
// an operator can find it in pg_stat_activity.
//
// Its thread: LISTEN webstream_changes, read every topic's version (change_versions), then wait on the socket
// for a notification (a change committed on any gateway, this one included) or for kChangeCheckPeriod to pass;
// either way read the versions again and call on_change for each topic whose version moved. A lost
// connection (the database restarted, pg_terminate_backend, a network cut): reconnect after half a second,
// then every second until it works, calling on_change for every topic at each failed attempt (the readers
// then poll once a second, as the version check would); once connected, LISTEN again, re-read the versions
// and call on_change for every topic: what changed during the gap is read then.
//
// Metrics: webstream_store_change_notifications_total, webstream_store_change_wakeups_total{topic},
// webstream_store_change_listen_reconnects_total, webstream_store_change_listening (1 while LISTENing).
//
// Thread rules: start()/stop() from one thread; everything else on the listener's thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "store/change_feed.hpp"
#include "store/postgres/pg_connection.hpp"

namespace webstream::store::pg {

// Creates the metric families above (zero), so /metrics shows them on every gateway, SQLite ones included.
void register_change_feed_metrics();

class PgChangeListener final : public ChangeFeed {
 public:
  PgChangeListener(std::string conninfo, std::string setting)
      : conninfo_(std::move(conninfo)), setting_(std::move(setting)) {}
  ~PgChangeListener() override { stop(); }
  void start(std::function<void(const std::string& topic)> on_change) override;
  void stop() override;

 private:
  void run(std::stop_token stop);
  // Connects and LISTENs; false (logged once per spell) when it cannot.
  bool connect();
  // Reads the versions; calls on_change for those that moved (all of them when `all`). Throws PgError.
  void check(bool all);
  // on_change for every topic (while it cannot connect: once a second).
  void wake_all();
  // Waits for a notification or `ms`; false when the connection broke.
  bool wait(int ms, bool& notified);

  const std::string conninfo_;  // a secret: never logged
  const std::string setting_;
  std::function<void(const std::string&)> on_change_;
  std::unique_ptr<PgConnection> conn_;  // the listener thread's only
  std::map<std::string, std::int64_t> versions_;
  bool connected_once_ = false;
  bool failing_ = false;
  std::jthread thread_;
};

}  // namespace webstream::store::pg
