// How a table cell becomes a model input: float32 as XGBoost reads it, NaN for a missing value, booleans as
// 0/1. Training (train/dataset.cc), batch scoring (serving/batch.cc) and the scoring protocols
// (api/serving_routes.cc) all convert through this one function, so a model sees the same number everywhere.
#pragma once

#include <cstdint>
#include <limits>

#include "core/table.h"

namespace gyre {

// `column` must be int64, float64 or bool (callers check the type once, before their row loops).
inline float ModelInput(const Column& column, int64_t row) {
  if (column.IsNull(row)) return std::numeric_limits<float>::quiet_NaN();
  switch (column.type()) {
    case ColumnType::kFloat64: return static_cast<float>(column.Float64(row));
    case ColumnType::kInt64: return static_cast<float>(column.Int64(row));
    case ColumnType::kBool: return column.Bool(row) ? 1.0f : 0.0f;
    default: return std::numeric_limits<float>::quiet_NaN();
  }
}

}  // namespace gyre
