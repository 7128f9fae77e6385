#include "iam/login_limiter.hpp"

#include <gtest/gtest.h>

#include "core/testing/fake_clock.hpp"

namespace webstream::iam {
namespace {

class LoginLimiterTest : public ::testing::Test {
 protected:
  // One complete failed login; false when it was refused with 429.
  bool fail(const std::string& user, const std::string& ip = "10.0.0.1") {
    auto a = limiter_.begin(user, ip);
    if (!a) return false;
    limiter_.failed(*a);
    return true;
  }
  // Seconds of Retry-After, 0 when the attempt is let through (then counted as a success).
  int succeed(const std::string& user, const std::string& ip = "10.0.0.1") {
    auto a = limiter_.begin(user, ip);
    if (!a) {
      EXPECT_EQ(a.error().status, 429);
      EXPECT_EQ(a.error().code, "locked_out");
      return a.error().retry_after;
    }
    limiter_.succeeded(*a);
    return 0;
  }

  webstream::testing::FakeClock clock_;
  LoginLimiter limiter_{clock_};
};

TEST_F(LoginLimiterTest, FiveFailuresThenLockedForTheWindow) {
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(fail("alice")) << i;
  EXPECT_FALSE(fail("alice"));
  EXPECT_EQ(succeed("alice"), 900);  // even the right password: locked, Retry-After = the whole window
  clock_.advance_s(600);
  EXPECT_EQ(succeed("alice"), 300);
  clock_.advance_s(299.5);
  EXPECT_EQ(succeed("alice"), 1);  // rounded up
  clock_.advance_s(0.5);
  EXPECT_EQ(succeed("alice"), 0);  // the window has passed
}

TEST_F(LoginLimiterTest, RefusedAttemptsDoNotExtendTheLockout) {
  for (int i = 0; i < 5; ++i) fail("alice");
  for (int i = 0; i < 100; ++i) {
    EXPECT_FALSE(fail("alice"));
    clock_.advance_s(8);  // 800 s in all
  }
  EXPECT_EQ(succeed("alice"), 100);
  clock_.advance_s(100);
  EXPECT_EQ(succeed("alice"), 0);
}

TEST_F(LoginLimiterTest, WindowSlides) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(fail("alice"));
    clock_.advance_s(60);
  }
  // Failures at 0, 60, 120, 180, 240 s; now 300 s: locked until the first is 900 s old.
  EXPECT_EQ(succeed("alice"), 600);
  clock_.advance_s(600);
  EXPECT_TRUE(fail("alice"));       // one guess freed up; it fails again
  EXPECT_EQ(succeed("alice"), 60);  // until the 60 s failure leaves the window
}

TEST_F(LoginLimiterTest, FourFailuresAreNotALockoutAndSuccessClearsThem) {
  for (int i = 0; i < 4; ++i) fail("alice");
  EXPECT_EQ(succeed("alice"), 0);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fail("alice")) << i;  // a fresh count after the success
  EXPECT_TRUE(fail("alice"));
  EXPECT_FALSE(fail("alice"));
}

TEST_F(LoginLimiterTest, UsernamesAreCaseInsensitiveAndIndependent) {
  for (int i = 0; i < 5; ++i) fail(i % 2 ? "Alice" : "ALICE");
  EXPECT_GT(succeed("alice"), 0);
  EXPECT_EQ(succeed("bob"), 0);
}

TEST_F(LoginLimiterTest, FiftyFailuresFromOneAddressLockEveryLoginFromIt) {
  for (int i = 0; i < 50; ++i) EXPECT_TRUE(fail("user" + std::to_string(i % 10 + i / 10 * 100), "192.0.2.7")) << i;
  EXPECT_EQ(succeed("somebody-new", "192.0.2.7"), 900);
  EXPECT_EQ(succeed("somebody-new", "192.0.2.8"), 0);  // another address is not affected
  clock_.advance_s(900);
  EXPECT_EQ(succeed("somebody-new", "192.0.2.7"), 0);
}

TEST_F(LoginLimiterTest, SuccessDoesNotClearTheAddressCount) {
  for (int i = 0; i < 49; ++i) fail("spray" + std::to_string(i), "192.0.2.9");
  EXPECT_EQ(succeed("alice", "192.0.2.9"), 0);
  EXPECT_TRUE(fail("spray-last", "192.0.2.9"));
  EXPECT_GT(succeed("alice", "192.0.2.9"), 0);
}

TEST_F(LoginLimiterTest, AttemptsInFlightCountSoParallelGuessesCannotSlipIn) {
  std::vector<LoginLimiter::Attempt> in_flight;
  for (int i = 0; i < 5; ++i) {
    auto a = limiter_.begin("alice", "10.0.0.1");
    ASSERT_TRUE(a.ok()) << i;
    in_flight.push_back(*a);
  }
  auto sixth = limiter_.begin("alice", "10.0.0.1");
  ASSERT_FALSE(sixth.ok());
  EXPECT_EQ(sixth.error().retry_after, 1);
  limiter_.abandoned(in_flight.back());
  in_flight.pop_back();
  auto again = limiter_.begin("alice", "10.0.0.1");  // room for one again (now in flight too)
  ASSERT_TRUE(again.ok());
  in_flight.push_back(*again);
  for (auto& a : in_flight) limiter_.failed(a);
  EXPECT_EQ(succeed("alice"), 900);
}

TEST_F(LoginLimiterTest, OnlyTheLockingFailureReportsALockout) {
  for (int i = 0; i < 4; ++i) {
    auto a = limiter_.begin("alice", "10.0.0.1");
    EXPECT_FALSE(limiter_.failed(*a).user_locked);
  }
  auto a = limiter_.begin("alice", "10.0.0.1");
  auto outcome = limiter_.failed(*a);
  EXPECT_TRUE(outcome.user_locked);
  EXPECT_FALSE(outcome.ip_locked);
}

TEST_F(LoginLimiterTest, RestoredFailuresLockAsBefore) {
  LoginLimiter restarted(clock_);
  const auto key = LoginLimiter::key_for(LimitScope::kUser, "Alice");
  EXPECT_EQ(key, LoginLimiter::key_for(LimitScope::kUser, "alice"));
  EXPECT_NE(key.find("alice"), 0u);  // a digest, not the name
  for (int i = 0; i < 5; ++i) restarted.restore(LimitScope::kUser, key, clock_.now_ms() - 100'000 + i);
  restarted.restore(LimitScope::kUser, LoginLimiter::key_for(LimitScope::kUser, "bob"), clock_.now_ms() - 900'000);
  auto a = restarted.begin("alice", "10.0.0.1");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.error().retry_after, 800);
  EXPECT_TRUE(restarted.begin("bob", "10.0.0.1").ok());  // a failure older than the window is ignored
}

TEST_F(LoginLimiterTest, TrackedKeysAreBounded) {
  LoginLimits limits;
  limits.max_tracked_keys = 3;
  LoginLimiter small(clock_, limits);
  for (int i = 0; i < 10; ++i) {
    auto a = small.begin("user" + std::to_string(i), "10.0.0." + std::to_string(i));
    ASSERT_TRUE(a.ok());
    small.failed(*a);
    EXPECT_LE(small.tracked(LimitScope::kUser), 3u);
    EXPECT_LE(small.tracked(LimitScope::kIp), 3u);
  }
  // Locked keys are not evicted to make room.
  for (int i = 0; i < 5; ++i) {
    auto a = small.begin("victim", "10.1.0." + std::to_string(i));
    ASSERT_TRUE(a.ok());
    small.failed(*a);
  }
  for (int i = 0; i < 10; ++i) {
    auto a = small.begin("noise" + std::to_string(i), "10.2.0.1");
    if (a) small.failed(*a);
  }
  EXPECT_FALSE(small.begin("victim", "10.3.0.1").ok());
}

}  // namespace
}  // namespace webstream::iam
