#include "proxy/upstream_pool.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace webstream::proxy {

UpstreamPool::UpstreamPool(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context) {}

void UpstreamPool::shutdown() {
  // The io_context is going away: close idle sockets while its reactor still exists.
  decltype(idle_) doomed;
  {
    std::lock_guard lock(mutex_);
    doomed.swap(idle_);
  }
}

bool UpstreamPool::unusable(UpstreamConnection& connection) {
  auto& socket = connection.socket;
  if (!socket.is_open()) return true;
  char byte;
  const auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n == 0) return true;  // FIN: the backend closed its side
  if (n > 0) return true;   // bytes before any request: the connection is out of step
  return !(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR);
}

std::unique_ptr<UpstreamConnection> UpstreamPool::take(const std::string& key, Millis now_ms, Millis idle_timeout_ms,
                                                       Millis check_after_ms) {
  for (;;) {
    std::unique_ptr<UpstreamConnection> candidate;
    {
      std::lock_guard lock(mutex_);
      auto it = idle_.find(key);
      if (it == idle_.end() || it->second.empty()) return nullptr;
      candidate = std::move(it->second.back());
      it->second.pop_back();
    }
    // Outside the lock: a syscall, and closing a socket when the candidate is dropped.
    if (now_ms - candidate->idle_since > idle_timeout_ms) continue;
    if (now_ms - candidate->idle_since >= check_after_ms && unusable(*candidate)) continue;
    return candidate;
  }
}

void UpstreamPool::put(const std::string& key, std::unique_ptr<UpstreamConnection> connection, Millis now_ms,
                       std::size_t max_idle, Millis idle_timeout_ms) {
  if (max_idle == 0) return;
  connection->idle_since = now_ms;
  std::vector<std::unique_ptr<UpstreamConnection>> doomed;  // closed after the lock is released
  {
    std::lock_guard lock(mutex_);
    auto& list = idle_[key];
    if (list.size() >= max_idle) {
      doomed.push_back(std::move(list.front()));
      list.erase(list.begin());
    }
    list.push_back(std::move(connection));
    // Now and then close connections idle too long under every key, so a backend nobody calls any more
    // does not keep sockets open forever.
    if (now_ms - last_sweep_ms_ >= idle_timeout_ms) {
      last_sweep_ms_ = now_ms;
      for (auto it = idle_.begin(); it != idle_.end();) {
        auto& conns = it->second;
        for (auto c = conns.begin(); c != conns.end();) {
          if (now_ms - (*c)->idle_since > idle_timeout_ms) {
            doomed.push_back(std::move(*c));
            c = conns.erase(c);
          } else {
            ++c;
          }
        }
        it = conns.empty() ? idle_.erase(it) : std::next(it);
      }
    }
  }
}

std::size_t UpstreamPool::idle_count() const {
  std::lock_guard lock(mutex_);
  std::size_t n = 0;
  for (const auto& [key, list] : idle_) n += list.size();
  return n;
}

std::size_t UpstreamPool::idle_count(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = idle_.find(key);
  return it == idle_.end() ? 0 : it->second.size();
}

}  // namespace webstream::proxy
