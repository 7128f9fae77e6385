// The follower over a real (SQLite) revocation log: what one gateway records, another applies.
#include "iam/revocation_follower.hpp"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "core/testing/eventually.hpp"
#include "core/testing/fake_clock.hpp"
#include "iam/revocation_feed.hpp"
#include "store/sqlite/sqlite_db.hpp"
#include "store/sqlite/sqlite_revocation_log_store.hpp"

namespace webstream::iam {
namespace {

class RevocationFollowerTest : public ::testing::Test {
 protected:
  RevocationFollowerTest()
      : db_(store::SqliteDb::open(":memory:").value()),
        log_(store::SqliteRevocationLogStore::open(*db_, clock_).value()), feed_(*log_, clock_, 3600) {}

  RevocationTargets targets() {
    return RevocationTargets{[this](const std::string& jti, std::int64_t exp) { revoked_[jti] = exp; },
                             [this](const std::string& user, std::int64_t nb) { cutoffs_[user] = nb; }};
  }

  webstream::testing::FakeClock clock_;
  std::unique_ptr<store::SqliteDb> db_;
  std::unique_ptr<store::SqliteRevocationLogStore> log_;
  RevocationFeed feed_;  // what the other gateway writes through
  std::map<std::string, std::int64_t> revoked_;
  std::map<std::string, std::int64_t> cutoffs_;
};

TEST_F(RevocationFollowerTest, AppliesWhatAnotherGatewayRecordedIncludingWhatCameBeforeItStarted) {
  const std::int64_t now_s = clock_.now_ms() / 1000;
  ASSERT_TRUE(feed_.record_token("jti-before", now_s + 600).ok());
  RevocationFollower follower(*log_, targets());
  ASSERT_TRUE(follower.poll_once().ok());
  EXPECT_EQ(revoked_.at("jti-before"), now_s + 600);

  clock_.advance_s(5);
  ASSERT_TRUE(feed_.record_token("jti-after", now_s + 900).ok());
  ASSERT_TRUE(feed_.record_user_cutoff("u-1", now_s + 5).ok());
  ASSERT_TRUE(follower.poll_once().ok());
  EXPECT_EQ(revoked_.at("jti-after"), now_s + 900);
  EXPECT_EQ(cutoffs_.at("u-1"), now_s + 5);
}

TEST_F(RevocationFollowerTest, FollowsEveryPageOfABurstInOneRound) {
  const std::int64_t now_s = clock_.now_ms() / 1000;
  for (int i = 0; i < 25; ++i) {
    ASSERT_TRUE(feed_.record_token("jti-" + std::to_string(i), now_s + 600).ok());
    clock_.advance_ms(1);  // distinct stamps, so pages can end between them
  }
  RevocationFollower::Options small;
  small.page_entries = 4;
  RevocationFollower follower(*log_, targets(), small);
  ASSERT_TRUE(follower.poll_once().ok());
  EXPECT_EQ(revoked_.size(), 25u);
}

TEST_F(RevocationFollowerTest, TheBackgroundThreadAppliesWithinAPeriodAndStops) {
  RevocationFollower::Options fast;
  fast.period = std::chrono::milliseconds(20);
  std::mutex m;
  std::map<std::string, std::int64_t> seen;
  RevocationFollower follower(*log_,
                              RevocationTargets{[&](const std::string& jti, std::int64_t exp) {
                                                  std::lock_guard lock(m);
                                                  seen[jti] = exp;
                                                },
                                                {}},
                              fast);
  follower.start();
  ASSERT_TRUE(feed_.record_token("jti-live", clock_.now_ms() / 1000 + 600).ok());
  EXPECT_TRUE(webstream::testing::eventually([&] {
    std::lock_guard lock(m);
    return seen.count("jti-live") > 0;
  }));
  follower.stop();  // returns: the thread ends on the stop request
}

}  // namespace
}  // namespace webstream::iam
