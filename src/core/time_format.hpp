#pragma once
// ISO-8601 UTC timestamps, the one formatter: API answers and log lines carry milliseconds
// (2026-11-26T21:54:49.123Z); licence documents are written to the second (2027-01-01T00:00:00Z).
// Times before 1970 round down to the whole second (floor), so -1 ms is 1969-12-31T23:59:59.999Z.
//
// Thread rules: pure functions.
#include <cstdio>
#include <ctime>
#include <string>

#include "core/clock.hpp"

namespace webstream {

enum class TimePrecision { kMillis, kSeconds };

inline std::string iso8601(Millis ms, TimePrecision precision = TimePrecision::kMillis) {
  const Millis secs_floor = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  const int millis = static_cast<int>(ms - secs_floor * 1000);
  const std::time_t secs = static_cast<std::time_t>(secs_floor);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  if (precision == TimePrecision::kSeconds) {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
  }
  return buf;
}

}  // namespace webstream
