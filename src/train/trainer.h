// RunExperiment: `gyre train EXPERIMENT.yaml` end to end — the training data as of each cutoff, every
// trial of the search on every walk-forward fold (trials and folds in parallel), the best trial chosen by
// the selection metric's mean over folds, the final model refitted on the whole range, its package
// (models/model_package.h), an HTML report, and all of it recorded in tracking; optionally a registry version.
//
// Runs in tracking (MLflow's nesting, tag mlflow.parentRunId):
//   <name>                  the parent: the chosen params, the best trial's fold means and spreads, the data
//                           fingerprint, artifacts experiment.yaml, model/ (the package), report.html,
//                           predictions.csv (the best trial's out-of-fold test scores)
//     trial-<i>             one per parameter set: params, <metric>_mean / <metric>_std, per-fold values as steps
//       trial-<i>-fold-<k>  one per fold: fold boundaries, row counts, every metric
// Each run's start and end are when its work happened, not when it was recorded: the parent spans the whole
// job (reading the data to registering the model), a fold run its fit and evaluation, a trial run its folds
// (which run in parallel with other trials' folds, so trial spans overlap).
//
// Decision bands are scores, and both model types score probabilities in [0, 1]. A band derived from the most
// recent fold that no score could reach (no threshold meets block_fpr; flagging nothing is cheapest) is set
// to 1, "off", and TrainResult::decision_notes says why and what to change; so does any derived band clamped
// into [0, 1].
//
// Every check that needs the data happens before the first model is fitted (dataset.h, backtest.h).
// Not thread-safe with itself on the same stores; the stores themselves are.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "features/definitions.h"
#include "models/model_package.h"
#include "registry/registry_store.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"
#include "train/backtest.h"
#include "train/experiment.h"

namespace gyre::train {

struct TrainOptions {
  std::string workspace_root;
  std::string register_name;  // non-empty: create a registry version of this model
  int threads = 0;            // 0: the experiment's setting, else the machine's cores
  std::string user = "gyre";
  // Progress lines for the terminal ("fold 2/4 of trial 3: ..."); may be empty.
  std::function<void(const std::string&)> progress;
};

struct FoldResult {
  Fold fold;
  int64_t train_rows = 0, validation_rows = 0, test_rows = 0, test_positives = 0, dropped_unlabeled = 0;
  int rounds = 0;
  std::vector<std::pair<std::string, double>> metrics;
  // Wall-clock milliseconds (as tracking records runs) around this fold's fit and evaluation.
  int64_t started_ms = 0, ended_ms = 0;
  double Metric(std::string_view key) const;  // NaN when absent
};

struct TrialResult {
  int index = 0;
  ParamSet params;
  std::vector<FoldResult> folds;
  std::vector<std::pair<std::string, double>> mean, stddev;  // over folds, per metric key
  double selection = 0;  // mean of the selection metric
  std::string run_id;
};

struct TrainResult {
  std::string experiment_id, run_id;
  std::string artifact_uri;   // the parent run's artifact URI (mlflow-artifacts:/...)
  std::string artifact_root;  // the parent run's artifact folder on disk
  std::string model_dir;      // <artifact_root>/model
  std::string report_path;    // <artifact_root>/report.html
  std::string fingerprint;
  int64_t rows = 0, positives = 0;
  std::vector<TrialResult> trials;
  int best_trial = 0;
  std::string selection_metric;  // as the experiment names it, e.g. recall_at_fpr
  std::string selection_key;     // its metric key, e.g. recall_at_fpr_0.01
  models::DecisionPolicy decision;
  // One sentence per band that is not simply derived as documented: switched off (1) because no score could
  // reach it, clamped into [0, 1], or raised to the challenge band. Empty when both bands are plain. Also in
  // report.html; a caller printing the bands should print these beside them.
  std::vector<std::string> decision_notes;
  int final_rounds = 0;
  int64_t final_rows = 0;
  std::optional<registry::ModelVersion> registered;
  double seconds = 0;
};

// A registry version of a finished experiment's model (RunExperiment calls it for --register): the source is the
// package under the parent run's artifacts; lineage names the run, the data fingerprint and the feature set.
// Creates the registered model on first use.
Result<registry::ModelVersion> RegisterTrainedModel(registry::RegistryStore& models, const std::string& name,
                                                    const ExperimentConfig& config, const TrainResult& result,
                                                    const std::string& user);

Result<TrainResult> RunExperiment(const ExperimentConfig& config, const features::FeatureRegistry& registry,
                                  tracking::TrackingStore& tracking, tracking::ArtifactStore& artifacts,
                                  registry::RegistryStore* models, const TrainOptions& options);

}  // namespace gyre::train
