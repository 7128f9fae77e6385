// The listener half of Server: binding, the accept loop and connection caps (server.hpp).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "http/connection.hpp"
#include "http/server.hpp"
#include "observability/log.hpp"
#include "observability/metrics.hpp"

namespace webstream::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

Status Server::listen(ListenerKind kind, const std::string& ip, int port, std::shared_ptr<TlsContextProvider> tls) {
  auto l = std::make_unique<Listener>();
  l->kind = kind;
  l->tls = std::move(tls);
  boost::system::error_code ec;
  auto address = net::ip::make_address(ip, ec);
  if (ec) return Error::invalid("gateway.publicIP: '" + ip + "' is not an IP address");
  // The acceptor lives on worker 0; accepted sockets are created directly on the next worker's context.
  l->acceptor = std::make_unique<tcp::acceptor>(workers_.at(0));
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  l->acceptor->open(endpoint.protocol(), ec);
  if (!ec) l->acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) l->acceptor->bind(endpoint, ec);
  if (!ec) l->acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error::internal("cannot listen on " + ip + ":" + std::to_string(port) + " (" + ec.message() + ")");
  }
  l->port = l->acceptor->local_endpoint().port();
  listeners_.push_back(std::move(l));
  return Status::success();
}

int Server::bound_port(std::size_t i) const { return listeners_.at(i)->port; }

void Server::start() {
  for (auto& l : listeners_) accept_loop(*l);
}

void Server::accept_loop(Listener& l) {
  net::co_spawn(
      l.acceptor->get_executor(),
      [this, &l]() -> net::awaitable<void> {
        auto& rejected = metrics::Registry::global().counter("webstream_connections_rejected_total",
                                                             "Connections refused by the connection caps");
        for (;;) {
          auto& worker = workers_.next();
          auto [ec, socket] = co_await l.acceptor->async_accept(worker, net::as_tuple(net::use_awaitable));
          if (ec) {
            if (ec == net::error::operation_aborted || !l.acceptor->is_open()) co_return;
            if (ec == net::error::no_descriptors) {
              // Out of file descriptors: back off briefly instead of spinning.
              net::steady_timer t(co_await net::this_coro::executor, std::chrono::milliseconds(50));
              co_await t.async_wait(net::as_tuple(net::use_awaitable));
            }
            continue;
          }
          boost::system::error_code rec;
          const auto remote = socket.remote_endpoint(rec);
          if (rec) continue;
          std::string ip = remote.address().to_string();
          Counts& counts = *l.counts;
          bool admitted = counts.open.load(std::memory_order_relaxed) < limits_.max_connections_per_listener;
          if (admitted) {
            std::lock_guard lock(counts.per_ip_mutex);
            auto& n = counts.per_ip[ip];
            if (n >= limits_.max_connections_per_ip) {
              admitted = false;
            } else {
              ++n;
            }
          }
          if (!admitted) {
            rejected.inc();
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
          }
          counts.open.fetch_add(1, std::memory_order_relaxed);
          // The connection counts until its last owner lets go of this ticket.
          std::shared_ptr<void> ticket(nullptr, [counts = l.counts, ip](void*) { release(*counts, ip); });
          ConnectionEnv env{&router_, &limits_, &lifecycle_, l.kind, dev_mode_, std::move(ticket)};
          auto tls = l.tls ? l.tls->current() : nullptr;
          net::co_spawn(worker, serve_connection(std::move(socket), ip, std::move(env), std::move(tls)),
                        [](std::exception_ptr e) {
                          if (!e) return;
                          try {
                            std::rethrow_exception(e);
                          } catch (const std::exception& ex) {
                            log::error("connection failed", {{"error", ex.what()}});
                          }
                        });
        }
      },
      net::detached);
}

void Server::release(Counts& counts, const std::string& ip) {
  counts.open.fetch_sub(1, std::memory_order_relaxed);
  std::lock_guard lock(counts.per_ip_mutex);
  auto it = counts.per_ip.find(ip);
  if (it != counts.per_ip.end() && --it->second == 0) counts.per_ip.erase(it);
}

}  // namespace webstream::http
