// Walk-forward backtest folds: models are trained on the past and tested on the period that follows, the
// way they will be used, so a fold's score says how a model trained then would have done then — and later
// folds show decay when the data drifts.
//
// Folds tile the end of the range with consecutive test windows; fold k (0 = oldest):
//   test  = [end − (F−k)·test_window, end − (F−k−1)·test_window)
//   train = [start, test.start − gap)                       expanding
//           [test.start − gap − train_window, test.start − gap)   sliding (clipped at start)
// The cutoff — the moment the fold's model would have been trained — is test.start: training rows carry
// their labels as known then (labeled_at ≤ cutoff; the policy decides the rest), and rows younger than
// `maturity` at the cutoff are left out. The gap lets the newest training labels mature before the cutoff.
// Test rows carry their final labels: the truth as eventually known, which is what the model is judged by.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "train/dataset.h"
#include "train/experiment.h"
#include "train/fit.h"

namespace gyre::train {

struct Fold {
  int index = 0;
  TimestampMicros train_start = 0, train_end = 0, test_start = 0, test_end = 0;
  TimestampMicros cutoff() const { return test_start; }
};

// Errors name the fold that cannot fit and the numbers that make it so.
Result<std::vector<Fold>> MakeFolds(const BacktestConfig& config, TimestampMicros start, TimestampMicros end);

// One fold's matrices: the training rows split into fit and validation (the time-latest
// `validation_fraction`, for early stopping), and the test rows with their times and keys.
struct FoldData {
  DenseMatrix fit, validation, test;
  std::vector<TimestampMicros> test_time;
  std::vector<int64_t> test_rows;  // row indexes into the TrainingData
  int64_t dropped_unlabeled = 0;   // training rows left out by the label policy or maturity
};

// Training rows in [train_start, train_end) with labels as of `cutoff`; test rows in [test_start, test_end)
// with final labels. Errors when a part is empty or holds one class only.
Result<FoldData> BuildFoldData(const TrainingData& data, const ExperimentConfig& config, TimestampMicros train_start,
                               TimestampMicros train_end, TimestampMicros cutoff, TimestampMicros test_start,
                               TimestampMicros test_end, const std::string& what);

}  // namespace gyre::train
