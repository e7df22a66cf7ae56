// Evaluation metrics for binary classifiers: the numbers a fraud / account-takeover team acts on.
//
// Inputs are labels (0 or 1, as double) and real-valued scores, one per row, in two spans of equal length.
// The probability metrics (LogLoss, BrierScore, Calibration) need scores in [0, 1]; the ranking metrics take
// any finite score. Pure functions: no I/O, no shared state; safe to call from any thread.
//
// Results match scikit-learn 1.2 (roc_auc_score, roc_curve with drop_intermediate=False,
// average_precision_score, precision_recall_curve, log_loss, brier_score_loss, calibration_curve with
// strategy='uniform') to 1e-9, ties included: rows with equal scores form one threshold, so ties across the
// classes count half in ROC AUC and as one step in the curves, exactly as sklearn's _binary_clf_curve does.
// Conventions shared by every function:
//   - "flagged" means score >= threshold.
//   - The threshold that flags nothing is the highest score + 1 (sklearn 1.2's roc_curve first threshold).
//   - A ratio with a zero denominator is 0 (sklearn's zero_division=0), never NaN.
//
// Errors (InvalidArgument), with rows numbered from 1 as in "row 17":
//   empty input; labels and scores (or times) of different lengths; a label other than 0 or 1; a NaN or
//   infinite score; only one class for ROC AUC / average precision / KS / recall at FPR ("all 1234 labels
//   are 0"); a score outside [0, 1] for the probability metrics; a parameter out of range.
//
// Cost: ScoreRanking::Build sorts once (O(n log n)); every ranking metric is O(n) or less given a ranking,
// so Evaluate (train/evaluate.h) sorts 1M rows once and computes everything in well under a second.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace gyre::train {

// Checks the inputs every metric shares: non-empty, equal lengths, labels 0/1, finite scores.
Status CheckBinaryInputs(std::span<const double> labels, std::span<const double> scores);

// Rows sorted once by score, descending, and grouped by distinct score with cumulative class counts: the
// one sort every ranking metric reuses. Within equal scores rows keep their input order (used by
// PrecisionAtKPerDay's tie rule). Immutable after Build; safe to share between threads.
class ScoreRanking {
 public:
  // Validates as CheckBinaryInputs does.
  static Result<ScoreRanking> Build(std::span<const double> labels, std::span<const double> scores);

  int64_t rows() const { return static_cast<int64_t>(order_.size()); }
  int64_t positives() const { return positives_; }
  int64_t negatives() const { return rows() - positives_; }
  // Distinct scores, descending; tp()[i] / fp()[i] count the positives / negatives with score >= thresholds()[i].
  const std::vector<double>& thresholds() const { return thresholds_; }
  const std::vector<int64_t>& tp() const { return tp_; }
  const std::vector<int64_t>& fp() const { return fp_; }
  // Row indices by score descending, ties in input order.
  const std::vector<uint32_t>& order() const { return order_; }
  // "all 1234 labels are 0" as an InvalidArgument naming `metric`, or OK when both classes are present.
  Status RequireBothClasses(std::string_view metric) const;

 private:
  std::vector<double> thresholds_;
  std::vector<int64_t> tp_, fp_;
  std::vector<uint32_t> order_;
  int64_t positives_ = 0;
};

// ---- Ranking metrics -------------------------------------------------------------------------------------

// sklearn roc_auc_score (trapezoids over distinct thresholds: a tie across classes counts one half).
Result<double> RocAuc(std::span<const double> labels, std::span<const double> scores);
Result<double> RocAuc(const ScoreRanking& ranking);

// sklearn roc_curve(drop_intermediate=False): one point per distinct score plus the leading (0, 0) point whose
// threshold is the highest score + 1. Thresholds descending, fpr and tpr non-decreasing.
struct RocCurveResult {
  std::vector<double> fpr, tpr, thresholds;
};
Result<RocCurveResult> RocCurve(std::span<const double> labels, std::span<const double> scores);
Result<RocCurveResult> RocCurve(const ScoreRanking& ranking);

// sklearn precision_recall_curve: thresholds ascending (one per distinct score); precision and recall have
// one more entry, the final (precision 1, recall 0) point. Recall is decreasing.
struct PrCurveResult {
  std::vector<double> precision, recall, thresholds;
};
Result<PrCurveResult> PrecisionRecallCurve(std::span<const double> labels, std::span<const double> scores);
Result<PrCurveResult> PrecisionRecallCurve(const ScoreRanking& ranking);

// sklearn average_precision_score: Σ (R_i − R_{i−1})·P_i over thresholds, step-wise, not interpolated.
Result<double> AveragePrecision(std::span<const double> labels, std::span<const double> scores);
Result<double> AveragePrecision(const ScoreRanking& ranking);

// Kolmogorov–Smirnov statistic: max |TPR − FPR| over the ROC curve's points.
Result<double> KsStatistic(std::span<const double> labels, std::span<const double> scores);
Result<double> KsStatistic(const ScoreRanking& ranking);

// The highest recall over the ROC points whose FPR ≤ target_fpr (in [0, 1]). Of the thresholds reaching that
// recall, the highest (fewest false positives) is returned; fpr is what it achieves. When no score can be
// flagged within the budget: recall 0, threshold = highest score + 1.
struct RecallAtFprResult {
  double target_fpr = 0;
  double recall = 0;
  double threshold = 0;
  double fpr = 0;
};
Result<RecallAtFprResult> RecallAtFpr(std::span<const double> labels, std::span<const double> scores,
                                      double target_fpr);
Result<RecallAtFprResult> RecallAtFpr(const ScoreRanking& ranking, double target_fpr);

// ---- Alert budget ----------------------------------------------------------------------------------------

// Per UTC day (of `times`, µs since the epoch), the precision among that day's top-k scores: what the
// analysts see if they review k alerts a day. Ties: within a day rows are taken by score descending, then by
// input row order (earlier rows first), so a tie group straddling the k-th place is cut deterministically.
// A day with fewer than k rows reviews all of them (precision = positives / rows that day). `mean` is the
// unweighted mean over the days present (days without rows do not exist here). Needs k >= 1; one class is
// fine (precision is then 0 or 1).
struct DayPrecision {
  TimestampMicros day_start = 0;  // 00:00 UTC of the day
  int64_t rows = 0;               // rows on that day
  int64_t alerts = 0;             // min(k, rows)
  int64_t true_positives = 0;     // positives among the alerts
  double precision = 0;           // true_positives / alerts
};
struct PrecisionAtKResult {
  int64_t k = 0;
  std::vector<DayPrecision> days;  // ascending by day
  double mean = 0;
};
Result<PrecisionAtKResult> PrecisionAtKPerDay(std::span<const double> labels, std::span<const double> scores,
                                              std::span<const TimestampMicros> times, int64_t k);
Result<PrecisionAtKResult> PrecisionAtKPerDay(const ScoreRanking& ranking, std::span<const double> labels,
                                              std::span<const TimestampMicros> times, int64_t k);

// ---- Probability metrics (scores in [0, 1]) --------------------------------------------------------------

// sklearn log_loss for float64: p clipped to [eps, 1 − eps] with eps = 2.220446049250313e-16, natural log,
// mean over rows. One class is allowed.
Result<double> LogLoss(std::span<const double> labels, std::span<const double> scores);
// sklearn brier_score_loss: mean (label − p)².
Result<double> BrierScore(std::span<const double> labels, std::span<const double> scores);

// Reliability curve as sklearn calibration_curve(strategy='uniform', n_bins=bins): bin edges i/bins; a
// score on an inner edge falls in the lower bin (numpy searchsorted side='left'), 0 and 1 in the first and
// last bins. Only non-empty bins are listed. ece = Σ (count_b / N)·|fraction_positive_b − mean_predicted_b|.
struct CalibrationBin {
  double lower = 0, upper = 0;   // bin edges
  double mean_predicted = 0;     // mean score in the bin
  double fraction_positive = 0;  // mean label in the bin
  int64_t count = 0;
};
struct CalibrationResult {
  int bins = 0;
  std::vector<CalibrationBin> curve;  // non-empty bins, ascending
  double ece = 0;
};
Result<CalibrationResult> Calibration(std::span<const double> labels, std::span<const double> scores, int bins);

// ---- Decisions -------------------------------------------------------------------------------------------

// Confusion matrix with score >= threshold flagged. precision = tp/(tp+fp), recall = tp/(tp+fn),
// fpr = fp/(fp+tn), f1 = 2tp/(2tp+fp+fn); 0 where the denominator is 0.
struct ConfusionMatrix {
  double threshold = 0;
  int64_t tp = 0, fp = 0, tn = 0, fn = 0;
  double precision = 0, recall = 0, fpr = 0, f1 = 0;
};
Result<ConfusionMatrix> ConfusionAt(std::span<const double> labels, std::span<const double> scores,
                                    double threshold);
ConfusionMatrix ConfusionAt(const ScoreRanking& ranking, double threshold);

// The threshold minimising cost_false_negative·fn + cost_false_positive·fp over every distinct score and
// "flag nothing" (threshold = highest score + 1). Equal costs: the highest threshold wins (fewest alerts).
// Costs must be finite and >= 0.
struct CostThresholdResult {
  double threshold = 0;
  double total_cost = 0;
  double cost_per_event = 0;  // total_cost / rows
  bool flags_nothing = false;
  ConfusionMatrix confusion;
};
Result<CostThresholdResult> CostThreshold(std::span<const double> labels, std::span<const double> scores,
                                          double cost_false_negative, double cost_false_positive);
Result<CostThresholdResult> CostThreshold(const ScoreRanking& ranking, double cost_false_negative,
                                          double cost_false_positive);

// ---- Helpers ---------------------------------------------------------------------------------------------

// At most max_points (>= 2) of the curve (x[i], y[i]) for drawing: points evenly spaced along the curve's
// length, always the first and the last. A curve with <= max_points points is returned whole.
std::vector<std::pair<double, double>> ThinCurve(std::span<const double> x, std::span<const double> y,
                                                 size_t max_points);

// Stable metric keys (see Evaluation::Metrics in train/evaluate.h): "recall_at_fpr_0.01" and
// "precision_at_100_per_day". The number is written in its shortest round-trip form.
std::string RecallAtFprKey(double fpr);
std::string PrecisionAtKKey(int64_t k);

}  // namespace gyre::train
