#pragma once
// Times in licence documents: ISO-8601 UTC to the second ("2027-01-01T00:00:00Z"), so a licence reads the same
// to a person and to the gateway. Dates on the `webstream license issue` command line are "YYYY-MM-DD".
//
// Thread rules: pure functions.
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"

namespace webstream::licence {

// "YYYY-MM-DDTHH:MM:SSZ", optionally with a fraction of a second ("….123Z"), years 1970..9999; nullopt for
// anything else (a missing 'Z', an offset, 30 February, 24:00:00, …).
std::optional<Millis> parse_utc_timestamp(std::string_view text);

// "YYYY-MM-DD" → that day's 00:00:00 UTC; nullopt when malformed or not a calendar date.
std::optional<Millis> parse_date(std::string_view text);

// The inverse of parse_utc_timestamp for whole seconds: "YYYY-MM-DDTHH:MM:SSZ" (milliseconds dropped).
std::string format_utc_timestamp(Millis ms);

inline constexpr Millis kMillisPerDay = 86'400'000;

}  // namespace webstream::licence
