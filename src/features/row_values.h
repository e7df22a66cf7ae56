// Helpers shared by the offline backfill and the online store: a table row as expression values, entity key
// hashing, and feature values as expression values.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "core/table.h"
#include "features/expr.h"
#include "features/key_state.h"

namespace gyre::features {

// Fills ExprValues (indexed by column) for the chosen columns of a table's rows. String values point into the
// table's dictionaries, so the table must outlive the values. `columns` is not copied: it must outlive this too
// (it is built once per group or read, and a RowValues is made per request).
class RowValues {
 public:
  RowValues(const Table& table, std::span<const int> columns) : table_(&table), columns_(columns) {}
  void Fill(int64_t row, std::span<ExprValue> out) const;

 private:
  const Table* table_;
  std::span<const int> columns_;
};

// One column value as an ExprValue (null aware).
ExprValue ColumnValue(const Column& column, int64_t row);

// The chosen rows of a table, in the order given.
Table TakeRows(const Table& table, std::span<const int64_t> rows);

// Entity keys hash by their text, so "42" in a string column and 42 in an int64 column are the same key, in
// any table. Null when any key column is null.
class KeyHasher {
 public:
  static constexpr uint64_t kNullKey = 0;
  // Hashes of every row of `table` for the key columns `columns` (in entity order); kNullKey for null keys.
  static std::vector<uint64_t> HashRows(const Table& table, const std::vector<int>& columns, int threads);
  // Hash of one key given as texts (online requests).
  static uint64_t HashTexts(std::span<const std::string_view> values);
};

// A feature value as an ExprValue of the feature's type (derived expressions read them), and back.
ExprValue FeatureExprValue(const FeatureValue& value, ExprType type);
FeatureValue FromExprValue(const ExprValue& value);

}  // namespace gyre::features
