#include "train/evaluate.h"

#include <fmt/format.h>

#include <cmath>

#include "core/csv_reader.h"

namespace gyre::train {
namespace {

nlohmann::json ConfusionJson(const ConfusionMatrix& m) {
  return {{"threshold", m.threshold}, {"tp", m.tp},         {"fp", m.fp},       {"tn", m.tn},
          {"fn", m.fn},               {"precision", m.precision}, {"recall", m.recall}, {"fpr", m.fpr},
          {"f1", m.f1}};
}

nlohmann::json PointsJson(const std::vector<std::pair<double, double>>& points) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [x, y] : points) out.push_back({x, y});
  return out;
}

}  // namespace

std::vector<std::pair<std::string, double>> Evaluation::Metrics() const {
  std::vector<std::pair<std::string, double>> m = {
      {"rows", static_cast<double>(rows)},
      {"positives", static_cast<double>(positives)},
      {"positive_rate", rows > 0 ? static_cast<double>(positives) / static_cast<double>(rows) : 0.0},
      {"roc_auc", roc_auc},
      {"average_precision", average_precision},
      {"ks", ks},
  };
  if (log_loss) m.emplace_back("log_loss", *log_loss);
  if (brier) m.emplace_back("brier", *brier);
  if (calibration) m.emplace_back("ece", calibration->ece);
  const std::string fpr = fmt::format("{}", options.fpr);
  m.emplace_back(RecallAtFprKey(options.fpr), recall_at_fpr.recall);
  m.emplace_back("threshold_at_fpr_" + fpr, recall_at_fpr.threshold);
  if (precision_at_k) m.emplace_back(PrecisionAtKKey(options.k), precision_at_k->mean);
  m.emplace_back("precision_at_threshold", at_threshold.precision);
  m.emplace_back("recall_at_threshold", at_threshold.recall);
  m.emplace_back("fpr_at_threshold", at_threshold.fpr);
  m.emplace_back("f1_at_threshold", at_threshold.f1);
  m.emplace_back("cost_threshold", cost.threshold);
  m.emplace_back("cost_total", cost.total_cost);
  m.emplace_back("cost_per_event", cost.cost_per_event);
  return m;
}

nlohmann::json Evaluation::ToJson() const {
  nlohmann::json j;
  j["rows"] = rows;
  j["positives"] = positives;
  j["probability_scores"] = probability_scores;
  nlohmann::json metrics = nlohmann::json::object();
  for (const auto& [k, v] : Metrics()) metrics[k] = v;
  j["metrics"] = std::move(metrics);
  j["options"] = {{"fpr", options.fpr},
                  {"k", options.k},
                  {"threshold", options.threshold},
                  {"cost_false_negative", options.cost_false_negative},
                  {"cost_false_positive", options.cost_false_positive},
                  {"bins", options.bins}};
  j["recall_at_fpr"] = {{"target_fpr", recall_at_fpr.target_fpr},
                        {"recall", recall_at_fpr.recall},
                        {"threshold", recall_at_fpr.threshold},
                        {"fpr", recall_at_fpr.fpr}};
  if (precision_at_k) {
    nlohmann::json days = nlohmann::json::array();
    for (const DayPrecision& d : precision_at_k->days) {
      days.push_back({{"day", FormatTimestamp(d.day_start).substr(0, 10)},
                      {"rows", d.rows},
                      {"alerts", d.alerts},
                      {"true_positives", d.true_positives},
                      {"precision", d.precision}});
    }
    j["precision_at_k"] = {{"k", precision_at_k->k}, {"mean", precision_at_k->mean}, {"days", std::move(days)}};
  }
  if (calibration) {
    nlohmann::json curve = nlohmann::json::array();
    for (const CalibrationBin& b : calibration->curve) {
      curve.push_back({{"lower", b.lower},
                       {"upper", b.upper},
                       {"mean_predicted", b.mean_predicted},
                       {"fraction_positive", b.fraction_positive},
                       {"count", b.count}});
    }
    j["calibration"] = {{"bins", calibration->bins}, {"ece", calibration->ece}, {"curve", std::move(curve)}};
  }
  j["confusion"] = ConfusionJson(at_threshold);
  j["cost"] = {{"cost_false_negative", options.cost_false_negative},
               {"cost_false_positive", options.cost_false_positive},
               {"threshold", cost.threshold},
               {"flags_nothing", cost.flags_nothing},
               {"total_cost", cost.total_cost},
               {"cost_per_event", cost.cost_per_event},
               {"confusion", ConfusionJson(cost.confusion)}};
  j["roc"] = PointsJson(roc);
  j["pr"] = PointsJson(pr);
  return j;
}

Result<Evaluation> Evaluate(std::span<const double> labels, std::span<const double> scores,
                            std::span<const TimestampMicros> times, const EvaluateOptions& options) {
  if (std::isnan(options.threshold)) return Status::InvalidArgument("threshold is NaN");
  if (!times.empty() && times.size() != labels.size()) {
    return Status::InvalidArgument(
        fmt::format("{} times but {} labels: they must have one per row", times.size(), labels.size()));
  }
  GYRE_ASSIGN_OR_RETURN(ScoreRanking ranking, ScoreRanking::Build(labels, scores));
  GYRE_RETURN_IF_ERROR(ranking.RequireBothClasses("ROC AUC"));
  Evaluation e;
  e.options = options;
  e.rows = ranking.rows();
  e.positives = ranking.positives();
  GYRE_ASSIGN_OR_RETURN(e.roc_auc, RocAuc(ranking));
  GYRE_ASSIGN_OR_RETURN(e.average_precision, AveragePrecision(ranking));
  GYRE_ASSIGN_OR_RETURN(e.ks, KsStatistic(ranking));
  GYRE_ASSIGN_OR_RETURN(e.recall_at_fpr, RecallAtFpr(ranking, options.fpr));
  if (!times.empty()) {
    GYRE_ASSIGN_OR_RETURN(e.precision_at_k, PrecisionAtKPerDay(ranking, labels, times, options.k));
  }
  e.at_threshold = ConfusionAt(ranking, options.threshold);
  GYRE_ASSIGN_OR_RETURN(e.cost, CostThreshold(ranking, options.cost_false_negative, options.cost_false_positive));
  // The ranking is descending: its first and last thresholds bound every score.
  e.probability_scores = ranking.thresholds().back() >= 0.0 && ranking.thresholds().front() <= 1.0;
  if (e.probability_scores) {
    GYRE_ASSIGN_OR_RETURN(e.log_loss, LogLoss(labels, scores));
    GYRE_ASSIGN_OR_RETURN(e.brier, BrierScore(labels, scores));
    GYRE_ASSIGN_OR_RETURN(e.calibration, Calibration(labels, scores, options.bins));
  }
  {
    GYRE_ASSIGN_OR_RETURN(RocCurveResult roc, RocCurve(ranking));
    e.roc = ThinCurve(roc.fpr, roc.tpr, options.curve_points);
  }
  {
    GYRE_ASSIGN_OR_RETURN(PrCurveResult pr, PrecisionRecallCurve(ranking));
    e.pr = ThinCurve(pr.recall, pr.precision, options.curve_points);
  }
  return e;
}

Result<Evaluation> EvaluateFile(const std::string& path, const EvaluateFileOptions& options) {
  if (options.label_column.empty()) return Status::InvalidArgument("no label column given");
  if (options.score_column.empty()) return Status::InvalidArgument("no score column given");
  CsvReadOptions read;
  read.columns = {{options.label_column, ColumnType::kFloat64}, {options.score_column, ColumnType::kFloat64}};
  if (!options.time_column.empty()) read.columns.push_back({options.time_column, ColumnType::kTimestamp});
  GYRE_ASSIGN_OR_RETURN(CsvReadResult csv, ReadCsv(path, read));
  const Table& table = csv.table;

  auto column = [&](const std::string& name) -> Result<const Column*> {
    GYRE_ASSIGN_OR_RETURN(const Column* c, table.ColumnByName(name));
    if (c->null_count() > 0) {
      for (int64_t row = 0; row < c->size(); ++row) {
        if (c->IsNull(row)) {
          return Status::InvalidArgument(fmt::format("{}: row {}: column '{}' is empty", path, row + 1, name));
        }
      }
    }
    return c;
  };
  GYRE_ASSIGN_OR_RETURN(const Column* labels, column(options.label_column));
  GYRE_ASSIGN_OR_RETURN(const Column* scores, column(options.score_column));
  std::span<const TimestampMicros> times;
  if (!options.time_column.empty()) {
    GYRE_ASSIGN_OR_RETURN(const Column* t, column(options.time_column));
    times = t->int64_values();
  }
  Result<Evaluation> e = Evaluate(labels->float64_values(), scores->float64_values(), times, options.evaluate);
  if (!e.ok()) return e.status().WithContext(path);
  return e;
}

}  // namespace gyre::train
