#include "licence/licence_time.hpp"

#include <ctime>

#include "core/time_format.hpp"

namespace webstream::licence {
namespace {

// Reads exactly `n` decimal digits at `pos`.
std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

// Seconds since the epoch for a UTC calendar time, or nullopt when the fields are not a real date and time
// (timegm normalises 30 February to 2 March; the round trip catches that).
std::optional<Millis> to_epoch_ms(int year, int month, int day, int hour, int minute, int second) {
  if (year < 1970 || year > 9999 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  std::tm back{};
  gmtime_r(&t, &back);
  if (back.tm_year != year - 1900 || back.tm_mon != month - 1 || back.tm_mday != day) return std::nullopt;
  return static_cast<Millis>(t) * 1000;
}

// Reads "YYYY-MM-DD" at the start of `s`.
bool parse_date_prefix(std::string_view s, int& year, int& month, int& day) {
  auto y = digits(s, 0, 4);
  auto m = digits(s, 5, 2);
  auto d = digits(s, 8, 2);
  if (!y || !m || !d || s[4] != '-' || s[7] != '-') return false;
  year = *y;
  month = *m;
  day = *d;
  return true;
}

}  // namespace

std::optional<Millis> parse_utc_timestamp(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z
  int year = 0, month = 0, day = 0;
  if (s.size() < 20 || !parse_date_prefix(s, year, month, day)) return std::nullopt;
  if (s[10] != 'T' || s[13] != ':' || s[16] != ':') return std::nullopt;
  auto hh = digits(s, 11, 2);
  auto mm = digits(s, 14, 2);
  auto ss = digits(s, 17, 2);
  if (!hh || !mm || !ss) return std::nullopt;
  std::size_t pos = 19;
  Millis fraction_ms = 0;
  if (s[pos] == '.') {
    ++pos;
    const std::size_t start = pos;
    int scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction_ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return std::nullopt;
  }
  if (pos + 1 != s.size() || s[pos] != 'Z') return std::nullopt;
  auto base = to_epoch_ms(year, month, day, *hh, *mm, *ss);
  if (!base) return std::nullopt;
  return *base + fraction_ms;
}

std::optional<Millis> parse_date(std::string_view s) {
  int year = 0, month = 0, day = 0;
  if (s.size() != 10 || !parse_date_prefix(s, year, month, day)) return std::nullopt;
  return to_epoch_ms(year, month, day, 0, 0, 0);
}

std::string format_utc_timestamp(Millis ms) { return iso8601(ms, TimePrecision::kSeconds); }

}  // namespace webstream::licence
