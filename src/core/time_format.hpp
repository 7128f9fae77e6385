#pragma once
// Timestamps in API answers: ISO-8601 UTC with milliseconds, e.g. 2026-11-26T21:54:49.123Z.
#include <cstdio>
#include <ctime>
#include <string>

#include "core/clock.hpp"

namespace webstream {

inline std::string iso8601(Millis ms) {
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

}  // namespace webstream
