// gyre train EXPERIMENT.yaml [--register NAME]: search, backtest, fit the final model, package and record it
// (train/trainer.h does the work); prints the trials and the best trial's fold table.
#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <string>

#include "services/workspace_services.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/workspace.h"
#include "features/definitions.h"
#include "train/evaluation.h"
#include "train/experiment.h"
#include "train/trainer.h"

namespace gyre::cli {
namespace {

struct TrainFlags {
  std::string experiment;
  std::string workspace = ".";
  std::string register_name;
  int threads = 0;
  bool quiet = false;
};

std::string Cell(double v) { return std::isnan(v) ? "" : fmt::format("{:.4f}", v); }

std::string ParamsText(const train::ParamSet& params) {
  std::string out;
  for (const auto& [k, v] : params) out += (out.empty() ? "" : " ") + k + "=" + v;
  return out;
}

void PrintResult(const train::TrainResult& r) {
  const std::string key = r.selection_metric;
  if (r.trials.size() > 1) {
    TextTable trials({"trial", key + " mean", "std", "params"});
    for (const train::TrialResult& t : r.trials) {
      trials.AddRow({fmt::format("{}{}", t.index + 1, t.index == r.best_trial ? " *" : ""), Cell(t.selection),
                     Cell(train::MetricValue(t.stddev, r.selection_key)), ParamsText(t.params)});
    }
    trials.Print(stdout);
    fmt::print("\n");
  }
  const train::TrialResult& best = r.trials[r.best_trial];
  if (!best.folds.empty()) {
    TextTable folds({"fold", "train", "test", "train rows", "test rows", "positives", "roc_auc", "avg_precision",
                     "recall@fpr", "log_loss"});
    auto pick = [](const train::FoldResult& f, std::string_view prefix) {
      for (const auto& [k, v] : f.metrics) {
        if (k.starts_with(prefix)) return v;
      }
      return std::nan("");
    };
    for (const train::FoldResult& f : best.folds) {
      folds.AddRow({std::to_string(f.fold.index + 1),
                    FormatTimestamp(f.fold.train_start).substr(0, 10) + ".." + FormatTimestamp(f.fold.train_end).substr(0, 10),
                    FormatTimestamp(f.fold.test_start).substr(0, 10) + ".." + FormatTimestamp(f.fold.test_end).substr(0, 10),
                    std::to_string(f.train_rows), std::to_string(f.test_rows), std::to_string(f.test_positives),
                    Cell(pick(f, "roc_auc")), Cell(pick(f, "average_precision")), Cell(pick(f, "recall_at_fpr")),
                    Cell(pick(f, "log_loss"))});
    }
    folds.Print(stdout);
    fmt::print("\n");
  }
  fmt::print("best trial   {} ({} = {})\n", r.best_trial + 1, key, Cell(best.selection));
  fmt::print("final model  {} rounds; decision: challenge ≥ {:.4f}, block ≥ {:.4f}\n", r.final_rounds,
             r.decision.challenge_threshold, r.decision.block_threshold);
  for (const std::string& note : r.decision_notes) fmt::print("             {}\n", note);
  fmt::print("run          {} (experiment {}), {:.1f} s\n", r.run_id, r.experiment_id, r.seconds);
  fmt::print("model        {}\nreport       {}\n", r.model_dir, r.report_path);
  if (r.registered) {
    fmt::print("registered   models:/{}/{}  (promote: gyre models alias {} champion {})\n", r.registered->name,
               r.registered->version, r.registered->name, r.registered->version);
  }
}

Status Train(const TrainFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(train::ExperimentConfig config, train::LoadExperiment(flags.experiment));
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry registry, features::FeatureRegistry::LoadForWorkspace(ws.root(), ""));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, services::WorkspaceServices::Open(ws, {.serve = false}));
  train::TrainOptions options;
  options.workspace_root = ws.root();
  options.register_name = flags.register_name;
  options.threads = flags.threads;
  if (const char* user = std::getenv("GYRE_USER"); user != nullptr && *user) options.user = user;
  if (!flags.quiet) options.progress = [](const std::string& line) { fmt::print(stderr, "{}\n", line); };
  GYRE_ASSIGN_OR_RETURN(train::TrainResult result, train::RunExperiment(config, registry, app->tracking(), app->artifacts(),
                                                                        &app->registry(), options));
  PrintResult(result);
  return Status::OK();
}

}  // namespace

void AddTrainCommand(CLI::App& root) {
  auto flags = std::make_shared<TrainFlags>();
  auto* cmd = root.add_subcommand(
      "train", "Train from an experiment YAML: search, walk-forward backtest, final model, package, tracking");
  cmd->add_option("experiment", flags->experiment, "Experiment YAML, e.g. experiments/ato_xgboost.yaml")->required();
  cmd->add_option("--workspace,-w", flags->workspace, "Workspace folder")->capture_default_str();
  cmd->add_option("--register", flags->register_name, "Create a registry version of this model name");
  cmd->add_option("--threads", flags->threads, "Threads for trials and folds (default: the experiment's, else all cores)");
  cmd->add_flag("--quiet,-q", flags->quiet, "No progress lines on stderr");
  SetAction(cmd, [flags] { return Train(*flags); });
}

}  // namespace gyre::cli
