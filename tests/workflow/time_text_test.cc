#include "base/time_text.h"

#include <gtest/gtest.h>

namespace tollgate {
namespace {

using namespace std::chrono;

TEST(TimeText, DurationsParseAndFormat) {
  EXPECT_EQ(parse_duration("8h"), duration_cast<Duration>(hours(8)));
  EXPECT_EQ(parse_duration("7d"), duration_cast<Duration>(days(7)));
  EXPECT_EQ(parse_duration("2w"), duration_cast<Duration>(days(14)));
  EXPECT_EQ(parse_duration("1d12h"), duration_cast<Duration>(hours(36)));
  EXPECT_EQ(parse_duration("90s"), duration_cast<Duration>(seconds(90)));
  for (const char* bad : {"", "8", "h", "8x", "-1h", "0h", "8 h", "1.5h", "8h "}) {
    EXPECT_FALSE(parse_duration(bad)) << bad;
  }
  EXPECT_EQ(format_duration(*parse_duration("8h")), "8h");
  EXPECT_EQ(format_duration(*parse_duration("1d12h")), "1d12h");
  EXPECT_EQ(format_duration(*parse_duration("2w")), "14d");
  EXPECT_EQ(format_duration(*parse_duration("10d")), "10d");
}

TEST(TimeText, DatesAndInstants) {
  auto t = parse_date("2026-11-26");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_date(*t), "2026-11-26");
  EXPECT_EQ(format_instant(*t + hours(10) + minutes(42)), "2026-11-26 10:42 UTC");
  EXPECT_EQ(format_iso8601(*t + milliseconds(5)), "2026-11-26T00:00:00.005Z");
  EXPECT_FALSE(parse_date("2026-02-30"));
  EXPECT_FALSE(parse_date("26-11-2026"));
  EXPECT_EQ(days_between(*parse_date("2026-08-24"), *t + hours(10)), 94);
}

}  // namespace
}  // namespace tollgate
