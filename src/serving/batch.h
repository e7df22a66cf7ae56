// Batch scoring (`gyre score`): a table of feature rows — a CSV with the model's feature columns (e.g. a
// backfill output), or the point-in-time features of a source's events in a time range — scored by one model
// version on every core, with the decision bands' action per row.
//
// The features are read by name (any column order; extra columns are carried only when asked for), converted
// to float32 as training saw them, and scored in blocks by `threads` threads. The result does not depend on
// the thread count. Errors name the file and the missing or non-numeric column.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "features/definitions.h"
#include "serving/servable.h"

namespace gyre::serving {

struct BatchOptions {
  std::vector<std::string> keep_columns;  // copied to the output before score and action (e.g. event_id, time)
  int threads = 0;                        // 0: the machine's cores
  models::DecisionPolicy decision;        // the bands (usually the package's)
};

struct BatchStats {
  int64_t rows = 0;
  double prepare_seconds = 0;  // columns → float32 row-major matrix
  double score_seconds = 0;    // the model alone
  std::map<std::string, int64_t> actions;
};

// `table` holds the model's features as columns; returns keep_columns + score + action.
Result<Table> ScoreTable(const Servable& model, const Table& table, const BatchOptions& options,
                         BatchStats* stats = nullptr);

// The float32 row-major matrix of `table`'s columns named `features` (NaN for nulls), built by `threads`.
Result<std::vector<float>> FeatureMatrix(const Table& table, const std::vector<std::string>& features, int threads,
                                         const std::string& what);

}  // namespace gyre::serving
