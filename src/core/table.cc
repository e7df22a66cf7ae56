#include "core/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <unordered_set>

namespace gyre {

std::string_view ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kInt64: return "int64";
    case ColumnType::kFloat64: return "float64";
    case ColumnType::kBool: return "bool";
    case ColumnType::kString: return "string";
    case ColumnType::kTimestamp: return "timestamp";
  }
  return "unknown";
}

Result<ColumnType> ParseColumnType(std::string_view name) {
  if (name == "int64" || name == "int") return ColumnType::kInt64;
  if (name == "float64" || name == "float" || name == "double") return ColumnType::kFloat64;
  if (name == "bool" || name == "boolean") return ColumnType::kBool;
  if (name == "string" || name == "str") return ColumnType::kString;
  if (name == "timestamp") return ColumnType::kTimestamp;
  return Status::InvalidArgument(
      fmt::format("unknown column type '{}' (expected int64, float64, bool, string or timestamp)", name));
}

// ---------------------------------------------------------------------------------------------- Schema

const std::vector<ColumnSchema> Schema::kNoColumns;

int Schema::IndexOf(std::string_view name) const {
  for (int i = 0; i < size(); ++i) {
    if (column(i).name == name) return i;
  }
  return -1;
}

Result<int> Schema::Find(std::string_view name) const {
  int i = IndexOf(name);
  if (i < 0) return Status::NotFound(fmt::format("no column '{}' (columns: {})", name, NameList()));
  return i;
}

std::string Schema::NameList() const {
  std::string out;
  for (const auto& c : columns()) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

std::string Schema::ToString() const {
  std::string out;
  for (const auto& c : columns()) {
    if (!out.empty()) out += ", ";
    out += c.name;
    out += ':';
    out += ColumnTypeName(c.type);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- Column

void Column::Reserve(int64_t rows) {
  size_t n = static_cast<size_t>(rows);
  switch (type_) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp: i64_.reserve(n); break;
    case ColumnType::kFloat64: f64_.reserve(n); break;
    case ColumnType::kBool: bool_.reserve(n); break;
    case ColumnType::kString: codes_.reserve(n); break;
  }
  if (!validity_.empty()) validity_.reserve(n);
}

Column Column::Float64FromNanNulls(std::vector<double> values) {
  Column column(ColumnType::kFloat64);
  column.size_ = static_cast<int64_t>(values.size());
  for (size_t r = 0; r < values.size(); ++r) {
    if (!std::isnan(values[r])) continue;
    if (column.validity_.empty()) column.validity_.assign(values.size(), 1);
    column.validity_[r] = 0;
    values[r] = 0.0;
    ++column.null_count_;
  }
  column.f64_ = std::move(values);
  return column;
}

void Column::AppendNull() {
  switch (type_) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp: i64_.push_back(0); break;
    case ColumnType::kFloat64: f64_.push_back(0.0); break;
    case ColumnType::kBool: bool_.push_back(0); break;
    case ColumnType::kString: codes_.push_back(-1); break;
  }
  if (validity_.empty()) {
    // First null: materialise validity for the rows so far. Reserve for the whole column, which the
    // value array already knows, so later appends do not reallocate more often than the values do.
    size_t capacity = std::max<size_t>({i64_.capacity(), f64_.capacity(), bool_.capacity(), codes_.capacity()});
    validity_.reserve(capacity);
    validity_.assign(static_cast<size_t>(size_), 1);
  }
  validity_.push_back(0);
  ++size_;
  ++null_count_;
}

void Column::AppendFrom(const Column& other, int64_t row) {
  assert(other.type_ == type_);
  if (other.IsNull(row)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case ColumnType::kInt64: AppendInt64(other.i64_[row]); break;
    case ColumnType::kTimestamp: AppendTimestamp(other.i64_[row]); break;
    case ColumnType::kFloat64: AppendFloat64(other.f64_[row]); break;
    case ColumnType::kBool: AppendBool(other.bool_[row] != 0); break;
    case ColumnType::kString: AppendString(other.String(row)); break;
  }
}

void Column::PopBack() {
  if (size_ == 0) return;
  switch (type_) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp: i64_.pop_back(); break;
    case ColumnType::kFloat64: f64_.pop_back(); break;
    case ColumnType::kBool: bool_.pop_back(); break;
    case ColumnType::kString: codes_.pop_back(); break;
  }
  if (!validity_.empty()) {
    if (validity_.back() == 0) --null_count_;
    validity_.pop_back();
  }
  --size_;
}

void Column::Truncate(int64_t rows) {
  if (rows < 0 || rows >= size_) return;
  size_t n = static_cast<size_t>(rows);
  switch (type_) {
    case ColumnType::kInt64:
    case ColumnType::kTimestamp: i64_.resize(n); break;
    case ColumnType::kFloat64: f64_.resize(n); break;
    case ColumnType::kBool: bool_.resize(n); break;
    case ColumnType::kString: codes_.resize(n); break;
  }
  if (!validity_.empty()) {
    null_count_ -= std::count(validity_.begin() + rows, validity_.end(), uint8_t{0});
    validity_.resize(n);
  }
  size_ = rows;
}

std::string Column::ValueToString(int64_t row) const {
  if (IsNull(row)) return "";
  switch (type_) {
    case ColumnType::kInt64: return std::to_string(i64_[row]);
    case ColumnType::kTimestamp: return FormatTimestamp(i64_[row]);
    case ColumnType::kFloat64: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, f64_[row]);
      return std::string(buf, r.ptr);
    }
    case ColumnType::kBool: return bool_[row] ? "true" : "false";
    case ColumnType::kString: return std::string(String(row));
  }
  return "";
}

Column Column::Slice(int64_t offset, int64_t length) const {
  offset = std::clamp<int64_t>(offset, 0, size_);
  int64_t end = std::clamp<int64_t>(offset + std::max<int64_t>(length, 0), offset, size_);
  Column out(type_);
  out.Reserve(end - offset);
  for (int64_t r = offset; r < end; ++r) out.AppendFrom(*this, r);
  return out;
}

bool Column::Equals(const Column& other) const {
  if (type_ != other.type_ || size_ != other.size_ || null_count_ != other.null_count_) return false;
  for (int64_t r = 0; r < size_; ++r) {
    bool null = IsNull(r);
    if (null != other.IsNull(r)) return false;
    if (null) continue;
    switch (type_) {
      case ColumnType::kInt64:
      case ColumnType::kTimestamp:
        if (i64_[r] != other.i64_[r]) return false;
        break;
      case ColumnType::kFloat64: {
        double a = f64_[r], b = other.f64_[r];
        if (!(a == b || (std::isnan(a) && std::isnan(b)))) return false;
        break;
      }
      case ColumnType::kBool:
        if (bool_[r] != other.bool_[r]) return false;
        break;
      case ColumnType::kString:
        if (String(r) != other.String(r)) return false;
        break;
    }
  }
  return true;
}

// ----------------------------------------------------------------------------------------------- Table

Status Schema::CheckUniqueNames() const {
  if (shared_ == nullptr || shared_->unique_names.load(std::memory_order_relaxed)) return Status::OK();
  auto duplicate = [&](std::string_view name) {
    return Status::InvalidArgument(fmt::format("duplicate column name '{}' (columns: {})", name, NameList()));
  };
  // Small schemas are checked on the stack: sorted names, neighbours compared.
  constexpr size_t kSmall = 64;
  if (columns().size() <= kSmall) {
    std::array<std::string_view, kSmall> names;
    size_t n = 0;
    for (const auto& c : columns()) names[n++] = c.name;
    std::sort(names.begin(), names.begin() + static_cast<std::ptrdiff_t>(n));
    for (size_t i = 1; i < n; ++i) {
      if (names[i] == names[i - 1]) return duplicate(names[i]);
    }
  } else {
    std::unordered_set<std::string_view> seen;
    for (const auto& c : columns()) {
      if (!seen.insert(c.name).second) return duplicate(c.name);
    }
  }
  shared_->unique_names.store(true, std::memory_order_relaxed);
  return Status::OK();
}

Result<Table> Table::Make(Schema schema, std::vector<Column> columns) {
  if (static_cast<int>(columns.size()) != schema.size()) {
    return Status::InvalidArgument(
        fmt::format("schema has {} columns but {} were given", schema.size(), columns.size()));
  }
  GYRE_RETURN_IF_ERROR(schema.CheckUniqueNames());
  Table table;
  table.num_rows_ = columns.empty() ? 0 : columns[0].size();
  table.columns_.reserve(columns.size());
  for (int i = 0; i < schema.size(); ++i) {
    const ColumnSchema& cs = schema.column(i);
    if (columns[i].type() != cs.type) {
      return Status::InvalidArgument(fmt::format("column '{}' is declared {} but holds {}", cs.name,
                                                 ColumnTypeName(cs.type), ColumnTypeName(columns[i].type())));
    }
    if (columns[i].size() != table.num_rows_) {
      return Status::InvalidArgument(fmt::format("column '{}' has {} rows but column '{}' has {}", cs.name,
                                                 columns[i].size(), schema.column(0).name, table.num_rows_));
    }
  }
  if (table.num_rows_ <= kSharedBlockRows) {
    // Small tables (a scored event is one row) keep their columns in one block: one allocation instead of one
    // per column. Any column shared out keeps the whole block alive, which for so few rows costs little.
    auto block = std::make_shared<const std::vector<Column>>(std::move(columns));
    for (const Column& column : *block) table.columns_.emplace_back(block, &column);
  } else {
    for (Column& column : columns) table.columns_.push_back(std::make_shared<const Column>(std::move(column)));
  }
  table.schema_ = std::move(schema);
  return table;
}

Result<const Column*> Table::ColumnByName(std::string_view name) const {
  GYRE_ASSIGN_OR_RETURN(int i, schema_.Find(name));
  return columns_[i].get();
}

Result<Table> Table::SelectColumns(const std::vector<std::string>& names) const {
  Table out;
  std::vector<ColumnSchema> schema;
  for (const auto& name : names) {
    GYRE_ASSIGN_OR_RETURN(int i, schema_.Find(name));
    schema.push_back(schema_.column(i));
    out.columns_.push_back(columns_[i]);
  }
  out.schema_ = Schema(std::move(schema));
  GYRE_RETURN_IF_ERROR(out.schema_.CheckUniqueNames());
  out.num_rows_ = names.empty() ? 0 : num_rows_;
  return out;
}

Table Table::Slice(int64_t offset, int64_t length) const {
  Table out;
  out.schema_ = schema_;
  for (const auto& c : columns_) out.columns_.push_back(std::make_shared<const Column>(c->Slice(offset, length)));
  out.num_rows_ = out.columns_.empty() ? 0 : out.columns_[0]->size();
  return out;
}

bool Table::Equals(const Table& other) const {
  if (schema_ != other.schema_ || num_rows_ != other.num_rows_) return false;
  for (int i = 0; i < num_columns(); ++i) {
    if (!columns_[i]->Equals(*other.columns_[i])) return false;
  }
  return true;
}

// -------------------------------------------------------------------------------------------- Builder

TableBuilder::TableBuilder(Schema schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_.columns().size());
  for (const auto& c : schema_.columns()) columns_.emplace_back(c.type);
}

Result<Table> TableBuilder::Finish() {
  Result<Table> table = Table::Make(std::move(schema_), std::move(columns_));
  schema_ = Schema();
  columns_.clear();
  return table;
}

}  // namespace gyre
