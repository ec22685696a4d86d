// The metrics registry's text exposition (Prometheus text format 0.0.4), written by
// prometheus-cpp's TextSerializer: what /metrics shows and what the tests grep for.
#include <gtest/gtest.h>

#include "base/metrics.h"

namespace tollgate {
namespace {

TEST(Metrics, CountersKeepTheirLabelsInTheOrderGivenAndEscapeValues) {
  Metrics m;
  m.describe("tollgate_events_total", "counter", "Slack events, by type and handling");
  m.inc("tollgate_events_total", {{"type", "message"}, {"handling", "own"}});
  m.inc("tollgate_events_total", {{"type", "message"}, {"handling", "own"}}, 2);
  m.inc("tollgate_events_total", {{"type", "app_home_opened"}, {"handling", "accepted"}});
  m.inc("tollgate_events_total", {{"type", "a\"b\\c\nd"}, {"handling", "x"}});
  EXPECT_EQ(m.render(),
            "# HELP tollgate_events_total Slack events, by type and handling\n"
            "# TYPE tollgate_events_total counter\n"
            "tollgate_events_total{type=\"a\\\"b\\\\c\\nd\",handling=\"x\"} 1\n"
            "tollgate_events_total{type=\"app_home_opened\",handling=\"accepted\"} 1\n"
            "tollgate_events_total{type=\"message\",handling=\"own\"} 3\n");
}

TEST(Metrics, FamiliesAreSortedByNameAndShownBeforeTheirFirstSample) {
  Metrics m;
  m.describe("tollgate_b_total", "counter", "B");
  m.describe("tollgate_a_total", "counter", "A");
  m.inc("tollgate_b_total");
  m.inc("tollgate_undescribed_total", {}, 0.5);
  EXPECT_EQ(m.render(),
            "# HELP tollgate_a_total A\n"
            "# TYPE tollgate_a_total counter\n"
            "# HELP tollgate_b_total B\n"
            "# TYPE tollgate_b_total counter\n"
            "tollgate_b_total 1\n"
            "# TYPE tollgate_undescribed_total counter\n"
            "tollgate_undescribed_total 0.5\n");
}

TEST(Metrics, HistogramsHaveFixedBucketsFromHalfAMillisecondToTenSeconds) {
  Metrics m;
  m.describe("tollgate_http_ack_seconds", "histogram", "Ack latency");
  m.observe("tollgate_http_ack_seconds", {{"endpoint", "/slack/events"}}, 0.003);
  m.observe("tollgate_http_ack_seconds", {{"endpoint", "/slack/events"}}, 20);
  std::string out = m.render();
  EXPECT_NE(out.find("# TYPE tollgate_http_ack_seconds histogram\n"), std::string::npos) << out;
  EXPECT_NE(out.find("tollgate_http_ack_seconds_bucket{endpoint=\"/slack/events\",le=\"0.0005\"} 0\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tollgate_http_ack_seconds_bucket{endpoint=\"/slack/events\",le=\"0.005\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tollgate_http_ack_seconds_bucket{endpoint=\"/slack/events\",le=\"10\"} 1\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tollgate_http_ack_seconds_bucket{endpoint=\"/slack/events\",le=\"+Inf\"} 2\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tollgate_http_ack_seconds_sum{endpoint=\"/slack/events\"} 20.003\n"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tollgate_http_ack_seconds_count{endpoint=\"/slack/events\"} 2\n"),
            std::string::npos)
      << out;
}

TEST(Metrics, GaugesAreReadOnEachScrapeAndAMismatchedUseIsIgnored) {
  Metrics m;
  double pending = 3;
  m.gauge("tollgate_outbox_pending", "Effects waiting", [&pending] { return pending; });
  EXPECT_EQ(m.render(),
            "# HELP tollgate_outbox_pending Effects waiting\n"
            "# TYPE tollgate_outbox_pending gauge\n"
            "tollgate_outbox_pending 3\n");
  pending = 1250000;
  m.observe("tollgate_outbox_pending", {}, 1);  // a gauge is no histogram: ignored
  m.describe("tollgate_outbox_pending", "counter", "other");  // nor a counter
  EXPECT_EQ(m.render(),
            "# HELP tollgate_outbox_pending Effects waiting\n"
            "# TYPE tollgate_outbox_pending gauge\n"
            "tollgate_outbox_pending 1250000\n");
}

}  // namespace
}  // namespace tollgate
