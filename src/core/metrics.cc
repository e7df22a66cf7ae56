#include "core/metrics.h"

#include <fmt/format.h>

#include <cassert>
#include <cmath>

namespace gyre {

void LatencyHistogram::Observe(int64_t micros) {
  if (micros < 0) micros = 0;
  size_t bucket = 0;
  while (bucket < kBoundsMicros.size() && micros > kBoundsMicros[bucket]) ++bucket;
  counts_[bucket].fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(micros, std::memory_order_relaxed);
}

HistogramSnapshot LatencyHistogram::Snapshot() const {
  HistogramSnapshot s;
  uint64_t running = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    s.cumulative.push_back(running);
    if (i < kBoundsMicros.size()) s.upper_bounds.push_back(static_cast<double>(kBoundsMicros[i]) / 1e6);
  }
  s.sum = static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
  return s;
}

namespace {

bool NameChar(char c, bool first, bool colon) {
  bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return letter || (!first && c >= '0' && c <= '9');
}

void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

bool MetricsText::ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, true)) return false;
  }
  return true;
}

bool MetricsText::ValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, false)) return false;
  }
  return true;
}

std::string MetricsText::FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return fmt::format("{}", static_cast<int64_t>(value));
  }
  return fmt::format("{}", value);
}

MetricsText::Family* MetricsText::FamilyFor(std::string_view name, std::string_view type, std::string_view help) {
  bool valid = ValidMetricName(name) && (type != "counter" || name.ends_with("_total"));
  assert(valid && "metric name");
  if (!valid) return nullptr;
  auto [it, added] = index_.try_emplace(std::string(name), families_.size());
  if (added) {
    families_.push_back(Family{std::string(name), std::string(type), std::string(help), {}});
    return &families_.back();
  }
  Family& family = families_[it->second];
  assert(family.type == type && "one metric name, two types");
  return family.type == type ? &family : nullptr;
}

bool MetricsText::AppendSample(std::string& out, std::string_view name, const Labels& labels,
                               std::string_view extra_label, std::string_view extra_value, double value) {
  std::string line(name);
  if (!labels.empty() || !extra_label.empty()) {
    line += '{';
    bool first = true;
    auto add = [&](std::string_view label, std::string_view label_value) {
      if (!ValidLabelName(label)) return false;
      if (!first) line += ',';
      first = false;
      line += label;
      line += "=\"";
      AppendEscaped(line, label_value, true);
      line += '"';
      return true;
    };
    for (const auto& [label, label_value] : labels) {
      bool ok = add(label, label_value);
      assert(ok && "label name");
      if (!ok) return false;
    }
    if (!extra_label.empty()) add(extra_label, extra_value);
    line += '}';
  }
  line += ' ';
  line += FormatValue(value);
  line += '\n';
  out += line;
  return true;
}

void MetricsText::Counter(std::string_view name, std::string_view help, const Labels& labels, double value) {
  if (Family* f = FamilyFor(name, "counter", help)) AppendSample(f->samples, name, labels, {}, {}, value);
}

void MetricsText::Gauge(std::string_view name, std::string_view help, const Labels& labels, double value) {
  if (Family* f = FamilyFor(name, "gauge", help)) AppendSample(f->samples, name, labels, {}, {}, value);
}

void MetricsText::Histogram(std::string_view name, std::string_view help, const Labels& labels,
                            const HistogramSnapshot& h) {
  Family* f = FamilyFor(name, "histogram", help);
  if (f == nullptr) return;
  bool le_free = true;
  for (const auto& label : labels) le_free = le_free && label.first != "le";
  assert(le_free && "a histogram's own labels cannot include le");
  if (!le_free || h.cumulative.size() != h.upper_bounds.size() + 1) return;
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < h.upper_bounds.size(); ++i) {
    if (!AppendSample(f->samples, bucket, labels, "le", FormatValue(h.upper_bounds[i]),
                      static_cast<double>(h.cumulative[i]))) {
      return;
    }
  }
  AppendSample(f->samples, bucket, labels, "le", "+Inf", static_cast<double>(h.count()));
  AppendSample(f->samples, std::string(name) + "_sum", labels, {}, {}, h.sum);
  AppendSample(f->samples, std::string(name) + "_count", labels, {}, {}, static_cast<double>(h.count()));
}

std::string MetricsText::Render() const {
  std::string out;
  for (const Family& f : families_) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    AppendEscaped(out, f.help, false);
    out += "\n# TYPE ";
    out += f.name;
    out += ' ';
    out += f.type;
    out += '\n';
    out += f.samples;
  }
  return out;
}

}  // namespace gyre
