#include "core/time_format.hpp"

#include <gtest/gtest.h>

namespace webstream {
namespace {

TEST(Iso8601, MillisecondsByDefaultSecondsOnRequest) {
  EXPECT_EQ(iso8601(1'764'193'689'123), "2025-11-26T21:48:09.123Z");
  EXPECT_EQ(iso8601(1'764'193'689'007), "2025-11-26T21:48:09.007Z");
  EXPECT_EQ(iso8601(1'764'193'689'999, TimePrecision::kSeconds), "2025-11-26T21:48:09Z");  // dropped, not rounded
  EXPECT_EQ(iso8601(0), "1970-01-01T00:00:00.000Z");
}

TEST(Iso8601, TimesBefore1970RoundDownToTheSecond) {
  EXPECT_EQ(iso8601(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(iso8601(-1000), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(iso8601(-1, TimePrecision::kSeconds), "1969-12-31T23:59:59Z");
}

}  // namespace
}  // namespace webstream
