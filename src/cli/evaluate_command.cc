// gyre evaluate --predictions FILE.csv --label COL --score COL [--time COL]: every evaluation metric for any
// scored file (train/evaluate.h does the work; this file parses flags and prints a table or JSON).
#include <fmt/format.h>

#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/text_table.h"
#include "train/evaluate.h"

namespace gyre::cli {
namespace {

void PrintEvaluation(const std::string& file, const train::Evaluation& e) {
  fmt::print("{}: {} rows, {} positive ({:.3f}%)\n\n", file, e.rows, e.positives,
             e.rows > 0 ? 100.0 * static_cast<double>(e.positives) / static_cast<double>(e.rows) : 0.0);
  TextTable metrics({"metric", "value"});
  for (const auto& [k, v] : e.Metrics()) {
    if (k == "rows" || k == "positives") continue;
    metrics.AddRow({k, FormatNumber(v)});
  }
  metrics.Print(stdout);
  if (!e.probability_scores) {
    fmt::print("\nScores are not all in [0, 1]: log loss, Brier and calibration are left out.\n");
  }

  const train::ConfusionMatrix& c = e.at_threshold;
  fmt::print("\nAt threshold {} (score >= threshold flagged): tp {}, fp {}, tn {}, fn {}\n",
             FormatNumber(c.threshold), c.tp, c.fp, c.tn, c.fn);
  const train::CostThresholdResult& cost = e.cost;
  fmt::print(
      "Cheapest threshold at cost(fn) {} / cost(fp) {}: {}{} — total {}, {} per event (tp {}, fp {}, fn {})\n",
      FormatNumber(e.options.cost_false_negative), FormatNumber(e.options.cost_false_positive),
      FormatNumber(cost.threshold), cost.flags_nothing ? " (flag nothing)" : "", FormatNumber(cost.total_cost),
      FormatNumber(cost.cost_per_event), cost.confusion.tp, cost.confusion.fp, cost.confusion.fn);

  if (e.precision_at_k) {
    fmt::print("\nPrecision among the top {} scores per UTC day:\n", e.precision_at_k->k);
    TextTable days({"day", "rows", "alerts", "true positives", "precision"});
    for (const train::DayPrecision& d : e.precision_at_k->days) {
      days.AddRow({FormatTimestamp(d.day_start).substr(0, 10), std::to_string(d.rows), std::to_string(d.alerts),
                   std::to_string(d.true_positives), FormatNumber(d.precision)});
    }
    days.Print(stdout);
  }
  if (e.calibration) {
    fmt::print("\nReliability ({} uniform bins, empty bins left out), ECE {}:\n", e.calibration->bins,
               FormatNumber(e.calibration->ece));
    TextTable bins({"bin", "rows", "mean predicted", "fraction positive"});
    for (const train::CalibrationBin& b : e.calibration->curve) {
      bins.AddRow({fmt::format("{:.3g}-{:.3g}", b.lower, b.upper), std::to_string(b.count),
                   FormatNumber(b.mean_predicted), FormatNumber(b.fraction_positive)});
    }
    bins.Print(stdout);
  }
}

}  // namespace

void AddEvaluateCommand(CLI::App& root) {
  auto flags = std::make_shared<train::EvaluateFileOptions>();
  auto path = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = root.add_subcommand(
      "evaluate", "Evaluation metrics of a scored CSV file: ROC AUC, average precision, log loss, Brier, KS, recall "
                  "at a false-positive rate, precision@k per day, calibration, confusion matrix, cost threshold");
  cmd->add_option("--predictions", *path, "CSV file with a header row, one scored event per row")->required();
  cmd->add_option("--label", flags->label_column, "Label column (0 or 1)")->required();
  cmd->add_option("--score", flags->score_column, "Score column (higher = more likely positive)")->required();
  cmd->add_option("--time", flags->time_column, "Event time column, for precision@k per UTC day");
  cmd->add_option("--fpr", flags->evaluate.fpr, "Recall is reported at this false-positive rate")->capture_default_str();
  cmd->add_option("--k", flags->evaluate.k, "Alerts reviewed per day (precision@k)")->capture_default_str();
  cmd->add_option("--threshold", flags->evaluate.threshold, "Threshold of the confusion matrix (score >= threshold)")
      ->capture_default_str();
  cmd->add_option("--cost-fn", flags->evaluate.cost_false_negative, "Cost of a missed positive")->capture_default_str();
  cmd->add_option("--cost-fp", flags->evaluate.cost_false_positive, "Cost of a flagged negative")->capture_default_str();
  cmd->add_option("--bins", flags->evaluate.bins, "Calibration bins (uniform on [0, 1])")->capture_default_str();
  cmd->add_flag("--json", *json, "Print JSON instead of tables");
  SetAction(cmd, [flags, path, json]() -> Status {
    GYRE_ASSIGN_OR_RETURN(train::Evaluation e, train::EvaluateFile(*path, *flags));
    if (*json) {
      fmt::print("{}\n", e.ToJson().dump(2));
    } else {
      PrintEvaluation(*path, e);
    }
    return Status::OK();
  });
}

}  // namespace gyre::cli
