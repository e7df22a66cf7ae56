// Metrics for `/metrics`: a latency histogram cheap enough for the request path, and a writer of the
// Prometheus text exposition format (version 0.0.4) that keeps the format's rules by construction.
//
// LatencyHistogram: fixed buckets (100 µs .. 10 s), one relaxed atomic add per observation, no lock.
// Snapshot() returns cumulative counts whose +Inf bucket is the count, as the format requires, even while
// other threads observe (the sum may then lag by the observations in flight).
//
// MetricsText: samples are added family by family in any order (a family = one metric name with its HELP and
// TYPE); Render() writes each family's HELP and TYPE once, then all of its samples together, label values
// escaped (\\ \" \n), counters' names ending in _total, histograms as cumulative `_bucket{le=...}` lines in
// increasing order ending at +Inf, then `_sum` and `_count`. Names are program constants: one that is not a
// valid metric or label name, or a family added again with another type, is a programming error (asserted;
// such a sample is skipped in release builds).
//
//   MetricsText m;
//   m.Counter("gyre_score_requests_total", "Scoring requests.", {{"deployment", "ato"}}, 1234);
//   m.Histogram("gyre_score_duration_seconds", "Time to score a request.", {{"deployment", "ato"}},
//               latency.Snapshot());
//   std::string body = m.Render();  // Content-Type: MetricsText::kContentType
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gyre {

struct HistogramSnapshot {
  std::vector<double> upper_bounds;     // seconds, increasing; +Inf is implied after the last
  std::vector<uint64_t> cumulative;     // per bound, then one more for +Inf (== count)
  double sum = 0;                       // seconds
  uint64_t count() const { return cumulative.empty() ? 0 : cumulative.back(); }
};

class LatencyHistogram {
 public:
  // Upper bounds in microseconds: 100 µs, 250 µs, 500 µs, 1 ms ... 10 s.
  static constexpr std::array<int64_t, 15> kBoundsMicros = {100,     250,     500,     1'000,     2'500,
                                                             5'000,   10'000,  25'000,  50'000,    100'000,
                                                             250'000, 500'000, 1'000'000, 2'500'000, 10'000'000};
  void Observe(int64_t micros);
  HistogramSnapshot Snapshot() const;

 private:
  std::array<std::atomic<uint64_t>, kBoundsMicros.size() + 1> counts_{};  // per bucket (not cumulative)
  std::atomic<int64_t> sum_micros_{0};
};

class MetricsText {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";
  using Labels = std::vector<std::pair<std::string, std::string>>;

  void Counter(std::string_view name, std::string_view help, const Labels& labels, double value);
  void Gauge(std::string_view name, std::string_view help, const Labels& labels, double value);
  void Histogram(std::string_view name, std::string_view help, const Labels& labels, const HistogramSnapshot& h);

  std::string Render() const;

  // Exposed for tests: what the format accepts as a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) and as a label
  // name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with "__").
  static bool ValidMetricName(std::string_view name);
  static bool ValidLabelName(std::string_view name);
  // A sample value: integers exactly, others in the shortest form that reads back the same; +Inf, -Inf, NaN.
  static std::string FormatValue(double value);

 private:
  struct Family {
    std::string name, type, help;
    std::string samples;  // rendered sample lines
  };
  // The family `name` of `type`, created on first use; null (asserted) on a bad name or a type clash.
  Family* FamilyFor(std::string_view name, std::string_view type, std::string_view help);
  static bool AppendSample(std::string& out, std::string_view name, const Labels& labels, std::string_view extra_label,
                           std::string_view extra_value, double value);

  std::vector<Family> families_;
  std::unordered_map<std::string, size_t> index_;
};

}  // namespace gyre
