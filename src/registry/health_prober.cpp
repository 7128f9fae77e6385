#include "registry/health_prober.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <unordered_map>

#include "observability/log.hpp"
#include "registry/server_url.hpp"

namespace webstream::registry {

namespace net = boost::asio;
using namespace net::experimental::awaitable_operators;

namespace {

// One backend's loop. Only touched on the strand.
struct Task {
  net::cancellation_signal signal;
  bool cancelled = false;
};

}  // namespace

struct HealthProber::Core : std::enable_shared_from_this<HealthProber::Core> {
  Core(net::any_io_executor ex, Registry& r, HealthProbe& p, runtime::Timers& t)
      : strand(net::make_strand(ex)), registry(r), probe(p), timers(t) {}

  net::strand<net::any_io_executor> strand;
  Registry& registry;
  HealthProbe& probe;
  runtime::Timers& timers;
  // On the strand only:
  bool started = false;
  bool stopping = false;
  std::unordered_map<std::string, std::shared_ptr<Task>> tasks;
  std::atomic<std::size_t> count{0};

  // On the strand: a loop for every backend that has none; cancel loops of backends that are gone.
  void reconcile() {
    if (stopping || !started) return;
    auto snap = registry.snapshot();
    for (auto it = tasks.begin(); it != tasks.end();) {
      if (snap->find(it->first) == nullptr) {
        cancel(*it->second);
        it = tasks.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& b : snap->backends) {
      if (tasks.count(b->id)) continue;
      auto task = std::make_shared<Task>();
      tasks.emplace(b->id, task);
      net::co_spawn(strand, loop(shared_from_this(), task, b->id),
                    net::bind_cancellation_slot(task->signal.slot(), net::detached));
    }
    count.store(tasks.size(), std::memory_order_relaxed);
  }

  static void cancel(Task& t) {
    t.cancelled = true;
    t.signal.emit(net::cancellation_type::terminal);
  }

  void stop_all() {
    stopping = true;
    for (auto& [id, task] : tasks) cancel(*task);
    tasks.clear();
    count.store(0, std::memory_order_relaxed);
  }

  // Sends one probe, cut off at `timeout`: true only for a 2xx answer in time.
  net::awaitable<bool> probe_once(const std::string& url, std::chrono::milliseconds timeout) {
    auto answer = probe.probe(url, timeout);
    auto expiry = timers.wait_for(timeout);
    auto result = co_await (std::move(answer) || std::move(expiry));
    co_return result.index() == 0 && std::get<0>(result);
  }

  static net::awaitable<void> loop(std::shared_ptr<Core> self, std::shared_ptr<Task> task, std::string id) {
    try {
      while (!task->cancelled) {
        BackendPtr backend = self->registry.find(id);
        if (!backend) break;
        const std::string url = health_url(backend->server_url);
        const std::chrono::milliseconds timeout(self->registry.health_timing().timeout_ms);
        const Millis started_at = self->registry.clock().now_ms();
        const bool ok = co_await self->probe_once(url, timeout);
        if (task->cancelled) break;
        const auto delay = self->registry.record_probe(id, ok, started_at);
        if (!delay) break;
        const std::chrono::milliseconds pause(*delay);
        co_await self->timers.wait_for(pause);  // cancelled: the loop condition ends it
      }
    } catch (const std::exception& e) {
      // Cancellation of a stopping loop may surface as operation_aborted; anything else is logged.
      if (!task->cancelled) log::error("health probe loop failed", {{"backendId", id}, {"error", e.what()}});
    }
    // On the strand (the loop runs there): forget this loop unless a newer one replaced it.
    auto it = self->tasks.find(id);
    if (it != self->tasks.end() && it->second == task) {
      self->tasks.erase(it);
      self->count.store(self->tasks.size(), std::memory_order_relaxed);
    }
  }
};

HealthProber::HealthProber(net::any_io_executor executor, Registry& registry, HealthProbe& probe,
                           runtime::Timers& timers)
    : core_(std::make_shared<Core>(std::move(executor), registry, probe, timers)) {
  std::weak_ptr<Core> weak = core_;
  registry.on_membership_changed([weak] {
    if (auto core = weak.lock()) net::post(core->strand, [core] { core->reconcile(); });
  });
}

HealthProber::~HealthProber() { stop(); }

void HealthProber::start() {
  net::post(core_->strand, [core = core_] {
    core->started = true;
    core->reconcile();
  });
}

void HealthProber::stop() {
  net::post(core_->strand, [core = core_] { core->stop_all(); });
}

std::size_t HealthProber::probing_count() const { return core_->count.load(std::memory_order_relaxed); }

}  // namespace webstream::registry
