#include "iam/login_limiter.hpp"

#include <algorithm>
#include <cctype>

#include "core/encoding.hpp"

namespace webstream::iam {

LoginLimiter::LoginLimiter(const Clock& clock, LoginLimits limits) : clock_(clock), limits_(limits) {}

std::string LoginLimiter::key_for(LimitScope scope, std::string_view value) {
  std::string text = scope == LimitScope::kUser ? "user:" : "ip:";
  for (char c : value) {
    text += scope == LimitScope::kUser ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
  }
  return sha256_hex(text);
}

int LoginLimiter::max_for(LimitScope scope) const {
  return scope == LimitScope::kUser ? limits_.max_user_failures : limits_.max_ip_failures;
}

void LoginLimiter::drop_old(Track& track, Millis now) const {
  while (!track.failures.empty() && track.failures.front() <= now - limits_.window_ms) track.failures.pop_front();
}

std::int64_t LoginLimiter::locked_for(const Track& track, int max, Millis now) const {
  const auto failures = static_cast<int>(track.failures.size());
  if (failures + track.in_flight < max) return 0;
  if (failures < max) return 1;  // locked only by attempts in flight: they end within a second or so
  const Millis unlock_at = track.failures[static_cast<std::size_t>(failures - max)] + limits_.window_ms;
  return std::max<std::int64_t>(1, (unlock_at - now + 999) / 1000);
}

LoginLimiter::Track* LoginLimiter::find_or_add(LimitScope scope, const std::string& key, Millis now) {
  Table& t = table(scope);
  if (auto it = t.find(key); it != t.end()) return &it->second;
  if (t.size() >= limits_.max_tracked_keys) {
    for (auto it = t.begin(); it != t.end();) {
      drop_old(it->second, now);
      if (it->second.failures.empty() && it->second.in_flight == 0) {
        it = t.erase(it);
      } else {
        ++it;
      }
    }
    if (t.size() >= limits_.max_tracked_keys) {
      auto victim = std::find_if(t.begin(), t.end(), [&](const auto& kv) {
        return kv.second.in_flight == 0 && locked_for(kv.second, max_for(scope), now) == 0;
      });
      if (victim == t.end()) return nullptr;
      t.erase(victim);
    }
  }
  return &t[key];
}

Result<LoginLimiter::Attempt> LoginLimiter::begin(std::string_view username, std::string_view client_ip) {
  Attempt attempt{key_for(LimitScope::kUser, username), key_for(LimitScope::kIp, client_ip)};
  std::lock_guard lock(mutex_);
  const Millis now = clock_.now_ms();
  Track* user = find_or_add(LimitScope::kUser, attempt.user_key, now);
  Track* ip = find_or_add(LimitScope::kIp, attempt.ip_key, now);
  std::int64_t wait = 0;
  if (user) {
    drop_old(*user, now);
    wait = std::max(wait, locked_for(*user, limits_.max_user_failures, now));
  }
  if (ip) {
    drop_old(*ip, now);
    wait = std::max(wait, locked_for(*ip, limits_.max_ip_failures, now));
  }
  if (wait > 0) {
    return Error{429, "locked_out", "too many failed sign-ins: try again later", static_cast<int>(wait)};
  }
  if (user) ++user->in_flight;
  if (ip) ++ip->in_flight;
  return attempt;
}

bool LoginLimiter::add_failure(LimitScope scope, const std::string& key, Millis at) {
  const Millis now = clock_.now_ms();
  Track* t = find_or_add(scope, key, now);
  if (!t) return false;
  drop_old(*t, now);
  if (at <= now - limits_.window_ms) return false;
  const auto max = static_cast<std::size_t>(max_for(scope));
  const bool was_locked = t->failures.size() >= max;
  t->failures.insert(std::upper_bound(t->failures.begin(), t->failures.end(), at), at);
  while (t->failures.size() > max) t->failures.pop_front();
  return !was_locked && t->failures.size() >= max;
}

LoginLimiter::FailureOutcome LoginLimiter::failed(const Attempt& attempt) {
  std::lock_guard lock(mutex_);
  const Millis now = clock_.now_ms();
  for (auto* t : {&users_, &ips_}) {
    auto it = t->find(t == &users_ ? attempt.user_key : attempt.ip_key);
    if (it != t->end() && it->second.in_flight > 0) --it->second.in_flight;
  }
  FailureOutcome out;
  out.user_locked = add_failure(LimitScope::kUser, attempt.user_key, now);
  out.ip_locked = add_failure(LimitScope::kIp, attempt.ip_key, now);
  return out;
}

bool LoginLimiter::succeeded(const Attempt& attempt) {
  std::lock_guard lock(mutex_);
  bool had_failures = false;
  if (auto it = users_.find(attempt.user_key); it != users_.end()) {
    if (it->second.in_flight > 0) --it->second.in_flight;
    had_failures = !it->second.failures.empty();
    it->second.failures.clear();
    if (it->second.in_flight == 0) users_.erase(it);
  }
  if (auto it = ips_.find(attempt.ip_key); it != ips_.end()) {
    if (it->second.in_flight > 0) --it->second.in_flight;
    if (it->second.in_flight == 0 && it->second.failures.empty()) ips_.erase(it);
  }
  return had_failures;
}

void LoginLimiter::abandoned(const Attempt& attempt) {
  std::lock_guard lock(mutex_);
  for (auto* t : {&users_, &ips_}) {
    auto it = t->find(t == &users_ ? attempt.user_key : attempt.ip_key);
    if (it == t->end()) continue;
    if (it->second.in_flight > 0) --it->second.in_flight;
    if (it->second.in_flight == 0 && it->second.failures.empty()) t->erase(it);
  }
}

void LoginLimiter::replace_failures(LimitScope scope, const std::string& key, const std::vector<Millis>& at) {
  std::lock_guard lock(mutex_);
  const Millis now = clock_.now_ms();
  Track* t = find_or_add(scope, key, now);
  if (!t) return;
  t->failures.clear();
  const auto max = static_cast<std::size_t>(max_for(scope));
  for (Millis a : at) {
    if (a > now - limits_.window_ms) t->failures.insert(std::upper_bound(t->failures.begin(), t->failures.end(), a), a);
  }
  while (t->failures.size() > max) t->failures.pop_front();
}

std::optional<Error> LoginLimiter::lockout(const Attempt& attempt) const {
  std::lock_guard lock(mutex_);
  const Millis now = clock_.now_ms();
  std::int64_t wait = 0;
  const auto check = [&](const Table& table, const std::string& key, int max) {
    auto it = table.find(key);
    if (it == table.end()) return;
    Track recorded = it->second;
    recorded.in_flight = 0;
    drop_old(recorded, now);
    wait = std::max(wait, locked_for(recorded, max, now));
  };
  check(users_, attempt.user_key, limits_.max_user_failures);
  check(ips_, attempt.ip_key, limits_.max_ip_failures);
  if (wait == 0) return std::nullopt;
  return Error{429, "locked_out", "too many failed sign-ins: try again later", static_cast<int>(wait)};
}

void LoginLimiter::restore(LimitScope scope, const std::string& key, Millis at) {
  std::lock_guard lock(mutex_);
  (void)add_failure(scope, key, at);
}

std::size_t LoginLimiter::tracked(LimitScope scope) const {
  std::lock_guard lock(mutex_);
  return scope == LimitScope::kUser ? users_.size() : ips_.size();
}

}  // namespace webstream::iam
