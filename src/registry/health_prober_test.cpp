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

#include "core/testing/fake_clock.hpp"
#include "runtime/testing/fake_timers.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace webstream::registry {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// The prober's loops run on an io_context that only the test thread runs, and their timers are FakeTimers on a
// FakeClock: every test is deterministic and takes no wall-clock time (time moves only in advance()).

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

class HealthProberTest : public ::testing::Test {
 protected:
  HealthProberTest()
      : db_(store::SqliteDb::open(":memory:").value()), store_(store::SqliteRegistryStore::open(*db_).value()),
        registry_(fast_settings(), *store_, clock_) {}
  ~HealthProberTest() override {
    prober_.stop();
    io_.poll();  // every loop ends on its cancellation
  }

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
  // Runs what is ready now (a start, a membership change, a stop) without moving time.
  void settle() { io_.poll(); }
  // Moves time forward by `ms`, running every probe and pause that falls due, in order.
  void advance(Millis ms) { timers_.run_until(clock_.now_ms() + ms, io_); }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteRegistryStore> store_;
  Registry registry_;
  FakeProbe probe_;
  net::io_context io_;
  net::executor_work_guard<net::io_context::executor_type> guard_ = net::make_work_guard(io_);
  runtime::testing::FakeTimers timers_{clock_};  // after io_: its timers go before the io_context
  HealthProber prober_{io_.get_executor(), registry_, probe_, timers_};
};

TEST_F(HealthProberTest, ProbesDriveEveryBackendIndependently) {
  const auto good = add("http://good:1", "ok");
  const auto bad = add("http://bad:1", "fail");
  const auto hang = add("http://hang:1", "hang");
  prober_.start();
  settle();
  EXPECT_EQ(probe_.calls("http://good:1/health"), 1);  // new backends are probed at once
  EXPECT_EQ(probe_.calls("http://bad:1/health"), 1);
  EXPECT_EQ(probe_.calls("http://hang:1/health"), 1);
  advance(1000);
  EXPECT_EQ(state(good), HealthState::kHealthy);
  EXPECT_EQ(state(bad), HealthState::kUnreachable);
  // The hanging probe is cut off at the timeout and counts as a failure.
  EXPECT_EQ(state(hang), HealthState::kUnreachable);
  EXPECT_GE(probe_.cancelled(), 3);
  EXPECT_EQ(prober_.probing_count(), 3u);
  EXPECT_TRUE(registry_.is_routable(good));
  EXPECT_FALSE(registry_.is_routable(bad));
  EXPECT_FALSE(registry_.is_routable(hang));
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
  settle();
  advance(100);
  ASSERT_EQ(state(good), HealthState::kHealthy);
  const int before = probe_.calls("http://good:1/health");
  const int hang_before = probe_.calls("http://hang:1/health");
  advance(400);
  // Independent loops: the healthy backend is probed every 40 ms, 10 times in 400 ms, while the hanging one's
  // single probe waits out its timeout. Had the good backend waited for the hanging one, it would have had
  // at most 1.
  EXPECT_EQ(probe_.calls("http://good:1/health") - before, 10);
  EXPECT_LE(probe_.calls("http://hang:1/health") - hang_before, 1);
}

TEST_F(HealthProberTest, RecoveryAndFollowingMembership) {
  prober_.start();
  settle();
  const auto id = add("http://later:1", "fail");  // registered after start: probed at once
  settle();
  EXPECT_EQ(prober_.probing_count(), 1u);
  EXPECT_EQ(probe_.calls("http://later:1/health"), 1);
  advance(1000);
  EXPECT_EQ(state(id), HealthState::kUnreachable);
  probe_.set("http://later:1/health", "ok");
  advance(1000);
  EXPECT_EQ(state(id), HealthState::kHealthy);

  ASSERT_TRUE(registry_.unregister("http://later:1", ""));
  settle();
  EXPECT_EQ(prober_.probing_count(), 0u);
  EXPECT_EQ(timers_.pending(), 0u);  // its pause was cancelled with it
  const int calls = probe_.calls("http://later:1/health");
  advance(1000);
  EXPECT_EQ(probe_.calls("http://later:1/health"), calls);  // never probed again
}

TEST_F(HealthProberTest, LoadedBackendsAreProbedBeforeRouting) {
  const auto id = add("http://restored:1", "ok");
  EXPECT_FALSE(registry_.is_routable(id));  // Unknown until probed
  prober_.start();
  settle();
  advance(1000);
  EXPECT_TRUE(registry_.is_routable(id));
}

TEST_F(HealthProberTest, StopEndsHangingProbesToo) {
  add("http://hang:1", "hang");
  add("http://ok:1", "ok");
  prober_.start();
  settle();
  ASSERT_EQ(probe_.calls("http://hang:1/health"), 1);
  prober_.stop();
  settle();  // no time passes: the stop alone ends every loop and the hanging probe
  EXPECT_EQ(prober_.probing_count(), 0u);
  EXPECT_EQ(probe_.cancelled(), 1);
  EXPECT_EQ(timers_.pending(), 0u);
  guard_.reset();
  io_.poll();
  EXPECT_TRUE(io_.stopped());  // nothing left to run: no loop, probe or timer outlived the stop
}

}  // namespace
}  // namespace webstream::registry
