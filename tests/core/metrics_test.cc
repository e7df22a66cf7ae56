#include "core/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tests/core/prometheus_check.h"

namespace gyre {
namespace {

TEST(LatencyHistogramTest, BucketsAreInclusiveUpperBounds) {
  LatencyHistogram h;
  h.Observe(0);
  h.Observe(100);        // le 0.0001
  h.Observe(101);        // le 0.00025
  h.Observe(1'000);      // le 0.001
  h.Observe(10'000'001);  // beyond the last bound: +Inf only
  h.Observe(-5);         // a clock step backwards counts as 0
  HistogramSnapshot s = h.Snapshot();
  ASSERT_EQ(s.upper_bounds.size(), LatencyHistogram::kBoundsMicros.size());
  ASSERT_EQ(s.cumulative.size(), s.upper_bounds.size() + 1);
  EXPECT_DOUBLE_EQ(s.upper_bounds[0], 0.0001);
  EXPECT_DOUBLE_EQ(s.upper_bounds.back(), 10.0);
  EXPECT_EQ(s.cumulative[0], 3u);  // 0, 100, -5
  EXPECT_EQ(s.cumulative[1], 4u);
  EXPECT_EQ(s.cumulative[2], 4u);
  EXPECT_EQ(s.cumulative[3], 5u);
  EXPECT_EQ(s.cumulative[s.cumulative.size() - 2], 5u);
  EXPECT_EQ(s.count(), 6u);
  EXPECT_NEAR(s.sum, (100 + 101 + 1'000 + 10'000'001) / 1e6, 1e-9);
}

TEST(LatencyHistogramTest, ConcurrentObservationsAreAllCounted) {
  LatencyHistogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 20'000; ++i) h.Observe((i * 37 + t) % 3'000'000);
    });
  }
  // Snapshots taken meanwhile stay cumulative with +Inf == count.
  for (int k = 0; k < 50; ++k) {
    HistogramSnapshot s = h.Snapshot();
    for (size_t i = 1; i < s.cumulative.size(); ++i) ASSERT_LE(s.cumulative[i - 1], s.cumulative[i]);
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(h.Snapshot().count(), 80'000u);
}

TEST(MetricsTextTest, RendersFamiliesContiguouslyWithHelpAndTypeOnce) {
  MetricsText m;
  m.Counter("app_requests_total", "Requests.", {{"route", "a"}}, 3);
  m.Gauge("app_open", "Open things.", {}, 2.5);
  m.Counter("app_requests_total", "Requests.", {{"route", "b"}}, 4);  // joins its family, not the end
  LatencyHistogram h;
  h.Observe(200);
  h.Observe(3'000'000);
  m.Histogram("app_seconds", "Latency.", {{"route", "a"}}, h.Snapshot());
  std::string text = m.Render();
  EXPECT_EQ(text.substr(0, text.find("# HELP app_open")),
            "# HELP app_requests_total Requests.\n"
            "# TYPE app_requests_total counter\n"
            "app_requests_total{route=\"a\"} 3\n"
            "app_requests_total{route=\"b\"} 4\n");
  EXPECT_NE(text.find("# TYPE app_open gauge\napp_open 2.5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("app_seconds_bucket{route=\"a\",le=\"0.0001\"} 0\n"
                      "app_seconds_bucket{route=\"a\",le=\"0.00025\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("app_seconds_bucket{route=\"a\",le=\"2.5\"} 1\n"
                      "app_seconds_bucket{route=\"a\",le=\"10\"} 2\n"
                      "app_seconds_bucket{route=\"a\",le=\"+Inf\"} 2\n"
                      "app_seconds_sum{route=\"a\"} 3.0002\n"
                      "app_seconds_count{route=\"a\"} 2\n"),
            std::string::npos)
      << text;
  std::vector<std::string> problems = testing::CheckPromText(text);
  EXPECT_TRUE(problems.empty()) << problems[0] << "\n" << text;
}

TEST(MetricsTextTest, EscapesLabelValuesAndHelp) {
  MetricsText m;
  m.Gauge("g", "Help with \\ and\nnewline.", {{"path", "a\"b\\c\nd"}}, 1);
  EXPECT_EQ(m.Render(),
            "# HELP g Help with \\\\ and\\nnewline.\n"
            "# TYPE g gauge\n"
            "g{path=\"a\\\"b\\\\c\\nd\"} 1\n");
  std::vector<testing::PromSample> samples;
  EXPECT_TRUE(testing::CheckPromText(m.Render(), &samples).empty());
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].labels.at("path"), "a\"b\\c\nd");  // what a scraper reads back
}

TEST(MetricsTextTest, FormatsValues) {
  EXPECT_EQ(MetricsText::FormatValue(0), "0");
  EXPECT_EQ(MetricsText::FormatValue(-12), "-12");
  EXPECT_EQ(MetricsText::FormatValue(1e15), "1000000000000000");
  EXPECT_EQ(MetricsText::FormatValue(0.1), "0.1");
  EXPECT_EQ(MetricsText::FormatValue(1e300), "1e+300");
  EXPECT_EQ(MetricsText::FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(MetricsText::FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(MetricsText::FormatValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTextTest, NamesFollowTheFormat) {
  EXPECT_TRUE(MetricsText::ValidMetricName("gyre_score_requests_total"));
  EXPECT_TRUE(MetricsText::ValidMetricName("job:rate5m"));
  EXPECT_FALSE(MetricsText::ValidMetricName(""));
  EXPECT_FALSE(MetricsText::ValidMetricName("9lives"));
  EXPECT_FALSE(MetricsText::ValidMetricName("a-b"));
  EXPECT_TRUE(MetricsText::ValidLabelName("deployment"));
  EXPECT_FALSE(MetricsText::ValidLabelName("__reserved"));
  EXPECT_FALSE(MetricsText::ValidLabelName("a:b"));
  EXPECT_FALSE(MetricsText::ValidLabelName("1a"));
}

// The checker the /metrics tests rely on must see what it claims to.
TEST(MetricsTextTest, CheckerFindsBrokenText) {
  auto problems = [](const std::string& text) { return testing::CheckPromText(text).size(); };
  EXPECT_EQ(problems("# TYPE a_total counter\na_total 1\n"), 0u);
  EXPECT_GT(problems("# TYPE a counter\na 1\n"), 0u);                             // no _total
  EXPECT_GT(problems("# TYPE a gauge\n# TYPE a gauge\na 1\n"), 0u);               // TYPE twice
  EXPECT_GT(problems("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"), 0u);  // not contiguous
  EXPECT_GT(problems("# TYPE a gauge\na 1\na 2\n"), 0u);                          // duplicate series
  EXPECT_GT(problems("# TYPE a gauge\na 1"), 0u);                                 // no final newline
  EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"), 0u);  // no +Inf
  EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"0.5\"} 2\n"
                     "h_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"),
            0u);  // decreasing le
  EXPECT_GT(problems("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"),
            0u);  // +Inf != count
}

}  // namespace
}  // namespace gyre
