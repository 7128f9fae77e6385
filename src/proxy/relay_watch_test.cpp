#include "proxy/relay_watch.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <functional>
#include <memory>

#include "core/testing/fake_clock.hpp"
#include "runtime/testing/fake_timers.hpp"

namespace webstream::proxy {
namespace {

namespace net = boost::asio;
using namespace std::chrono_literals;

// A relay as the watch sees it: counts its visits; `on_visit` may act (leave, as an ending relay does).
struct Relay final : RelayWatch::Member, std::enable_shared_from_this<Relay> {
  int ticks = 0;
  int stops = 0;
  std::function<void(Relay&)> on_visit;
  void on_tick() override {
    ++ticks;
    if (on_visit) on_visit(*this);
  }
  void on_graceful_stop() override {
    ++stops;
    (void)RelayWatch::leave(*this);
  }
  ~Relay() { (void)RelayWatch::leave(*this); }
};

struct Fixture {
  net::io_context io;
  webstream::testing::FakeClock clock{1000};
  runtime::testing::FakeTimers timers{clock};  // after io: its waits go first
  std::shared_ptr<RelayWatch> watch(http::Lifecycle* lifecycle = nullptr) {
    return RelayWatch::of(io.get_executor(), timers, 1s, lifecycle);
  }
  void join(Relay& r, const std::shared_ptr<Relay>& owner, http::Lifecycle* lifecycle = nullptr) {
    watch(lifecycle)->join(r, owner);
  }
};

TEST(RelayWatchTest, OneTimerVisitsEveryRelayEachInterval) {
  Fixture f;
  auto a = std::make_shared<Relay>();
  auto b = std::make_shared<Relay>();
  f.join(*a, a);
  f.join(*b, b);
  EXPECT_EQ(f.watch()->members(), 2u);
  EXPECT_EQ(f.timers.pending(), 1u);  // one wait for both
  f.timers.run_until(1000 + 2999, f.io);
  EXPECT_EQ(a->ticks, 2);
  EXPECT_EQ(b->ticks, 2);
  f.timers.run_until(1000 + 3000, f.io);
  EXPECT_EQ(a->ticks, 3);
  EXPECT_EQ(b->ticks, 3);
}

TEST(RelayWatchTest, ARelayThatLeavesDuringItsVisitIsNotVisitedAgainAndTheOthersStillAre) {
  Fixture f;
  auto a = std::make_shared<Relay>();
  auto b = std::make_shared<Relay>();
  auto c = std::make_shared<Relay>();
  std::weak_ptr<Relay> watched_b = b;
  b->on_visit = [](Relay& r) { (void)RelayWatch::leave(r); };  // drops the watch's reference inside the visit
  f.join(*a, a);
  f.join(*b, b);
  f.join(*c, c);
  b.reset();  // only the watch holds b now
  f.timers.run_until(1000 + 1000, f.io);
  EXPECT_TRUE(watched_b.expired());  // freed after its visit, not during it
  EXPECT_EQ(a->ticks, 1);
  EXPECT_EQ(c->ticks, 1);
  f.timers.run_until(1000 + 2000, f.io);
  EXPECT_EQ(a->ticks, 2);
  EXPECT_EQ(c->ticks, 2);
}

TEST(RelayWatchTest, TheLastRelayLeavingLeavesNoWaitAndTheNextRelayStartsANewWatch) {
  Fixture f;
  auto a = std::make_shared<Relay>();
  f.join(*a, a);
  std::weak_ptr<RelayWatch> first = f.watch();
  (void)RelayWatch::leave(*a);
  f.io.poll();  // the cancelled wait ends
  EXPECT_EQ(f.timers.pending(), 0u);
  EXPECT_TRUE(first.expired());
  f.io.restart();  // it ran out of work
  f.join(*a, a);
  EXPECT_EQ(f.timers.pending(), 1u);
  f.timers.run_until(f.clock.now_ms() + 1000, f.io);
  EXPECT_EQ(a->ticks, 1);
}

TEST(RelayWatchTest, WatchesAreSharedPerContextTimersAndIntervalOnly) {
  Fixture f;
  net::io_context other;
  auto a = std::make_shared<Relay>();
  f.join(*a, a);
  EXPECT_EQ(f.watch(), f.watch());
  EXPECT_NE(f.watch(), RelayWatch::of(other.get_executor(), f.timers, 1s, nullptr));
  EXPECT_NE(f.watch(), RelayWatch::of(f.io.get_executor(), f.timers, 2s, nullptr));
}

TEST(RelayWatchTest, AnIoContextTornDownWithRelaysOpenReleasesThemAll) {
  std::weak_ptr<Relay> watched;
  {
    Fixture f;
    auto a = std::make_shared<Relay>();
    watched = a;
    f.join(*a, a);
    a.reset();
    EXPECT_FALSE(watched.expired());  // the watch holds it
  }
  EXPECT_TRUE(watched.expired());  // no cycle left behind (ASan's leak check would report one)
}

TEST(RelayWatchTest, AGracefulStopReachesEveryRelayThroughOneRegistration) {
  Fixture f;
  http::Lifecycle lifecycle;
  auto a = std::make_shared<Relay>();
  auto b = std::make_shared<Relay>();
  f.join(*a, a, &lifecycle);
  f.join(*b, b, &lifecycle);
  EXPECT_EQ(lifecycle.active(), 1u);  // the watch, not each relay
  lifecycle.begin_stop();
  f.io.poll();
  EXPECT_EQ(a->stops, 1);
  EXPECT_EQ(b->stops, 1);
  f.io.restart();  // it ran out of work
  // A relay whose handshake ends after the stop began is stopped at once.
  auto late = std::make_shared<Relay>();
  f.join(*late, late, &lifecycle);
  f.io.poll();
  EXPECT_EQ(late->stops, 1);
}

}  // namespace
}  // namespace webstream::proxy
