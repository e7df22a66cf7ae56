// The HTML training report: well-formed markup, one SVG per chart, one drawn series per given series,
// escaping of every user string, points mapped inside the viewBox, deterministic bytes, empty inputs.
#include "train/report.h"

// GCC 12 warns -Wmaybe-uninitialized inside libstdc++'s <regex> automaton when this file is built with the
// sanitizers (a false positive in the library's std::function moves, not in this file): the build stays clean.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace gyre::train {
namespace {

// ---- a small checker for the markup RenderReport emits -------------------------------------------------
// Every element is closed (or self-closed, or an HTML void element), closes in order, attribute values are
// quoted, and text and attribute values hold no raw '<', '>' or '&' other than an entity.

bool ValidEntityAt(std::string_view s, size_t i) {
  static const std::regex kEntity("^&(amp|lt|gt|quot|#39|#[0-9]+);");
  std::string head(s.substr(i, 8));
  return std::regex_search(head, kEntity);
}

std::string CheckText(std::string_view text, size_t at) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '>' || text[i] == '<') return "raw '" + std::string(1, text[i]) + "' at " + std::to_string(at + i);
    if (text[i] == '&' && !ValidEntityAt(text, i)) return "bare '&' at " + std::to_string(at + i);
  }
  return "";
}

// Returns "" when well-formed, else what is wrong and where.
std::string CheckMarkup(std::string_view doc) {
  std::vector<std::string> stack;
  size_t i = 0;
  auto is_void = [](const std::string& n) { return n == "meta" || n == "br" || n == "hr" || n == "link"; };
  while (i < doc.size()) {
    size_t lt = doc.find('<', i);
    std::string err = CheckText(doc.substr(i, lt == std::string_view::npos ? doc.size() - i : lt - i), i);
    if (!err.empty()) return err;
    if (lt == std::string_view::npos) break;
    if (doc.substr(lt, 9) == "<!DOCTYPE") {
      i = doc.find('>', lt) + 1;
      continue;
    }
    if (doc.substr(lt, 4) == "<!--") {
      size_t end = doc.find("-->", lt);
      if (end == std::string_view::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    bool closing = doc.substr(lt, 2) == "</";
    size_t p = lt + (closing ? 2 : 1);
    size_t name_end = p;
    while (name_end < doc.size() && (std::isalnum(static_cast<unsigned char>(doc[name_end])) || doc[name_end] == '-')) {
      ++name_end;
    }
    std::string name(doc.substr(p, name_end - p));
    if (name.empty()) return "empty tag name at " + std::to_string(lt);
    p = name_end;
    bool self_closed = false;
    // Attributes: name="value" separated by spaces.
    while (true) {
      while (p < doc.size() && (doc[p] == ' ' || doc[p] == '\n')) ++p;
      if (p >= doc.size()) return "unterminated tag <" + name;
      if (doc[p] == '>') break;
      if (doc.substr(p, 2) == "/>") {
        self_closed = true;
        ++p;
        break;
      }
      if (closing) return "attributes on a closing tag </" + name;
      size_t eq = doc.find('=', p);
      if (eq == std::string_view::npos || doc[eq + 1] != '"') return "unquoted attribute in <" + name + " at " + std::to_string(p);
      size_t close = doc.find('"', eq + 2);
      if (close == std::string_view::npos) return "unterminated attribute in <" + name;
      std::string attr_name(doc.substr(p, eq - p));
      for (char c : attr_name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == ':')) return "bad attribute name '" + attr_name + "'";
      }
      err = CheckText(doc.substr(eq + 2, close - eq - 2), eq + 2);
      if (!err.empty()) return "in attribute " + attr_name + " of <" + name + ">: " + err;
      p = close + 1;
    }
    i = p + 1;
    if (closing) {
      if (stack.empty() || stack.back() != name) {
        return "</" + name + "> at " + std::to_string(lt) + " closes <" + (stack.empty() ? "nothing" : stack.back()) + ">";
      }
      stack.pop_back();
    } else if (!self_closed && !is_void(name)) {
      if (name == "style") {  // raw text up to </style>
        size_t end = doc.find("</style>", i);
        if (end == std::string_view::npos) return "unterminated <style>";
        i = end;
      }
      stack.push_back(name);
    }
  }
  if (!stack.empty()) return "unclosed <" + stack.back() + ">";
  return "";
}

TEST(ReportCheckerTest, CatchesBrokenMarkup) {
  EXPECT_EQ(CheckMarkup("<p>a &amp; b<br></p>"), "");
  EXPECT_NE(CheckMarkup("<p><b>x</p></b>"), "");
  EXPECT_NE(CheckMarkup("<p>a & b</p>"), "");
  EXPECT_NE(CheckMarkup("<p>a < b</p>"), "");
  EXPECT_NE(CheckMarkup("<p title=\"a<b\">x</p>"), "");
  EXPECT_NE(CheckMarkup("<div>"), "");
}

// ---- helpers over the rendered output ------------------------------------------------------------------

size_t Count(std::string_view hay, std::string_view needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + needle.size())) ++n;
  return n;
}

std::vector<std::string> Svgs(const std::string& doc) {
  std::vector<std::string> out;
  for (size_t p = doc.find("<svg"); p != std::string::npos; p = doc.find("<svg", p + 1)) {
    size_t end = doc.find("</svg>", p);
    out.push_back(doc.substr(p, end + 6 - p));
  }
  return out;
}

struct ViewBox {
  double w = 0, h = 0;
};

ViewBox ViewBoxOf(const std::string& svg) {
  std::smatch m;
  std::regex re("viewBox=\"0 0 ([0-9.]+) ([0-9.]+)\"");
  if (!std::regex_search(svg, m, re)) return {};
  return {std::stod(m[1]), std::stod(m[2])};
}

// Every coordinate pair drawn by a series, a marker, a bar or a line.
std::vector<std::pair<double, double>> DrawnPoints(const std::string& svg) {
  std::vector<std::pair<double, double>> out;
  std::regex pair_re("(-?[0-9.]+),(-?[0-9.]+)");
  std::regex attr_re("(points|d)=\"([^\"]*)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), attr_re), end; it != end; ++it) {
    std::string v = (*it)[2];
    for (std::sregex_iterator p(v.begin(), v.end(), pair_re); p != end; ++p) {
      out.push_back({std::stod((*p)[1]), std::stod((*p)[2])});
    }
  }
  std::regex xy_re("<(?:circle|line|rect|text)[^>]*?(?:cx|x1|x)=\"(-?[0-9.]+)\"[^>]*?(?:cy|y1|y)=\"(-?[0-9.]+)\"");
  for (std::sregex_iterator it(svg.begin(), svg.end(), xy_re), end; it != end; ++it) {
    out.push_back({std::stod((*it)[1]), std::stod((*it)[2])});
  }
  return out;
}

std::vector<std::pair<double, double>> PolylinePoints(const std::string& svg, size_t which) {
  std::vector<std::pair<double, double>> out;
  size_t p = std::string::npos;
  for (size_t k = 0, from = 0; k <= which; ++k, from = p + 1) p = svg.find("<polyline class=\"series\"", from);
  if (p == std::string::npos) return out;
  size_t a = svg.find("points=\"", p) + 8, b = svg.find('"', a);
  std::string v = svg.substr(a, b - a);
  std::regex pair_re("(-?[0-9.]+),(-?[0-9.]+)");
  for (std::sregex_iterator it(v.begin(), v.end(), pair_re), end; it != end; ++it) {
    out.push_back({std::stod((*it)[1]), std::stod((*it)[2])});
  }
  return out;
}

// ---- synthetic data ------------------------------------------------------------------------------------

double Phi(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Binormal ROC with separation d: positives ~ N(d, 1), negatives ~ N(0, 1).
ReportSeries Roc(std::string name, double d, int points) {
  ReportSeries s{std::move(name), {}};
  for (int i = 0; i <= points; ++i) {
    double t = 6.0 - 12.0 * i / points;
    s.points.push_back({1 - Phi(t), 1 - Phi(t - d)});
  }
  return s;
}

ReportSeries Pr(std::string name, double d, double base_rate) {
  ReportSeries s{std::move(name), {}};
  for (int i = 1; i <= 60; ++i) {
    double t = 6.0 - 12.0 * i / 60;
    double tpr = 1 - Phi(t - d), fpr = 1 - Phi(t);
    s.points.push_back({tpr, tpr * base_rate / (tpr * base_rate + fpr * (1 - base_rate))});
  }
  return s;
}

// Deterministic pseudo-random numbers in [0, 1).
struct Lcg {
  uint64_t state = 42;
  double Next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  }
};

constexpr const char* kNasty = "amount_<7d>_&_\"max\"_'usd'";

ReportData SyntheticReport() {
  ReportData d;
  d.title = "ATO model \u2014 backtest <v2> & \"friends\"";
  d.subtitle = "experiment ato_xgb, 5 walk-forward folds";
  d.generated_at = "2026-11-26T18:30:00Z";
  d.facts = {{"experiment", "ato_xgb"},
             {"feature set", "ato_v3"},
             {"data fingerprint", "xxh64:9f1c0ab3d2e4f5a6"},
             {"rows", "1,000,000 (10,412 positive)"},
             {"time range", "2026-01-01T00:00:00Z \u2192 2026-07-01T00:00:00Z"},
             {"model", "xgboost (binary:logistic)"},
             {"chosen params", "max_depth=6, eta=0.1, <script>alert('x')</script>"},
             {"decision thresholds", "challenge \u2265 0.31, block \u2265 0.82"}};
  d.notes = {"last fold: 14% of positives not yet labelled at the cutoff"};
  const char* fold_names[] = {"2026-02", "2026-03", "2026-04", "2026-05", "2026-06"};
  double aucs[] = {0.931, 0.927, 0.918, 0.871, 0.842};
  double seps[] = {2.1, 2.05, 1.95, 1.6, 1.42};
  d.folds.columns = {"fold", "test from", "rows", "positives", "roc_auc", "average_precision", "recall@1%fpr"};
  d.folds.aggregate = true;
  std::vector<ReportSeries> rocs, prs;
  ReportSeries auc_series{"roc_auc", {}}, ap_series{"average_precision", {}};
  for (int i = 0; i < 5; ++i) {
    d.folds.rows.push_back({i + 1, fold_names[i], int64_t{200000}, 2000 + 10 * i, aucs[i], 0.5 - 0.05 * i,
                            0.62 - 0.04 * i});
    rocs.push_back(Roc(std::string("fold ") + std::to_string(i + 1), seps[i], 400));
    prs.push_back(Pr(std::string("fold ") + std::to_string(i + 1), seps[i], 0.01));
    auc_series.points.push_back({i, aucs[i]});
    ap_series.points.push_back({i, 0.5 - 0.05 * i});
  }
  std::vector<std::string> windows;  // long enough to be drawn turned
  for (int i = 0; i < 5; ++i) windows.push_back(std::string(fold_names[i]) + "-01 \u2192 +1 month");
  d.fold_charts.push_back(MetricByFoldChart("metric", windows, {auc_series, ap_series}));
  d.trials.columns = {"trial", "max_depth", "eta", kNasty, "recall@1%fpr"};
  d.trials.rows = {{1, 4, 0.3, "a<b", 0.55}, {2, 6, 0.1, "\"q\"", 0.61}, {3, 8, 0.05, "x&y", 0.58}};
  d.trials.highlight_row = 1;
  d.trials.note = "selected by recall at 1% false-positive rate, mean over folds";
  d.curves.push_back(RocChart(rocs));
  d.curves.push_back(PrChart(prs, 0.01));
  ReportSeries rel{"all folds", {}};
  for (int i = 0; i < 10; ++i) rel.points.push_back({0.01 + 0.02 * i, 0.008 + 0.024 * i});
  d.curves.push_back(ReliabilityChart({rel}));

  Lcg rng;
  std::vector<float> labels, scores;
  for (int i = 0; i < 20000; ++i) {
    bool pos = rng.Next() < 0.01;
    double u = rng.Next();
    labels.push_back(pos ? 1.f : 0.f);
    scores.push_back(static_cast<float>(pos ? std::sqrt(u) : u * u * u));
  }
  d.distributions.push_back(ScoreHistogram(labels, scores, 40));

  ReportBars gain{"Gain importance", "total gain", {}, 12};
  ReportBars perm{"Permutation importance", "drop in roc_auc", {}, 20};
  for (int i = 0; i < 16; ++i) {
    std::string name = i == 3 ? std::string(kNasty) : "feature_" + std::to_string(i) + "_count_7d";
    gain.bars.push_back({name, 100.0 / (i + 1)});
    perm.bars.push_back({name, 0.05 / (i + 1) - 0.004});
  }
  d.importance = {gain, perm};
  return d;
}

// ---- tests ---------------------------------------------------------------------------------------------

TEST(ReportTest, WellFormedWithOneSvgPerChart) {
  ReportData data = SyntheticReport();
  std::string html = RenderReport(data);
  EXPECT_EQ(CheckMarkup(html), "");
  EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(Count(html, "<svg"), 1u + 3u + 1u + 2u);  // fold chart, curves, distribution, importance
  EXPECT_EQ(Count(html, "</svg>"), 7u);
  // Self-contained: nothing fetched.
  EXPECT_EQ(Count(html, "<script"), 0u);
  EXPECT_EQ(Count(html, "<link"), 0u);
  EXPECT_EQ(Count(html, "<img"), 0u);
  EXPECT_EQ(Count(html, "url("), 0u);
  EXPECT_EQ(Count(html, "@import"), 0u);
  EXPECT_EQ(Count(html, "http://"), 7u);  // only the SVG namespace, once per chart
  EXPECT_EQ(Count(html, "https://"), 0u);
}

TEST(ReportTest, OneDrawnSeriesPerGivenSeries) {
  ReportData data = SyntheticReport();
  std::vector<std::string> svgs = Svgs(RenderReport(data));
  ASSERT_EQ(svgs.size(), 7u);
  // Order: fold charts, curves, distributions, importance.
  EXPECT_EQ(Count(svgs[0], "<polyline class=\"series\""), 2u);
  EXPECT_EQ(Count(svgs[0], "<circle class=\"marker\""), 10u);
  EXPECT_EQ(Count(svgs[1], "<polyline class=\"series\""), 5u);  // ROC, one per fold
  EXPECT_EQ(Count(svgs[1], "class=\"ref\""), 1u);          // chance diagonal
  EXPECT_EQ(Count(svgs[2], "<polyline class=\"series\""), 5u);   // PR
  EXPECT_EQ(Count(svgs[2], "class=\"ref\""), 1u);          // base rate
  EXPECT_NE(svgs[2].find("base rate 0.01"), std::string::npos);
  EXPECT_EQ(Count(svgs[3], "<polyline class=\"series\""), 1u);   // reliability
  EXPECT_EQ(Count(svgs[4], "<path class=\"series\""), 2u);       // label 0, label 1
  EXPECT_NE(svgs[4].find(">each class scaled</text>"), std::string::npos);
  EXPECT_EQ(Count(svgs[5], "<rect class=\"bar\""), 12u);  // gain: top 12 of 16
  EXPECT_NE(svgs[5].find("(top 12 of 16)"), std::string::npos);
  EXPECT_EQ(Count(svgs[6], "<rect class=\"bar\""), 16u);  // permutation: all 16
  for (const std::string& svg : svgs) {
    EXPECT_NE(svg.find("<title>"), std::string::npos);
    EXPECT_NE(svg.find("viewBox=\"0 0 "), std::string::npos);
  }
  // Series 9 onwards repeat the palette with dashes.
  ReportLineChart many = RocChart({});
  for (int i = 0; i < 10; ++i) many.series.push_back(Roc("f" + std::to_string(i), 1.0, 20));
  ReportData d;
  d.curves = {many};
  std::string svg = Svgs(RenderReport(d))[0];
  EXPECT_EQ(Count(svg, "<polyline class=\"series\""), 10u);
  EXPECT_EQ(Count(svg, "<polyline class=\"series\" fill=\"none\" stroke=\"#0072B2\""), 2u);
  EXPECT_EQ(Count(svg, "stroke=\"#0072B2\" stroke-width=\"2\" stroke-dasharray=\"6 3\""), 2u);  // line + legend
  // More entries than the legend holds: the rest are counted in its last line; every series is still drawn.
  for (int i = 10; i < 20; ++i) d.curves[0].series.push_back(Roc("f" + std::to_string(i), 1.0, 20));
  svg = Svgs(RenderReport(d))[0];
  EXPECT_EQ(Count(svg, "<polyline class=\"series\""), 20u);
  EXPECT_NE(svg.find(">+ 8 more</text>"), std::string::npos);
  EXPECT_EQ(svg.find(">f13</text>"), std::string::npos);
  EXPECT_NE(svg.find(">f12</text>"), std::string::npos);
}

TEST(ReportTest, EscapesEveryString) {
  std::string html = RenderReport(SyntheticReport());
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find(kNasty), std::string::npos);
  EXPECT_EQ(html.find("<v2>"), std::string::npos);
  EXPECT_NE(html.find("amount_&lt;7d&gt;_&amp;_&quot;max&quot;_&#39;usd&#39;"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("<td>a&lt;b</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>x&amp;y</td>"), std::string::npos);
  EXPECT_NE(html.find("<title>ATO model \u2014 backtest &lt;v2&gt; &amp; &quot;friends&quot;</title>"),
            std::string::npos);
  EXPECT_EQ(HtmlEscape("a\x01" "b\x7f"), "a\uFFFDb\uFFFD");
  EXPECT_EQ(HtmlEscape("tab\tok"), "tab\tok");
  // A name long enough to be shortened in a chart keeps its full (escaped) text in a tooltip.
  ReportData d;
  std::string long_name = std::string(40, 'x') + "<&>";
  d.importance.push_back({"Gain", "gain", {{long_name, 1.0}}, 10});
  std::string svg = Svgs(RenderReport(d))[0];
  EXPECT_NE(svg.find("<title>" + std::string(40, 'x') + "&lt;&amp;&gt;</title>"), std::string::npos);
  EXPECT_NE(svg.find(std::string(27, 'x') + "\u2026</text>"), std::string::npos);
  EXPECT_EQ(CheckMarkup(RenderReport(d)), "");
}

TEST(ReportTest, PointsMapInsideTheViewBox) {
  ReportData data = SyntheticReport();
  // Out-of-range, NaN and infinite values are clamped or skipped, never drawn outside.
  data.curves[0].series.push_back({"wild", {{-3, 2}, {NAN, 0.5}, {0.5, INFINITY}, {7, -1}, {0.5, 0.5}}});
  std::string html = RenderReport(data);
  EXPECT_EQ(CheckMarkup(html), "");
  for (const std::string& svg : Svgs(html)) {
    ViewBox vb = ViewBoxOf(svg);
    ASSERT_GT(vb.w, 0);
    auto points = DrawnPoints(svg);
    ASSERT_FALSE(points.empty());
    for (const auto& [x, y] : points) {
      EXPECT_GE(x, 0);
      EXPECT_LE(x, vb.w);
      EXPECT_GE(y, 0);
      EXPECT_LE(y, vb.h);
    }
  }
  // The ROC frame maps (0,0) to the plot's bottom-left and (1,1) to its top-right: a perfect curve is the
  // frame's left and top edges, and the clamped wild series lands on the frame.
  ReportData d;
  d.curves = {RocChart({{"perfect", {{0, 0}, {0, 1}, {1, 1}}}})};
  std::string svg = Svgs(RenderReport(d))[0];
  auto pts = PolylinePoints(svg, 0);
  ASSERT_EQ(pts.size(), 3u);
  EXPECT_DOUBLE_EQ(pts[0].first, 64);   // left
  EXPECT_DOUBLE_EQ(pts[0].second, 274);  // bottom
  EXPECT_DOUBLE_EQ(pts[1].first, 64);
  EXPECT_DOUBLE_EQ(pts[1].second, 44);  // top
  EXPECT_DOUBLE_EQ(pts[2].first, 364);  // right
  EXPECT_DOUBLE_EQ(pts[2].second, 44);
  auto wild = PolylinePoints(Svgs(html)[1], 5);
  ASSERT_EQ(wild.size(), 3u);  // the NaN and infinite points skipped
  EXPECT_DOUBLE_EQ(wild[0].first, 64);
  EXPECT_DOUBLE_EQ(wild[0].second, 44);
  EXPECT_DOUBLE_EQ(wild[1].first, 364);
  EXPECT_DOUBLE_EQ(wild[1].second, 274);
  EXPECT_DOUBLE_EQ(wild[2].first, 214);
  EXPECT_DOUBLE_EQ(wild[2].second, 159);
}

TEST(ReportTest, LongCurvesAreThinnedKeepingTheirEnds) {
  ReportData d;
  d.curves = {RocChart({Roc("dense", 2.0, 100000)})};
  std::string svg = Svgs(RenderReport(d))[0];
  auto pts = PolylinePoints(svg, 0);
  EXPECT_LT(pts.size(), 2000u);
  EXPECT_GT(pts.size(), 50u);
  ASSERT_FALSE(pts.empty());
  EXPECT_DOUBLE_EQ(pts.front().first, 64);
  EXPECT_DOUBLE_EQ(pts.front().second, 274);
  EXPECT_DOUBLE_EQ(pts.back().first, 364);
  EXPECT_DOUBLE_EQ(pts.back().second, 44);
}

TEST(ReportTest, Deterministic) {
  ReportData data = SyntheticReport();
  std::string a = RenderReport(data);
  ReportData copy = data;
  EXPECT_EQ(RenderReport(copy), a);
  EXPECT_EQ(RenderReport(SyntheticReport()), a);
}

TEST(ReportTest, EmptyInputsRender) {
  std::string empty = RenderReport(ReportData{});
  EXPECT_EQ(CheckMarkup(empty), "");
  EXPECT_EQ(Count(empty, "<svg"), 0u);
  EXPECT_EQ(Count(empty, "<table"), 0u);
  EXPECT_NE(empty.find("<h1>Training report</h1>"), std::string::npos);

  ReportData d;
  d.folds.columns = {"fold", "roc_auc"};
  d.folds.aggregate = true;
  d.folds.rows = {{1, 0.9123456}};
  d.curves = {RocChart({}), PrChart({{"fold 1", {}}}, 0.02), ReliabilityChart({})};
  d.fold_charts = {MetricByFoldChart("roc_auc", {"2026-02"}, {{"xgb", {{0, 0.91}}}})};
  d.distributions = {ReportHistogram{}};
  d.importance = {ReportBars{"Gain", "gain", {}, 10}};
  std::string html = RenderReport(d);
  EXPECT_EQ(CheckMarkup(html), "");
  EXPECT_EQ(Count(html, "<svg"), 6u);
  EXPECT_EQ(Count(html, ">no data</text>"), 5u);  // all but the one-fold chart
  EXPECT_NE(html.find("<td class=\"num\">0.9123</td></tr>\n</tfoot>"), std::string::npos);  // mean, no ± for one fold
  for (const std::string& svg : Svgs(html)) {
    ViewBox vb = ViewBoxOf(svg);
    for (const auto& [x, y] : DrawnPoints(svg)) {
      EXPECT_TRUE(x >= 0 && x <= vb.w && y >= 0 && y <= vb.h) << x << "," << y;
    }
  }
  // A histogram whose edges and counts disagree draws no data rather than reading out of bounds.
  ReportHistogram bad;
  bad.bin_edges = {0, 0.5, 0.25};
  bad.negative_counts = {1};
  ReportData b;
  b.distributions = {bad};
  EXPECT_EQ(CheckMarkup(RenderReport(b)), "");
  EXPECT_NE(RenderReport(b).find(">no data</text>"), std::string::npos);
}

TEST(ReportTest, TablesAggregateAndHighlight) {
  ReportData d;
  d.folds.columns = {"fold", "period", "roc_auc", "rows"};
  d.folds.aggregate = true;
  d.folds.rows = {{1, "a", 0.9, 10}, {2, "b", 0.8, 20}, {3, "c", 0.7, 30}};
  d.trials.columns = {"trial", "eta", "score"};
  d.trials.rows = {{1, 0.3, 0.5}, {2, 0.1, 0.75}, {3, 0.05, 0.6}};
  d.trials.highlight_row = 1;
  std::string html = RenderReport(d);
  EXPECT_EQ(CheckMarkup(html), "");
  EXPECT_NE(html.find("<tr class=\"aggregate\"><td>mean \u00b1 std</td><td></td>"
                      "<td class=\"num\">0.8 \u00b1 0.1</td><td class=\"num\">20 \u00b1 10</td></tr>"),
            std::string::npos)
      << html;
  EXPECT_EQ(Count(html, "class=\"best\""), 1u);
  EXPECT_NE(html.find("<tr class=\"best\"><td class=\"num\">\u2605 2</td><td class=\"num\">0.1</td>"
                      "<td class=\"num\">0.75</td></tr>"),
            std::string::npos);
  // A text first column gets the label.
  d.folds.rows = {{"f1", 0.5}, {"f2", 0.7}};
  EXPECT_NE(RenderReport(d).find("<td>mean \u00b1 std</td><td class=\"num\">0.6 \u00b1 0.1414</td>"),
            std::string::npos);
}

TEST(ReportTest, NumbersHaveFourSignificantDigits) {
  EXPECT_EQ(FormatSignificant(0.912345), "0.9123");
  EXPECT_EQ(FormatSignificant(1234.56), "1235");
  EXPECT_EQ(FormatSignificant(123456.0), "123500");
  EXPECT_EQ(FormatSignificant(-99996.0), "-100000");
  EXPECT_EQ(FormatSignificant(2e15), "2e+15");
  EXPECT_EQ(FormatSignificant(1.23456e-5), "1.235e-05");
  EXPECT_EQ(FormatSignificant(0.000123456), "0.0001235");
  EXPECT_EQ(FormatSignificant(-0.0), "0");
  EXPECT_EQ(FormatSignificant(0.5), "0.5");
  EXPECT_EQ(FormatSignificant(NAN), "\u2013");
  ReportData d;
  d.folds.columns = {"rows", "auc"};
  d.folds.rows = {{int64_t{1234567}, 0.987654}};
  EXPECT_NE(RenderReport(d).find("<td class=\"num\">1234567</td><td class=\"num\">0.9877</td>"), std::string::npos);
}

TEST(ReportTest, BarsSortedLargestFirst) {
  ReportData d;
  d.importance = {{"Permutation", "drop", {{"b", 0.2}, {"a", 0.2}, {"neg", -0.1}, {"top", 0.5}, {"nan", NAN}}, 3}};
  std::string svg = Svgs(RenderReport(d))[0];
  size_t top = svg.find(">top</text>"), a = svg.find(">a</text>"), b = svg.find(">b</text>");
  ASSERT_NE(top, std::string::npos);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_LT(top, a);
  EXPECT_LT(a, b);  // ties by name
  EXPECT_EQ(svg.find(">neg</text>"), std::string::npos);  // 4th of 4 finite, beyond top 3
  EXPECT_EQ(svg.find(">nan</text>"), std::string::npos);
  EXPECT_NE(svg.find("(top 3 of 4)"), std::string::npos);
}

TEST(ReportTest, ScoreHistogramCountsByLabel) {
  ReportHistogram h = ScoreHistogram({0, 0, 1, 1, 0, 1}, {0.05f, 0.3f, 0.95f, 1.0f, NAN, 0.5f}, 4);
  ASSERT_EQ(h.bin_edges.size(), 5u);
  EXPECT_DOUBLE_EQ(h.bin_edges[0], 0);
  EXPECT_DOUBLE_EQ(h.bin_edges[4], 1);
  EXPECT_EQ(h.negative_counts, (std::vector<double>{1, 1, 0, 0}));
  EXPECT_EQ(h.positive_counts, (std::vector<double>{0, 0, 1, 2}));  // 1.0 falls in the last bin
  // Scores outside [0, 1] (margins) span [min, max].
  ReportHistogram m = ScoreHistogram({0, 1}, {-2.f, 6.f}, 2);
  EXPECT_DOUBLE_EQ(m.bin_edges.front(), -2);
  EXPECT_DOUBLE_EQ(m.bin_edges.back(), 6);
  EXPECT_EQ(m.negative_counts, (std::vector<double>{1, 0}));
  EXPECT_EQ(m.positive_counts, (std::vector<double>{0, 1}));
  // Legend counts each class.
  ReportData d;
  d.distributions = {h};
  EXPECT_NE(RenderReport(d).find("label 1 (fraud), n=3"), std::string::npos);
}

// Writes the synthetic report where a person can open it: GYRE_REPORT_EXAMPLE=/tmp/gyre_report_example.html.
TEST(ReportTest, WritesExampleWhenAsked) {
  const char* path = std::getenv("GYRE_REPORT_EXAMPLE");
  if (path == nullptr) GTEST_SKIP() << "set GYRE_REPORT_EXAMPLE=FILE to write the example report";
  std::ofstream(path) << RenderReport(SyntheticReport());
}

}  // namespace
}  // namespace gyre::train
