#include "app/gateway.hpp"

#include <boost/asio/signal_set.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "app/components.hpp"
#include "app/priority.hpp"
#include "app/wiring.hpp"
#include "http/router.hpp"
#include "http/server.hpp"
#include "http/tls_context.hpp"
#include "observability/log.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/heap_trimmer.hpp"
#include "runtime/workers.hpp"
#include "store/sqlite/private_files.hpp"
#include "store/store_provider.hpp"

namespace webstream::app {

namespace net = boost::asio;

struct Gateway::Impl {
  config::Config config;
  Mode mode;
  std::unique_ptr<runtime::Workers> workers;
  std::unique_ptr<runtime::BlockingPool> blocking;
  std::unique_ptr<store::StoreProvider> stores;
  std::shared_ptr<http::TlsContextProvider> tls;
  http::Router router;
  std::unique_ptr<http::Server> server;
  std::unique_ptr<Components> components;
  std::unique_ptr<runtime::HeapTrimmer> heap_trimmer;  // gives back the memory a connection storm leaves free
  net::io_context signal_context;
};

Gateway::Gateway(config::Config config, Mode mode) : impl_(std::make_unique<Impl>()) {
  impl_->config = std::move(config);
  impl_->mode = mode;
}

Gateway::~Gateway() = default;

namespace {
log::Level parse_level(const std::string& s) {
  if (s == "debug") return log::Level::kDebug;
  if (s == "warn") return log::Level::kWarn;
  if (s == "error") return log::Level::kError;
  return log::Level::kInfo;
}
}  // namespace

Status Gateway::start() {
  auto& c = impl_->config;
  log::set_min_level(parse_level(c.log_level));
  for (const auto& w : c.warnings) log::warn(w, {{"config", c.source_path}});

  // Threads: raise priority on each worker when asked (the seed: WebSocket responsiveness).
  std::function<void()> on_thread_start;
  if (c.gateway.elevate_priority) {
    if (!elevate_current_thread_priority()) {
      log::warn("gateway.elevateGatewayPriority: not permitted to raise the priority; running at normal priority",
                {{"errno", errno}});
    } else {
      on_thread_start = [] { elevate_current_thread_priority(); };
    }
  }
  impl_->workers =
      std::make_unique<runtime::Workers>(static_cast<std::size_t>(c.gateway.worker_threads), on_thread_start);
  impl_->blocking = std::make_unique<runtime::BlockingPool>(2);

  // Store: SQLite (one gateway) or PostgreSQL (several, CONTRACT §12). An unreachable database is an error at
  // start (exit 2 naming storage.connection, never its value); the migrations run here, under a database lock.
  if (c.storage.provider == "postgresql") {
    auto stores = store::open_postgres_provider(c.storage.connection, SystemClock::instance());
    if (!stores) return Error::internal(c.source_path + ": " + stores.error().message);
    impl_->stores = std::move(stores.value());
  } else {
    // The file holds secrets: directories made for it 0700, the file (and so its -wal/-shm) 0600 (CONTRACT §11a).
    const std::string dir = std::filesystem::path(c.storage.path).parent_path().string();
    if (auto made = store::create_private_directories(dir); !made) {
      return Error::internal(c.source_path + ": storage.path: " + made.error().message);
    }
    if (store::readable_by_others(c.storage.path)) {
      log::warn(
          "the store file is readable by group or others: it holds the token-signing key, password hashes "
          "and the connect-token secret; chmod 600 it",
          {{"setting", "storage.path"}, {"path", c.storage.path}});
    }
    auto stores = store::open_sqlite_provider(c.storage.path);
    if (!stores) return Error::internal(c.source_path + ": storage.path: " + stores.error().message);
    impl_->stores = std::move(stores.value());
  }

  // TLS (gateway mode only; the access-management service runs behind the gateway on HTTP).
  const bool https = impl_->mode == Mode::kGateway && c.tls.enabled();
  if (https) {
    auto tls = http::TlsContextProvider::load(c.tls.pfx_file, c.tls.pfx_secret);
    if (!tls) {
      return Error::internal(c.source_path + ": webstreamSettings.serverPfxCertificateFile: " + tls.error().message);
    }
    impl_->tls = std::move(tls.value());
  }

  register_base_routes(impl_->router);  // GET /gateway/health, GET /metrics

  // The server exists before the components (relays register with its lifecycle); it listens after.
  impl_->server = std::make_unique<http::Server>(impl_->router, c.gateway.limits, *impl_->workers, !https);

  // Components (IAM, registry, sessions, proxy, licence, MCP) and their routes.
  WiringContext wiring{.config = c,
                       .access_management_only = impl_->mode == Mode::kAccessManagement,
                       .stores = *impl_->stores,
                       .workers = *impl_->workers,
                       .blocking = *impl_->blocking,
                       .router = impl_->router,
                       .lifecycle = &impl_->server->lifecycle()};
  auto components = build_components(wiring);
  if (!components) return components.error();
  impl_->stores->startup_complete();  // PostgreSQL: the next gateway starting may bootstrap-check now
  impl_->components = std::move(components.value());

  // Listeners. Without a PFX the HTTP port serves everything (development mode).
  if (https) {
    if (auto s =
            impl_->server->listen(http::ListenerKind::kPublic, c.gateway.public_ip, c.gateway.https_port, impl_->tls);
        !s) {
      return Error::internal(c.source_path + ": gateway.httpsPort: " + s.error().message);
    }
  }
  if (auto s = impl_->server->listen(http::ListenerKind::kInternal, c.gateway.internal_ip, c.gateway.port, nullptr);
      !s) {
    return Error::internal(c.source_path + ": gateway.port: " + s.error().message);
  }
  if (!https) {
    log::warn("no PFX certificate configured: development mode, the HTTP port serves browser traffic without TLS",
              {{"port", c.gateway.port}});
  }
  return Status::success();
}

int Gateway::run() {
  auto& impl = *impl_;
  auto& c = impl.config;
  impl.server->start();
  impl.workers->start();
  start_components(*impl.components);
  impl.heap_trimmer = std::make_unique<runtime::HeapTrimmer>(*impl.blocking);
  impl.heap_trimmer->start(impl.workers->at(0).get_executor());
  log::info(impl.mode == Mode::kGateway ? "gateway started" : "access-management service started",
            {{"http", c.gateway.internal_ip + ":" + std::to_string(impl.server->bound_port(impl.tls ? 1 : 0))},
             {"https", impl.tls ? c.gateway.public_ip + ":" + std::to_string(impl.server->bound_port(0)) : ""},
             {"store", impl.stores->location()},
             {"version", WEBSTREAM_VERSION}});

  net::signal_set signals(impl.signal_context, SIGTERM, SIGINT, SIGHUP);
  bool stop = false;
  std::function<void(boost::system::error_code, int)> on_signal = [&](boost::system::error_code ec, int sig) {
    if (ec) return;
    if (sig == SIGHUP) {
      log::info("SIGHUP: reloading");
      reload(*impl.components, c.source_path, impl.tls.get());
      signals.async_wait(on_signal);
      return;
    }
    log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    stop = true;
  };
  signals.async_wait(on_signal);
  while (!stop) impl.signal_context.run_one();

  // Graceful stop: no new connections; idle ones close; in-flight HTTP finishes (up to 10 s); WebSockets
  // close with 1001; then background work stops and the store is flushed.
  impl.server->begin_stop();
  stop_components_accepting(*impl.components);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl.server->active_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop_components(*impl.components);
  impl.heap_trimmer->stop();
  impl.workers->stop_and_join(std::chrono::seconds(2));
  flush_components(*impl.components);
  impl.blocking->stop();
  log::info("stopped");
  return 0;
}

}  // namespace webstream::app
