// webstream-sim: simulated session hosts and streamers for tests, the demo and benchmarks (docs/sim.md).
// One io_context thread runs every host's server, the registrars and the streamers.
// Start-up errors: one line on stderr, exit 2. SIGTERM/SIGINT: WebSockets closed with 1001, hosts
// unregistered and streamers checked out (bounded by --request-timeout), exit 0.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <vector>

#include "events.hpp"
#include "gateway_client.hpp"
#include "host.hpp"
#include "observability/log.hpp"
#include "sim_options.hpp"
#include "streamer.hpp"

namespace net = boost::asio;
using namespace webstream;
using namespace webstream::sim;

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "webstream-sim: %s\n", message.c_str());
  return 2;
}

log::Level level_of(const std::string& s) {
  if (s == "debug") return log::Level::kDebug;
  if (s == "warn") return log::Level::kWarn;
  if (s == "error") return log::Level::kError;
  return log::Level::kInfo;
}

struct Sim {
  std::vector<std::shared_ptr<Host>> hosts;
  std::vector<std::shared_ptr<SimStreamer>> streamers;
  std::chrono::milliseconds request_timeout{5000};
};

net::awaitable<void> wait_ms(int ms) {
  net::steady_timer t(co_await net::this_coro::executor);
  t.expires_after(std::chrono::milliseconds(ms));
  auto [ec] = co_await t.async_wait(net::as_tuple(net::use_awaitable));
  (void)ec;
}

// The goodbye: close WebSockets (1001), unregister hosts and check streamers out at the same time, then
// give the closing handshakes a moment. Bounded: a silent gateway cannot keep the process alive.
net::awaitable<void> shut_down(Sim& sim, net::io_context& io) {
  for (auto& h : sim.hosts) h->stop_accepting_and_close();
  for (auto& s : sim.streamers) s->stop();
  auto pending = std::make_shared<int>(0);
  for (auto& h : sim.hosts) {
    ++*pending;
    net::co_spawn(
        io,
        [](std::shared_ptr<Host> host, std::shared_ptr<int> left) -> net::awaitable<void> {
          co_await host->unregister();
          --*left;
        }(h, pending),
        net::detached);
  }
  for (auto& s : sim.streamers) {
    ++*pending;
    net::co_spawn(
        io,
        [](std::shared_ptr<SimStreamer> streamer, std::shared_ptr<int> left) -> net::awaitable<void> {
          co_await streamer->check_out();
          --*left;
        }(s, pending),
        net::detached);
  }
  const auto deadline = std::chrono::steady_clock::now() + sim.request_timeout + std::chrono::seconds(1);
  auto websockets_open = [&sim] {
    std::uint64_t open = 0;
    for (auto& h : sim.hosts) open += h->state().stats.ws_open;
    return open;
  };
  while ((*pending > 0 || websockets_open() > 0) && std::chrono::steady_clock::now() < deadline) {
    co_await wait_ms(10);
  }
  boost::json::object event{{"event", "stopped"}};
  emit_event(event);
  io.stop();
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = parse_sim_args(argc, argv);
  if (!parsed) return fail(parsed.error().message);
  if (parsed->action == SimAction::kHelp) {
    std::fputs(kSimUsage, stdout);
    return 0;
  }
  if (parsed->action == SimAction::kVersion) {
    std::printf("webstream-sim %s\n", WEBSTREAM_VERSION);
    return 0;
  }
  const SimOptions options = std::move(parsed->options);
  log::set_min_level(level_of(options.log_level));

  std::optional<GatewayClient> client;
  if (!options.gateway_url.empty()) {
    auto endpoint = parse_gateway_url(options.gateway_url);
    if (!endpoint) return fail(endpoint.error().message);
    client.emplace(std::move(endpoint.value()), options.backend_key,
                   std::chrono::milliseconds(options.request_timeout_ms));
  }

  std::signal(SIGPIPE, SIG_IGN);
  net::io_context io(1);
  Sim sim;
  sim.request_timeout = std::chrono::milliseconds(options.request_timeout_ms);
  for (int i = 0; i < options.hosts; ++i) {
    const int port = options.base_port == 0 ? 0 : options.base_port + i;
    auto host = Host::create(io, options, client ? &*client : nullptr, i, port);
    if (!host) return fail(host.error().message);
    sim.hosts.push_back(std::move(host.value()));
  }
  for (int i = 0; i < options.streamers; ++i) {
    sim.streamers.push_back(std::make_shared<SimStreamer>(io.get_executor(), *client, options.checkin_interval_ms));
  }

  net::signal_set signals(io, SIGTERM, SIGINT);
  signals.async_wait([&](boost::system::error_code ec, int sig) {
    if (ec) return;
    log::info("stopping", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    net::co_spawn(io, shut_down(sim, io), net::detached);
  });

  for (auto& h : sim.hosts) h->start();
  for (auto& s : sim.streamers) {
    boost::json::object event{{"event", "streamer_ready"}, {"streamerGuid", s->guid()}};
    emit_event(event);
    net::co_spawn(
        io, [](std::shared_ptr<SimStreamer> streamer) -> net::awaitable<void> { co_await streamer->run(); }(s),
        net::detached);
  }
  boost::json::object ready{{"event", "ready"},
                            {"hosts", options.hosts},
                            {"streamers", options.streamers},
                            {"register", options.register_hosts && client.has_value()}};
  emit_event(ready);
  io.run();
  return 0;
}
