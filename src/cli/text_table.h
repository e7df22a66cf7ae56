// TextTable: aligned columns for terminal output (`gyre runs list`, `gyre models versions`, ...).
// Numbers are right-aligned, text left-aligned; cells longer than max_width are cut with "…".
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace gyre::cli {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, size_t max_width = 48)
      : header_(std::move(header)), max_width_(max_width) {}
  void AddRow(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  size_t size() const { return rows_.size(); }
  void Print(std::FILE* out) const;

 private:
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
  size_t max_width_;
};

// Shortest readable form of a metric value: 0.9134, 1.2e-05, 12345.
std::string FormatNumber(double v);
// "2026-01-05 10:31:02" from epoch milliseconds (UTC); "" for 0.
std::string FormatMillis(int64_t ms);

}  // namespace gyre::cli
