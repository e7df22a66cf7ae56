#include "train/report.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace gyre::train {
namespace {

// Okabe–Ito, reordered so the first few are the most distinct on white; yellow is last because it is
// faint on a white page.
constexpr const char* kPalette[] = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                    "#CC79A7", "#56B4E9", "#000000", "#F0E442"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);
constexpr const char* kNegativeColour = "#0072B2";
constexpr const char* kPositiveColour = "#D55E00";
constexpr const char* kFontFamily =
    "system-ui, -apple-system, &quot;Segoe UI&quot;, Roboto, Helvetica, Arial, sans-serif";

const char* SeriesColour(size_t i) { return kPalette[i % kPaletteSize]; }
// After one round of the palette the colours repeat with a dash pattern, so series 1 and 9 still differ.
const char* SeriesDash(size_t i) {
  static constexpr const char* kDashes[] = {"", "6 3", "2 3", "8 3 2 3"};
  return kDashes[(i / kPaletteSize) % 4];
}

// Fixed-point with `decimals` digits, locale-independent (snprintf would follow LC_NUMERIC).
std::string Fixed(double v, int decimals) {
  if (v == 0) v = 0;  // no "-0.0"
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed, decimals);
  return std::string(buf, r.ptr);
}

// SVG coordinates: one decimal is a tenth of a viewBox unit, finer than any screen shows.
std::string Coord(double v) { return Fixed(v, 1); }

std::string WithThousands(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -static_cast<uint64_t>(v) : static_cast<uint64_t>(v));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return v < 0 ? "-" + out : out;
}

// At most `max_chars` code points, cut at a character boundary, "…" marking the cut.
std::string Shorten(std::string_view text, size_t max_chars) {
  max_chars = std::max<size_t>(max_chars, 2);
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == max_chars - 1) {
      size_t rest = 0;
      for (size_t j = i; j < text.size(); ++j) rest += (static_cast<unsigned char>(text[j]) & 0xC0) != 0x80;
      if (rest > 1) return std::string(text.substr(0, i)) + "\u2026";
    }
    ++chars;
  }
  return std::string(text);
}

bool Finite(double v) { return std::isfinite(v); }

// "Nice" tick step (1, 2 or 5 × 10^k) for about `target` intervals over `span`.
double NiceStep(double span, int target) {
  double raw = span / target;
  double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double f = raw / mag;
  double nice = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  return nice * mag;
}

int DecimalsFor(double step) { return std::max(0, static_cast<int>(-std::floor(std::log10(step) + 1e-9))); }

// A linear axis: [lo, hi] and its tick values.
struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 1;
  bool log = false;
};

// `lo`/`hi` NaN mean "from the data" (rounded out to ticks); data bounds may be NaN when there is no data.
Axis LinearAxis(double fixed_lo, double fixed_hi, double data_lo, double data_hi) {
  double lo = Finite(fixed_lo) ? fixed_lo : data_lo;
  double hi = Finite(fixed_hi) ? fixed_hi : data_hi;
  if (!Finite(lo) && !Finite(hi)) lo = 0, hi = 1;
  if (!Finite(lo)) lo = hi - 1;
  if (!Finite(hi)) hi = lo + 1;
  if (hi < lo) std::swap(lo, hi);
  if (hi == lo) {
    double pad = lo == 0 ? 1 : std::abs(lo) * 0.1;
    if (!Finite(fixed_lo)) lo -= pad;
    if (!Finite(fixed_hi) || hi == lo) hi += pad;
  }
  double step = NiceStep(hi - lo, 5);
  if (!Finite(fixed_lo)) lo = std::floor(lo / step + 1e-9) * step;
  if (!Finite(fixed_hi)) hi = std::ceil(hi / step - 1e-9) * step;
  Axis axis;
  axis.lo = lo;
  axis.hi = hi;
  axis.decimals = DecimalsFor(step);
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + step * 1e-9; k += 1) axis.ticks.push_back(k * step);
  return axis;
}

// A log10 axis over positive values: whole decades from below `data_lo` to above `data_hi`, at most
// `max_decades` of them (below that is drawn on the baseline).
Axis LogAxis(double data_lo, double data_hi, int max_decades) {
  Axis axis;
  axis.log = true;
  double top = Finite(data_hi) && data_hi > 0 ? std::ceil(std::log10(data_hi) - 1e-9) : 0;
  double bottom = Finite(data_lo) && data_lo > 0 ? std::floor(std::log10(data_lo) + 1e-9) : top - 3;
  if (bottom >= top) bottom = top - 1;
  bottom = std::max(bottom, top - max_decades);
  axis.lo = bottom;  // in decades
  axis.hi = top;
  for (double d = bottom; d <= top; d += 1) axis.ticks.push_back(d);
  return axis;
}

std::string TickLabel(const Axis& axis, double tick) {
  if (!axis.log) return Fixed(tick, axis.decimals);
  int d = static_cast<int>(std::lround(tick));
  if (d >= -3 && d <= 0) return Fixed(std::pow(10.0, d), -d);  // 0.001 … 1 read better than powers
  return "1e" + std::to_string(d);
}

// Plot area inside a chart's viewBox, and the mapping from data to it.
struct Frame {
  double left = 64, top = 44, width = 300, height = 230;
  Axis x, y;

  double X(double v) const {
    double t = (v - x.lo) / (x.hi - x.lo);
    return left + std::clamp(t, 0.0, 1.0) * width;
  }
  double Y(double v) const {
    double t;
    if (y.log) {
      t = v > 0 ? (std::log10(v) - y.lo) / (y.hi - y.lo) : 0.0;
    } else {
      t = (v - y.lo) / (y.hi - y.lo);
    }
    return top + height - std::clamp(t, 0.0, 1.0) * height;
  }
  double Bottom() const { return top + height; }
  double Right() const { return left + width; }
};

class Svg {
 public:
  Svg(double width, double height, std::string_view title) {
    out_ += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + Coord(width) + " " + Coord(height) +
            "\" font-family=\"" + kFontFamily + "\" font-size=\"11\" role=\"img\">\n";
    out_ += "<title>" + HtmlEscape(title) + "</title>\n";
    out_ += "<rect x=\"0\" y=\"0\" width=\"" + Coord(width) + "\" height=\"" + Coord(height) +
            "\" fill=\"#ffffff\"/>\n";
    Text(12, 20, title, "start", "class=\"chart-title\" font-size=\"14\" font-weight=\"600\"");
  }

  void Line(double x1, double y1, double x2, double y2, std::string_view attrs) {
    out_ += "<line x1=\"" + Coord(x1) + "\" y1=\"" + Coord(y1) + "\" x2=\"" + Coord(x2) + "\" y2=\"" + Coord(y2) +
            "\" " + std::string(attrs) + "/>\n";
  }
  void Text(double x, double y, std::string_view text, std::string_view anchor, std::string_view attrs = "",
            std::string_view tooltip = "") {
    out_ += "<text x=\"" + Coord(x) + "\" y=\"" + Coord(y) + "\" text-anchor=\"" + std::string(anchor) + "\"";
    if (!attrs.empty()) out_ += " " + std::string(attrs);
    out_ += ">";
    if (!tooltip.empty()) out_ += "<title>" + HtmlEscape(tooltip) + "</title>";
    out_ += HtmlEscape(text) + "</text>\n";
  }
  void Raw(std::string_view s) { out_ += s; }
  std::string Finish() {
    out_ += "</svg>\n";
    return std::move(out_);
  }

 private:
  std::string out_;
};

// Category labels turn 45° (and shorten to 12 characters) when they would not fit side by side.
size_t CategoryLabelEvery(size_t n) { return std::max<size_t>(1, (n + 11) / 12); }  // at most ~12 labels
bool RotateCategories(const std::vector<std::string>& categories, double width) {
  size_t n = categories.size(), every = CategoryLabelEvery(n);
  for (const std::string& c : categories) {
    if (Shorten(c, 100).size() * 6.0 > width / static_cast<double>(n) * static_cast<double>(every)) return true;
  }
  return false;
}

void DrawAxes(Svg& svg, const Frame& f, std::string_view x_label, std::string_view y_label,
              const std::vector<std::string>& x_categories) {
  // Grid and y ticks.
  for (double t : f.y.ticks) {
    double y = f.top + f.height - (t - f.y.lo) / (f.y.hi - f.y.lo) * f.height;
    svg.Line(f.left, y, f.Right(), y, "class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\"");
    svg.Line(f.left - 4, y, f.left, y, "stroke=\"#333333\"");
    svg.Text(f.left - 7, y + 3.5, TickLabel(f.y, t), "end", "fill=\"#333333\"");
  }
  if (x_categories.empty()) {
    for (double t : f.x.ticks) {
      double x = f.X(t);
      svg.Line(x, f.top, x, f.Bottom(), "class=\"grid\" stroke=\"#e5e5e5\" stroke-width=\"1\"");
      svg.Line(x, f.Bottom(), x, f.Bottom() + 4, "stroke=\"#333333\"");
      svg.Text(x, f.Bottom() + 16, TickLabel(f.x, t), "middle", "fill=\"#333333\"");
    }
  }
  bool rotate = RotateCategories(x_categories, f.width);
  if (!x_categories.empty()) {
    size_t n = x_categories.size(), every = CategoryLabelEvery(n);
    for (size_t i = 0; i < n; ++i) {
      double x = f.X(static_cast<double>(i));
      svg.Line(x, f.Bottom(), x, f.Bottom() + 4, "stroke=\"#333333\"");
      if (i % every != 0) continue;
      std::string label = Shorten(x_categories[i], rotate ? 12 : 100);
      if (rotate) {
        std::string attrs = "fill=\"#333333\" transform=\"rotate(-45 " + Coord(x) + " " + Coord(f.Bottom() + 12) + ")\"";
        svg.Text(x, f.Bottom() + 12, label, "end", attrs, x_categories[i]);
      } else {
        svg.Text(x, f.Bottom() + 16, label, "middle", "fill=\"#333333\"");
      }
    }
  }
  svg.Line(f.left, f.Bottom(), f.Right(), f.Bottom(), "class=\"axis\" stroke=\"#333333\"");
  svg.Line(f.left, f.top, f.left, f.Bottom(), "class=\"axis\" stroke=\"#333333\"");
  double x_label_y = f.Bottom() + (rotate ? 80 : 36);
  svg.Text(f.left + f.width / 2, x_label_y, x_label, "middle", "class=\"axis-label\" font-size=\"12\"");
  std::string rot = "class=\"axis-label\" font-size=\"12\" transform=\"rotate(-90 16 " +
                    Coord(f.top + f.height / 2) + ")\"";
  svg.Text(16, f.top + f.height / 2, y_label, "middle", rot);
}

struct LegendEntry {
  std::string name;
  std::string detail;  // a second, smaller line under the name
  std::string colour;
  std::string dash;
  bool filled = false;  // a swatch instead of a line
};

// One entry per line right of the plot; the overflow is summarised in a last line.
void DrawLegend(Svg& svg, const Frame& f, const std::vector<LegendEntry>& entries, double x0, double max_width) {
  constexpr double kLine = 16;
  size_t capacity = static_cast<size_t>(f.height / kLine);
  size_t chars = static_cast<size_t>(std::max(6.0, (max_width - 26) / 6.0));
  size_t line = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    double y = f.top + 8 + kLine * static_cast<double>(line);
    line += entries[i].detail.empty() ? 1 : 2;
    if (line >= capacity && i + 1 < entries.size()) {
      svg.Text(x0, y + 4, "+ " + std::to_string(entries.size() - i) + " more", "start", "fill=\"#555555\"");
      break;
    }
    const LegendEntry& e = entries[i];
    if (e.colour.empty()) {
      // A text-only line: an explanation under the entries it belongs to.
    } else if (e.filled) {
      svg.Raw("<rect x=\"" + Coord(x0) + "\" y=\"" + Coord(y - 5) + "\" width=\"18\" height=\"10\" fill=\"" +
              e.colour + "\" fill-opacity=\"0.3\" stroke=\"" + e.colour + "\" stroke-width=\"1.5\"/>\n");
    } else {
      std::string attrs = "stroke=\"" + e.colour + "\" stroke-width=\"2\"";
      if (!e.dash.empty()) attrs += " stroke-dasharray=\"" + e.dash + "\"";
      svg.Line(x0, y, x0 + 18, y, attrs);
    }
    std::string shown = Shorten(e.name, chars);
    svg.Text(x0 + 24, y + 4, shown, "start", "class=\"legend\"", shown == e.name ? "" : e.name);
    if (!e.detail.empty()) svg.Text(x0 + 24, y + 17, Shorten(e.detail, chars + 2), "start", "fill=\"#555555\" font-size=\"10\"");
  }
}

void NoData(Svg& svg, const Frame& f) {
  svg.Text(f.left + f.width / 2, f.top + f.height / 2, "no data", "middle",
           "class=\"no-data\" fill=\"#888888\" font-size=\"14\"");
}

std::string RenderLineChart(const ReportLineChart& chart) {
  constexpr double kWidth = 560;
  Frame f;
  bool categorical = !chart.x_categories.empty();
  double height = f.top + f.height + (RotateCategories(chart.x_categories, f.width) ? 92 : 48);

  double x_lo = NAN, x_hi = NAN, y_lo = NAN, y_hi = NAN;
  size_t points = 0;
  for (const ReportSeries& s : chart.series) {
    for (const auto& [x, y] : s.points) {
      if (!Finite(x) || !Finite(y)) continue;
      ++points;
      x_lo = std::isnan(x_lo) ? x : std::min(x_lo, x);
      x_hi = std::isnan(x_hi) ? x : std::max(x_hi, x);
      y_lo = std::isnan(y_lo) ? y : std::min(y_lo, y);
      y_hi = std::isnan(y_hi) ? y : std::max(y_hi, y);
    }
  }
  if (chart.reference == ReportLineChart::Reference::kHorizontal && Finite(chart.reference_y)) {
    y_lo = std::isnan(y_lo) ? chart.reference_y : std::min(y_lo, chart.reference_y);
    y_hi = std::isnan(y_hi) ? chart.reference_y : std::max(y_hi, chart.reference_y);
  }
  if (categorical) {
    f.x.lo = -0.5;
    f.x.hi = static_cast<double>(chart.x_categories.size()) - 0.5;
  } else {
    f.x = LinearAxis(chart.x_min, chart.x_max, x_lo, x_hi);
  }
  f.y = LinearAxis(chart.y_min, chart.y_max, y_lo, y_hi);

  Svg svg(kWidth, height, chart.title);
  DrawAxes(svg, f, chart.x_label, chart.y_label, chart.x_categories);

  std::vector<LegendEntry> legend;
  constexpr const char* kRefStyle = "class=\"ref\" stroke=\"#888888\" stroke-width=\"1.2\" stroke-dasharray=\"4 4\"";
  if (chart.reference == ReportLineChart::Reference::kDiagonal) {
    double a = std::max(f.x.lo, f.y.lo), b = std::min(f.x.hi, f.y.hi);
    if (a < b) svg.Line(f.X(a), f.Y(a), f.X(b), f.Y(b), kRefStyle);
  } else if (chart.reference == ReportLineChart::Reference::kHorizontal && Finite(chart.reference_y)) {
    svg.Line(f.left, f.Y(chart.reference_y), f.Right(), f.Y(chart.reference_y), kRefStyle);
  }

  for (size_t i = 0; i < chart.series.size(); ++i) {
    const ReportSeries& s = chart.series[i];
    std::string pts;
    double last_x = -1e9, last_y = -1e9;
    size_t n = s.points.size();
    std::string pending;  // the last finite point, always drawn even when thinned away
    for (size_t j = 0; j < n; ++j) {
      const auto& [x, y] = s.points[j];
      if (!Finite(x) || !Finite(y)) continue;
      double px = f.X(x), py = f.Y(y);
      std::string p = Coord(px) + "," + Coord(py);
      // Drop points under half a unit from the last one drawn: a 100k-point ROC becomes a few hundred.
      if (std::abs(px - last_x) < 0.5 && std::abs(py - last_y) < 0.5) {
        pending = p;
        continue;
      }
      pts += (pts.empty() ? "" : " ") + p;
      pending.clear();
      last_x = px, last_y = py;
    }
    if (!pending.empty()) pts += " " + pending;
    std::string colour = SeriesColour(i), dash = SeriesDash(i);
    svg.Raw("<polyline class=\"series\" fill=\"none\" stroke=\"" + colour + "\" stroke-width=\"2\"" +
            (dash.empty() ? "" : " stroke-dasharray=\"" + dash + "\"") + " stroke-linejoin=\"round\" points=\"" +
            pts + "\"><title>" + HtmlEscape(s.name) + "</title></polyline>\n");
    if (chart.markers) {
      for (const auto& [x, y] : s.points) {
        if (!Finite(x) || !Finite(y)) continue;
        std::string where = categorical && x >= 0 && x < static_cast<double>(chart.x_categories.size()) &&
                                    x == std::floor(x)
                                ? chart.x_categories[static_cast<size_t>(x)]
                                : FormatSignificant(x);
        svg.Raw("<circle class=\"marker\" cx=\"" + Coord(f.X(x)) + "\" cy=\"" + Coord(f.Y(y)) + "\" r=\"3.5\" fill=\"" +
                colour + "\"><title>" + HtmlEscape(s.name + ", " + where + ": " + FormatSignificant(y)) +
                "</title></circle>\n");
      }
    }
    legend.push_back({s.name, "", colour, dash, false});
  }
  if (chart.reference != ReportLineChart::Reference::kNone && !chart.reference_name.empty()) {
    legend.push_back({chart.reference_name, "", "#888888", "4 4", false});
  }
  if (points == 0) NoData(svg, f);
  DrawLegend(svg, f, legend, f.Right() + 20, kWidth - f.Right() - 24);
  return svg.Finish();
}

std::string RenderHistogram(const ReportHistogram& h) {
  constexpr double kWidth = 560;
  Frame f;
  double height = f.top + f.height + 48;
  size_t bins = h.bin_edges.size() >= 2 ? h.bin_edges.size() - 1 : 0;
  bool edges_ok = bins > 0;
  for (size_t i = 0; i + 1 < h.bin_edges.size(); ++i) {
    edges_ok &= Finite(h.bin_edges[i]) && Finite(h.bin_edges[i + 1]) && h.bin_edges[i] <= h.bin_edges[i + 1];
  }
  if (!edges_ok) bins = 0;
  auto count = [&](const std::vector<double>& c, size_t i) {
    return i < c.size() && Finite(c[i]) && c[i] > 0 ? c[i] : 0.0;
  };
  double total[2] = {0, 0};
  for (size_t i = 0; i < bins; ++i) {
    total[0] += count(h.negative_counts, i);
    total[1] += count(h.positive_counts, i);
  }
  double lo_share = NAN, hi_share = NAN;
  for (int c = 0; c < 2; ++c) {
    const std::vector<double>& counts = c == 0 ? h.negative_counts : h.positive_counts;
    for (size_t i = 0; i < bins && total[c] > 0; ++i) {
      double s = count(counts, i) / total[c];
      if (s <= 0) continue;
      lo_share = std::isnan(lo_share) ? s : std::min(lo_share, s);
      hi_share = std::isnan(hi_share) ? s : std::max(hi_share, s);
    }
  }
  if (bins > 0) {
    f.x = LinearAxis(h.bin_edges.front(), h.bin_edges.back(), NAN, NAN);
    if (h.bin_edges.front() == h.bin_edges.back()) f.x = LinearAxis(NAN, NAN, h.bin_edges.front(), h.bin_edges.back());
  } else {
    f.x = LinearAxis(NAN, NAN, 0, 1);
  }
  f.y = h.log_y ? LogAxis(lo_share, hi_share, 6) : LinearAxis(0, NAN, 0, std::isnan(hi_share) ? 1 : hi_share);

  Svg svg(kWidth, height, h.title);
  DrawAxes(svg, f, h.x_label, h.log_y ? "share of own class (log scale)" : "share of own class", {});
  std::vector<LegendEntry> legend;
  for (int c = 0; c < 2; ++c) {
    const std::vector<double>& counts = c == 0 ? h.negative_counts : h.positive_counts;
    const char* colour = c == 0 ? kNegativeColour : kPositiveColour;
    std::string d = "M" + Coord(f.left) + "," + Coord(f.Bottom());
    if (bins > 0 && total[c] > 0) {
      d = "M" + Coord(f.X(h.bin_edges[0])) + "," + Coord(f.Bottom());
      for (size_t i = 0; i < bins; ++i) {
        double y = f.Y(count(counts, i) / total[c]);
        d += " L" + Coord(f.X(h.bin_edges[i])) + "," + Coord(y) + " L" + Coord(f.X(h.bin_edges[i + 1])) + "," +
             Coord(y);
      }
      d += " L" + Coord(f.X(h.bin_edges[bins])) + "," + Coord(f.Bottom()) + " Z";
    }
    const std::string& name = c == 0 ? h.negative_name : h.positive_name;
    std::string detail = "n=" + WithThousands(static_cast<int64_t>(std::llround(total[c])));
    std::string label = name + ", " + detail;
    svg.Raw(std::string("<path class=\"series\" fill=\"") + colour + "\" fill-opacity=\"0.25\" stroke=\"" + colour +
            "\" stroke-width=\"1.5\" stroke-linejoin=\"round\" d=\"" + d + "\"><title>" + HtmlEscape(label) +
            "</title></path>\n");
    legend.push_back({name, detail, colour, "", true});
  }
  legend.push_back({"each class scaled", "to its own count", "", "", false});
  if (total[0] + total[1] == 0) NoData(svg, f);
  DrawLegend(svg, f, legend, f.Right() + 20, kWidth - f.Right() - 24);
  return svg.Finish();
}

std::string RenderBars(const ReportBars& bars) {
  constexpr double kWidth = 560, kRow = 18;
  std::vector<std::pair<std::string, double>> sorted;
  for (const auto& b : bars.bars) {
    if (Finite(b.second)) sorted.push_back(b);
  }
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  size_t hidden = sorted.size() > bars.top_n ? sorted.size() - bars.top_n : 0;
  sorted.resize(std::min(sorted.size(), bars.top_n));

  Frame f;
  f.left = 190;
  f.width = 300;
  f.height = kRow * static_cast<double>(std::max<size_t>(sorted.size(), 3));
  double height = f.top + f.height + 48;
  double lo = 0, hi = 0;
  for (const auto& b : sorted) lo = std::min(lo, b.second), hi = std::max(hi, b.second);
  if (sorted.empty()) hi = 1;
  f.x = LinearAxis(NAN, NAN, lo, hi);
  f.y = LinearAxis(0, static_cast<double>(std::max<size_t>(sorted.size(), 3)), NAN, NAN);
  f.y.ticks.clear();

  std::string title = bars.title;
  if (hidden > 0) title += " (top " + std::to_string(sorted.size()) + " of " + std::to_string(sorted.size() + hidden) + ")";
  Svg svg(kWidth, height, title);
  DrawAxes(svg, f, bars.value_label, "", {});
  double zero = f.X(0);
  for (size_t i = 0; i < sorted.size(); ++i) {
    const auto& [name, value] = sorted[i];
    double y = f.top + kRow * static_cast<double>(i);
    double x0 = std::min(zero, f.X(value)), x1 = std::max(zero, f.X(value));
    std::string tip = HtmlEscape(name + ": " + FormatSignificant(value));
    svg.Raw("<rect class=\"bar\" x=\"" + Coord(x0) + "\" y=\"" + Coord(y + 3) + "\" width=\"" + Coord(x1 - x0) +
            "\" height=\"" + Coord(kRow - 6) + "\" fill=\"" + (value < 0 ? kPositiveColour : kNegativeColour) +
            "\"><title>" + tip + "</title></rect>\n");
    std::string shown = Shorten(name, 28);
    svg.Text(f.left - 8, y + kRow / 2 + 4, shown, "end", "class=\"bar-label\"", shown == name ? "" : name);
    svg.Text(x1 + 4, y + kRow / 2 + 4, FormatSignificant(value), "start", "fill=\"#333333\" font-size=\"10\"");
  }
  if (!sorted.empty()) svg.Line(zero, f.top, zero, f.Bottom(), "stroke=\"#333333\"");
  if (sorted.empty()) NoData(svg, f);
  return svg.Finish();
}

bool IsNumber(const ReportCell& c) { return !std::holds_alternative<std::string>(c.value); }
double NumberOf(const ReportCell& c) {
  if (const double* d = std::get_if<double>(&c.value)) return *d;
  if (const int64_t* i = std::get_if<int64_t>(&c.value)) return static_cast<double>(*i);
  return NAN;
}

std::string CellText(const ReportCell& c) {
  if (const std::string* s = std::get_if<std::string>(&c.value)) return *s;
  if (const int64_t* i = std::get_if<int64_t>(&c.value)) return std::to_string(*i);
  return FormatSignificant(std::get<double>(c.value));
}

void AppendRow(std::string& out, const std::vector<ReportCell>& row, size_t columns, std::string_view tr_attrs,
               std::string_view prefix = "") {
  out += "<tr";
  if (!tr_attrs.empty()) out += " " + std::string(tr_attrs);
  out += ">";
  for (size_t j = 0; j < columns; ++j) {
    ReportCell cell = j < row.size() ? row[j] : ReportCell();
    out += IsNumber(cell) ? "<td class=\"num\">" : "<td>";
    if (j == 0 && !prefix.empty()) out += std::string(prefix);
    out += HtmlEscape(CellText(cell)) + "</td>";
  }
  out += "</tr>\n";
}

void AppendTable(std::string& out, const ReportTable& t) {
  size_t columns = t.columns.size();
  for (const auto& r : t.rows) columns = std::max(columns, r.size());
  for (const auto& r : t.summary_rows) columns = std::max(columns, r.size());
  out += "<div class=\"table-wrap\"><table>\n<thead><tr>";
  for (size_t j = 0; j < columns; ++j) {
    // A numeric column's heading sits over its right-aligned numbers.
    bool numeric = !t.rows.empty();
    for (const auto& r : t.rows) numeric &= j < r.size() && IsNumber(r[j]);
    out += numeric ? "<th class=\"num\">" : "<th>";
    out += HtmlEscape(j < t.columns.size() ? t.columns[j] : "") + "</th>";
  }
  out += "</tr></thead>\n<tbody>\n";
  for (size_t i = 0; i < t.rows.size(); ++i) {
    bool best = static_cast<int>(i) == t.highlight_row;
    AppendRow(out, t.rows[i], columns, best ? "class=\"best\"" : "", best ? "\u2605 " : "");
  }
  out += "</tbody>\n";
  if ((t.aggregate && !t.rows.empty()) || !t.summary_rows.empty()) {
    out += "<tfoot>\n";
    if (t.aggregate && !t.rows.empty()) {
      out += "<tr class=\"aggregate\">";
      for (size_t j = 0; j < columns; ++j) {
        bool numeric = true;
        double sum = 0;
        for (const auto& r : t.rows) {
          numeric &= j < r.size() && IsNumber(r[j]);
          if (numeric) sum += NumberOf(r[j]);
        }
        if (j == 0) {  // the row's label, even over a numeric fold index
          out += "<td>mean \u00b1 std</td>";
          continue;
        }
        if (!numeric) {
          out += "<td></td>";
          continue;
        }
        double n = static_cast<double>(t.rows.size()), mean = sum / n;
        std::string text = FormatSignificant(mean);
        if (t.rows.size() > 1) {
          double ss = 0;
          for (const auto& r : t.rows) ss += (NumberOf(r[j]) - mean) * (NumberOf(r[j]) - mean);
          text += " \u00b1 " + FormatSignificant(std::sqrt(ss / (n - 1)));
        }
        out += "<td class=\"num\">" + HtmlEscape(text) + "</td>";
      }
      out += "</tr>\n";
    }
    for (const auto& r : t.summary_rows) AppendRow(out, r, columns, "class=\"summary\"");
    out += "</tfoot>\n";
  }
  out += "</table></div>\n";
  if (!t.note.empty()) out += "<p class=\"note\">" + HtmlEscape(t.note) + "</p>\n";
}

bool TableEmpty(const ReportTable& t) { return t.rows.empty() && t.summary_rows.empty(); }

constexpr const char* kCss = R"css(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; margin: 0;
  color: #1a1a1a; background: #fafafa; line-height: 1.45; }
main { max-width: 1240px; margin: 0 auto; padding: 24px 28px 48px; }
header h1 { margin: 0 0 4px; font-size: 1.6em; }
.subtitle { margin: 0; color: #444; }
.generated { margin: 4px 0 0; color: #777; font-size: 0.85em; }
section { margin-top: 28px; }
h2 { font-size: 1.15em; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 0; }
dl.facts dt { font-weight: 600; color: #333; }
dl.facts dd { margin: 0; font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
  font-size: 0.9em; overflow-wrap: anywhere; }
ul.notes { background: #fff8e1; border-left: 4px solid #E69F00; padding: 8px 12px 8px 30px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 0.9em; background: #fff; }
th, td { padding: 4px 10px; border-bottom: 1px solid #e5e5e5; text-align: left; white-space: nowrap; }
th { background: #f0f0f0; position: sticky; top: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.best td { background: #e3f1fb; font-weight: 600; }
tfoot td { border-top: 2px solid #999; font-weight: 600; }
.note { color: #555; font-size: 0.85em; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 16px; }
figure { margin: 0; background: #fff; border: 1px solid #e0e0e0; border-radius: 4px; padding: 4px; }
figure svg { display: block; width: 100%; height: auto; }
footer { margin-top: 36px; color: #888; font-size: 0.8em; }
@media print { body { background: #fff; } figure { break-inside: avoid; } }
)css";

void AppendFigures(std::string& out, const std::vector<std::string>& svgs) {
  out += "<div class=\"charts\">\n";
  for (const std::string& s : svgs) out += "<figure>\n" + s + "</figure>\n";
  out += "</div>\n";
}

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        if ((static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) {
          out += "\uFFFD";
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string FormatSignificant(double value) {
  if (std::isnan(value)) return "\u2013";
  if (std::isinf(value)) return value > 0 ? "\u221e" : "\u2212\u221e";
  if (value == 0) return "0";
  char buf[64];
  if (std::abs(value) >= 1e4 && std::abs(value) < 1e15) {
    // Row counts and amounts read better as 123500 than as 1.235e+05.
    double scale = std::pow(10.0, std::floor(std::log10(std::abs(value))) - 3);
    double rounded = std::round(value / scale) * scale;
    auto r = std::to_chars(buf, buf + sizeof(buf), rounded, std::chars_format::fixed, 0);
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::general, 4);
  return std::string(buf, r.ptr);
}

ReportLineChart RocChart(std::vector<ReportSeries> series) {
  ReportLineChart c;
  c.title = "ROC curve";
  c.x_label = "false positive rate";
  c.y_label = "true positive rate (recall)";
  c.series = std::move(series);
  c.x_min = c.y_min = 0;
  c.x_max = c.y_max = 1;
  c.reference = ReportLineChart::Reference::kDiagonal;
  c.reference_name = "chance";
  return c;
}

ReportLineChart PrChart(std::vector<ReportSeries> series, double base_rate) {
  ReportLineChart c;
  c.title = "Precision\u2013recall curve";
  c.x_label = "recall";
  c.y_label = "precision";
  c.series = std::move(series);
  c.x_min = c.y_min = 0;
  c.x_max = c.y_max = 1;
  c.reference = ReportLineChart::Reference::kHorizontal;
  c.reference_y = base_rate;
  c.reference_name = "base rate " + FormatSignificant(base_rate);
  return c;
}

ReportLineChart ReliabilityChart(std::vector<ReportSeries> series) {
  ReportLineChart c;
  c.title = "Reliability (calibration)";
  c.x_label = "mean predicted probability";
  c.y_label = "observed positive rate";
  double hi = 0;
  for (const ReportSeries& s : series) {
    for (const auto& [x, y] : s.points) {
      if (Finite(x)) hi = std::max(hi, x);
      if (Finite(y)) hi = std::max(hi, y);
    }
  }
  hi = hi <= 0 ? 1 : std::min(1.0, std::ceil(hi / NiceStep(hi, 5) - 1e-9) * NiceStep(hi, 5));
  c.series = std::move(series);
  c.x_min = c.y_min = 0;
  c.x_max = c.y_max = hi;
  c.reference = ReportLineChart::Reference::kDiagonal;
  c.reference_name = "perfectly calibrated";
  c.markers = true;
  return c;
}

ReportLineChart MetricByFoldChart(std::string metric, std::vector<std::string> folds,
                                  std::vector<ReportSeries> series) {
  ReportLineChart c;
  c.title = metric + " by fold";
  c.x_label = "fold (test period, oldest first)";
  c.y_label = std::move(metric);
  c.series = std::move(series);
  c.x_categories = std::move(folds);
  c.markers = true;
  return c;
}

ReportHistogram ScoreHistogram(const std::vector<float>& labels, const std::vector<float>& scores, int bins) {
  ReportHistogram h;
  bins = std::max(bins, 1);
  double lo = NAN, hi = NAN;
  for (float s : scores) {
    if (!std::isfinite(s)) continue;
    lo = std::isnan(lo) ? s : std::min<double>(lo, s);
    hi = std::isnan(hi) ? s : std::max<double>(hi, s);
  }
  if (std::isnan(lo) || (lo >= 0 && hi <= 1)) {
    lo = 0, hi = 1;
  } else if (hi == lo) {
    hi = lo + 1;
  }
  for (int i = 0; i <= bins; ++i) h.bin_edges.push_back(lo + (hi - lo) * i / bins);
  h.negative_counts.assign(static_cast<size_t>(bins), 0);
  h.positive_counts.assign(static_cast<size_t>(bins), 0);
  size_t n = std::min(labels.size(), scores.size());
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(scores[i])) continue;
    auto b = static_cast<int64_t>((scores[i] - lo) / (hi - lo) * bins);
    b = std::clamp<int64_t>(b, 0, bins - 1);
    (labels[i] >= 0.5f ? h.positive_counts : h.negative_counts)[static_cast<size_t>(b)] += 1;
  }
  return h;
}

std::string RenderReport(const ReportData& data) {
  std::string out;
  out.reserve(64 * 1024);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"generator\" content=\"gyre\">\n";
  out += "<title>" + HtmlEscape(data.title) + "</title>\n<style>" + kCss + "</style>\n</head>\n<body>\n<main>\n";
  out += "<header>\n<h1>" + HtmlEscape(data.title) + "</h1>\n";
  if (!data.subtitle.empty()) out += "<p class=\"subtitle\">" + HtmlEscape(data.subtitle) + "</p>\n";
  if (!data.generated_at.empty()) out += "<p class=\"generated\">Generated " + HtmlEscape(data.generated_at) + "</p>\n";
  out += "</header>\n";

  if (!data.notes.empty()) {
    out += "<section id=\"notes\">\n<ul class=\"notes\">\n";
    for (const std::string& n : data.notes) out += "<li>" + HtmlEscape(n) + "</li>\n";
    out += "</ul>\n</section>\n";
  }
  if (!data.facts.empty()) {
    out += "<section id=\"summary\">\n<h2>Summary</h2>\n<dl class=\"facts\">\n";
    for (const auto& [k, v] : data.facts) out += "<dt>" + HtmlEscape(k) + "</dt><dd>" + HtmlEscape(v) + "</dd>\n";
    out += "</dl>\n</section>\n";
  }
  if (!TableEmpty(data.folds)) {
    out += "<section id=\"folds\">\n<h2>Backtest folds</h2>\n";
    AppendTable(out, data.folds);
    out += "</section>\n";
  }
  if (!data.fold_charts.empty()) {
    out += "<section id=\"drift\">\n<h2>Metrics by fold</h2>\n";
    std::vector<std::string> svgs;
    for (const auto& c : data.fold_charts) svgs.push_back(RenderLineChart(c));
    AppendFigures(out, svgs);
    out += "</section>\n";
  }
  if (!TableEmpty(data.trials)) {
    out += "<section id=\"trials\">\n<h2>Hyperparameter search</h2>\n";
    AppendTable(out, data.trials);
    out += "</section>\n";
  }
  if (!data.curves.empty()) {
    out += "<section id=\"curves\">\n<h2>Curves</h2>\n";
    std::vector<std::string> svgs;
    for (const auto& c : data.curves) svgs.push_back(RenderLineChart(c));
    AppendFigures(out, svgs);
    out += "</section>\n";
  }
  if (!data.distributions.empty()) {
    out += "<section id=\"distributions\">\n<h2>Score distributions</h2>\n";
    std::vector<std::string> svgs;
    for (const auto& h : data.distributions) svgs.push_back(RenderHistogram(h));
    AppendFigures(out, svgs);
    out += "</section>\n";
  }
  if (!data.importance.empty()) {
    out += "<section id=\"importance\">\n<h2>Feature importance</h2>\n";
    std::vector<std::string> svgs;
    for (const auto& b : data.importance) svgs.push_back(RenderBars(b));
    AppendFigures(out, svgs);
    out += "</section>\n";
  }
  out += "<footer>gyre training report \u00b7 self-contained: no scripts, no network</footer>\n";
  out += "</main>\n</body>\n</html>\n";
  return out;
}

}  // namespace gyre::train
