#include "train/trainer.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <random>
#include <nlohmann/json.hpp>
#include <thread>

#include "core/csv_writer.h"
#include "core/time.h"
#include "train/evaluation.h"
#include "train/publish.h"

namespace gyre::train {
namespace {

using Clock = std::chrono::steady_clock;
using Metrics = std::vector<std::pair<std::string, double>>;

// Everything one (trial, fold) task produces.
struct TaskOutput {
  FoldResult result;  // started_ms / ended_ms bracket the fit and the evaluation
  std::vector<float> scores;  // test scores, in FoldData::test order
  std::unique_ptr<Scorer> scorer;
  FoldEvaluation evaluation;
};

void Aggregate(TrialResult& trial) {
  if (trial.folds.empty()) return;
  for (const auto& [key, ignored] : trial.folds[0].metrics) {
    double sum = 0, sq = 0;
    int n = 0;
    for (const FoldResult& f : trial.folds) {
      double v = f.Metric(key);
      if (std::isnan(v)) continue;
      sum += v;
      sq += v * v;
      ++n;
    }
    if (n == 0) continue;
    double mean = sum / n;
    // Sample standard deviation: the folds are a sample of the periods the model will meet.
    double var = n > 1 ? std::max(0.0, (sq - n * mean * mean) / (n - 1)) : 0.0;
    trial.mean.emplace_back(key, mean);
    trial.stddev.emplace_back(key, std::sqrt(var));
  }
}

// Permutation importance on one fold's test rows: the drop in ROC AUC when a feature's column is shuffled.
Metrics PermutationImportance(const Scorer& scorer, const DenseMatrix& test, const std::vector<std::string>& names,
                              uint64_t seed) {
  const int64_t kMaxRows = 50000;
  int64_t n = std::min(test.rows, kMaxRows);
  std::vector<double> labels(test.label.begin(), test.label.begin() + n);
  std::vector<float> x(test.x.begin(), test.x.begin() + n * test.cols), scores(n);
  scorer.ScoreBatch(x.data(), n, scores.data());
  auto auc = [&](const std::vector<float>& s) {
    std::vector<double> d(s.begin(), s.end());
    auto r = RocAucOf(labels, d);
    return r.ok() ? *r : std::nan("");
  };
  double base = auc(scores);
  Metrics out;
  std::mt19937_64 rng(seed);
  std::vector<int64_t> perm(n);
  for (int f = 0; f < test.cols; ++f) {
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    std::shuffle(perm.begin(), perm.end(), rng);
    std::vector<float> shuffled = x;
    for (int64_t i = 0; i < n; ++i) shuffled[i * test.cols + f] = x[perm[i] * test.cols + f];
    scorer.ScoreBatch(shuffled.data(), n, scores.data());
    out.emplace_back(names[f], base - auc(scores));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

// Early stopping watches the validation log loss whatever the selection metric: ranking metrics (aucpr, auc)
// computed on a validation slice with a few dozen positives jump around and stopped fraud models after
// 4–13 rounds on the demo data; log loss moves smoothly with every positive and negative.
std::string EvalMetricFor(const std::string&) { return "logloss"; }

class RunLogger {
 public:
  RunLogger(tracking::TrackingStore& tracking, tracking::ArtifactStore& artifacts, std::string experiment_id,
            std::string user)
      : tracking_(tracking), artifacts_(artifacts), experiment_id_(std::move(experiment_id)), user_(std::move(user)) {}

  // Runs are recorded after the work they describe (all at the end), so their times are given, not "now".
  Result<tracking::Run> Start(const std::string& name, const std::string& parent, std::vector<tracking::Tag> tags,
                              int64_t start_ms) {
    tracking::CreateRunRequest req;
    req.start_time = start_ms;
    req.experiment_id = experiment_id_;
    req.user_id = user_;
    req.run_name = name;
    tags.push_back({"mlflow.source.name", "gyre train"});
    tags.push_back({"mlflow.source.type", "LOCAL"});
    if (!parent.empty()) tags.push_back({"mlflow.parentRunId", parent});
    req.tags = std::move(tags);
    return tracking_.CreateRun(req);
  }

  Status Log(const std::string& run_id, const Metrics& metrics, const ParamSet& params, int64_t step = 0) {
    std::vector<tracking::Metric> m;
    int64_t now = NowMillis();
    for (const auto& [k, v] : metrics) {
      if (std::isfinite(v)) m.push_back({k, v, now, step});
    }
    std::vector<tracking::Param> p;
    for (const auto& [k, v] : params) p.push_back({k, v});
    // MLflow's batch limits: 1000 metrics, 100 params per call.
    for (size_t i = 0; i < std::max(m.size(), p.size()); i += 100) {
      std::vector<tracking::Metric> mb(m.begin() + std::min(i, m.size()), m.begin() + std::min(i + 100, m.size()));
      std::vector<tracking::Param> pb(p.begin() + std::min(i, p.size()), p.begin() + std::min(i + 100, p.size()));
      GYRE_RETURN_IF_ERROR(tracking_.LogBatch(run_id, mb, pb, {}));
    }
    return Status::OK();
  }

  Status Finish(const std::string& run_id, bool ok, int64_t end_ms) {
    tracking::UpdateRunRequest req;
    req.run_id = run_id;
    req.status = ok ? tracking::RunStatus::kFinished : tracking::RunStatus::kFailed;
    req.end_time = end_ms;
    return tracking_.UpdateRun(req).status();
  }

  Status Put(const tracking::Run& run, const std::string& path, std::string_view bytes) {
    GYRE_ASSIGN_OR_RETURN(std::string root, tracking::ArtifactPathOf(run.info.artifact_uri));
    return artifacts_.Put(root + "/" + path, bytes);
  }
  Result<std::string> LocalPath(const tracking::Run& run, const std::string& path) {
    GYRE_ASSIGN_OR_RETURN(std::string root, tracking::ArtifactPathOf(run.info.artifact_uri));
    return artifacts_.Resolve(path.empty() ? root : root + "/" + path);
  }

 private:
  tracking::TrackingStore& tracking_;
  tracking::ArtifactStore& artifacts_;
  std::string experiment_id_;
  std::string user_;
};

Result<std::string> ExperimentId(tracking::TrackingStore& tracking, const ExperimentConfig& config) {
  auto existing = tracking.GetExperimentByName(config.name);
  if (existing.ok()) return existing->experiment_id;
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();
  std::vector<tracking::Tag> tags;
  if (!config.description.empty()) tags.push_back({"mlflow.note.content", config.description});
  return tracking.CreateExperiment(config.name, "", tags);
}

// The best trial's out-of-fold test predictions: what `gyre evaluate` reads.
std::string PredictionsCsv(const TrainingData& data, const std::vector<FoldData>& folds,
                                   const std::vector<const TaskOutput*>& best) {
  std::string out = "key,time,fold,label,score\n";
  for (size_t k = 0; k < folds.size(); ++k) {
    const FoldData& f = folds[k];
    for (size_t i = 0; i < f.test_rows.size(); ++i) {
      int64_t row = f.test_rows[i];
      fmt::format_to(std::back_inserter(out), "{},{},{},{:g},{:.9g}\n", data.keys[row], FormatTimestamp(data.time[row]),
                     k + 1, f.test.label[i], best[k]->scores[i]);
    }
  }
  return out;
}

}  // namespace

double FoldResult::Metric(std::string_view key) const { return MetricValue(metrics, key); }

Result<registry::ModelVersion> RegisterTrainedModel(registry::RegistryStore& models, const std::string& name,
                                                    const ExperimentConfig& config, const TrainResult& result,
                                                    const std::string& user) {
  PackageVersionRequest request;
  request.name = name;
  request.model_description = config.description;
  request.user = user;
  registry::CreateModelVersionRequest& req = request.version;
  req.source = result.artifact_uri + "/model";
  req.run_id = result.run_id;
  const TrialResult& best = result.trials[result.best_trial];
  req.description = fmt::format("{} from experiment '{}' on {} rows; {} = {:.4f} over {} folds",
                                ModelTypeName(config.model.type), config.name, result.final_rows, config.metric,
                                best.selection, best.folds.size());
  req.lineage.training_data_fingerprint = result.fingerprint;
  req.lineage.feature_set = config.feature_set;
  req.lineage.code_version = "gyre";
  req.tags.push_back({"gyre.model_type", std::string(ModelTypeName(config.model.type))});
  req.tags.push_back({"gyre.experiment", config.name});
  return RegisterPackageVersion(models, std::move(request));
}

Result<TrainResult> RunExperiment(const ExperimentConfig& config, const features::FeatureRegistry& registry,
                                  tracking::TrackingStore& tracking, tracking::ArtifactStore& artifacts,
                                  registry::RegistryStore* models, const TrainOptions& options) {
  auto started = Clock::now();
  // The parent run's start: tracking records runs in wall-clock milliseconds, and the parent is only created
  // once the work is done, so its start must be taken now to span the whole job.
  const int64_t started_ms = NowMillis();
  auto progress = [&](const std::string& line) {
    if (options.progress) options.progress(line);
  };
  int threads = options.threads > 0 ? options.threads : config.threads;
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));

  // 1. Data and every check that needs it, before any fitting.
  progress(fmt::format("loading feature set '{}'", config.feature_set));
  GYRE_ASSIGN_OR_RETURN(TrainingData data, LoadTrainingData(registry, config, options.workspace_root, threads));
  TimestampMicros start = config.start.value_or(data.time.front());
  TimestampMicros end = config.end.value_or(data.time.back() + 1);
  std::vector<Fold> folds;
  std::vector<FoldData> fold_data;
  if (config.backtest.folds > 0) {
    GYRE_ASSIGN_OR_RETURN(folds, MakeFolds(config.backtest, start, end));
    for (const Fold& f : folds) {
      GYRE_ASSIGN_OR_RETURN(FoldData fd, BuildFoldData(data, config, f.train_start, f.train_end, f.cutoff(),
                                                       f.test_start, f.test_end,
                                                       fmt::format("backtest fold {}/{}", f.index + 1, folds.size())));
      fold_data.push_back(std::move(fd));
    }
  }
  GYRE_ASSIGN_OR_RETURN(FoldData final_data,
                        BuildFoldData(data, config, start, end, end, end, end, "the final model's training data"));
  std::vector<ParamSet> param_sets = ExpandSearch(config.model, config.search);
  TrainResult result;
  result.fingerprint = data.fingerprint;
  result.rows = data.rows;
  for (float l : data.final_label) result.positives += l > 0;
  result.selection_metric = config.metric;
  result.selection_key = SelectionKey(config);
  progress(fmt::format("{} rows ({} positive) from {} to {}, {} features; {} trial(s) × {} fold(s)", data.rows,
                       result.positives, FormatTimestamp(start), FormatTimestamp(end), data.features(),
                       param_sets.size(), folds.size()));

  // 2. Every (trial, fold) in parallel; each fit gets its share of the threads.
  const size_t tasks = param_sets.size() * folds.size();
  std::vector<TaskOutput> outputs(tasks);
  std::vector<Status> errors(tasks);
  if (tasks > 0) {
    int workers = static_cast<int>(std::min<size_t>(static_cast<size_t>(threads), tasks));
    int per_fit = std::max(1, threads / workers);
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex progress_mu;
    auto work = [&] {
      for (size_t t; !failed && (t = next.fetch_add(1)) < tasks;) {
        size_t trial = t / folds.size(), k = t % folds.size();
        const FoldData& fd = fold_data[k];
        const int64_t task_started = NowMillis();
        FitOptions fit_options{per_fit, config.seed, EvalMetricFor(config.metric)};
        auto fitted = FitModel(config.model, param_sets[trial], data.feature_names, fd.fit,
                               fd.validation.rows > 0 ? &fd.validation : nullptr, fit_options);
        if (!fitted.ok()) {
          errors[t] = fitted.status();
          failed = true;
          return;
        }
        TaskOutput& out = outputs[t];
        out.scores.resize(fd.test.rows);
        fitted->scorer->ScoreBatch(fd.test.x.data(), fd.test.rows, out.scores.data());
        auto evaluation = EvaluateFold(fd.test.label, out.scores, fd.test_time, config.evaluation);
        if (!evaluation.ok()) {
          errors[t] = evaluation.status();
          failed = true;
          return;
        }
        out.evaluation = std::move(*evaluation);
        FoldResult& r = out.result;
        r.fold = folds[k];
        r.train_rows = fd.fit.rows;
        r.validation_rows = fd.validation.rows;
        r.test_rows = fd.test.rows;
        for (float l : fd.test.label) r.test_positives += l > 0;
        r.dropped_unlabeled = fd.dropped_unlabeled;
        r.rounds = fitted->rounds;
        r.metrics = out.evaluation.metrics;
        r.started_ms = task_started;
        r.ended_ms = NowMillis();
        out.scorer = std::move(fitted->scorer);
        std::lock_guard lock(progress_mu);
        progress(fmt::format("trial {}/{} fold {}/{}: {} = {:.4f} ({} rounds)", trial + 1, param_sets.size(), k + 1,
                             folds.size(), config.metric, MetricValue(r.metrics, result.selection_key), r.rounds));
      }
    };
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w) pool.emplace_back(work);
    for (auto& th : pool) th.join();
    for (const Status& s : errors) GYRE_RETURN_IF_ERROR(s);
  }

  // 3. Trials ranked by the selection metric's mean over folds.
  const std::string& selection_key = result.selection_key;
  const bool lower_better = LowerIsBetter(config.metric);
  for (size_t trial = 0; trial < param_sets.size(); ++trial) {
    TrialResult tr;
    tr.index = static_cast<int>(trial);
    tr.params = param_sets[trial];
    for (size_t k = 0; k < folds.size(); ++k) tr.folds.push_back(outputs[trial * folds.size() + k].result);
    Aggregate(tr);
    tr.selection = MetricValue(tr.mean, selection_key);
    result.trials.push_back(std::move(tr));
  }
  for (size_t t = 1; t < result.trials.size(); ++t) {
    double a = result.trials[t].selection, b = result.trials[result.best_trial].selection;
    if (!std::isnan(a) && (std::isnan(b) || (lower_better ? a < b : a > b))) result.best_trial = static_cast<int>(t);
  }
  const TrialResult& best = result.trials[result.best_trial];
  std::vector<const TaskOutput*> best_outputs;
  for (size_t k = 0; k < folds.size(); ++k) best_outputs.push_back(&outputs[result.best_trial * folds.size() + k]);

  // 4. The final model: the best parameters on the whole range, labels as known at its end.
  progress(fmt::format("final model on {} rows with trial {}'s parameters", final_data.fit.rows + final_data.validation.rows,
                       result.best_trial + 1));
  FitOptions final_options{threads, config.seed, EvalMetricFor(config.metric)};
  GYRE_ASSIGN_OR_RETURN(FittedModel final_model,
                        FitModel(config.model, best.params, data.feature_names, final_data.fit,
                                 final_data.validation.rows > 0 ? &final_data.validation : nullptr, final_options));
  result.final_rounds = final_model.rounds;
  result.final_rows = final_data.fit.rows + final_data.validation.rows;

  // 5. Decision bands from the most recent fold (or fixed in the experiment).
  if (!best_outputs.empty()) {
    result.decision = DecideBands(fold_data.back().test.label, best_outputs.back()->scores,
                                  best_outputs.back()->evaluation, config, &result.decision_notes);
  } else {
    result.decision = DecideBands({}, {}, FoldEvaluation{}, config, &result.decision_notes);
  }
  for (const std::string& note : result.decision_notes) progress("decision: " + note);

  // 6. The package: descriptor with reference statistics on the time-latest slice, the model file, MLmodel.
  const DenseMatrix& reference = final_data.validation.rows > 0 ? final_data.validation : final_data.fit;
  models::PackageDescriptor descriptor;
  descriptor.flavor = std::string(ModelTypeName(config.model.type));
  descriptor.model_file = final_model.file_name;
  descriptor.objective = "binary:logistic";
  descriptor.feature_names = data.feature_names;
  descriptor.feature_types.assign(data.feature_names.size(), "float32");
  descriptor.feature_set = config.feature_set;
  descriptor.decision = result.decision;
  descriptor.experiment = config.name;
  descriptor.data_fingerprint = data.fingerprint;
  descriptor.training_rows = final_data.fit.rows + final_data.validation.rows;
  for (float l : final_data.fit.label) descriptor.training_positives += l > 0;
  for (float l : final_data.validation.label) descriptor.training_positives += l > 0;
  descriptor.time_start = FormatTimestamp(start);
  descriptor.time_end = FormatTimestamp(end);
  descriptor.params = best.params;
  if (config.model.type == ModelType::kXGBoost) {
    descriptor.params.emplace_back("num_boost_round", std::to_string(final_model.rounds));
  }
  for (int f = 0; f < data.features(); ++f) {
    std::vector<double> column(reference.rows);
    for (int64_t i = 0; i < reference.rows; ++i) column[i] = reference.row(i)[f];
    descriptor.reference_features.push_back(models::Summarize(data.feature_names[f], std::move(column)));
  }
  std::vector<float> reference_scores(reference.rows);
  final_model.scorer->ScoreBatch(reference.x.data(), reference.rows, reference_scores.data());
  descriptor.reference_score = models::Summarize("score", {reference_scores.begin(), reference_scores.end()});
  descriptor.created_at_ms = NowMillis();

  // 7. Tracking: parent, trials, folds; artifacts on the parent.
  GYRE_ASSIGN_OR_RETURN(result.experiment_id, ExperimentId(tracking, config));
  RunLogger logger(tracking, artifacts, result.experiment_id, options.user);
  GYRE_ASSIGN_OR_RETURN(tracking::Run parent,
                        logger.Start(config.name, "",
                                     {{"gyre.data_fingerprint", data.fingerprint},
                                      {"gyre.feature_set", config.feature_set},
                                      {"gyre.model_type", std::string(ModelTypeName(config.model.type))},
                                      {"gyre.selection_metric", config.metric}},
                                     started_ms));
  result.run_id = parent.info.run_id;
  descriptor.run_id = parent.info.run_id;
  Status logged = [&]() -> Status {
    tracking::DatasetInput input;
    input.dataset.name = config.feature_set;
    input.dataset.digest = data.fingerprint.substr(0, 8);
    input.dataset.source_type = "gyre.feature_set";
    input.dataset.source = data.source;
    nlohmann::json schema = {{"features", data.feature_names}};
    input.dataset.schema = schema.dump();
    input.dataset.profile = nlohmann::json{{"rows", data.rows}, {"positives", result.positives}}.dump();
    input.tags.push_back({"mlflow.data.context", "training"});
    GYRE_RETURN_IF_ERROR(tracking.LogInputs(parent.info.run_id, {input}));
    for (TrialResult& trial : result.trials) {
      // A trial is its folds: from the first one's start to the last one's end.
      int64_t trial_start = started_ms, trial_end = started_ms;
      if (!trial.folds.empty()) {
        trial_start = trial.folds.front().started_ms;
        trial_end = trial.folds.front().ended_ms;
        for (const FoldResult& f : trial.folds) {
          trial_start = std::min(trial_start, f.started_ms);
          trial_end = std::max(trial_end, f.ended_ms);
        }
      }
      GYRE_ASSIGN_OR_RETURN(tracking::Run run,
                            logger.Start(fmt::format("{}-trial-{}", config.name, trial.index + 1), parent.info.run_id,
                                         {{"gyre.trial", std::to_string(trial.index + 1)}}, trial_start));
      trial.run_id = run.info.run_id;
      Metrics summary;
      for (const auto& [k, v] : trial.mean) summary.emplace_back(k + "_mean", v);
      for (const auto& [k, v] : trial.stddev) summary.emplace_back(k + "_std", v);
      GYRE_RETURN_IF_ERROR(logger.Log(run.info.run_id, summary, trial.params));
      for (const FoldResult& f : trial.folds) {
        GYRE_RETURN_IF_ERROR(logger.Log(run.info.run_id, {{"fold_" + selection_key, f.Metric(selection_key)}}, {},
                                        f.fold.index + 1));
        GYRE_ASSIGN_OR_RETURN(tracking::Run fold_run,
                              logger.Start(fmt::format("{}-trial-{}-fold-{}", config.name, trial.index + 1, f.fold.index + 1),
                                           run.info.run_id, {{"gyre.fold", std::to_string(f.fold.index + 1)}},
                                           f.started_ms));
        ParamSet fold_params = trial.params;
        fold_params.emplace_back("train_start", FormatTimestamp(f.fold.train_start));
        fold_params.emplace_back("train_end", FormatTimestamp(f.fold.train_end));
        fold_params.emplace_back("test_start", FormatTimestamp(f.fold.test_start));
        fold_params.emplace_back("test_end", FormatTimestamp(f.fold.test_end));
        fold_params.emplace_back("label_cutoff", FormatTimestamp(f.fold.cutoff()));
        Metrics fold_metrics = f.metrics;
        fold_metrics.emplace_back("train_rows", static_cast<double>(f.train_rows));
        fold_metrics.emplace_back("validation_rows", static_cast<double>(f.validation_rows));
        fold_metrics.emplace_back("test_rows", static_cast<double>(f.test_rows));
        fold_metrics.emplace_back("test_positives", static_cast<double>(f.test_positives));
        fold_metrics.emplace_back("rounds", f.rounds);
        GYRE_RETURN_IF_ERROR(logger.Log(fold_run.info.run_id, fold_metrics, fold_params));
        GYRE_RETURN_IF_ERROR(logger.Finish(fold_run.info.run_id, true, f.ended_ms));
      }
      GYRE_RETURN_IF_ERROR(logger.Finish(run.info.run_id, true, trial_end));
    }

    ParamSet parent_params = best.params;
    parent_params.emplace_back("model_type", std::string(ModelTypeName(config.model.type)));
    parent_params.emplace_back("feature_set", config.feature_set);
    parent_params.emplace_back("folds", std::to_string(folds.size()));
    parent_params.emplace_back("trials", std::to_string(result.trials.size()));
    parent_params.emplace_back("final_rounds", std::to_string(final_model.rounds));
    Metrics parent_metrics;
    for (const auto& [k, v] : best.mean) parent_metrics.emplace_back(k + "_mean", v);
    for (const auto& [k, v] : best.stddev) parent_metrics.emplace_back(k + "_std", v);
    parent_metrics.emplace_back("challenge_threshold", result.decision.challenge_threshold);
    parent_metrics.emplace_back("block_threshold", result.decision.block_threshold);
    parent_metrics.emplace_back("training_rows", static_cast<double>(descriptor.training_rows));
    GYRE_RETURN_IF_ERROR(logger.Log(parent.info.run_id, parent_metrics, parent_params));

    GYRE_RETURN_IF_ERROR(logger.Put(parent, "experiment.yaml", config.yaml));
    GYRE_RETURN_IF_ERROR(UploadPackage(
        artifacts, parent.info.artifact_uri, "model",
        models::PackageFiles(descriptor, final_model.file_bytes, models::XGBoostVersionString())));
    if (!folds.empty()) {
      GYRE_RETURN_IF_ERROR(logger.Put(parent, "predictions.csv", PredictionsCsv(data, fold_data, best_outputs)));
    }

    // The report: the best trial's folds, curves and importances.
    ReportInputs inputs;
    inputs.config = &config;
    inputs.data = &data;
    inputs.result = &result;
    inputs.folds = &fold_data;
    for (const TaskOutput* o : best_outputs) {
      inputs.best_fold_evaluations.push_back(&o->evaluation);
      inputs.best_fold_scores.push_back(&o->scores);
    }
    inputs.gain_importance = final_model.gain_importance;
    if (!best_outputs.empty()) {
      inputs.permutation_importance =
          PermutationImportance(*best_outputs.back()->scorer, fold_data.back().test, data.feature_names, config.seed);
    }
    GYRE_RETURN_IF_ERROR(logger.Put(parent, "report.html", RenderTrainingReport(inputs)));
    return Status::OK();
  }();

  // 8. The registry version, with lineage back to this run and its data. The parent run ends after it, so
  // its span is the whole job; a failed registration is the command's error, but the run itself is complete.
  Status registered = Status::OK();
  if (logged.ok()) {
    registered = [&]() -> Status {
      GYRE_ASSIGN_OR_RETURN(result.artifact_root, logger.LocalPath(parent, ""));
      result.artifact_uri = parent.info.artifact_uri;
      result.model_dir = result.artifact_root + "/model";
      result.report_path = result.artifact_root + "/report.html";
      if (!options.register_name.empty() && models != nullptr) {
        GYRE_ASSIGN_OR_RETURN(result.registered,
                              RegisterTrainedModel(*models, options.register_name, config, result, options.user));
      }
      return Status::OK();
    }();
  }
  GYRE_RETURN_IF_ERROR(logger.Finish(parent.info.run_id, logged.ok(), NowMillis()));
  GYRE_RETURN_IF_ERROR(logged);
  GYRE_RETURN_IF_ERROR(registered);
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

}  // namespace gyre::train
