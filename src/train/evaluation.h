// The trainer's view of evaluation: one fold's test scores → the metric keys logged to tracking, the cost-
// minimising threshold and the curves the report draws (train/metrics.h computes them); and the training
// report assembled from a finished experiment (train/report.h draws it).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "models/model_package.h"
#include "train/experiment.h"

namespace gyre::train {

struct TrainingData;
struct FoldData;
struct TrainResult;

using Points = std::vector<std::pair<double, double>>;
using MetricList = std::vector<std::pair<std::string, double>>;

// The value of `key` in a metric list; NaN when absent.
double MetricValue(const MetricList& metrics, std::string_view key);

struct FoldEvaluation {
  std::vector<std::pair<std::string, double>> metrics;  // stable keys, see train/metrics.h
  double cost_threshold = 0.5;
  bool cost_flags_nothing = false;  // flagging nothing was cheapest; cost_threshold is then 1
  Points roc, pr, reliability;  // thinned for drawing
};

Result<FoldEvaluation> EvaluateFold(const std::vector<float>& labels, const std::vector<float>& scores,
                                    const std::vector<TimestampMicros>& times, const EvaluationConfig& config);

// The metric key the experiment's `metric` selects (e.g. recall_at_fpr → "recall_at_fpr_0.01").
std::string SelectionKey(const ExperimentConfig& config);

Result<double> RocAucOf(const std::vector<double>& labels, const std::vector<double>& scores);

// The lowest score threshold whose false-positive rate (score ≥ threshold among label 0) is ≤ `fpr`.
double ThresholdAtFpr(const std::vector<float>& labels, const std::vector<float>& scores, double fpr);

// The decision bands of a model scoring probabilities, from the most recent fold's test labels and scores
// (empty: no backtest) unless the experiment fixes them: challenge at recent.cost_threshold, block at the
// threshold keeping the false-positive rate within decision.block_fpr. A band no probability can reach is set
// to 1 ("off"), every band is kept in [0, 1] and block ≥ challenge; each adjustment adds a sentence to
// *notes saying what happened, why, and which experiment key changes it.
models::DecisionPolicy DecideBands(const std::vector<float>& labels, const std::vector<float>& scores,
                                   const FoldEvaluation& recent, const ExperimentConfig& config,
                                   std::vector<std::string>* notes);

struct ReportInputs {
  const ExperimentConfig* config = nullptr;
  const TrainingData* data = nullptr;
  const TrainResult* result = nullptr;
  const std::vector<FoldData>* folds = nullptr;
  std::vector<const FoldEvaluation*> best_fold_evaluations;
  std::vector<const std::vector<float>*> best_fold_scores;
  std::vector<std::pair<std::string, double>> gain_importance, permutation_importance;
};

std::string RenderTrainingReport(const ReportInputs& inputs);

}  // namespace gyre::train
