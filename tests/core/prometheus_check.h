// Checks Prometheus text exposition (0.0.4) for the rules `promtool check metrics` does not catch (see
// shared reference, monitoring.md): HELP and TYPE at most once per family and before its samples, a family's
// samples contiguous, no duplicate series, counters ending in _total, and per histogram series cumulative
// buckets in increasing `le` order ending at +Inf equal to _count. Independent of src/core/metrics.* (it
// parses the text), so tests of the writer and of /metrics can use it.
#pragma once

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace gyre::testing {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value_text;
  double value = 0;
};

// Parses `name{a="x",b="y"} value` (label values unescaped); false on a malformed line.
inline bool ParsePromSample(const std::string& line, PromSample* out) {
  size_t i = 0;
  while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
  out->name = line.substr(0, i);
  out->labels.clear();
  if (i < line.size() && line[i] == '{') {
    ++i;
    while (i < line.size() && line[i] != '}') {
      size_t eq = line.find('=', i);
      if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') return false;
      std::string label = line.substr(i, eq - i);
      std::string value;
      size_t j = eq + 2;
      for (; j < line.size() && line[j] != '"'; ++j) {
        if (line[j] == '\\' && j + 1 < line.size()) {
          ++j;
          value += line[j] == 'n' ? '\n' : line[j];
        } else {
          value += line[j];
        }
      }
      if (j >= line.size()) return false;
      if (!out->labels.emplace(label, value).second) return false;
      i = j + 1;
      if (i < line.size() && line[i] == ',') ++i;
    }
    if (i >= line.size()) return false;
    ++i;
  }
  if (i >= line.size() || line[i] != ' ') return false;
  out->value_text = line.substr(i + 1);
  if (out->value_text == "+Inf") {
    out->value = INFINITY;
  } else if (out->value_text == "-Inf") {
    out->value = -INFINITY;
  } else if (out->value_text == "NaN") {
    out->value = NAN;
  } else {
    char* end = nullptr;
    out->value = std::strtod(out->value_text.c_str(), &end);
    if (end == out->value_text.c_str() || *end != '\0') return false;
  }
  return true;
}

// The problems found in `text` (empty when it follows the rules); `samples` receives every sample.
inline std::vector<std::string> CheckPromText(const std::string& text, std::vector<PromSample>* samples = nullptr) {
  std::vector<std::string> problems;
  if (!text.empty() && text.back() != '\n') problems.push_back("the body does not end with a newline");
  std::map<std::string, std::string> types;  // family -> type
  std::set<std::string> helped, sampled, finished_families, series;
  std::string current;  // family whose samples are being read
  auto family_of = [&](const std::string& name) {
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s(suffix);
      if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
        std::string base = name.substr(0, name.size() - s.size());
        if (types.count(base) && types[base] == "histogram") return base;
      }
    }
    return name;
  };
  struct Hist {
    std::vector<std::pair<double, double>> buckets;  // le, count
    double count = -1;
  };
  std::map<std::string, Hist> hists;  // family + labels (without le)
  std::istringstream in(text);
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string where = "line " + std::to_string(number) + ": ";
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, rest;
      words >> name >> rest;
      if (sampled.count(name)) problems.push_back(where + "HELP/TYPE of '" + name + "' after its samples");
      if (line[2] == 'H') {
        if (!helped.insert(name).second) problems.push_back(where + "second HELP for '" + name + "'");
      } else {
        if (types.count(name)) problems.push_back(where + "second TYPE for '" + name + "'");
        types[name] = rest;
        if (rest == "counter" && (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0)) {
          problems.push_back(where + "counter '" + name + "' does not end in _total");
        }
      }
      if (!current.empty() && current != name) finished_families.insert(current);
      current = name;
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    PromSample s;
    if (!ParsePromSample(line, &s)) {
      problems.push_back(where + "malformed sample: " + line);
      continue;
    }
    std::string family = family_of(s.name);
    if (family != current) {
      if (finished_families.count(family)) problems.push_back(where + "samples of '" + family + "' not contiguous");
      if (!current.empty()) finished_families.insert(current);
      current = family;
    }
    sampled.insert(family);
    std::string key = s.name;
    for (const auto& [k, v] : s.labels) key += "|" + k + "=" + v;
    if (!series.insert(key).second) problems.push_back(where + "duplicate series " + key);
    if (types.count(family) && types[family] == "histogram") {
      std::string hist_key = family;
      for (const auto& [k, v] : s.labels) {
        if (k != "le") hist_key += "|" + k + "=" + v;
      }
      Hist& h = hists[hist_key];
      if (s.name == family + "_bucket") {
        if (!s.labels.count("le")) {
          problems.push_back(where + "bucket without le");
          continue;
        }
        const std::string& le = s.labels["le"];
        double bound = le == "+Inf" ? INFINITY : std::strtod(le.c_str(), nullptr);
        if (!h.buckets.empty() && (bound <= h.buckets.back().first || s.value < h.buckets.back().second)) {
          problems.push_back(where + "buckets of " + hist_key + " not increasing or not cumulative");
        }
        h.buckets.emplace_back(bound, s.value);
      } else if (s.name == family + "_count") {
        h.count = s.value;
      }
    }
    if (samples != nullptr) samples->push_back(std::move(s));
  }
  for (const auto& [key, h] : hists) {
    if (h.buckets.empty() || !std::isinf(h.buckets.back().first)) {
      problems.push_back("histogram " + key + " has no +Inf bucket");
    } else if (h.buckets.back().second != h.count) {
      problems.push_back("histogram " + key + ": +Inf bucket differs from _count");
    }
  }
  return problems;
}

}  // namespace gyre::testing
