#pragma once
// UpstreamPool: idle keep-alive connections to backends, one pool per execution context (an Asio service,
// so a worker's io_context has its own pool and the sockets die with it). Keyed by "host:port".
//
// Bounds: at most `max_idle` idle connections per key (the oldest is closed first), and none older than
// `idle_timeout_ms` (checked on take(), and for every key by an occasional sweep on put()). A connection the
// backend has already closed (FIN or unexpected bytes waiting) is detected with a non-blocking MSG_PEEK on
// take() and discarded, so most stale connections never see a request.
//
// Thread rules: meant for one thread per io_context (docs/architecture.md, runtime::Workers); a small mutex
// still guards the map so an io_context run by several threads stays correct. The mutex is never held across
// I/O or a co_await.
// Connections are handed out exclusively: the taker owns it until it put()s it back.
#include <boost/asio/execution_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.hpp"
#include "http/socket_deadline.hpp"

namespace webstream::proxy {

// One upstream HTTP/1.1 connection and its read buffer (kept together: bytes read past a response stay
// with the connection that read them). The buffer starts with room for a whole typical answer, so one
// recv usually brings it (Beast would otherwise grow it from 512 bytes, one recv per step); the deadline
// covers one exchange (http/socket_deadline.hpp: no timer operation per read or write).
struct UpstreamConnection {
  static constexpr std::size_t kInitialBuffer = 16 * 1024;
  explicit UpstreamConnection(boost::asio::ip::tcp::socket s)
      : socket(std::move(s)), deadline(socket.get_executor(), socket) {
    buffer.reserve(kInitialBuffer);
  }
  boost::asio::ip::tcp::socket socket;
  http::SocketDeadline deadline;  // after `socket`, which it refers to
  boost::beast::flat_buffer buffer;
  Millis idle_since = 0;
  std::uint64_t requests = 0;  // requests answered on this connection so far
};

class UpstreamPool final : public boost::asio::execution_context::service {
 public:
  using key_type = UpstreamPool;
  static inline boost::asio::execution_context::id id;

  explicit UpstreamPool(boost::asio::execution_context& context);

  // The pool of the execution context behind `executor` (created on first use).
  template <class Executor>
  static UpstreamPool& of(const Executor& executor) {
    return boost::asio::use_service<UpstreamPool>(boost::asio::query(executor, boost::asio::execution::context));
  }

  // The most recently used live idle connection for `key`, or null. The MSG_PEEK liveness check is made
  // only on a connection idle for more than `check_after_ms` (0: always): a caller that retries a dead
  // connection anyway (GET) saves the syscall on connections that were busy a moment ago.
  std::unique_ptr<UpstreamConnection> take(const std::string& key, Millis now_ms, Millis idle_timeout_ms,
                                           Millis check_after_ms = 0);
  // Gives a connection back after a complete response it may be reused after.
  void put(const std::string& key, std::unique_ptr<UpstreamConnection> connection, Millis now_ms, std::size_t max_idle,
           Millis idle_timeout_ms);

  std::size_t idle_count() const;
  std::size_t idle_count(const std::string& key) const;

  // True when the peer has closed the connection or sent bytes nobody asked for (non-blocking).
  static bool unusable(UpstreamConnection& connection);

 private:
  void shutdown() override;

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;  // GUARDED_BY(mutex_)
  Millis last_sweep_ms_ = 0;                                                                // GUARDED_BY(mutex_)
};

}  // namespace webstream::proxy
