#include "licence/licence_time.hpp"

#include <gtest/gtest.h>

namespace webstream::licence {
namespace {

TEST(LicenceTime, ParsesUtcTimestamps) {
  EXPECT_EQ(parse_utc_timestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_utc_timestamp("2027-01-01T00:00:00Z"), 1'798'761'600'000);
  EXPECT_EQ(parse_utc_timestamp("2027-01-01T00:00:01.250Z"), 1'798'761'601'250);
  EXPECT_EQ(parse_utc_timestamp("2024-02-29T12:00:00Z"), 1'709'208'000'000);
}

TEST(LicenceTime, RejectsAnythingElse) {
  for (const char* bad :
       {"", "2027-01-01", "2027-01-01T00:00:00", "2027-01-01T00:00:00+01:00", "2027-01-01 00:00:00Z",
        "2027-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2027-13-01T00:00:00Z", "2027-01-01T24:00:00Z",
        "2027-01-01T00:60:00Z", "1969-12-31T23:59:59Z", "2027-01-01T00:00:00.Z", "2027-01-01T00:00:00Zjunk",
        "20x7-01-01T00:00:00Z", "+2027-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_utc_timestamp(bad).has_value()) << bad;
  }
}

TEST(LicenceTime, ParsesDates) {
  EXPECT_EQ(parse_date("2027-01-01"), 1'798'761'600'000);
  EXPECT_FALSE(parse_date("2027-02-29").has_value());
  EXPECT_FALSE(parse_date("2027-1-01").has_value());
  EXPECT_FALSE(parse_date("2027-01-01T00:00:00Z").has_value());
}

TEST(LicenceTime, FormatsWholeSecondsAndRoundTrips) {
  EXPECT_EQ(format_utc_timestamp(1'798'761'601'250), "2027-01-01T00:00:01Z");
  const Millis t = 1'709'208'000'000;
  EXPECT_EQ(parse_utc_timestamp(format_utc_timestamp(t)), t);
}

}  // namespace
}  // namespace webstream::licence
