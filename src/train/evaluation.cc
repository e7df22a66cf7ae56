#include "train/evaluation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "train/backtest.h"
#include "train/dataset.h"
#include "train/evaluate.h"
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

}  // namespace

double MetricValue(const MetricList& metrics, std::string_view key) {
  for (const auto& [k, v] : metrics) {
    if (k == key) return v;
  }
  return std::nan("");
}

Result<double> RocAucOf(const std::vector<double>& labels, const std::vector<double>& scores) {
  return RocAuc(labels, scores);
}

double ThresholdAtFpr(const std::vector<float>& labels, const std::vector<float>& scores, double fpr) {
  std::vector<double> l(labels.begin(), labels.end()), s(scores.begin(), scores.end());
  auto r = RecallAtFpr(l, s, fpr);
  return r.ok() ? r->threshold : 1.0;
}

Result<FoldEvaluation> EvaluateFold(const std::vector<float>& labels, const std::vector<float>& scores,
                                    const std::vector<TimestampMicros>& times, const EvaluationConfig& config) {
  std::vector<double> l(labels.begin(), labels.end()), s(scores.begin(), scores.end());
  EvaluateOptions options;
  options.fpr = config.fpr;
  options.k = config.alerts_per_day;
  options.cost_false_negative = config.cost_false_negative;
  options.cost_false_positive = config.cost_false_positive;
  options.bins = config.calibration_bins;
  options.curve_points = 400;
  GYRE_ASSIGN_OR_RETURN(Evaluation e, Evaluate(l, s, times, options));
  FoldEvaluation out;
  out.metrics = e.Metrics();
  out.cost_flags_nothing = e.cost.flags_nothing;
  out.cost_threshold = e.cost.flags_nothing ? 1.0 : e.cost.threshold;
  out.roc = e.roc;
  out.pr = e.pr;
  if (e.calibration) {
    for (const CalibrationBin& b : e.calibration->curve) out.reliability.emplace_back(b.mean_predicted, b.fraction_positive);
  }
  return out;
}

models::DecisionPolicy DecideBands(const std::vector<float>& labels, const std::vector<float>& scores,
                                   const FoldEvaluation& recent, const ExperimentConfig& config,
                                   std::vector<std::string>* notes) {
  const DecisionConfig& fixed = config.decision;
  models::DecisionPolicy d;
  d.challenge_threshold = 0.5;
  d.block_threshold = 1.0;
  const bool derived_challenge = !fixed.challenge_threshold, derived_block = !fixed.block_threshold;
  if (labels.empty()) {
    if (derived_challenge || derived_block) {
      notes->push_back("no backtest folds to choose bands from: challenge at 0.5 and block off (1) unless fixed; "
                       "set backtest.folds, or decision.challenge_threshold and decision.block_threshold");
    }
  } else {
    if (recent.cost_flags_nothing) {
      d.challenge_threshold = 1.0;
      if (derived_challenge) {
        notes->push_back(fmt::format(
            "challenge band off (1): on the most recent fold challenging nobody costs least at "
            "evaluation.cost false_negative {} / false_positive {}; set decision.challenge_threshold, or raise "
            "the cost of a false negative",
            FormatSignificant(config.evaluation.cost_false_negative),
            FormatSignificant(config.evaluation.cost_false_positive)));
      }
    } else {
      d.challenge_threshold = recent.cost_threshold;
    }
    std::vector<double> l(labels.begin(), labels.end()), s(scores.begin(), scores.end());
    Result<ScoreRanking> ranking = ScoreRanking::Build(l, s);
    Result<RecallAtFprResult> block =
        ranking.ok() ? RecallAtFpr(*ranking, fixed.block_fpr) : Result<RecallAtFprResult>(ranking.status());
    if (!block.ok()) {
      if (derived_block) {
        notes->push_back(fmt::format("block band off (1): no false-positive rate on the most recent fold ({}); "
                                     "set decision.block_threshold",
                                     block.status().message()));
      }
    } else if (block->recall == 0) {
      // RecallAtFpr's "flag nothing" threshold is the highest score + 1, a band like 1.71 that reads as a real
      // one. 1 (DecisionPolicy's default) keeps it a probability that only a certain score reaches, and the
      // note says why it is there.
      if (derived_block) {
        const int64_t negatives = ranking->negatives();
        std::string one_fp;
        if (1.0 / static_cast<double>(negatives) > fixed.block_fpr) {
          one_fp = fmt::format(" (with {} legitimate events one false positive is already {}%)", negatives,
                               FormatSignificant(100.0 / static_cast<double>(negatives)));
        }
        notes->push_back(fmt::format(
            "block band off (1): on the most recent fold ({} test events, {} legitimate) every score threshold "
            "that flags a positive also flags more than decision.block_fpr = {} of the legitimate events{}; set "
            "decision.block_threshold, raise decision.block_fpr, or train on a longer time range",
            ranking->rows(), negatives, FormatSignificant(fixed.block_fpr), one_fp));
      }
    } else {
      d.block_threshold = block->threshold;
    }
  }
  if (fixed.challenge_threshold) d.challenge_threshold = *fixed.challenge_threshold;
  if (fixed.block_threshold) d.block_threshold = *fixed.block_threshold;

  // Fixed bands are checked in [0, 1] when the experiment is read; derived ones come from probabilities,
  // so this only fires if a model ever scores outside them, and then it must not pass unnoticed.
  auto clamp = [&](const char* band, double* v) {
    if (*v >= 0.0 && *v <= 1.0) return;
    double kept = std::isnan(*v) ? 1.0 : std::clamp(*v, 0.0, 1.0);
    notes->push_back(fmt::format("{} band {} is outside the scores' range [0, 1]: set to {}", band,
                                 FormatSignificant(*v), FormatSignificant(kept)));
    *v = kept;
  };
  clamp("challenge", &d.challenge_threshold);
  clamp("block", &d.block_threshold);
  if (d.block_threshold < d.challenge_threshold) {
    notes->push_back(fmt::format("block band raised from {} to the challenge band {}: blocking never starts "
                                 "below challenging",
                                 FormatSignificant(d.block_threshold), FormatSignificant(d.challenge_threshold)));
    d.block_threshold = d.challenge_threshold;
  }
  return d;
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
  for (const std::string& note : result.decision_notes) report.notes.push_back("decision: " + note);
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
      row.emplace_back(MetricValue(t.stddev, SelectionKey(config)));
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
