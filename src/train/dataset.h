// TrainingData: a feature set's point-in-time rows, in time order, as the float32 matrix models train on,
// with every row's label history — its final label and when that label became known — so a backtest can
// ask "what did we know at the cutoff?" for any fold.
//
// Built from the feature store's backfill (or from an existing backfill output file) and the feature set's
// label file. Checks before anything is trained: the label file's key, label and labeled_at columns exist;
// labels are numbers 0/1; the time range holds rows; the label is not constant; every feature is numeric.
// Each error names the file and the column.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "features/definitions.h"
#include "train/experiment.h"

namespace gyre::train {

inline constexpr TimestampMicros kNeverLabeled = std::numeric_limits<TimestampMicros>::max();

struct TrainingData {
  std::vector<std::string> feature_names;
  int64_t rows = 0;
  std::vector<float> x;                 // row-major rows × features, NaN = missing
  std::vector<TimestampMicros> time;    // ascending
  std::vector<float> final_label;       // the label file's value, or the default for unlabeled rows
  std::vector<TimestampMicros> labeled_at;  // kNeverLabeled for rows without a label in the file
  std::vector<std::string> keys;        // the label key per row (event id), for prediction files
  float default_label = 0;
  bool has_default = true;
  std::string fingerprint;  // xxh64 over the feature names, matrix, times and labels: same data, same value
  std::string source;       // what it was built from, for messages and lineage

  int features() const { return static_cast<int>(feature_names.size()); }
  const float* row(int64_t i) const { return x.data() + i * features(); }

  // The label of row i as known at `cutoff`, or nullopt when the policy drops it.
  // Known: labeled_at ≤ cutoff. Unknown: the default (kDefault) or dropped (kDrop).
  std::optional<float> LabelAsOf(int64_t i, TimestampMicros cutoff, UnlabeledPolicy policy) const;
  // First row with time ≥ t (rows are in time order).
  int64_t LowerBound(TimestampMicros t) const;
};

// Builds the data for `config`: the backfill of config.feature_set over its source's events (or
// config.training_set when given), restricted to [start, end), joined with the set's label file.
Result<TrainingData> LoadTrainingData(const features::FeatureRegistry& registry, const ExperimentConfig& config,
                                      const std::string& workspace_root, int threads);

}  // namespace gyre::train
