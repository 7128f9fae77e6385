// The revocation log the access-management service serves to gateways.
#include <gtest/gtest.h>

#include "core/testing/fake_clock.hpp"
#include "store/testing/store_fixture.hpp"

namespace webstream::store {
namespace {

RevocationEntry token(std::string jti, std::int64_t exp) {
  return RevocationEntry{RevocationKind::kToken, std::move(jti), exp, exp, 0};
}
RevocationEntry cutoff(std::string user, std::int64_t not_before, std::int64_t until) {
  return RevocationEntry{RevocationKind::kUserCutoff, std::move(user), not_before, until, 0};
}

// A log on every backend, on a fake clock.
class RevocationLogStoreTest : public testing::StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    if (HasFatalFailure()) return;
    log = provider().revocation_log(clock).value();
  }
  std::unique_ptr<RevocationLogStore> log;
  const std::int64_t now_s = clock.now_s();
};
WEBSTREAM_STORE_BACKENDS(RevocationLogStoreTest);

TEST_P(RevocationLogStoreTest, SinceReturnsEntriesRecordedFromThenOnAndStillRelevant) {
  ASSERT_TRUE(log->append(token("j-1", now_s + 100)).ok());
  clock.advance_ms(10);
  ASSERT_TRUE(log->append(cutoff("u-1", now_s + 1, now_s + 3700)).ok());
  clock.advance_ms(10);

  auto all = log->since(0, 100);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->now_ms, clock.now_ms());
  ASSERT_EQ(all->entries.size(), 2u);
  EXPECT_EQ(all->entries[0].kind, RevocationKind::kToken);
  EXPECT_EQ(all->entries[0].subject, "j-1");
  EXPECT_EQ(all->entries[0].value, now_s + 100);
  EXPECT_EQ(all->entries[0].at_ms, 1'700'000'000'000);
  EXPECT_EQ(all->entries[1].kind, RevocationKind::kUserCutoff);
  EXPECT_EQ(all->entries[1].subject, "u-1");

  // Incremental: from the second entry's stamp on.
  auto later = log->since(1'700'000'000'010, 100);
  ASSERT_EQ(later->entries.size(), 1u);
  EXPECT_EQ(later->entries[0].subject, "u-1");
  EXPECT_TRUE(log->since(all->now_ms, 100)->entries.empty());

  // The token stops mattering after its exp: no longer served, then pruned.
  clock.advance_s(200);
  auto relevant = log->since(0, 100);
  ASSERT_EQ(relevant->entries.size(), 1u);
  EXPECT_EQ(relevant->entries[0].subject, "u-1");
  EXPECT_EQ(log->prune(clock.now_s()).value(), 1);
  EXPECT_EQ(log->prune(clock.now_s()).value(), 0);
}

TEST_P(RevocationLogStoreTest, RecordingAgainKeepsOneRowAndRestampsOnlyALargerValue) {
  ASSERT_TRUE(log->append(cutoff("u-1", now_s + 1, now_s + 3700)).ok());
  const Millis first = clock.now_ms();
  clock.advance_ms(500);
  ASSERT_TRUE(log->append(cutoff("u-1", now_s + 1, now_s + 3700)).ok());  // same value: nothing new
  EXPECT_TRUE(log->since(first + 1, 100)->entries.empty());
  clock.advance_ms(1500);
  ASSERT_TRUE(log->append(cutoff("u-1", now_s + 3, now_s + 3702)).ok());
  auto page = log->since(first + 1, 100);
  ASSERT_EQ(page->entries.size(), 1u);
  EXPECT_EQ(page->entries[0].value, now_s + 3);
  EXPECT_EQ(log->since(0, 100)->entries.size(), 1u);
  // A token and a user may share an identifier without colliding.
  ASSERT_TRUE(log->append(token("u-1", now_s + 50)).ok());
  EXPECT_EQ(log->since(0, 100)->entries.size(), 2u);
  // Reopening (a restart) keeps the rows and applies no migration twice.
  auto reopened = open_another().value();
  EXPECT_EQ(reopened->revocation_log(clock).value()->since(0, 100)->entries.size(), 2u);
}

TEST_P(RevocationLogStoreTest, PagesEndBetweenTwoStampsAndTheNextStartsRightAfter) {
  // Stamps: j-0 at +0; j-1, j-2, j-3 together at +1; j-4 at +2.
  ASSERT_TRUE(log->append(token("j-0", now_s + 100)).ok());
  clock.advance_ms(1);
  for (const char* j : {"j-1", "j-2", "j-3"}) ASSERT_TRUE(log->append(token(j, now_s + 100)).ok());
  clock.advance_ms(1);
  ASSERT_TRUE(log->append(token("j-4", now_s + 100)).ok());
  clock.advance_ms(1);

  // A limit of 2 falls inside the group stamped +1: the group stays whole.
  auto first = log->since(0, 2);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->more);
  ASSERT_EQ(first->entries.size(), 4u);
  EXPECT_EQ(first->entries.back().subject, "j-3");
  EXPECT_EQ(first->now_ms, 1'700'000'000'002);  // one past the last stamp in the page

  auto second = log->since(first->now_ms, 2);
  EXPECT_FALSE(second->more);
  ASSERT_EQ(second->entries.size(), 1u);
  EXPECT_EQ(second->entries[0].subject, "j-4");
  EXPECT_EQ(second->now_ms, clock.now_ms());

  // A limit the log fits in gives one page, as before paging.
  auto whole = log->since(0, 5);
  EXPECT_FALSE(whole->more);
  EXPECT_EQ(whole->entries.size(), 5u);
}

}  // namespace
}  // namespace webstream::store
