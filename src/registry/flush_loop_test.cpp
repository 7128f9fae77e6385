#include "registry/flush_loop.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <thread>

#include "core/testing/eventually.hpp"
#include "core/testing/fake_clock.hpp"
#include "store/sqlite/sqlite_registry_store.hpp"

namespace webstream::registry {
namespace {

using namespace std::chrono_literals;

TEST(FlushLoop, WritesHeartbeatRefreshesPeriodicallyAndStops) {
  testing::FakeClock clock;
  auto db = store::SqliteDb::open(":memory:").value();
  auto store = store::SqliteRegistryStore::open(*db).value();
  Registry registry(RegistrySettings{}, *store, clock);
  runtime::BlockingPool blocking(1);
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  FlushLoop loop(io.get_executor(), blocking, registry, 20ms);
  loop.start();
  std::thread runner([&] { io.run(); });

  BackendReport hb;
  hb.server_url = "http://h:1";
  hb.active_sessions = 3;
  ASSERT_TRUE(registry.heartbeat(hb, ""));  // memory only
  EXPECT_TRUE(webstream::testing::eventually([&] { return registry.pending_writes() == 0; }));
  auto rows = store->load_all().value();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].active_sessions, 3);

  loop.stop();
  guard.reset();
  runner.join();  // the loop ended: run() ran out of work
}

}  // namespace
}  // namespace webstream::registry
