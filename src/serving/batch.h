// Batch scoring (`gyre score`): a table of feature rows — a CSV with the model's feature columns (e.g. a
// backfill output), or the point-in-time features of a source's events in a time range — scored by one model
// version on every core, with the decision bands' action per row.
//
// The features are read by name (any column order; extra columns are carried only when asked for), converted
// to float32 as training saw them, and scored in blocks by `threads` threads. The result does not depend on
// the thread count. Errors name the file and the missing or non-numeric column.
//
// Output columns: the kept columns, then `score` (one-output models) or `score_0` .. `score_{k-1}` and `class`
// (multiclass probabilities), or `class` (multi:softmax), then `action` when the decision applies (a binary
// model, or a multiclass one with a positive class: scoring.h DecisionFor).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "core/time.h"
#include "features/definitions.h"
#include "serving/scoring.h"
#include "serving/servable.h"

namespace gyre::serving {

struct BatchOptions {
  std::vector<std::string> keep_columns;  // copied to the output before score and action (e.g. event_id, time)
  int threads = 0;                        // 0: the machine's cores
  Decision decision;                      // the output the bands read, and the bands (DecisionFor)
  // When set, every scored row is also appended to this prediction log (JSON lines, prediction_log.h) with
  // path "batch", so monitoring sees batch traffic as it sees online traffic.
  std::string log_path;
  std::string deployment, caller;          // recorded in the log
  std::string event_id_column, time_column;  // the log's event id and event time (optional)
};

struct BatchStats {
  int64_t rows = 0;
  double prepare_seconds = 0;  // columns → float32 row-major matrix
  double score_seconds = 0;    // the model alone
  std::map<std::string, int64_t> actions;
  int64_t logged = 0;
};

// `table` holds the model's features as columns; returns keep_columns + score + action.
Result<Table> ScoreTable(const Servable& model, const Table& table, const BatchOptions& options,
                         BatchStats* stats = nullptr);

// The point-in-time features of `source`'s events whose time is in [start, end) (either end open), computed
// over every earlier event (features::Backfill), with `keep_columns` and the time column carried along.
Result<Table> SourceFeatures(const features::FeatureRegistry& registry, const std::string& source,
                             const std::vector<std::string>& features, std::vector<std::string> keep_columns,
                             std::optional<TimestampMicros> start, std::optional<TimestampMicros> end, int threads);
// The rows of `table` whose `time_column` is in [start, end) (either end open); rows without a time are dropped.
Result<Table> RowsInTimeRange(const Table& table, const std::string& time_column, std::optional<TimestampMicros> start,
                              std::optional<TimestampMicros> end);

// The float32 row-major matrix of `table`'s columns named `features` (NaN for nulls), built by `threads`.
Result<std::vector<float>> FeatureMatrix(const Table& table, const std::vector<std::string>& features, int threads,
                                         const std::string& what);

}  // namespace gyre::serving
