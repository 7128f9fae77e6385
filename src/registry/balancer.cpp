#include "registry/balancer.hpp"

#include <algorithm>
#include <charconv>

#include "store/session_store.hpp"

namespace webstream::registry {
namespace {

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// The first of `c` (ordered by id) whose id comes after `last`, wrapping round.
const Backend* after(const std::vector<const Backend*>& c, const std::string& last) {
  for (const Backend* b : c) {
    if (b->id > last) return b;
  }
  return c.front();
}

}  // namespace

BalancerSettings BalancerSettings::from_config(const config::LoadBalancingConfig& c) {
  BalancerSettings s;
  s.strategy = c.strategy;
  s.affinity_timeout_ms = static_cast<Millis>(c.session_affinity_timeout_s) * 1000;
  return s;
}

Balancer::Balancer(BalancerSettings settings, const Clock& clock) : settings_(settings), clock_(clock) {}

void Balancer::set_settings(BalancerSettings settings) {
  if (settings.strategy != settings_.strategy) {
    last_rotated_.clear();
    current_.clear();
  }
  settings_ = settings;
}

bool Balancer::is_candidate(const Snapshot& snapshot, const Backend& b, const Requirements& req, Millis now) {
  if (!snapshot.routable(b, now)) return false;
  if (!b.status_ready()) return false;
  if (b.load() >= b.max_sessions) return false;
  for (const auto& t : req.tags) {
    if (!b.has_tag(t)) return false;
  }
  for (const auto& c : req.capabilities) {
    if (!b.has_capability(c)) return false;
  }
  return true;
}

std::int64_t Balancer::weight(const Backend& b) {
  constexpr std::string_view kPrefix = "weight=";
  for (const auto& tag : b.tags) {
    if (tag.size() <= kPrefix.size() || tag.compare(0, kPrefix.size(), kPrefix) != 0) continue;
    std::int64_t n = 0;
    const char* first = tag.data() + kPrefix.size();
    const char* last = tag.data() + tag.size();
    auto [end, ec] = std::from_chars(first, last, n);
    if (ec == std::errc() && end == last && n >= 1 && n <= 1'000'000) return n;
  }
  return b.max_sessions;
}

Result<BackendPtr> Balancer::pick(const Snapshot& snapshot, const Requirements& req, std::string_view affinity_key,
                                  const std::vector<std::string>& exclude) {
  const Millis now = clock_.now_ms();
  std::vector<const Backend*> candidates;
  candidates.reserve(snapshot.backends.size());
  for (const auto& b : snapshot.backends) {  // ordered by id
    if (contains(exclude, b->id)) continue;
    if (is_candidate(snapshot, *b, req, now)) candidates.push_back(b.get());
  }
  if (candidates.empty()) return store::no_backend_available();

  if (!affinity_key.empty()) {
    if (auto sticky = affinity(affinity_key)) {
      for (const Backend* b : candidates) {
        if (b->id == *sticky) return snapshot.find_ptr(b->id);
      }
    }
  }

  const Backend* chosen = nullptr;
  switch (settings_.strategy) {
    case config::Strategy::kRoundRobin: chosen = round_robin(candidates); break;
    case config::Strategy::kLeastConnections: chosen = least_connections(candidates); break;
    case config::Strategy::kWeighted: chosen = weighted(candidates); break;
  }
  return snapshot.find_ptr(chosen->id);
}

const Backend* Balancer::round_robin(const std::vector<const Backend*>& c) {
  const Backend* b = after(c, last_rotated_);
  last_rotated_ = b->id;
  return b;
}

const Backend* Balancer::least_connections(const std::vector<const Backend*>& c) {
  // a is less loaded than b: fewer sessions, then a lower fill ratio (compared without division).
  auto less = [](const Backend* a, const Backend* b) {
    if (a->load() != b->load()) return a->load() < b->load();
    return a->load() * b->max_sessions < b->load() * a->max_sessions;
  };
  std::vector<const Backend*> best;
  for (const Backend* b : c) {
    if (best.empty() || less(b, best.front())) {
      best.assign(1, b);
    } else if (!less(best.front(), b)) {
      best.push_back(b);  // a tie
    }
  }
  const Backend* b = after(best, last_rotated_);
  last_rotated_ = b->id;
  return b;
}

const Backend* Balancer::weighted(const std::vector<const Backend*>& c) {
  std::int64_t total = 0;
  const Backend* best = nullptr;
  std::int64_t best_weight = 0;
  for (const Backend* b : c) {
    const std::int64_t w = weight(*b);
    total += w;
    auto& cw = current_[b->id];
    cw += w;
    if (best == nullptr || cw > best_weight) {
      best = b;
      best_weight = cw;
    }
  }
  current_[best->id] -= total;
  return best;
}

void Balancer::remember_affinity(const std::string& key, const std::string& backend_id) {
  if (key.empty()) return;
  const Millis now = clock_.now_ms();
  affinity_[key] = Affinity{backend_id, now + settings_.affinity_timeout_ms};
  if (affinity_.size() >= purge_at_size_) {
    purge_expired(now);
    purge_at_size_ = std::max<std::size_t>(1024, affinity_.size() * 2);
  }
}

std::optional<std::string> Balancer::affinity(std::string_view key) const {
  auto it = affinity_.find(std::string(key));
  if (it == affinity_.end() || it->second.expires_at <= clock_.now_ms()) return std::nullopt;
  return it->second.backend_id;
}

void Balancer::forget_backend(const std::string& backend_id) {
  current_.erase(backend_id);
  std::erase_if(affinity_, [&](const auto& entry) { return entry.second.backend_id == backend_id; });
}

void Balancer::purge_expired(Millis now) {
  std::erase_if(affinity_, [now](const auto& entry) { return entry.second.expires_at <= now; });
}

}  // namespace webstream::registry
