#include "registry/health_prober.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <mutex>
#include <thread>

#include "store/sqlite/sqlite_registry_store.hpp"

namespace webstream::registry {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// Answers per URL: "ok" → true, "fail" → false, "hang" → never answers until cancelled. Counts calls.
class FakeProbe final : public HealthProbe {
 public:
  void set(const std::string& url, std::string behaviour) {
    std::lock_guard lock(mutex_);
    behaviour_[url] = std::move(behaviour);
  }
  int calls(const std::string& url) {
    std::lock_guard lock(mutex_);
    return calls_[url];
  }
  int cancelled() { return cancelled_.load(); }

  net::awaitable<bool> probe(const std::string& url, std::chrono::milliseconds timeout) override {
    std::string behaviour;
    {
      std::lock_guard lock(mutex_);
      ++calls_[url];
      behaviour = behaviour_[url];
    }
    if (behaviour == "hang") {
      net::steady_timer forever(co_await net::this_coro::executor);
      forever.expires_after(1h);
      auto [ec] = co_await forever.async_wait(net::as_tuple(net::use_awaitable));
      if (ec == net::error::operation_aborted) ++cancelled_;
      co_return true;
    }
    co_return behaviour == "ok";
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::string> behaviour_;
  std::map<std::string, int> calls_;
  std::atomic<int> cancelled_{0};
};

RegistrySettings fast_settings() {
  RegistrySettings s;
  s.health.unstable_interval_ms = 20;
  s.health.interval_ms = 100;
  s.health.timeout_ms = 50;
  s.health.failure_threshold = 3;
  s.health.success_threshold = 2;
  return s;
}

template <class F>
bool eventually(F condition, std::chrono::milliseconds within = 3s) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return condition();
}

class HealthProberTest : public ::testing::Test {
 protected:
  HealthProberTest()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteRegistryStore::open(*db_).value()),
        registry_(fast_settings(), *store_, SystemClock::instance()) {}

  std::string add(const std::string& url, const std::string& behaviour) {
    probe_.set(url + "/health", behaviour);
    BackendReport r;
    r.server_url = url;
    r.max_sessions = 5;
    return registry_.register_backend(r, "").value();
  }
  HealthState state(const std::string& id) {
    auto b = registry_.find(id);
    return b ? b->health.state : HealthState::kUnknown;
  }
  // Runs the io_context on a thread until stop() has let every loop end.
  void run() {
    runner_ = std::thread([this] { io_.run(); });
  }
  void stop_and_join() {
    prober_.stop();
    guard_.reset();
    runner_.join();  // returns only when every probe loop (and its probe) has ended
  }
  ~HealthProberTest() override {
    if (runner_.joinable()) stop_and_join();
  }

  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteRegistryStore> store_;
  Registry registry_;
  FakeProbe probe_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_ = net::make_work_guard(io_);
  HealthProber prober_{io_.get_executor(), registry_, probe_};
  std::thread runner_;
};

TEST_F(HealthProberTest, ProbesDriveEveryBackendIndependently) {
  const auto good = add("http://good:1", "ok");
  const auto bad = add("http://bad:1", "fail");
  const auto hang = add("http://hang:1", "hang");
  prober_.start();
  run();
  EXPECT_TRUE(eventually([&] { return state(good) == HealthState::kHealthy; }));
  EXPECT_TRUE(eventually([&] { return state(bad) == HealthState::kUnreachable; }));
  // The hanging probe is cut off at the timeout and counts as a failure.
  EXPECT_TRUE(eventually([&] { return state(hang) == HealthState::kUnreachable; }));
  EXPECT_GE(probe_.cancelled(), 3);
  EXPECT_EQ(prober_.probing_count(), 3u);
  EXPECT_TRUE(registry_.is_routable(good));
  EXPECT_FALSE(registry_.is_routable(bad));
  EXPECT_FALSE(registry_.is_routable(hang));
  stop_and_join();
}

TEST_F(HealthProberTest, AHangingBackendNeverDelaysAnother) {
  auto s = fast_settings();
  s.health.unstable_interval_ms = 10;
  s.health.interval_ms = 40;
  s.health.timeout_ms = 400;  // each hanging probe holds its own loop for 400 ms
  registry_.set_settings(s);
  const auto good = add("http://good:1", "ok");
  add("http://hang:1", "hang");
  prober_.start();
  run();
  EXPECT_TRUE(eventually([&] { return state(good) == HealthState::kHealthy; }));
  const int before = probe_.calls("http://good:1/health");
  std::this_thread::sleep_for(400ms);
  const int after = probe_.calls("http://good:1/health");
  // Independent loops: about 10 probes (every 40 ms). Had the good backend waited for the hanging one,
  // it would have had at most 2.
  EXPECT_GE(after - before, 5);
  EXPECT_LE(after - before, 12);
  stop_and_join();
}

TEST_F(HealthProberTest, RecoveryAndFollowingMembership) {
  prober_.start();
  run();
  const auto id = add("http://later:1", "fail");  // registered after start: probed at once
  EXPECT_TRUE(eventually([&] { return prober_.probing_count() == 1; }));
  EXPECT_TRUE(eventually([&] { return state(id) == HealthState::kUnreachable; }));
  probe_.set("http://later:1/health", "ok");
  EXPECT_TRUE(eventually([&] { return state(id) == HealthState::kHealthy; }));

  ASSERT_TRUE(registry_.unregister("http://later:1", ""));
  EXPECT_TRUE(eventually([&] { return prober_.probing_count() == 0; }));
  const int calls = probe_.calls("http://later:1/health");
  std::this_thread::sleep_for(250ms);
  EXPECT_LE(probe_.calls("http://later:1/health"), calls + 1);  // at most one already in flight
  stop_and_join();
}

TEST_F(HealthProberTest, LoadedBackendsAreProbedBeforeRouting) {
  const auto id = add("http://restored:1", "ok");
  EXPECT_FALSE(registry_.is_routable(id));  // Unknown until probed
  prober_.start();
  run();
  EXPECT_TRUE(eventually([&] { return registry_.is_routable(id); }));
  stop_and_join();
}

TEST_F(HealthProberTest, StopEndsHangingProbesToo) {
  add("http://hang:1", "hang");
  add("http://ok:1", "ok");
  prober_.start();
  run();
  EXPECT_TRUE(eventually([&] { return probe_.calls("http://hang:1/health") >= 1; }));
  const auto t0 = std::chrono::steady_clock::now();
  stop_and_join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
  EXPECT_EQ(prober_.probing_count(), 0u);
}

}  // namespace
}  // namespace webstream::registry
