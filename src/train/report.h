// The training report: one self-contained HTML5 page a fraud data scientist opens after a run.
//
// RenderReport() turns a ReportData — plain values, no dependency on the rest of train/ — into one HTML
// document with inline CSS and inline SVG charts: no scripts, fonts, images or links to fetch, so it works
// offline, as a tracking artifact, and in any browser. The assembly from a finished experiment (which folds,
// which curves) lives with the trainer; this file only draws.
//
// Contract:
//  - Every string (titles, feature names, parameter values, cells) is HTML-escaped; control characters
//    become U+FFFD. Strings are expected in UTF-8; long labels in charts are shortened at a character
//    boundary, with the full text in a hover tooltip (<title>).
//  - Deterministic: the same ReportData gives the same bytes (no clock, no locale, no hash-order), so two
//    reports can be diffed. The caller supplies `generated_at`.
//  - Never fails: empty sections are left out, a chart with no points draws its axes and "no data",
//    points that are NaN or infinite are skipped, values outside a chart's fixed range are clamped to it.
//  - Numbers in tables are printed with 4 significant digits; integers exactly; NaN as "–".
//  - Charts: each SVG has a fixed viewBox (it scales with the page), a title, axes with ticks and labels
//    and a legend; series colours follow the Okabe–Ito palette (distinguishable with the common colour
//    vision deficiencies), and after 8 series the colours repeat dashed. Each data series is exactly one
//    <polyline class="series"> (line charts) or <path class="series"> (histograms); reference lines are
//    <line class="ref">.
//
// Thread-safety: RenderReport is a pure function; call it from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace gyre::train {

// One table cell: text, a real number (4 significant digits) or an integer (exact). Implicit on purpose,
// so rows read as {"fold 1", 0.912, int64_t{1200}}.
struct ReportCell {
  ReportCell() = default;
  ReportCell(std::string text) : value(std::move(text)) {}  // NOLINT(google-explicit-constructor)
  ReportCell(const char* text) : value(std::string(text)) {}  // NOLINT(google-explicit-constructor)
  ReportCell(double number) : value(number) {}                // NOLINT(google-explicit-constructor)
  ReportCell(int64_t number) : value(number) {}               // NOLINT(google-explicit-constructor)
  ReportCell(int number) : value(static_cast<int64_t>(number)) {}  // NOLINT(google-explicit-constructor)

  std::variant<std::string, double, int64_t> value;
};

struct ReportTable {
  std::vector<std::string> columns;
  std::vector<std::vector<ReportCell>> rows;  // a row shorter than `columns` is padded with empty cells
  // When true, a "mean ± std" row follows the rows: for every column whose cells are all numbers, the
  // mean and the sample standard deviation (n − 1; the mean alone when there is one row). Its first
  // cell reads "mean ± std", even over a numeric fold index.
  bool aggregate = false;
  // Rows drawn under the aggregate, as given (e.g. a pooled "all folds" row).
  std::vector<std::vector<ReportCell>> summary_rows;
  int highlight_row = -1;  // index into `rows` drawn highlighted and marked ★ (e.g. the chosen trial)
  std::string note;        // one line under the table
};

using ReportPoints = std::vector<std::pair<double, double>>;  // (x, y)

struct ReportSeries {
  std::string name;
  ReportPoints points;  // drawn in the given order
};

// A line chart: ROC, PR, reliability, a metric per fold. Axis bounds left NaN are taken from the data
// (with a little room, on "nice" tick values).
struct ReportLineChart {
  static constexpr double kAuto = std::numeric_limits<double>::quiet_NaN();
  enum class Reference { kNone, kDiagonal, kHorizontal };  // y = x, or y = reference_y

  std::string title;
  std::string x_label, y_label;
  std::vector<ReportSeries> series;
  double x_min = kAuto, x_max = kAuto, y_min = kAuto, y_max = kAuto;
  Reference reference = Reference::kNone;
  double reference_y = 0;        // for kHorizontal
  std::string reference_name;    // its legend entry, e.g. "chance" or "base rate 0.012"
  bool markers = false;          // a dot at every point (with its value as a tooltip)
  // When not empty, the x axis is categorical: tick i sits at x = i and reads x_categories[i] (fold
  // names or test-period starts; short ones read best: labels that do not fit side by side are turned
  // and shortened to 12 characters, the full text in a tooltip); series points use x = 0, 1, 2, ...
  std::vector<std::string> x_categories;
};

// The helpers below fill titles, axes and reference lines the way the report draws them.
// ROC: one series per fold (false-positive rate, true-positive rate), the chance diagonal.
ReportLineChart RocChart(std::vector<ReportSeries> series);
// Precision–recall: (recall, precision), with the base rate (positives / all) as a horizontal line.
ReportLineChart PrChart(std::vector<ReportSeries> series, double base_rate);
// Reliability: (mean predicted probability, observed positive rate) per bin, with y = x. Both axes share
// one range from 0 to just above the largest value, because fraud scores crowd near 0.
ReportLineChart ReliabilityChart(std::vector<ReportSeries> series);
// A metric per fold over time (x = fold index, categories = fold names), so drift shows as a drop in the
// later folds. One series per model or per metric.
ReportLineChart MetricByFoldChart(std::string metric, std::vector<std::string> folds,
                                  std::vector<ReportSeries> series);

// Score distributions by label over shared bins. Each class is drawn normalised to its own count (fraud
// is ~1% of rows, so raw counts would hide it), and the legend says so.
struct ReportHistogram {
  std::string title = "Score distribution by label";
  std::string x_label = "score";
  std::vector<double> bin_edges;         // ascending, bins + 1 of them
  std::vector<double> negative_counts;   // label 0, one per bin
  std::vector<double> positive_counts;   // label 1, one per bin
  std::string negative_name = "label 0 (legitimate)";
  std::string positive_name = "label 1 (fraud)";
  bool log_y = true;  // share on a log scale: the tails are what matters
};

// Counts `scores` into `bins` equal bins, split by label (label ≥ 0.5 is positive). The bins span [0, 1]
// when every score lies there, else [min, max]. NaN scores are skipped.
ReportHistogram ScoreHistogram(const std::vector<float>& labels, const std::vector<float>& scores, int bins);

// Horizontal bars, e.g. gain or permutation importance: sorted by value (largest first; ties by name), the
// top `top_n` drawn. Negative values (a permutation that helped) draw left of zero.
struct ReportBars {
  std::string title;
  std::string value_label;
  std::vector<std::pair<std::string, double>> bars;  // (name, value)
  size_t top_n = 20;
};

struct ReportData {
  std::string title = "Training report";
  std::string subtitle;
  std::string generated_at;  // shown as given, e.g. FormatTimestamp(now)
  std::vector<std::string> notes;  // warnings worth reading first (immature labels, a constant feature)
  // Key facts at the top: experiment, feature set, data fingerprint, rows, time range, model type,
  // chosen parameters, decision thresholds.
  std::vector<std::pair<std::string, std::string>> facts;

  ReportTable folds;   // per-fold metrics; usually aggregate = true
  std::vector<ReportLineChart> fold_charts;  // MetricByFoldChart(...)
  ReportTable trials;  // hyperparameter search: parameters + selection metric, the best highlighted
  std::vector<ReportLineChart> curves;       // RocChart, PrChart, ReliabilityChart
  std::vector<ReportHistogram> distributions;
  std::vector<ReportBars> importance;        // gain, permutation
};

// One complete HTML5 document (UTF-8). Sections appear in the order of ReportData's fields; an empty
// table or chart list leaves its section out.
std::string RenderReport(const ReportData& data);

// `text` with & < > " ' written as entities and control characters (other than tab, LF, CR) as U+FFFD.
std::string HtmlEscape(std::string_view text);

// A number with 4 significant digits, locale-independent: 0.9123, 1235, 123500 (no exponent below 1e15),
// 1.235e-05, "–" for NaN.
std::string FormatSignificant(double value);

}  // namespace gyre::train
