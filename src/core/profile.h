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
//   not_numeric     string columns that are numbers but for a few values (at least kMostlyNumericShare of
//                   the non-null values parse as int64 or float64, core/value_parse.h, and at least one does
//                   not): how many do not, the first of them and where. With an inferred schema this is how a
//                   stray 'x12' in an int column shows: the column silently becomes a string, and this is
//                   the only place that says why. ProfileCsv leaves it out for columns declared string.
// Values are carried as ProfileValue: bool, int64 (int64 columns), double (float64), or string (string
// columns, and timestamps as RFC 3339 text).
//
// Cost: one sort of the non-null values per numeric or timestamp column, one counting pass per string or
// bool column; ProfileCsv reads the file once more per not_numeric column to find the example's line. Thread-safety: free functions over const inputs; safe to call concurrently.
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

// A share of numbers at or above which a string column counts as numeric "but for a few values".
inline constexpr double kMostlyNumericShare = 0.95;

struct NotNumeric {
  int64_t count = 0;    // non-null values that are not numbers
  int64_t numbers = 0;  // non-null values that are
  ColumnType number_type = ColumnType::kInt64;  // int64 if every number is an integer, else float64
  std::string example;                          // the first value that is not a number, in row order
  int64_t example_row = 0;                      // its 0-based row in the table
  int64_t example_line = 0;                     // its physical line in the file (ProfileCsv); 0 if unknown
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
  std::optional<NotNumeric> not_numeric;  // string columns only; see the definitions above
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
// For each not_numeric column, re-reads that one column declared as its number type to learn the line of
// the first value that is not a number (the table keeps no line numbers).
Result<TableProfile> ProfileCsv(const std::string& path, const CsvReadOptions& read = {},
                                const ProfileOptions& options = {});

// {"source", "rows", "rejected_rows", "reject_path", "columns": [{"name", "type", "inferred", "count",
// "nulls", "null_rate", "distinct", "min", "max", "min_length", "max_length", "mean", "std",
// "top": [{"value", "count"}], "not_numeric": {"count", "numbers", "number_type", "example", "line"}}],
// "warnings": [text]}, keys in that order. Every key is always present; statistics that do not apply are
// null. Non-finite doubles, which JSON cannot carry, are the strings "nan", "inf", "-inf".
nlohmann::ordered_json ProfileToJson(const TableProfile& profile);

// One line per finding a reader should act on, e.g. "column 'asn': 3 of 120,000 values are not numbers,
// e.g. 'x12' at line 1043, so it was read as string". Empty when there is nothing to say.
std::vector<std::string> ProfileWarnings(const TableProfile& profile);

}  // namespace gyre
