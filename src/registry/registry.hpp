#pragma once
// Registry: the backend registry (CONTRACT §4), the ONE writer of backend state. After every change it
// publishes an immutable Snapshot (snapshot.hpp) that request handlers read without a lock.
//
// Persistence (docs/registry.md):
//   - register and unregister write the store before they answer (write-through): a registration the
//     backend was told about survives kill -9.
//   - heartbeats (and a heartbeat that registers an unknown serverUrl) change memory only and mark the
//     backend dirty; flush() writes every dirty backend in one transaction. The gateway calls flush()
//     periodically (FlushLoop) and at stop. Losing the last few seconds of heartbeats in a crash costs
//     nothing: backends heartbeat every 10 s, and a heartbeat from an unknown serverUrl registers it.
//   - health state and pin counts are never stored: after a restart every backend is Unknown (probed
//     before routing) and the sessions component re-counts its pins (call load() before
//     SessionService::load()).
//
// Ownership (backend keys): a backend belongs to the NAME of the key that registered it. Register,
// heartbeat or unregister for its serverUrl with another key → 403 forbidden, nothing changes. A backend
// registered while no keys were configured (owner "") is adopted by the first key that touches it. With no
// keys configured the caller's key name is "" and every call is allowed.
//
// Thread rules: every method is thread-safe. Writers serialise on mutex_ (memory) and, for store writes,
// store_mutex_ (taken first) so the store sees changes in the order memory did. register_backend(),
// unregister() and flush() block on the store: call them from runtime::BlockingPool, never on an I/O
// thread. heartbeat(), add_pinned(), pick(), record_probe() never block on I/O. snapshot() is lock-free.
// Listeners run on the calling thread with no registry lock held (they may call back into the registry).
#include <boost/json/array.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "registry/balancer.hpp"
#include "registry/health_state.hpp"
#include "registry/snapshot.hpp"
#include "store/registry_store.hpp"

namespace webstream::registry {

// What a register or heartbeat body says. Absent fields leave the stored value as it was (a new backend
// gets the Backend defaults; maxSessions defaults to 0: no sessions until the backend says how many).
struct BackendReport {
  std::string server_url;  // normalised (normalize_server_url)
  std::optional<std::int64_t> max_sessions;
  std::optional<std::string> instance_type;
  std::optional<std::string> ec2_instance_id;
  std::optional<std::string> version;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::vector<std::string>> capabilities;
  std::optional<std::string> status;
  std::optional<std::int64_t> active_sessions;
  std::optional<double> cpu_usage;
  std::optional<double> memory_usage;
};

// The settings that may change at run time (SIGHUP).
struct RegistrySettings {
  BalancerSettings balancing;
  HealthTiming health;
  int heartbeat_interval_s = 10;  // told to backends; a heartbeat older than 3× is stale

  static RegistrySettings from_config(const config::GatewayConfig& c);
};

class Registry {
 public:
  Registry(const config::GatewayConfig& config, store::RegistryStore& store, const Clock& clock);
  Registry(RegistrySettings settings, store::RegistryStore& store, const Clock& clock);
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Reads every stored backend (Unknown, no pins) and publishes them. Blocks on the store.
  Status load();

  // POST /gateway/register: a new serverUrl gets a new id "b-…"; a known one is updated, same id. Counts as
  // a heartbeat. Errors: 403 forbidden (another key's backend), 500 if the store write failed (memory
  // keeps the registration; the next flush() retries the write). Blocks on the store.
  Result<std::string> register_backend(const BackendReport& report, const std::string& key_name);
  // POST /gateway/heartbeat: refreshes the backend; an unknown serverUrl is registered. Memory only (see
  // flush()). Returns the backend id, or 403 forbidden.
  Result<std::string> heartbeat(const BackendReport& report, const std::string& key_name);
  // POST /gateway/unregister: removes the backend and returns its id (nullopt when unknown: not an error).
  // 403 forbidden for another key's backend. Blocks on the store, then calls the on_unregistered listeners.
  Result<std::optional<std::string>> unregister(const std::string& server_url, const std::string& key_name);

  // Sessions this gateway pinned to a backend (+1 at select, -1 at release/expiry). Unknown ids are ignored.
  void add_pinned(const std::string& backend_id, int delta);
  // A backend for a new session (balancer.hpp): affinity first, then the strategy; 503 no_backend_available.
  Result<BackendPtr> pick(const Requirements& requirements, std::string_view affinity_key,
                          const std::vector<std::string>& exclude = {});
  void remember_affinity(const std::string& affinity_key, const std::string& backend_id);

  // Lock-free reads of the current snapshot.
  SnapshotPtr snapshot() const { return publisher_->current(); }
  BackendPtr find(std::string_view backend_id) const { return snapshot()->find_ptr(backend_id); }
  // Healthy/Suspect and heartbeat fresh, now.
  bool is_routable(std::string_view backend_id) const;

  // A probe of `backend_id` sent at `started_at` finished with `ok` (a late answer counts as a failure).
  // Returns the delay before its next probe, or nullopt when the backend is gone (stop probing it).
  std::optional<Millis> record_probe(const std::string& backend_id, bool ok, Millis started_at);
  HealthTiming health_timing() const;
  // The clock probe start times are read from (the same one record_probe() compares against).
  const Clock& clock() const { return clock_; }

  // Run-time changes (SIGHUP): strategy, affinity timeout, health-check tuning, heartbeat interval.
  void reload(const config::GatewayConfig& config);
  void set_settings(RegistrySettings settings);
  int heartbeat_interval_s() const;

  // Writes every backend changed in memory only (heartbeats), and retries failed writes. Blocks.
  Status flush();
  // Several gateways on one store (PostgreSQL, CONTRACT §12): takes in what the others wrote — a backend
  // registered or heartbeating through another gateway, one unregistered there (its sessions here end as
  // for a local unregister). A backend with changes not yet written here keeps them; health stays this
  // gateway's own (each gateway probes). Blocks on the store; the flush loop calls it after each flush.
  Status sync_from_store();
  std::size_t pending_writes() const;

  // Called (after the store delete) with the id of every unregistered backend: the sessions component
  // ends the sessions pinned there.
  void on_unregistered(std::function<void(const std::string& backend_id)> listener);
  // Called when a backend is added or removed (the prober starts or stops probing it).
  void on_membership_changed(std::function<void()> listener);

  // Admin view: one object per backend, never a secret.
  boost::json::array describe() const;
  // For collectors that may outlive the registry (metrics): hold it weakly.
  std::weak_ptr<const SnapshotPublisher> publisher() const { return publisher_; }

 private:
  // One backend: its published value and its probe bookkeeping (kept apart so a probe result that does
  // not change the state needs no new snapshot).
  struct Entry {
    BackendPtr backend;
    HealthRecord health;
  };

  Entry* find_by_url_locked(const std::string& url);
  Status check_owner_locked(Entry& e, const std::string& key_name, const char* action) const;
  // Applies `report` (+ heartbeat time and owner) to a copy of e's backend and stores it in e.
  void apply_locked(Entry& e, const BackendReport& report, const std::string& key_name, Millis now);
  Entry& add_locked(const BackendReport& report, const std::string& key_name, Millis now);
  // Register and heartbeat alike: the backend with this URL takes the report (if `key_name` owns it), or a
  // new one is added; the snapshot is republished. `added` says which.
  Result<Entry*> take_report_locked(const BackendReport& report, const std::string& key_name, const char* action,
                                    bool& added);
  void replace_locked(Entry& e, Backend next);
  void publish_locked();
  void notify_membership();

  store::RegistryStore& store_;
  const Clock& clock_;
  std::shared_ptr<SnapshotPublisher> publisher_;

  std::mutex store_mutex_;  // taken before mutex_ by every store write
  mutable std::mutex mutex_;
  RegistrySettings settings_;                               // GUARDED_BY(mutex_)
  Balancer balancer_;                                       // GUARDED_BY(mutex_)
  std::map<std::string, Entry> entries_;                    // GUARDED_BY(mutex_) by id, ordered
  std::unordered_map<std::string, std::string> id_by_url_;  // GUARDED_BY(mutex_)
  std::set<std::string> dirty_;                             // GUARDED_BY(mutex_) ids to upsert at flush
  std::set<std::string> pending_removals_;                  // GUARDED_BY(mutex_) ids whose delete failed
  std::uint64_t version_ = 0;                               // GUARDED_BY(mutex_)

  std::mutex listeners_mutex_;
  std::vector<std::function<void(const std::string&)>> unregistered_listeners_;
  std::vector<std::function<void()>> membership_listeners_;
};

}  // namespace webstream::registry
