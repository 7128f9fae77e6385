#pragma once
// Server: the gateway's listeners. Each listener has one acceptor; accepted sockets are handed to the
// workers round-robin (runtime/workers.hpp) and served there by http/connection. Enforces the connection
// caps of CONTRACT §11: per listener and per client IP (over: the socket is closed at once).
//
// Thread rules: listen() and start() at start-up from one thread; stop() from any thread.
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.hpp"
#include "core/error.hpp"
#include "http/lifecycle.hpp"
#include "http/router.hpp"
#include "http/tls_context.hpp"
#include "runtime/workers.hpp"

namespace webstream::http {

class Server {
 public:
  Server(const Router& router, const config::LimitsConfig& limits, runtime::Workers& workers, bool dev_mode);
  ~Server();

  // Binds ip:port now (so a taken port is reported before anything starts). `tls` null: plain HTTP.
  // Error message names the address and port.
  Status listen(ListenerKind kind, const std::string& ip, int port, std::shared_ptr<TlsContextProvider> tls);
  // The port actually bound by listener i (for port 0 in tests).
  int bound_port(std::size_t i) const;
  void start();
  // Stops accepting and tells open connections to finish (idle ones close now). Returns at once.
  void begin_stop();
  // Connections (and relays) still registered with the lifecycle.
  std::size_t active_connections() const { return lifecycle_.active(); }
  Lifecycle& lifecycle() { return lifecycle_; }

 private:
  // Open connections of one listener, for the caps. Shared with each connection's ticket (the last owner
  // of a connection — its request loop, or a WebSocket relay that outlives it — releases the count), so
  // it may outlive the Server.
  struct Counts {
    std::atomic<std::size_t> open{0};
    std::mutex per_ip_mutex;
    std::unordered_map<std::string, std::size_t> per_ip;  // GUARDED_BY(per_ip_mutex)
  };
  struct Listener {
    ListenerKind kind;
    std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor;
    std::shared_ptr<TlsContextProvider> tls;
    std::shared_ptr<Counts> counts = std::make_shared<Counts>();
    int port = 0;
  };
  void accept_loop(Listener& l);
  static void release(Counts& counts, const std::string& ip);

  const Router& router_;
  const config::LimitsConfig limits_;
  runtime::Workers& workers_;
  const bool dev_mode_;
  Lifecycle lifecycle_;
  std::vector<std::unique_ptr<Listener>> listeners_;
};

}  // namespace webstream::http
