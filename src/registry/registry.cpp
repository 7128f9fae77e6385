#include "registry/registry.hpp"

#include "core/ids.hpp"
#include "core/json_fields.hpp"
#include "core/time_format.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"
#include "registry/backend_row.hpp"

namespace webstream::registry {
namespace {

metrics::Counter& probe_counter(bool ok) {
  static metrics::Counter& success = metrics::Registry::global().counter(
      "webstream_health_probes_total", "Backend health probes by result", {{"result", "success"}});
  static metrics::Counter& failure = metrics::Registry::global().counter(
      "webstream_health_probes_total", "Backend health probes by result", {{"result", "failure"}});
  return ok ? success : failure;
}

}  // namespace

RegistrySettings RegistrySettings::from_config(const config::GatewayConfig& c) {
  RegistrySettings s;
  s.balancing = BalancerSettings::from_config(c.load_balancing);
  s.health = HealthTiming::from_config(c.health_check);
  s.heartbeat_interval_s = c.heartbeat_interval_s;
  return s;
}

Registry::Registry(const config::GatewayConfig& config, store::RegistryStore& store, const Clock& clock)
    : Registry(RegistrySettings::from_config(config), store, clock) {}

Registry::Registry(RegistrySettings settings, store::RegistryStore& store, const Clock& clock)
    : store_(store), clock_(clock), publisher_(std::make_shared<SnapshotPublisher>()), settings_(settings),
      balancer_(settings.balancing, clock) {
  std::lock_guard lock(mutex_);
  publish_locked();
}

Status Registry::load() {
  auto rows = store_.load_all();
  if (!rows) return rows.error();
  {
    std::lock_guard lock(mutex_);
    for (const auto& row : *rows) {
      if (id_by_url_.count(row.server_url)) continue;  // registered again meanwhile: memory wins
      Entry e;
      e.backend = std::make_shared<const Backend>(from_row(row));
      id_by_url_[row.server_url] = row.id;
      entries_[row.id] = std::move(e);
    }
    publish_locked();
  }
  log::info("backend registry loaded", {{"backends", rows->size()}});
  notify_membership();
  return Status::success();
}

Registry::Entry* Registry::find_by_url_locked(const std::string& url) {
  auto it = id_by_url_.find(url);
  if (it == id_by_url_.end()) return nullptr;
  auto e = entries_.find(it->second);
  return e == entries_.end() ? nullptr : &e->second;
}

Status Registry::check_owner_locked(Entry& e, const std::string& key_name, const char* action) const {
  if (key_name.empty() || e.backend->owner_key.empty() || e.backend->owner_key == key_name) {
    return Status::success();
  }
  log::warn("backend key does not own this backend", {{"action", action},
                                                      {"backendId", e.backend->id},
                                                      {"keyName", key_name},
                                                      {"ownerKeyName", e.backend->owner_key}});
  return Error{403, "forbidden", "this backend was registered with another backend key"};
}

void Registry::apply_locked(Entry& e, const BackendReport& r, const std::string& key_name, Millis now) {
  Backend next = *e.backend;
  if (r.max_sessions) next.max_sessions = *r.max_sessions;
  if (r.instance_type) next.instance_type = *r.instance_type;
  if (r.ec2_instance_id) next.ec2_instance_id = *r.ec2_instance_id;
  if (r.version) next.version = *r.version;
  if (r.tags) next.tags = *r.tags;
  if (r.capabilities) next.capabilities = *r.capabilities;
  if (r.status) next.status = *r.status;
  if (r.active_sessions) next.active_sessions = *r.active_sessions;
  if (r.cpu_usage) next.cpu_usage = *r.cpu_usage;
  if (r.memory_usage) next.memory_usage = *r.memory_usage;
  next.last_heartbeat_at = now;
  if (next.owner_key.empty()) next.owner_key = key_name;  // adopt (see header)
  replace_locked(e, std::move(next));
}

Registry::Entry& Registry::add_locked(const BackendReport& report, const std::string& key_name, Millis now) {
  auto b = std::make_shared<Backend>();
  b->id = random_id(kBackendIdPrefix);
  b->server_url = report.server_url;
  b->registered_at = now;
  Entry& e = entries_[b->id];
  e.backend = std::move(b);
  id_by_url_[report.server_url] = e.backend->id;
  apply_locked(e, report, key_name, now);
  return e;
}

void Registry::replace_locked(Entry& e, Backend next) {
  next.health = e.health;
  e.backend = std::make_shared<const Backend>(std::move(next));
}

void Registry::publish_locked() {
  auto next = std::make_shared<Snapshot>();
  next->version = ++version_;
  next->heartbeat_stale_after_ms = 3 * static_cast<Millis>(settings_.heartbeat_interval_s) * 1000;
  next->backends.reserve(entries_.size());
  for (const auto& [id, e] : entries_) next->backends.push_back(e.backend);
  publisher_->publish(std::move(next));
}

Result<Registry::Entry*> Registry::take_report_locked(const BackendReport& report, const std::string& key_name,
                                                      const char* action, bool& added) {
  const Millis now = clock_.now_ms();
  Entry* e = find_by_url_locked(report.server_url);
  if (e) {
    if (auto s = check_owner_locked(*e, key_name, action); !s) return s.error();
    apply_locked(*e, report, key_name, now);
  } else {
    e = &add_locked(report, key_name, now);
    added = true;
  }
  publish_locked();
  return e;
}

Result<std::string> Registry::register_backend(const BackendReport& report, const std::string& key_name) {
  std::lock_guard store_lock(store_mutex_);
  std::string id;
  store::BackendRow row;
  bool added = false;
  {
    std::lock_guard lock(mutex_);
    auto taken = take_report_locked(report, key_name, "register", added);
    if (!taken) return taken.error();
    Entry* e = taken.value();
    id = e->backend->id;
    row = to_row(*e->backend);
    dirty_.erase(id);
  }
  log::info(added ? "backend registered" : "backend registered again",
            {{"backendId", id},
             {"serverUrl", report.server_url},
             {"keyName", key_name},
             {"maxSessions", static_cast<long long>(row.max_sessions)}});
  if (added) notify_membership();
  if (auto s = store_.upsert({row}); !s) {
    std::lock_guard lock(mutex_);
    if (entries_.count(id)) dirty_.insert(id);
    log::error("could not store a backend registration; will retry", {{"backendId", id}, {"error", s.error().message}});
    return Error::internal("the registration could not be stored; try again");
  }
  return id;
}

Result<std::string> Registry::heartbeat(const BackendReport& report, const std::string& key_name) {
  std::string id;
  bool added = false;
  {
    std::lock_guard lock(mutex_);
    auto taken = take_report_locked(report, key_name, "heartbeat", added);
    if (!taken) return taken.error();
    id = taken.value()->backend->id;
    dirty_.insert(id);
  }
  if (added) {
    log::info("backend registered by heartbeat",
              {{"backendId", id}, {"serverUrl", report.server_url}, {"keyName", key_name}});
    notify_membership();
  }
  return id;
}

Result<std::optional<std::string>> Registry::unregister(const std::string& server_url, const std::string& key_name) {
  std::string id;
  {
    std::lock_guard store_lock(store_mutex_);
    {
      std::lock_guard lock(mutex_);
      Entry* e = find_by_url_locked(server_url);
      if (!e) return std::optional<std::string>{};
      if (auto s = check_owner_locked(*e, key_name, "unregister"); !s) return s.error();
      id = e->backend->id;
      entries_.erase(id);
      id_by_url_.erase(server_url);
      dirty_.erase(id);
      balancer_.forget_backend(id);
      publish_locked();
    }
    if (auto s = store_.remove(id); !s) {
      std::lock_guard lock(mutex_);
      pending_removals_.insert(id);
      log::error("could not delete an unregistered backend from the store; will retry",
                 {{"backendId", id}, {"error", s.error().message}});
    }
  }
  log::info("backend unregistered", {{"backendId", id}, {"serverUrl", server_url}, {"keyName", key_name}});
  std::vector<std::function<void(const std::string&)>> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = unregistered_listeners_;
  }
  for (const auto& l : listeners) l(id);
  notify_membership();
  return std::optional<std::string>{id};
}

void Registry::add_pinned(const std::string& backend_id, int delta) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(backend_id);
  if (it == entries_.end()) return;
  Backend next = *it->second.backend;
  next.pinned = std::max<std::int64_t>(0, next.pinned + delta);
  replace_locked(it->second, std::move(next));
  publish_locked();
}

Result<BackendPtr> Registry::pick(const Requirements& requirements, std::string_view affinity_key,
                                  const std::vector<std::string>& exclude) {
  std::lock_guard lock(mutex_);
  return balancer_.pick(*publisher_->current(), requirements, affinity_key, exclude);
}

void Registry::remember_affinity(const std::string& affinity_key, const std::string& backend_id) {
  std::lock_guard lock(mutex_);
  balancer_.remember_affinity(affinity_key, backend_id);
}

bool Registry::is_routable(std::string_view backend_id) const {
  auto snap = snapshot();
  const Backend* b = snap->find(backend_id);
  return b != nullptr && snap->routable(*b, clock_.now_ms());
}

std::optional<Millis> Registry::record_probe(const std::string& backend_id, bool ok, Millis started_at) {
  std::unique_lock lock(mutex_);
  auto it = entries_.find(backend_id);
  if (it == entries_.end()) return std::nullopt;
  Entry& e = it->second;
  const HealthStateMachine machine(settings_.health);
  const Millis now = clock_.now_ms();
  const HealthState before = e.health.state;
  e.health = machine.on_result(e.health, ok, started_at, now);
  const HealthRecord after = e.health;
  const Millis delay = machine.next_delay(after);
  const std::string url = e.backend->server_url;
  if (after.state != before) {
    replace_locked(e, *e.backend);  // carries the new health into the published copy
    publish_locked();
  }
  lock.unlock();
  probe_counter(ok && !machine.timed_out(started_at, now)).inc();
  if (after.state != before) {
    const bool worse = after.state == HealthState::kUnreachable || after.state == HealthState::kSuspect;
    log::write(
        worse ? log::Level::kWarn : log::Level::kInfo, "backend health changed",
        {{"backendId", backend_id}, {"serverUrl", url}, {"from", to_string(before)}, {"to", to_string(after.state)}});
  }
  return delay;
}

HealthTiming Registry::health_timing() const {
  std::lock_guard lock(mutex_);
  return settings_.health;
}

void Registry::reload(const config::GatewayConfig& config) { set_settings(RegistrySettings::from_config(config)); }

void Registry::set_settings(RegistrySettings settings) {
  std::lock_guard lock(mutex_);
  settings_ = settings;
  balancer_.set_settings(settings.balancing);
  publish_locked();  // the heartbeat staleness bound may have changed
}

int Registry::heartbeat_interval_s() const {
  std::lock_guard lock(mutex_);
  return settings_.heartbeat_interval_s;
}

Status Registry::flush() {
  std::lock_guard store_lock(store_mutex_);
  std::vector<store::BackendRow> rows;
  std::set<std::string> removals;
  {
    std::lock_guard lock(mutex_);
    for (const auto& id : dirty_) {
      auto it = entries_.find(id);
      if (it != entries_.end()) rows.push_back(to_row(*it->second.backend));
    }
    dirty_.clear();
    removals.swap(pending_removals_);
  }
  Status result;
  for (const auto& id : removals) {
    if (auto s = store_.remove(id); !s) {
      std::lock_guard lock(mutex_);
      pending_removals_.insert(id);
      result = s;
    }
  }
  if (auto s = store_.upsert(rows); !s) {
    std::lock_guard lock(mutex_);
    for (const auto& r : rows) {
      if (entries_.count(r.id)) dirty_.insert(r.id);
    }
    result = s;
  }
  if (!result) log::error("backend registry flush failed; will retry", {{"error", result.error().message}});
  return result;
}

Status Registry::sync_from_store() {
  // Held across the read and the merge: a registration or unregistration through this gateway (which writes
  // the store under this lock) cannot fall between them and be undone by a stale read.
  std::unique_lock store_lock(store_mutex_);
  auto rows = store_.load_all();
  if (!rows) return rows.error();
  std::vector<std::pair<std::string, std::string>> added, gone;  // (id, serverUrl)
  {
    std::lock_guard lock(mutex_);
    bool changed = false;
    std::set<std::string> stored;
    for (const auto& row : *rows) {
      stored.insert(row.id);
      auto it = entries_.find(row.id);
      if (it == entries_.end()) {
        // The same serverUrl under another id here: this gateway's entry is written on its next flush.
        if (id_by_url_.count(row.server_url)) continue;
        Entry e;
        e.backend = std::make_shared<const Backend>(from_row(row));
        id_by_url_[row.server_url] = row.id;
        entries_[row.id] = std::move(e);
        added.emplace_back(row.id, row.server_url);
        changed = true;
      } else if (!dirty_.count(row.id) && row.last_heartbeat_at > it->second.backend->last_heartbeat_at) {
        Backend next = from_row(row);  // a heartbeat another gateway received
        next.pinned = it->second.backend->pinned;
        replace_locked(it->second, std::move(next));
        changed = true;
      }
    }
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (stored.count(it->first) || dirty_.count(it->first)) {
        ++it;
        continue;
      }
      gone.emplace_back(it->first, it->second.backend->server_url);
      id_by_url_.erase(it->second.backend->server_url);
      balancer_.forget_backend(it->first);
      it = entries_.erase(it);
      changed = true;
    }
    if (changed) publish_locked();
  }
  store_lock.unlock();
  for (const auto& [id, url] : added) {
    log::info("backend registered through another gateway", {{"backendId", id}, {"serverUrl", url}});
  }
  std::vector<std::function<void(const std::string&)>> listeners;
  if (!gone.empty()) {
    std::lock_guard lock(listeners_mutex_);
    listeners = unregistered_listeners_;
  }
  for (const auto& [id, url] : gone) {
    log::info("backend unregistered through another gateway", {{"backendId", id}, {"serverUrl", url}});
    for (const auto& l : listeners) l(id);
  }
  if (!added.empty() || !gone.empty()) notify_membership();
  return Status::success();
}

std::size_t Registry::pending_writes() const {
  std::lock_guard lock(mutex_);
  return dirty_.size() + pending_removals_.size();
}

void Registry::on_unregistered(std::function<void(const std::string&)> listener) {
  std::lock_guard lock(listeners_mutex_);
  unregistered_listeners_.push_back(std::move(listener));
}

void Registry::on_membership_changed(std::function<void()> listener) {
  std::lock_guard lock(listeners_mutex_);
  membership_listeners_.push_back(std::move(listener));
}

void Registry::notify_membership() {
  std::vector<std::function<void()>> listeners;
  {
    std::lock_guard lock(listeners_mutex_);
    listeners = membership_listeners_;
  }
  for (const auto& l : listeners) l();
}

boost::json::array Registry::describe() const {
  auto snap = snapshot();
  const Millis now = clock_.now_ms();
  boost::json::array out;
  out.reserve(snap->backends.size());
  for (const auto& b : snap->backends) {
    boost::json::object o;
    o["backendId"] = b->id;
    o["serverUrl"] = b->server_url;
    o["state"] = to_string(b->health.state);
    o["routable"] = snap->routable(*b, now);
    o["status"] = b->status;
    o["load"] = b->load();
    o["pinnedSessions"] = b->pinned;
    o["activeSessions"] = b->active_sessions;
    o["maxSessions"] = b->max_sessions;
    o["tags"] = json_fields::to_array(b->tags);
    o["capabilities"] = json_fields::to_array(b->capabilities);
    o["instanceType"] = b->instance_type;
    o["ec2InstanceId"] = b->ec2_instance_id;
    o["version"] = b->version;
    o["cpuUsage"] = b->cpu_usage;
    o["memoryUsage"] = b->memory_usage;
    o["keyName"] = b->owner_key;
    o["registeredAt"] = iso8601(b->registered_at);
    o["lastHeartbeatAt"] = iso8601(b->last_heartbeat_at);
    out.push_back(std::move(o));
  }
  return out;
}

}  // namespace webstream::registry
