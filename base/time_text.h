// The textual forms of time that appear in the configuration file and in
// messages: durations ("30m", "8h", "7d", "2w"), dates ("2024-01-10") and
// instants ("2026-11-26 10:42 UTC").
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"

namespace tollgate {

// "90s", "30m", "8h", "7d", "2w", or a sum of those without spaces ("1d12h").
// nullopt for anything else, including zero, negative values and more than ten years.
std::optional<Duration> parse_duration(std::string_view text);
// An exact form in days, hours, minutes and seconds: "8h", "1d12h", "14d".
std::string format_duration(Duration d);

// A calendar date "YYYY-MM-DD" as its midnight UTC; nullopt if invalid.
std::optional<Time> parse_date(std::string_view text);
std::string format_date(Time t);
// "2026-12-24T18:00:00Z" or with milliseconds; UTC only.
std::optional<Time> parse_iso8601(std::string_view text);
// "2026-11-26 10:42 UTC".
std::string format_instant(Time t);
// ISO 8601 with milliseconds: "2026-11-26T10:42:07.123Z".
std::string format_iso8601(Time t);

// Whole days from `from` to `to`, rounded down.
long long days_between(Time from, Time to);

}  // namespace tollgate
