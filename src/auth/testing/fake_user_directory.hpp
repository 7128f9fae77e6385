#pragma once
// FakeUserDirectory: an in-memory UserDirectory for authentication tests. Thread-safe; counts lookups
// so tests can tell a cache hit (no lookup) from a miss.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <map>
#include <mutex>

#include "auth/user_directory.hpp"

namespace webstream::auth::fakes {

class FakeUserDirectory final : public UserDirectory {
 public:
  void put(UserRecord user) {
    std::lock_guard lock(mutex_);
    users_[user.id] = std::move(user);
  }
  void remove(const std::string& id) {
    std::lock_guard lock(mutex_);
    users_.erase(id);
  }
  template <class F>
  void change(const std::string& id, F&& fn) {
    std::lock_guard lock(mutex_);
    fn(users_.at(id));
  }

  // While set, every lookup answers this error (a store outage).
  void set_unavailable(bool unavailable) { unavailable_.store(unavailable); }

  Result<std::optional<UserRecord>> find_by_username(const std::string& username) override {
    lookups_.fetch_add(1);
    if (unavailable_.load()) return outage();
    std::lock_guard lock(mutex_);
    for (const auto& [id, u] : users_) {
      if (lower(u.username) == lower(username)) return std::optional<UserRecord>(u);
    }
    return std::optional<UserRecord>();
  }
  Result<std::optional<UserRecord>> find_by_id(const std::string& user_id) override {
    lookups_.fetch_add(1);
    if (unavailable_.load()) return outage();
    std::lock_guard lock(mutex_);
    auto it = users_.find(user_id);
    if (it == users_.end()) return std::optional<UserRecord>();
    return std::optional<UserRecord>(it->second);
  }
  int lookups() const { return lookups_.load(); }

 private:
  static std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
  }
  static Error outage() {
    Error e{503, "store_unavailable", "the store is unavailable: test outage"};
    e.retry_after = 2;
    return e;
  }
  std::mutex mutex_;
  std::map<std::string, UserRecord> users_;
  std::atomic<int> lookups_{0};
  std::atomic<bool> unavailable_{false};
};

}  // namespace webstream::auth::fakes
