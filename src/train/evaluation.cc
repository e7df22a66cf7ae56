#include "train/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "train/backtest.h"
#include "train/dataset.h"
#include "train/report.h"
#include "train/trainer.h"

namespace gyre::train {
namespace {

std::string FoldName(const Fold& f) {
  return FormatTimestamp(f.test_start).substr(5, 5) + ".." + FormatTimestamp(f.test_end).substr(5, 5);
}

std::string ParamsText(const ParamSet& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : ", ") + k + "=" + v;
  return out;
}

double Lookup(const std::vector<std::pair<std::string, double>>& metrics, std::string_view key) {
  for (const auto& [k, v] : metrics) {
    if (k == key) return v;
  }
  return std::nan("");
}

// ---- Fold metrics -----------------------------------------------------------------------------------------
// One sort by score (descending) serves every metric. Ties are grouped: a group of equal scores moves the
// curves in one step, as scikit-learn's roc_curve / average_precision_score do.
struct Sorted {
  std::vector<int64_t> order;  // row indexes by score, descending (stable)
  int64_t positives = 0, negatives = 0;
};

Sorted SortByScore(const std::vector<float>& labels, const std::vector<float>& scores) {
  Sorted s;
  s.order.resize(scores.size());
  for (size_t i = 0; i < scores.size(); ++i) s.order[i] = static_cast<int64_t>(i);
  std::stable_sort(s.order.begin(), s.order.end(), [&](int64_t a, int64_t b) { return scores[a] > scores[b]; });
  for (float l : labels) (l > 0 ? s.positives : s.negatives)++;
  return s;
}

// Operating points at each distinct threshold: (threshold, tp, fp), from the highest score down.
struct Point {
  double threshold;
  int64_t tp, fp;
};
std::vector<Point> OperatingPoints(const Sorted& s, const std::vector<float>& labels, const std::vector<float>& scores) {
  std::vector<Point> points;
  int64_t tp = 0, fp = 0;
  for (size_t i = 0; i < s.order.size(); ++i) {
    int64_t r = s.order[i];
    (labels[r] > 0 ? tp : fp)++;
    if (i + 1 == s.order.size() || scores[s.order[i + 1]] != scores[r]) points.push_back({scores[r], tp, fp});
  }
  return points;
}

Points Thin(const Points& points, size_t max_points) {
  if (points.size() <= max_points) return points;
  Points out;
  double step = static_cast<double>(points.size() - 1) / static_cast<double>(max_points - 1);
  for (size_t i = 0; i < max_points; ++i) out.push_back(points[static_cast<size_t>(std::llround(i * step))]);
  return out;
}

std::string KeyNumber(double v) { return fmt::format("{:g}", v); }

}  // namespace

std::string RecallAtFprKey(double fpr) { return "recall_at_fpr_" + KeyNumber(fpr); }
std::string PrecisionAtKKey(int k) { return fmt::format("precision_at_{}_per_day", k); }

Result<double> RocAucOf(const std::vector<double>& labels, const std::vector<double>& scores) {
  std::vector<float> l(labels.begin(), labels.end()), s(scores.begin(), scores.end());
  Sorted sorted = SortByScore(l, s);
  if (sorted.positives == 0 || sorted.negatives == 0) return Status::InvalidArgument("ROC AUC needs both classes");
  double area = 0;
  int64_t prev_tp = 0, prev_fp = 0;
  for (const Point& p : OperatingPoints(sorted, l, s)) {
    area += static_cast<double>(p.fp - prev_fp) * static_cast<double>(p.tp + prev_tp) / 2.0;
    prev_tp = p.tp;
    prev_fp = p.fp;
  }
  return area / (static_cast<double>(sorted.positives) * static_cast<double>(sorted.negatives));
}

double ThresholdAtFpr(const std::vector<float>& labels, const std::vector<float>& scores, double fpr) {
  Sorted sorted = SortByScore(labels, scores);
  double threshold = std::numeric_limits<double>::infinity();
  for (const Point& p : OperatingPoints(sorted, labels, scores)) {
    if (sorted.negatives > 0 && static_cast<double>(p.fp) / static_cast<double>(sorted.negatives) > fpr) break;
    threshold = p.threshold;
  }
  return std::isinf(threshold) ? 1.0 : threshold;
}

Result<FoldEvaluation> EvaluateFold(const std::vector<float>& labels, const std::vector<float>& scores,
                                    const std::vector<TimestampMicros>& times, const EvaluationConfig& config) {
  if (labels.size() != scores.size() || labels.empty()) return Status::InvalidArgument("no scores to evaluate");
  Sorted sorted = SortByScore(labels, scores);
  if (sorted.positives == 0 || sorted.negatives == 0) {
    return Status::InvalidArgument(fmt::format("the test rows hold one class only ({} positive of {})",
                                               sorted.positives, labels.size()));
  }
  const double P = static_cast<double>(sorted.positives), N = static_cast<double>(sorted.negatives);
  const double n = static_cast<double>(labels.size());
  std::vector<Point> points = OperatingPoints(sorted, labels, scores);
  FoldEvaluation e;
  double auc = 0, ap = 0, ks = 0, recall_at_fpr = 0;
  int64_t prev_tp = 0, prev_fp = 0;
  e.roc.emplace_back(0, 0);
  for (const Point& p : points) {
    auc += static_cast<double>(p.fp - prev_fp) * static_cast<double>(p.tp + prev_tp) / 2.0;
    double precision = static_cast<double>(p.tp) / static_cast<double>(p.tp + p.fp);
    ap += static_cast<double>(p.tp - prev_tp) / P * precision;
    double tpr = p.tp / P, fpr = p.fp / N;
    ks = std::max(ks, tpr - fpr);
    if (fpr <= config.fpr) recall_at_fpr = std::max(recall_at_fpr, tpr);
    e.roc.emplace_back(fpr, tpr);
    e.pr.emplace_back(tpr, precision);
    prev_tp = p.tp;
    prev_fp = p.fp;
  }
  auc /= P * N;
  e.roc = Thin(e.roc, 400);
  e.pr = Thin(e.pr, 400);

  // Log loss (probabilities clipped as scikit-learn 1.2 does for float64), Brier, calibration.
  const double eps = std::numeric_limits<double>::epsilon();
  double log_loss = 0, brier = 0;
  const int bins = config.calibration_bins;
  std::vector<double> bin_sum(bins, 0), bin_pos(bins, 0), bin_n(bins, 0);
  for (size_t i = 0; i < labels.size(); ++i) {
    double p = std::clamp(static_cast<double>(scores[i]), eps, 1 - eps), y = labels[i] > 0 ? 1 : 0;
    log_loss -= y * std::log(p) + (1 - y) * std::log(1 - p);
    brier += (scores[i] - y) * (scores[i] - y);
    int b = std::min(bins - 1, static_cast<int>(static_cast<double>(scores[i]) * bins));
    b = std::max(b, 0);
    bin_sum[b] += scores[i];
    bin_pos[b] += y;
    bin_n[b] += 1;
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (bin_n[b] == 0) continue;
    double mean_pred = bin_sum[b] / bin_n[b], frac_pos = bin_pos[b] / bin_n[b];
    ece += bin_n[b] / n * std::abs(frac_pos - mean_pred);
    e.reliability.emplace_back(mean_pred, frac_pos);
  }

  // Precision of each UTC day's top-k scores (the analysts' budget), averaged over days.
  double precision_at_k = std::nan("");
  if (times.size() == labels.size()) {
    std::map<int64_t, std::vector<int64_t>> by_day;
    for (int64_t r : sorted.order) by_day[times[r] / kMicrosPerDay].push_back(r);  // already by score
    double sum = 0;
    for (const auto& [day, rows] : by_day) {
      size_t k = std::min<size_t>(rows.size(), static_cast<size_t>(config.alerts_per_day));
      double hits = 0;
      for (size_t i = 0; i < k; ++i) hits += labels[rows[i]] > 0;
      sum += hits / static_cast<double>(k);
    }
    precision_at_k = sum / static_cast<double>(by_day.size());
  }

  // The threshold minimising cost: a missed fraud (false negative) vs a challenged good customer (false positive).
  double best_cost = P * config.cost_false_negative;  // flag nothing
  e.cost_threshold = std::numeric_limits<double>::infinity();
  int64_t best_tp = 0, best_fp = 0;
  for (const Point& p : points) {
    double cost = (P - p.tp) * config.cost_false_negative + p.fp * config.cost_false_positive;
    if (cost < best_cost) {
      best_cost = cost;
      e.cost_threshold = p.threshold;
      best_tp = p.tp;
      best_fp = p.fp;
    }
  }
  if (std::isinf(e.cost_threshold)) e.cost_threshold = 1.0;
  double fn = P - best_tp, tn = N - best_fp;
  e.metrics = {{"roc_auc", auc},
               {"average_precision", ap},
               {"log_loss", log_loss / n},
               {"brier", brier / n},
               {"ks", ks},
               {RecallAtFprKey(config.fpr), recall_at_fpr},
               {PrecisionAtKKey(config.alerts_per_day), precision_at_k},
               {"ece", ece},
               {"cost_per_event", best_cost / n},
               {"threshold", e.cost_threshold},
               {"tp", static_cast<double>(best_tp)},
               {"fp", static_cast<double>(best_fp)},
               {"fn", fn},
               {"tn", tn},
               {"precision", best_tp + best_fp > 0 ? best_tp / static_cast<double>(best_tp + best_fp) : 0},
               {"recall", best_tp / P},
               {"base_rate", P / n}};
  return e;
}

std::string SelectionKey(const ExperimentConfig& config) {
  const EvaluationConfig& e = config.evaluation;
  if (config.metric == "recall_at_fpr") return RecallAtFprKey(e.fpr);
  if (config.metric == "precision_at_k_per_day") return PrecisionAtKKey(e.alerts_per_day);
  if (config.metric == "cost") return "cost_per_event";
  return config.metric;
}

std::string RenderTrainingReport(const ReportInputs& in) {
  const ExperimentConfig& config = *in.config;
  const TrainingData& data = *in.data;
  const TrainResult& result = *in.result;
  const TrialResult& best = result.trials[result.best_trial];
  ReportData report;
  report.title = fmt::format("Training report: {}", config.name);
  report.subtitle = config.description;
  report.generated_at = FormatTimestamp(NowMillis() * 1000);
  report.facts = {
      {"experiment", config.name},
      {"run", result.run_id},
      {"feature set", fmt::format("{} ({} features)", config.feature_set, data.features())},
      {"data", data.source},
      {"data fingerprint", data.fingerprint},
      {"rows", fmt::format("{} ({} positive, {:.3f}%)", data.rows, result.positives,
                           data.rows > 0 ? 100.0 * result.positives / data.rows : 0.0)},
      {"time range", FormatTimestamp(data.time.front()) + " .. " + FormatTimestamp(data.time.back())},
      {"model", std::string(ModelTypeName(config.model.type))},
      {"chosen parameters", ParamsText(best.params)},
      {"final model", fmt::format("{} rows, {} rounds", result.final_rows, result.final_rounds)},
      {"selection metric", fmt::format("{} (mean over folds) = {}", config.metric, FormatSignificant(best.selection))},
      {"decision", fmt::format("challenge if score ≥ {}, block if score ≥ {}",
                               FormatSignificant(result.decision.challenge_threshold),
                               FormatSignificant(result.decision.block_threshold))},
  };
  if (config.labels.labeled_at_column.empty()) {
    report.notes.push_back("labels have no labeled_at column: every fold trained with labels it could not have known yet");
  }

  // The fold table of the best trial.
  const std::vector<std::string> keys = {"roc_auc",
                                         "average_precision",
                                         RecallAtFprKey(config.evaluation.fpr),
                                         PrecisionAtKKey(config.evaluation.alerts_per_day),
                                         "log_loss",
                                         "brier",
                                         "ece"};
  report.folds.columns = {"fold", "train", "test", "train rows", "test rows", "test positives", "rounds"};
  report.folds.columns.insert(report.folds.columns.end(), keys.begin(), keys.end());
  report.folds.aggregate = true;
  std::vector<std::string> fold_names;
  for (const FoldResult& f : best.folds) {
    std::vector<ReportCell> row = {
        fmt::format("{}", f.fold.index + 1),
        FormatTimestamp(f.fold.train_start).substr(0, 10) + " .. " + FormatTimestamp(f.fold.train_end).substr(0, 10),
        FormatTimestamp(f.fold.test_start).substr(0, 10) + " .. " + FormatTimestamp(f.fold.test_end).substr(0, 10),
        f.train_rows + f.validation_rows, f.test_rows, f.test_positives, int64_t{f.rounds}};
    for (const std::string& k : keys) row.emplace_back(f.Metric(k));
    report.folds.rows.push_back(std::move(row));
    fold_names.push_back(FoldName(f.fold));
  }
  report.folds.note = "Each fold trains on labels as known at its test window's start; test rows carry final labels.";

  if (result.trials.size() > 1) {
    std::vector<std::string> param_names;
    for (const auto& [k, v] : result.trials[0].params) param_names.push_back(k);
    report.trials.columns = {"trial"};
    report.trials.columns.insert(report.trials.columns.end(), param_names.begin(), param_names.end());
    report.trials.columns.push_back(config.metric + " mean");
    report.trials.columns.push_back("std");
    for (const TrialResult& t : result.trials) {
      std::vector<ReportCell> row = {fmt::format("{}", t.index + 1)};
      for (const auto& [k, v] : t.params) row.emplace_back(v);
      row.emplace_back(t.selection);
      row.emplace_back(Lookup(t.stddev, SelectionKey(config)));
      report.trials.rows.push_back(std::move(row));
    }
    report.trials.highlight_row = result.best_trial;
  }

  if (!best.folds.empty()) {
    std::vector<ReportSeries> by_fold;
    for (const std::string& k : {std::string("roc_auc"), std::string("average_precision"),
                                 RecallAtFprKey(config.evaluation.fpr)}) {
      ReportSeries s{k, {}};
      for (size_t i = 0; i < best.folds.size(); ++i) s.points.emplace_back(static_cast<double>(i), best.folds[i].Metric(k));
      by_fold.push_back(std::move(s));
    }
    report.fold_charts.push_back(MetricByFoldChart("metric", fold_names, std::move(by_fold)));

    std::vector<ReportSeries> roc, pr, reliability;
    int64_t positives = 0, rows = 0;
    for (size_t i = 0; i < in.best_fold_evaluations.size(); ++i) {
      const FoldEvaluation& e = *in.best_fold_evaluations[i];
      std::string name = "fold " + std::to_string(i + 1) + " (" + fold_names[i] + ")";
      roc.push_back({name, e.roc});
      pr.push_back({name, e.pr});
      reliability.push_back({name, e.reliability});
      positives += best.folds[i].test_positives;
      rows += best.folds[i].test_rows;
    }
    report.curves.push_back(RocChart(std::move(roc)));
    report.curves.push_back(PrChart(std::move(pr), rows > 0 ? static_cast<double>(positives) / rows : 0));
    report.curves.push_back(ReliabilityChart(std::move(reliability)));

    std::vector<float> labels, scores;
    for (size_t i = 0; i < in.best_fold_scores.size(); ++i) {
      const std::vector<float>& fold_labels = (*in.folds)[i].test.label;
      labels.insert(labels.end(), fold_labels.begin(), fold_labels.end());
      scores.insert(scores.end(), in.best_fold_scores[i]->begin(), in.best_fold_scores[i]->end());
    }
    ReportHistogram histogram = ScoreHistogram(labels, scores, 40);
    histogram.title = "Out-of-fold score distribution by label (all folds)";
    report.distributions.push_back(std::move(histogram));
  }
  if (!in.gain_importance.empty()) {
    report.importance.push_back({"Gain importance (final model, total gain)", "total gain", in.gain_importance,
                                 static_cast<size_t>(config.evaluation.importance_top)});
  }
  if (!in.permutation_importance.empty()) {
    report.importance.push_back({"Permutation importance (most recent fold: drop in ROC AUC when shuffled)",
                                 "ROC AUC drop", in.permutation_importance,
                                 static_cast<size_t>(config.evaluation.importance_top)});
  }
  return RenderReport(report);
}

}  // namespace gyre::train
