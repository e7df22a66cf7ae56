#include "features/row_values.h"

#include <charconv>
#include <thread>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gyre::features {

ExprValue ColumnValue(const Column& column, int64_t row) {
  if (column.IsNull(row)) return ExprValue::Null();
  switch (column.type()) {
    case ColumnType::kInt64:
      return ExprValue::Number(static_cast<double>(column.Int64(row)));
    case ColumnType::kFloat64:
      return ExprValue::Number(column.Float64(row));
    case ColumnType::kBool:
      return ExprValue::Bool(column.Bool(row));
    case ColumnType::kString:
      return ExprValue::String(column.String(row));
    case ColumnType::kTimestamp:
      return ExprValue::Timestamp(column.Timestamp(row));
  }
  return ExprValue::Null();
}

Table TakeRows(const Table& table, std::span<const int64_t> rows) {
  std::vector<Column> columns;
  for (int c = 0; c < table.num_columns(); ++c) {
    Column column(table.column(c).type());
    column.Reserve(static_cast<int64_t>(rows.size()));
    for (int64_t r : rows) column.AppendFrom(table.column(c), r);
    columns.push_back(std::move(column));
  }
  return *Table::Make(table.schema(), std::move(columns));
}

void RowValues::Fill(int64_t row, std::span<ExprValue> out) const {
  for (int c : columns_) out[c] = ColumnValue(table_->column(c), row);
}

namespace {

// The hash of one key part, from its text, seeded with the parts before it.
uint64_t HashPart(std::string_view text, uint64_t seed) { return XXH3_64bits_withSeed(text.data(), text.size(), seed); }

uint64_t NotNull(uint64_t h) { return h == KeyHasher::kNullKey ? 1 : h; }

}  // namespace

std::vector<uint64_t> KeyHasher::HashRows(const Table& table, const std::vector<int>& columns, int threads) {
  int64_t rows = table.num_rows();
  std::vector<uint64_t> out(static_cast<size_t>(rows), 0);
  auto work = [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      uint64_t h = 0x6a09e667f3bcc908ULL;
      bool null = false;
      for (int c : columns) {
        const Column& col = table.column(c);
        if (col.IsNull(r)) {
          null = true;
          break;
        }
        if (col.type() == ColumnType::kString) {
          h = HashPart(col.String(r), h);
        } else if (col.type() == ColumnType::kInt64) {
          char buffer[24];
          auto res = std::to_chars(buffer, buffer + sizeof buffer, col.Int64(r));
          h = HashPart(std::string_view(buffer, static_cast<size_t>(res.ptr - buffer)), h);
        } else {
          h = HashPart(col.ValueToString(r), h);
        }
      }
      out[static_cast<size_t>(r)] = null ? kNullKey : NotNull(h);
    }
  };
  threads = std::max(1, std::min<int>(threads, static_cast<int>(rows / 65536) + 1));
  std::vector<std::thread> pool;
  int64_t chunk = (rows + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, std::min(rows, t * chunk), std::min(rows, (t + 1) * chunk));
  work(0, std::min(rows, chunk));
  for (auto& th : pool) th.join();
  return out;
}

uint64_t KeyHasher::HashTexts(std::span<const std::string_view> values) {
  uint64_t h = 0x6a09e667f3bcc908ULL;
  for (std::string_view v : values) h = HashPart(v, h);
  return NotNull(h);
}

ExprValue FeatureExprValue(const FeatureValue& value, ExprType type) {
  if (value.null) return ExprValue::Null();
  switch (type) {
    case ExprType::kBool:
      return ExprValue::Bool(value.number != 0);
    case ExprType::kString:
      return ExprValue::String(value.text);
    case ExprType::kTimestamp:
      return ExprValue::Timestamp(static_cast<int64_t>(value.number));
    case ExprType::kNumber:
      break;
  }
  return ExprValue::Number(value.number);
}

FeatureValue FromExprValue(const ExprValue& v) {
  FeatureValue out;
  if (v.is_null()) return out;
  out.null = false;
  switch (v.kind) {
    case ExprValue::Kind::kBool:
      out.number = v.boolean ? 1.0 : 0.0;
      break;
    case ExprValue::Kind::kTimestamp:
      out.number = static_cast<double>(v.timestamp);
      break;
    case ExprValue::Kind::kString:
      out.text.assign(v.string);
      break;
    default:
      out.number = v.number;
  }
  return out;
}

}  // namespace gyre::features
