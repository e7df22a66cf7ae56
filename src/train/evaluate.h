// Evaluate: every metric of train/metrics.h for one set of scored rows, from one sort, into one struct that
// the train module logs as run metrics and `gyre evaluate` prints. EvaluateFile does the same for a scored
// CSV file (any model's predictions).
//
// Metric keys (Evaluation::Metrics). They are logged to tracking as run metrics, so they are stable: add new
// keys, never rename. <fpr> and <k> are EvaluateOptions::fpr and ::k in shortest form ("0.01", "100").
//   rows, positives, positive_rate
//   roc_auc, average_precision, ks
//   log_loss, brier, ece                          only when every score is in [0, 1]
//   recall_at_fpr_<fpr>, threshold_at_fpr_<fpr>   (see RecallAtFpr)
//   precision_at_<k>_per_day                      only with times: mean over UTC days
//   precision_at_threshold, recall_at_threshold, fpr_at_threshold, f1_at_threshold   (score >= threshold)
//   cost_threshold, cost_total, cost_per_event    the cost-minimising threshold (see CostThreshold)
//
// Errors: those of train/metrics.h (InvalidArgument naming the row), including a single class ("ROC AUC needs
// both classes: all 1234 labels are 0"). Scores outside [0, 1] are not an error here: the probability metrics
// are left out and Evaluation::probability_scores is false. Thread-safe: no shared state.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "train/metrics.h"

namespace gyre::train {

struct EvaluateOptions {
  double fpr = 0.01;                 // recall at this false-positive rate
  int64_t k = 100;                   // alerts per day for precision@k
  double threshold = 0.5;            // the confusion matrix's threshold
  double cost_false_negative = 100;  // a missed takeover
  double cost_false_positive = 1;    // a challenged customer
  int bins = 10;                     // calibration bins
  size_t curve_points = 200;         // ROC / PR curves are thinned to this many points for drawing
};

struct Evaluation {
  EvaluateOptions options;
  int64_t rows = 0, positives = 0;
  double roc_auc = 0, average_precision = 0, ks = 0;
  bool probability_scores = false;  // every score in [0, 1]: the next three are set
  std::optional<double> log_loss, brier;
  std::optional<CalibrationResult> calibration;
  RecallAtFprResult recall_at_fpr;
  std::optional<PrecisionAtKResult> precision_at_k;  // set when times were given
  ConfusionMatrix at_threshold;
  CostThresholdResult cost;
  std::vector<std::pair<double, double>> roc;  // (fpr, tpr), thinned
  std::vector<std::pair<double, double>> pr;   // (recall, precision), thinned

  // The flat, stable key → value list described above, in that order.
  std::vector<std::pair<std::string, double>> Metrics() const;
  // Everything: {"rows", ..., "metrics": {key: value}, "options": {...}, "recall_at_fpr": {...},
  // "precision_at_k": {"k", "mean", "days": [{"day": "2026-01-05", "rows", "alerts", "true_positives",
  // "precision"}]}, "calibration": {"bins", "ece", "curve": [...]}, "confusion": {...}, "cost": {...},
  // "roc": [[fpr, tpr]...], "pr": [[recall, precision]...]}.
  nlohmann::json ToJson() const;
};

// `times` may be empty (no per-day precision); otherwise one per row (µs UTC).
Result<Evaluation> Evaluate(std::span<const double> labels, std::span<const double> scores,
                            std::span<const TimestampMicros> times, const EvaluateOptions& options = {});

struct EvaluateFileOptions {
  std::string label_column;
  std::string score_column;
  std::string time_column;  // empty: none
  EvaluateOptions evaluate;
};

// Reads the label, score and (optional) time columns of a CSV file (core/csv_reader.h) and evaluates them.
// Errors name the file: a missing column (listing the header's columns), a non-numeric value (file:line and
// column, from the CSV reader), an empty label, score or time ("preds.csv: row 12: column 'score' is
// empty"), and the metric errors ("preds.csv: row 12: label 2 is not 0 or 1"). Rows are data rows from 1.
Result<Evaluation> EvaluateFile(const std::string& path, const EvaluateFileOptions& options);

}  // namespace gyre::train
