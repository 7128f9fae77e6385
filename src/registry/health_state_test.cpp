#include "registry/health_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/testing/fake_clock.hpp"

namespace webstream::registry {
namespace {

using testing::FakeClock;

HealthTiming timing() {
  HealthTiming t;  // the contract's defaults
  t.interval_ms = 10'000;
  t.unstable_interval_ms = 1'000;
  t.timeout_ms = 8'000;
  t.failure_threshold = 4;
  t.success_threshold = 2;
  return t;
}

// Drives the machine like the prober does: probe, record, wait the delay it asks for.
struct Driver {
  HealthStateMachine machine{timing()};
  FakeClock clock;
  HealthRecord record;

  // A probe that answers `ok` after `latency_ms`; then the clock advances by the next delay. Returns it.
  Millis probe(bool ok, Millis latency_ms = 5) {
    const Millis started = clock.now_ms();
    clock.advance_ms(latency_ms);
    record = machine.on_result(record, ok, started, clock.now_ms());
    const Millis delay = machine.next_delay(record);
    clock.advance_ms(delay);
    return delay;
  }
};

TEST(HealthState, NewBackendIsUnknownUntilSuccessThreshold) {
  Driver d;
  EXPECT_EQ(d.record.state, HealthState::kUnknown);
  EXPECT_EQ(d.probe(true), 1'000);  // one success: still Unknown, fast period
  EXPECT_EQ(d.record.state, HealthState::kUnknown);
  EXPECT_EQ(d.record.consecutive_successes, 1);
  EXPECT_EQ(d.probe(true), 10'000);  // second success: Healthy, normal period
  EXPECT_EQ(d.record.state, HealthState::kHealthy);
  EXPECT_EQ(d.probe(true), 10'000);
  EXPECT_EQ(d.record.state, HealthState::kHealthy);
}

TEST(HealthState, HealthyFailureIsSuspectThenUnreachableAtThreshold) {
  Driver d;
  d.probe(true);
  d.probe(true);
  ASSERT_EQ(d.record.state, HealthState::kHealthy);
  EXPECT_EQ(d.probe(false), 1'000);
  EXPECT_EQ(d.record.state, HealthState::kSuspect);
  EXPECT_TRUE(is_routable_state(d.record.state));
  EXPECT_EQ(d.probe(false), 1'000);
  EXPECT_EQ(d.probe(false), 1'000);
  EXPECT_EQ(d.record.state, HealthState::kSuspect);
  EXPECT_EQ(d.record.consecutive_failures, 3);
  const Millis before_fourth = d.clock.now_ms();
  EXPECT_EQ(d.probe(false), 1'000);  // fourth consecutive failure
  EXPECT_EQ(d.record.state, HealthState::kUnreachable);
  EXPECT_FALSE(is_routable_state(d.record.state));
  EXPECT_EQ(d.record.unreachable_since, before_fourth + 5);
}

TEST(HealthState, SuspectNeedsSuccessThresholdToBeHealthyAgain) {
  Driver d;
  d.probe(true);
  d.probe(true);
  d.probe(false);
  ASSERT_EQ(d.record.state, HealthState::kSuspect);
  EXPECT_EQ(d.probe(true), 1'000);  // one success resets failures but is not yet Healthy
  EXPECT_EQ(d.record.state, HealthState::kSuspect);
  EXPECT_EQ(d.record.consecutive_failures, 0);
  // A failure in between starts the count again.
  d.probe(false);
  d.probe(true);
  EXPECT_EQ(d.record.state, HealthState::kSuspect);
  EXPECT_EQ(d.probe(true), 10'000);
  EXPECT_EQ(d.record.state, HealthState::kHealthy);
}

TEST(HealthState, FailuresAreConsecutiveOnly) {
  Driver d;
  d.probe(true);
  d.probe(true);
  for (int i = 0; i < 10; ++i) {  // fail, fail, fail, succeed: never four in a row
    d.probe(false);
    d.probe(false);
    d.probe(false);
    d.probe(true);
    EXPECT_NE(d.record.state, HealthState::kUnreachable) << i;
  }
}

TEST(HealthState, UnknownBackendThatNeverAnswersBecomesUnreachable) {
  Driver d;
  for (int i = 0; i < 3; ++i) {
    d.probe(false);
    EXPECT_EQ(d.record.state, HealthState::kUnknown);
  }
  d.probe(false);
  EXPECT_EQ(d.record.state, HealthState::kUnreachable);
}

TEST(HealthState, UnreachableReturnsAfterSuccessThreshold) {
  Driver d;
  for (int i = 0; i < 4; ++i) d.probe(false);
  ASSERT_EQ(d.record.state, HealthState::kUnreachable);
  d.probe(true);
  EXPECT_EQ(d.record.state, HealthState::kUnreachable);
  d.probe(true);
  EXPECT_EQ(d.record.state, HealthState::kHealthy);
  EXPECT_EQ(d.record.unreachable_since, 0);
}

TEST(HealthState, UnreachableBacksOffAfterSixtySecondsToAtMostInterval) {
  Driver d;
  for (int i = 0; i < 4; ++i) d.probe(false);
  ASSERT_EQ(d.record.state, HealthState::kUnreachable);
  const Millis since = d.record.unreachable_since;
  // Fast probing for the first 60 s.
  while (d.clock.now_ms() - since < 60'000 - 1'005) {
    EXPECT_EQ(d.probe(false), 1'000);
  }
  // The first failure at or after 60 s starts doubling: 2 s, 4 s, 8 s, then capped at 10 s.
  std::vector<Millis> delays;
  for (int i = 0; i < 8; ++i) delays.push_back(d.probe(false));
  const auto first_backoff = std::find(delays.begin(), delays.end(), 2'000);
  ASSERT_NE(first_backoff, delays.end());
  EXPECT_TRUE(std::all_of(delays.begin(), first_backoff, [](Millis m) { return m == 1'000; }));
  std::vector<Millis> backed(first_backoff, delays.end());
  ASSERT_GE(backed.size(), 5u);
  EXPECT_EQ(backed[0], 2'000);
  EXPECT_EQ(backed[1], 4'000);
  EXPECT_EQ(backed[2], 8'000);
  EXPECT_EQ(backed[3], 10'000);
  EXPECT_EQ(backed[4], 10'000);
  // A success goes back to the fast period at once, to confirm quickly.
  EXPECT_EQ(d.probe(true), 1'000);
  EXPECT_EQ(d.probe(true), 10'000);
  EXPECT_EQ(d.record.state, HealthState::kHealthy);
}

TEST(HealthState, HangingProbeIsAFailureAtTimeout) {
  HealthStateMachine machine(timing());
  FakeClock clock;
  HealthRecord r;
  r.state = HealthState::kHealthy;
  const Millis started = clock.now_ms();
  clock.advance_ms(7'999);
  EXPECT_FALSE(machine.timed_out(started, clock.now_ms()));
  clock.advance_ms(1);
  EXPECT_TRUE(machine.timed_out(started, clock.now_ms()));  // the prober gives up here: a failure
  r = machine.on_failure(r, clock.now_ms());
  EXPECT_EQ(r.state, HealthState::kSuspect);
  EXPECT_EQ(machine.next_delay(r), 1'000);
}

TEST(HealthState, LateSuccessCountsAsFailure) {
  HealthStateMachine machine(timing());
  FakeClock clock;
  HealthRecord r;
  r.state = HealthState::kHealthy;
  const Millis started = clock.now_ms();
  clock.advance_ms(9'000);  // a 2xx, but after the 8 s timeout
  r = machine.on_result(r, true, started, clock.now_ms());
  EXPECT_EQ(r.state, HealthState::kSuspect);
  EXPECT_EQ(r.consecutive_failures, 1);
  EXPECT_EQ(r.consecutive_successes, 0);
  // In time it is a success.
  const Millis again = clock.now_ms();
  clock.advance_ms(7'000);
  r = machine.on_result(r, true, again, clock.now_ms());
  EXPECT_EQ(r.consecutive_successes, 1);
}

TEST(HealthState, ThresholdOfOneGoesStraightToUnreachable) {
  HealthTiming t = timing();
  t.failure_threshold = 1;
  t.success_threshold = 1;
  HealthStateMachine machine(t);
  HealthRecord r;
  r = machine.on_success(r, 1);
  EXPECT_EQ(r.state, HealthState::kHealthy);
  r = machine.on_failure(r, 2);
  EXPECT_EQ(r.state, HealthState::kUnreachable);
}

TEST(HealthState, TimingFromConfigIsInMilliseconds) {
  config::HealthCheckConfig c;
  c.interval_s = 15;
  c.unstable_interval_s = 2;
  c.timeout_s = 6;
  c.failure_threshold = 5;
  c.success_threshold = 3;
  const auto t = HealthTiming::from_config(c);
  EXPECT_EQ(t.interval_ms, 15'000);
  EXPECT_EQ(t.unstable_interval_ms, 2'000);
  EXPECT_EQ(t.timeout_ms, 6'000);
  EXPECT_EQ(t.failure_threshold, 5);
  EXPECT_EQ(t.success_threshold, 3);
  EXPECT_STREQ(to_string(HealthState::kSuspect), "Suspect");
  EXPECT_STREQ(to_label(HealthState::kUnreachable), "unreachable");
}

}  // namespace
}  // namespace webstream::registry
