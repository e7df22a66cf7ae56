// Table: gyre's columnar in-memory data, the shape every batch stage (features, training, scoring,
// profiling) reads.
//
// A Table is an ordered list of named, typed Columns of equal length. Column types:
//   int64      int64_t values
//   float64    double values
//   bool       one byte per row, 0 or 1
//   string     dictionary-encoded: one int32 code per row into the column's StringDictionary
//   timestamp  int64_t microseconds since the Unix epoch, UTC (core/time.h)
// Every column can hold nulls. Validity is one byte per row (1 = value, 0 = null) and is only
// materialised once the first null is appended, so validity() is nullptr for columns without nulls and
// hot loops can skip the check. The value stored in a null slot is 0 / 0.0 / false, and code -1 for strings.
//
// Hot loops should read the raw arrays (int64_values(), float64_values(), bool_values(), string_codes())
// rather than the per-row accessors; the arrays are contiguous and stay put while the Column is not
// modified.
//
// Building: append to Columns (or a TableBuilder) and then make a Table. A built Table is immutable and
// shares its columns between copies, so copying a Table or selecting columns is cheap; concurrent reads
// from many threads are safe. A Column under construction is not thread-safe.
//
// Typed accessors assert (in debug builds) that the column has the type asked for; calling one on the
// wrong type is a bug, not a runtime error. Lookups by name return NotFound naming the column and the
// columns there are.
#pragma once

#include <atomic>
#include <cassert>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/string_dictionary.h"
#include "core/time.h"

namespace gyre {

enum class ColumnType : uint8_t { kInt64, kFloat64, kBool, kString, kTimestamp };

// "int64", "float64", "bool", "string", "timestamp".
std::string_view ColumnTypeName(ColumnType type);
// Parses the names above (also "int", "float", "double", "boolean", "str"); errors list the valid names.
Result<ColumnType> ParseColumnType(std::string_view name);

struct ColumnSchema {
  std::string name;
  ColumnType type;
  bool operator==(const ColumnSchema&) const = default;
};

// Ordered (name, type) pairs. Names are unique within a Table's schema. Immutable, so copies share one list:
// every one-row table a server builds per request copies its source's schema, and comparing two copies of
// one schema is a pointer comparison.
class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<ColumnSchema> columns) : shared_(std::make_shared<const Shared>(std::move(columns))) {}

  int size() const { return static_cast<int>(columns().size()); }
  const ColumnSchema& column(int i) const { return shared_->columns[i]; }
  const std::vector<ColumnSchema>& columns() const { return shared_ != nullptr ? shared_->columns : kNoColumns; }

  // Index of the column called `name`, or -1.
  int IndexOf(std::string_view name) const;
  // Index of `name`, or NotFound: "no column 'x' (columns: a, b, c)".
  Result<int> Find(std::string_view name) const;
  // "a, b, c": for messages.
  std::string NameList() const;
  // "a:int64, b:string": for messages and tests.
  std::string ToString() const;

  // InvalidArgument naming the first name that appears twice. Remembered once it passed, for every copy.
  Status CheckUniqueNames() const;

  bool operator==(const Schema& other) const { return shared_ == other.shared_ || columns() == other.columns(); }

 private:
  struct Shared {
    explicit Shared(std::vector<ColumnSchema> c) : columns(std::move(c)) {}
    std::vector<ColumnSchema> columns;
    mutable std::atomic<bool> unique_names{false};  // CheckUniqueNames passed
  };
  static const std::vector<ColumnSchema> kNoColumns;
  std::shared_ptr<const Shared> shared_;
};

class Column {
 public:
  explicit Column(ColumnType type) : type_(type) {}

  ColumnType type() const { return type_; }
  int64_t size() const { return size_; }
  int64_t null_count() const { return null_count_; }

  bool IsNull(int64_t row) const { return null_count_ != 0 && validity_[row] == 0; }
  bool IsValid(int64_t row) const { return !IsNull(row); }
  // One byte per row, 1 = value present; nullptr when the column has no nulls.
  const uint8_t* validity() const { return null_count_ != 0 ? validity_.data() : nullptr; }

  // ---- Building. Appending a value of the wrong type asserts.
  void Reserve(int64_t rows);
  void AppendInt64(int64_t v) {
    assert(type_ == ColumnType::kInt64);
    i64_.push_back(v);
    AppendValidity();
  }
  void AppendTimestamp(TimestampMicros v) {
    assert(type_ == ColumnType::kTimestamp);
    i64_.push_back(v);
    AppendValidity();
  }
  void AppendFloat64(double v) {
    assert(type_ == ColumnType::kFloat64);
    f64_.push_back(v);
    AppendValidity();
  }
  void AppendBool(bool v) {
    assert(type_ == ColumnType::kBool);
    bool_.push_back(v ? 1 : 0);
    AppendValidity();
  }
  void AppendString(std::string_view v) { AppendString(v, StringDictionary::Hash(v)); }
  // `hash` must be StringDictionary::Hash(v): for callers that hashed (and prefetched) ahead.
  void AppendString(std::string_view v, uint64_t hash) {
    assert(type_ == ColumnType::kString);
    codes_.push_back(dictionary_.Insert(v, hash));
    AppendValidity();
  }
  // Appends a code of this column's dictionary (0 <= code < dictionary().size()).
  void AppendCode(int32_t code) {
    assert(type_ == ColumnType::kString && code >= 0 && code < dictionary_.size());
    codes_.push_back(code);
    AppendValidity();
  }
  void AppendNull();
  // A float64 column that takes over `values`, where NaN marks null (gyre's computed columns never hold NaN
  // values): null slots are set to 0 and validity is built only if there is a null. No copy of the values.
  static Column Float64FromNanNulls(std::vector<double> values);
  // Appends row `row` of `other`, which must have the same type (strings are re-encoded).
  void AppendFrom(const Column& other, int64_t row);
  // Removes the last row. Dictionary entries stay, so a string appended only by removed rows remains in
  // dictionary(); users needing "values present" count codes (as the profiler does).
  void PopBack();
  // Keeps the first `rows` rows (no-op if the column is shorter); dictionary entries stay, as for PopBack().
  void Truncate(int64_t rows);
  // Dictionary access while building, e.g. to intern values once and AppendCode() them many times.
  StringDictionary& mutable_dictionary() { return dictionary_; }

  // ---- Reading: contiguous arrays, one entry per row.
  std::span<const int64_t> int64_values() const {  // int64 and timestamp columns
    assert(type_ == ColumnType::kInt64 || type_ == ColumnType::kTimestamp);
    return i64_;
  }
  std::span<const double> float64_values() const {
    assert(type_ == ColumnType::kFloat64);
    return f64_;
  }
  std::span<const uint8_t> bool_values() const {  // 0 or 1
    assert(type_ == ColumnType::kBool);
    return bool_;
  }
  std::span<const int32_t> string_codes() const {  // -1 for null
    assert(type_ == ColumnType::kString);
    return codes_;
  }
  const StringDictionary& dictionary() const {
    assert(type_ == ColumnType::kString);
    return dictionary_;
  }

  // ---- Reading one row (slower; for tests, tools and small tables). Null rows read as 0 / false / "".
  int64_t Int64(int64_t row) const { return int64_values()[row]; }
  TimestampMicros Timestamp(int64_t row) const { return int64_values()[row]; }
  double Float64(int64_t row) const { return float64_values()[row]; }
  bool Bool(int64_t row) const { return bool_values()[row] != 0; }
  std::string_view String(int64_t row) const {
    int32_t code = string_codes()[row];
    return code < 0 ? std::string_view() : dictionary_.Get(code);
  }
  // The value as text: integers, shortest round-trip doubles, true/false, RFC 3339 timestamps, the string
  // itself; "" for null. Meant for messages and display.
  std::string ValueToString(int64_t row) const;

  // Rows [offset, offset + length) as a new column, clamped to the column's size.
  Column Slice(int64_t offset, int64_t length) const;

  // Same type, same nulls and same values (strings compared as strings, not codes; NaN equals NaN).
  bool Equals(const Column& other) const;

 private:
  void AppendValidity() {
    if (!validity_.empty()) validity_.push_back(1);
    ++size_;
  }

  ColumnType type_;
  int64_t size_ = 0;
  int64_t null_count_ = 0;
  std::vector<uint8_t> validity_;  // empty until the first null
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
  std::vector<uint8_t> bool_;
  std::vector<int32_t> codes_;
  StringDictionary dictionary_;
};

class Table {
 public:
  Table() = default;  // no columns, no rows

  // Checks that names are unique, the column types match the schema and all columns have equal length.
  static Result<Table> Make(Schema schema, std::vector<Column> columns);
  // Tables of at most this many rows hold their columns in one allocation (see Make).
  static constexpr int64_t kSharedBlockRows = 16;

  const Schema& schema() const { return schema_; }
  int num_columns() const { return schema_.size(); }
  int64_t num_rows() const { return num_rows_; }

  const Column& column(int i) const { return *columns_[i]; }
  const std::string& column_name(int i) const { return schema_.column(i).name; }
  // The column called `name`; NotFound names it and lists the columns there are. The pointer lives as
  // long as any Table sharing the column.
  Result<const Column*> ColumnByName(std::string_view name) const;

  // A table of the named columns in the given order (shared, not copied); NotFound for a missing name.
  Result<Table> SelectColumns(const std::vector<std::string>& names) const;
  // Rows [offset, offset + length), clamped; copies the data.
  Table Slice(int64_t offset, int64_t length) const;

  // Same schema and equal columns.
  bool Equals(const Table& other) const;

 private:
  Schema schema_;
  std::vector<std::shared_ptr<const Column>> columns_;
  int64_t num_rows_ = 0;
};

// TableBuilder: a schema plus one Column per entry, filled row by row or column by column, then Finish().
// Not thread-safe.
class TableBuilder {
 public:
  explicit TableBuilder(Schema schema);

  Column& column(int i) { return columns_[i]; }
  // Checks equal lengths (and unique names); the builder is left empty.
  Result<Table> Finish();

 private:
  Schema schema_;
  std::vector<Column> columns_;
};

}  // namespace gyre
