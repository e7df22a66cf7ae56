// Profile: the analyst's first look at a data source. For each column of a Table (or a CSV file read into
// one): its type, how many values are missing, how many distinct values there are, the range, the most
// frequent values and, for numbers, mean and standard deviation.
//
// Definitions (every statistic is exact; nothing is sampled):
//   count / nulls   non-null and null rows; null_rate = nulls / rows (0 for an empty table).
//   distinct        number of distinct non-null values. float64: values compare with ==, so -0 and 0 are one
//                   value; all NaNs together are one value.
//   min / max       int64, float64: numeric (NaN excluded). timestamp: earliest / latest, as RFC 3339 UTC
//                   text. bool: false < true. string: lexicographic by bytes (so "B" < "a"), with the
//                   shortest and longest lengths in bytes reported separately as min_length / max_length.
//   mean / stddev   int64 and float64 only (NaN excluded); stddev is the sample standard deviation (n - 1
//                   in the denominator), absent with fewer than two values.
//   top             up to top_k most frequent non-null values, by count descending, ties by value ascending.
// Values are carried as ProfileValue: bool, int64 (int64 columns), double (float64), or string (string
// columns, and timestamps as RFC 3339 text).
//
// Cost: one sort of the non-null values per numeric or timestamp column, one counting pass per string or
// bool column. Thread-safety: free functions over const inputs; safe to call concurrently.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/csv_reader.h"
#include "core/status.h"
#include "core/table.h"

namespace gyre {

using ProfileValue = std::variant<std::monostate, bool, int64_t, double, std::string>;

// "" for monostate, true/false, integers, shortest round-trip doubles ("nan", "inf"), the string itself.
std::string ProfileValueToString(const ProfileValue& value);

struct ValueCount {
  ProfileValue value;
  int64_t count = 0;
  bool operator==(const ValueCount&) const = default;
};

struct ColumnProfile {
  std::string name;
  ColumnType type = ColumnType::kString;
  bool inferred = false;  // type inferred from the data (CSV) rather than declared
  int64_t count = 0;
  int64_t nulls = 0;
  double null_rate = 0;
  int64_t distinct = 0;
  ProfileValue min, max;  // monostate when there is no (non-NaN) value
  std::optional<int64_t> min_length, max_length;  // string columns with values
  std::optional<double> mean, stddev;             // int64 / float64 columns
  std::vector<ValueCount> top;
};

struct TableProfile {
  std::string source;  // file name, or what the caller says
  int64_t rows = 0;
  int64_t rejected_rows = 0;  // CSV records sent to the reject file
  std::string reject_path;    // empty if none
  std::vector<ColumnProfile> columns;
};

struct ProfileOptions {
  int top_k = 5;  // how many most frequent values to keep per column
};

ColumnProfile ProfileColumn(const Column& column, std::string name, const ProfileOptions& options = {});
TableProfile ProfileTable(const Table& table, const ProfileOptions& options = {});

// Reads `path` with `read` (inferred schema unless it declares one) and profiles it. Errors are ReadCsv's.
Result<TableProfile> ProfileCsv(const std::string& path, const CsvReadOptions& read = {},
                                const ProfileOptions& options = {});

// {"source", "rows", "rejected_rows", "reject_path", "columns": [{"name", "type", "inferred", "count",
// "nulls", "null_rate", "distinct", "min", "max", "min_length", "max_length", "mean", "std",
// "top": [{"value", "count"}]}]}, keys in that order. Every key is always present; statistics that do not
// apply are null. Non-finite doubles, which JSON cannot carry, are the strings "nan", "inf", "-inf".
nlohmann::ordered_json ProfileToJson(const TableProfile& profile);

}  // namespace gyre
