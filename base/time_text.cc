#include "base/time_text.h"

#include <charconv>
#include <cstdio>

namespace tollgate {
namespace {

using namespace std::chrono;

struct Unit {
  char suffix;
  Duration size;
};
constexpr Unit kUnits[] = {
    {'w', duration_cast<Duration>(days(7))},    {'d', duration_cast<Duration>(days(1))},
    {'h', duration_cast<Duration>(hours(1))},   {'m', duration_cast<Duration>(minutes(1))},
    {'s', duration_cast<Duration>(seconds(1))},
};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  if (text.empty()) return std::nullopt;
  Duration total{0};
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p < end) {
    long long n = 0;
    auto [next, ec] = std::from_chars(p, end, n);
    if (ec != std::errc() || next == p || next == end || n < 0 || n > 100000) return std::nullopt;
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.suffix == *next) unit = &u;
    }
    if (unit == nullptr) return std::nullopt;
    total += unit->size * n;
    p = next + 1;
  }
  // At most ten years: an end far beyond that is a typo, and would not print.
  if (total <= Duration::zero() || total > std::chrono::days(3653)) return std::nullopt;
  return total;
}

std::string format_duration(Duration d) {
  if (d <= Duration::zero()) return "0s";
  std::string out;
  for (const Unit& u : kUnits) {
    if (u.suffix == 'w') continue;  // "7d" and "14d" read better than "1w" and "2w"
    long long n = d / u.size;
    if (n > 0) {
      out += std::to_string(n);
      out += u.suffix;
      d -= u.size * n;
    }
  }
  if (out.empty()) out = std::to_string(d.count()) + "ms";
  return out;
}

std::optional<Time> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  auto num = [&](std::size_t pos, std::size_t len, auto& out) {
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && ptr == text.data() + pos + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  year_month_day ymd{year{y}, month{m}, day{d}};
  if (!ymd.ok()) return std::nullopt;
  return time_point_cast<Duration>(sys_days{ymd});
}

std::optional<Time> parse_iso8601(std::string_view text) {
  // 2026-12-24T18:00:00Z or 2026-12-24T18:00:00.123Z (UTC only).
  if (text.size() < 20 || text[10] != 'T' || text.back() != 'Z') return std::nullopt;
  auto day = parse_date(text.substr(0, 10));
  if (!day || text[13] != ':' || text[16] != ':') return std::nullopt;
  unsigned h = 0, m = 0, s = 0, ms = 0;
  auto num = [&](std::size_t pos, std::size_t len, unsigned& out) {
    auto [ptr, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc() && ptr == text.data() + pos + len;
  };
  if (!num(11, 2, h) || !num(14, 2, m) || !num(17, 2, s) || h > 23 || m > 59 || s > 59)
    return std::nullopt;
  if (text.size() == 24 && text[19] == '.') {
    if (!num(20, 3, ms)) return std::nullopt;
  } else if (text.size() != 20) {
    return std::nullopt;
  }
  return *day + hours(h) + minutes(m) + seconds(s) + milliseconds(ms);
}

std::string format_date(Time t) {
  year_month_day ymd{floor<days>(t)};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(ymd.year()), unsigned(ymd.month()),
                unsigned(ymd.day()));
  return buf;
}

namespace {
// The time of day of `t`, UTC.
hh_mm_ss<Duration> time_of_day(Time t) { return hh_mm_ss<Duration>{t - floor<days>(t)}; }
}  // namespace

std::string format_instant(Time t) {
  hh_mm_ss<Duration> tod = time_of_day(t);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s %02d:%02d UTC", format_date(t).c_str(),
                int(tod.hours().count()), int(tod.minutes().count()));
  return buf;
}

std::string format_iso8601(Time t) {
  hh_mm_ss<Duration> tod = time_of_day(t);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d.%03dZ", format_date(t).c_str(),
                int(tod.hours().count()), int(tod.minutes().count()), int(tod.seconds().count()),
                int(tod.subseconds().count()));
  return buf;
}

long long days_between(Time from, Time to) {
  return floor<days>(to - from).count();
}

}  // namespace tollgate
