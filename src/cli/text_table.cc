#include "cli/text_table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/time.h"

namespace gyre::cli {
namespace {

// Display width in code points (UTF-8 continuation bytes do not count).
size_t Width(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string Cut(const std::string& s, size_t max) {
  if (Width(s) <= max) return s;
  std::string out;
  size_t width = 0;
  for (char c : s) {
    if ((c & 0xC0) != 0x80 && ++width > max - 1) break;
    out += c;
  }
  return out + "…";
}

bool LooksNumeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

}  // namespace

void TextTable::Print(std::FILE* out) const {
  std::vector<size_t> widths(header_.size());
  std::vector<bool> numeric(header_.size(), true);
  for (size_t c = 0; c < header_.size(); ++c) widths[c] = Width(header_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], std::min(Width(row[c]), max_width_));
      if (!row[c].empty() && !LooksNumeric(row[c])) numeric[c] = false;
    }
  }
  auto line = [&](const std::vector<std::string>& cells, bool is_header) {
    std::string text;
    for (size_t c = 0; c < widths.size(); ++c) {
      std::string cell = c < cells.size() ? Cut(cells[c], max_width_) : "";
      size_t pad = widths[c] - Width(cell);
      bool right = numeric[c] && !is_header;
      if (c > 0) text += "  ";
      text += right ? std::string(pad, ' ') + cell : cell + std::string(c + 1 < widths.size() ? pad : 0, ' ');
    }
    fmt::print(out, "{}\n", text);
  };
  line(header_, true);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  line(rule, true);
  for (const auto& row : rows_) line(row, false);
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (v == std::floor(v) && std::abs(v) < 1e15) return fmt::format("{:.0f}", v);
  return fmt::format("{:.6g}", v);
}

std::string FormatMillis(int64_t ms) {
  if (ms == 0) return "";
  std::string iso = FormatTimestamp(ms * 1000);
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

}  // namespace gyre::cli
