#include "licence/claim_batcher.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstdio>
#include <future>
#include <thread>

#include "core/testing/fake_clock.hpp"
#include "licence/licence_test_support.hpp"
#include "store/sqlite/sqlite_licence_store.hpp"

namespace webstream::licence {
namespace {

namespace net = boost::asio;
using namespace webstream::licence::testing;

std::string claim_guid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

class ClaimBatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db = std::move(store::SqliteDb::open(dir.file("webstream.db")).value());
    lstore = std::move(store::SqliteLicenceStore::open(*db).value());
    SeatOptions o;
    o.licence_file = dir.write("licence.json", signed_text(keys.key, licence_fields(50)));
    seats = std::move(SeatRegistry::open(*lstore, clock, o, keys.ring).value());
  }

  TempDir dir;
  TestKeys keys;
  webstream::testing::FakeClock clock;
  std::unique_ptr<store::SqliteDb> db;
  std::unique_ptr<store::SqliteLicenceStore> lstore;
  std::unique_ptr<SeatRegistry> seats;
};

TEST_F(ClaimBatcherTest, QueuedClaimsShareOneTransactionAndNeverExceedTheLicence) {
  runtime::BlockingPool pool(1);
  auto batcher = ClaimBatcher::create(*seats, pool);
  // Hold the only pool thread so that all 200 claims queue up behind it.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  net::post(pool.executor(), [released] { released.wait(); });

  net::io_context io;
  int granted = 0, refused = 0, other = 0;
  std::int64_t max_active = 0;
  for (int i = 0; i < 200; ++i) {
    net::co_spawn(
        io,
        [&, i]() -> net::awaitable<void> {
          Result<CheckinAnswer> r = co_await batcher->checkin(claim_guid(i));
          if (r.ok()) {
            ++granted;
            max_active = std::max(max_active, r->active);
            EXPECT_EQ(r->max, 50);
          } else if (r.error().code == "capacity_reached") {
            ++refused;
          } else {
            ++other;
          }
        },
        net::detached);
  }
  io.poll();  // every claim runs up to its enqueue (on this thread): all 200 are queued behind the held thread
  release.set_value();
  io.run();  // returns once every answer has been delivered (pending claims keep the io_context busy)
  EXPECT_EQ(granted, 50);
  EXPECT_EQ(refused, 150);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(max_active, 50);
  EXPECT_EQ(batcher->largest_batch(), 200u);
  EXPECT_EQ(seats->active_count(), 50);
  EXPECT_EQ(lstore->active_seats(0)->size(), 50u);
}

TEST_F(ClaimBatcherTest, AnswersLikeCheckinIncludingRefreshesAndDuplicates) {
  runtime::BlockingPool pool(1);
  auto batcher = ClaimBatcher::create(*seats, pool);
  net::io_context io;
  std::vector<Result<CheckinAnswer>> answers;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        answers.push_back(co_await batcher->checkin(claim_guid(1)));
        answers.push_back(co_await batcher->checkin(claim_guid(1)));  // already holds a seat
        answers.push_back(co_await batcher->checkin(claim_guid(2)));
      },
      net::detached);
  io.run();
  ASSERT_EQ(answers.size(), 3u);
  for (const auto& a : answers) ASSERT_TRUE(a.ok());
  EXPECT_EQ(answers[0]->active, 1);
  EXPECT_EQ(answers[1]->active, 1);
  EXPECT_EQ(answers[2]->active, 2);
}

TEST_F(ClaimBatcherTest, AnswerResumesOnTheCallersThread) {
  runtime::BlockingPool pool(1);
  auto batcher = ClaimBatcher::create(*seats, pool);
  net::io_context io;
  std::thread::id before, after;
  net::co_spawn(
      io,
      [&]() -> net::awaitable<void> {
        before = std::this_thread::get_id();
        auto r = co_await batcher->checkin(claim_guid(7));
        EXPECT_TRUE(r.ok());
        after = std::this_thread::get_id();
      },
      net::detached);
  io.run();
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace webstream::licence
