#include "store/session_admission.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace webstream::store {
namespace {

SessionRecord wanted() {
  SessionRecord s;
  s.id = "s1";
  s.user_id = "u1";
  s.org_id = "o1";
  s.workspace_id = "w1";
  s.backend_id = "b1";
  return s;
}

// Counts from a table and records which scopes were counted, in order.
struct Counter {
  std::map<std::string, std::int64_t> live;  // column → live sessions
  std::vector<std::string> asked;
  std::int64_t operator()(const char* column, const std::string&) {
    asked.emplace_back(column);
    return live[column];
  }
};

TEST(SessionAdmission, ExistingIdOfAnotherUserIsAConflictEvenWhenEnded) {
  auto existing = wanted();
  existing.user_id = "u2";
  existing.state = kEnded;
  auto r = admit_existing(existing, wanted());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, 409);
  EXPECT_EQ(r.error().code, "session_conflict");
}

TEST(SessionAdmission, SameLiveSessionIsReturnedAsIsAndAnEndedOneReplaced) {
  auto existing = wanted();
  existing.state = kActive;
  EXPECT_EQ(admit_existing(existing, wanted()).value(), ExistingSession::kReturnAsIs);
  existing.state = kReleased;
  EXPECT_EQ(admit_existing(existing, wanted()).value(), ExistingSession::kReplace);
}

TEST(SessionAdmission, LiveIdWithAnotherAppIsAConflict) {
  auto existing = wanted();
  existing.app_id = "other";
  auto r = admit_existing(existing, wanted());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, "session_conflict");
}

TEST(SessionAdmission, UserLimitNamesTheCountAndStopsBeforeOtherScopes) {
  Counter count{{{"user_id", 2}}, {}};
  ReserveLimits limits;
  limits.user_max = 2;
  limits.org_max = 10;
  limits.backend_max = 10;
  auto refusal = limit_refusal(wanted(), limits, count);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->status, 409);
  EXPECT_EQ(refusal->code, "concurrency_limit");
  EXPECT_NE(refusal->message.find("2 of 2"), std::string::npos);
  EXPECT_EQ(count.asked, std::vector<std::string>{"user_id"});
}

TEST(SessionAdmission, OrgIsCountedOnlyWhenItHasALimit) {
  Counter count;
  ReserveLimits limits;
  limits.user_max = 1;
  limits.backend_max = 1;
  EXPECT_FALSE(limit_refusal(wanted(), limits, count));
  EXPECT_EQ(count.asked, (std::vector<std::string>{"user_id", "backend_id"}));

  Counter full{{{"org_id", 3}}, {}};
  limits.org_max = 3;
  auto refusal = limit_refusal(wanted(), limits, full);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->code, "concurrency_limit");
}

TEST(SessionAdmission, BackendIsFullByPinsOrByItsReportedLoadWithRetryAfter) {
  ReserveLimits limits;
  limits.user_max = 5;
  limits.backend_max = 4;
  Counter pinned{{{"backend_id", 4}}, {}};
  auto by_pins = limit_refusal(wanted(), limits, pinned);
  ASSERT_TRUE(by_pins);
  EXPECT_EQ(by_pins->status, 503);
  EXPECT_EQ(by_pins->code, "no_backend_available");
  EXPECT_EQ(by_pins->retry_after, kNoBackendRetryAfterS);

  limits.backend_reported_load = 4;
  Counter idle;
  EXPECT_TRUE(limit_refusal(wanted(), limits, idle));
  limits.backend_reported_load = 3;
  EXPECT_FALSE(limit_refusal(wanted(), limits, idle));
}

}  // namespace
}  // namespace webstream::store
