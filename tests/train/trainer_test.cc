// End to end: a small workspace with a planted signal and a planted drift, trained by RunExperiment with real
// libxgboost, real tracking and registry stores on SQLite, and real artifacts on disk. Also the label policy
// (labels as known at a cutoff, maturity) and the errors raised before any training.
#include "train/trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/csv_reader.h"
#include "models/model_package.h"
#include "models/tree_ensemble.h"
#include "store/database.h"
#include "tests/features/testing_util.h"
#include "train/dataset.h"
#include "train/evaluation.h"

namespace gyre::train {
namespace {

using features::testing::TempDir;
using features::testing::WriteTextFile;

const char* kFeatures = R"(entities:
  user: {keys: [user_id]}
sources:
  events: {path: events.csv, timestamp: time}
groups:
  user_events:
    entity: user
    source: events
    features:
      user_failures: {agg: count, filter: "not success", windows: [1h]}
      user_events: {agg: count, windows: [24h]}
derived:
  amount_now: {source: events, expr: "amount"}
  noise_now: {source: events, expr: "noise"}
feature_sets:
  risk:
    source: events
    features: [user_failures_1h, user_events_24h, amount_now, noise_now]
    label: {path: labels.csv, key: event_id, column: label, default: 0}
)";

// 16 days of events for 300 users. Fraud is likely for large amounts until `drift_day`, after which fraud
// moves to small amounts — so a model trained on the past does worse on folds after the drift. Labels
// arrive 0–3 days after the event.
void WriteWorkspace(const std::string& dir, int drift_day, bool constant_label = false) {
  std::mt19937_64 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  std::ostringstream events, labels;
  events << "event_id,time,user_id,success,amount,noise\n";
  labels << "event_id,label,labeled_at\n";
  TimestampMicros start = *ParseTimestamp("2026-03-01");
  int64_t id = 0;
  for (int day = 0; day < 16; ++day) {
    for (int i = 0; i < 1500; ++i) {
      TimestampMicros t = start + day * kMicrosPerDay + static_cast<TimestampMicros>(u(rng) * kMicrosPerDay);
      double amount = std::floor(u(rng) * 1000);
      bool fraud_zone = day < drift_day ? amount > 850 : amount < 150;
      bool fraud = !constant_label && u(rng) < (fraud_zone ? 0.5 : 0.01);
      events << ++id << "," << FormatTimestamp(t) << ",u" << static_cast<int>(u(rng) * 300) << ","
             << (u(rng) < 0.9 ? "true" : "false") << "," << amount << "," << u(rng) << "\n";
      // Every fraud gets a label; a share of legitimate events is reviewed too.
      if (fraud || u(rng) < 0.05) {
        TimestampMicros labeled = t + static_cast<TimestampMicros>(u(rng) * 3 * kMicrosPerDay);
        labels << id << "," << (fraud ? 1 : 0) << "," << FormatTimestamp(labeled) << "\n";
      }
    }
  }
  WriteTextFile(dir + "/events.csv", events.str());
  WriteTextFile(dir + "/labels.csv", labels.str());
  WriteTextFile(dir + "/features.yaml", kFeatures);
}

const char* kExperiment = R"(name: risk_xgb
feature_set: risk
time_range: {start: 2026-03-01, end: 2026-03-17}
labels: {labeled_at: labeled_at, unlabeled: default, maturity: 1d}
model:
  type: xgboost
  params: {max_depth: 3}
  num_boost_round: 40
  early_stopping_rounds: 5
search:
  method: grid
  space: {eta: [0.1, 0.3]}
backtest: {folds: 4, test_window: 2d, gap: 1d}
metric: roc_auc
evaluation: {fpr: 0.05, alerts_per_day: 20, cost: {false_negative: 100, false_positive: 1}}
threads: 2
)";

class TrainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = store::Database::Open("sqlite", dir_.File("state"));
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
    auto t = tracking::TrackingStore::Open(db_.get(), "mlflow-artifacts:");
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    tracking_ = std::move(*t);
    auto r = registry::RegistryStore::Open(db_.get());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(*r);
    auto a = tracking::ArtifactStore::Open(dir_.File("artifacts"));
    ASSERT_TRUE(a.ok());
    artifacts_ = std::make_unique<tracking::ArtifactStore>(std::move(*a));
  }

  Result<TrainResult> Train(const std::string& yaml, int drift_day, const std::string& register_name = "",
                            bool constant_label = false) {
    WriteWorkspace(dir_.File("ws"), drift_day, constant_label);
    GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry reg,
                          features::FeatureRegistry::Load(dir_.File("ws/features.yaml"), dir_.File("ws")));
    GYRE_ASSIGN_OR_RETURN(ExperimentConfig config, ParseExperiment(yaml, "exp.yaml"));
    TrainOptions options;
    options.workspace_root = dir_.File("ws");
    options.register_name = register_name;
    return RunExperiment(config, reg, *tracking_, *artifacts_, registry_.get(), options);
  }

  TempDir dir_;
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<registry::RegistryStore> registry_;
  std::unique_ptr<tracking::ArtifactStore> artifacts_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST_F(TrainerTest, BacktestsSearchesPackagesRecordsAndRegisters) {
  auto r = Train(kExperiment, /*drift_day=*/100, "risk");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->trials.size(), 2u);
  for (const TrialResult& t : r->trials) {
    ASSERT_EQ(t.folds.size(), 4u);
    for (const FoldResult& f : t.folds) {
      // The planted signal (amount > 850 → 50% fraud, else 1%) is learnable: AUC well above chance.
      EXPECT_GT(f.Metric("roc_auc"), 0.85) << "trial " << t.index << " fold " << f.fold.index;
      EXPECT_GT(f.test_rows, 2500);
      EXPECT_GT(f.train_rows, f.test_rows);
    }
  }
  const TrialResult& best = r->trials[r->best_trial];
  for (const TrialResult& t : r->trials) EXPECT_GE(best.selection, t.selection);

  // The package: descriptor, model file loadable by the runtime, MLflow descriptor.
  auto descriptor = models::LoadDescriptor(r->model_dir);
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  EXPECT_EQ(descriptor->flavor, "xgboost");
  EXPECT_EQ(descriptor->feature_names,
            (std::vector<std::string>{"user_failures_1h", "user_events_24h", "amount_now", "noise_now"}));
  EXPECT_EQ(descriptor->data_fingerprint, r->fingerprint);
  EXPECT_EQ(descriptor->run_id, r->run_id);
  ASSERT_EQ(descriptor->reference_features.size(), 4u);
  ASSERT_TRUE(descriptor->reference_score.has_value());
  EXPECT_GT(descriptor->reference_score->count, 1000);
  EXPECT_LE(descriptor->decision.challenge_threshold, descriptor->decision.block_threshold);
  auto model = models::TreeEnsemble::LoadXGBoostJsonFile(r->model_dir + "/" + descriptor->model_file);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->num_features(), 4);
  float high[4] = {0, 3, 990, 0.5f}, low[4] = {0, 3, 100, 0.5f}, out_high = 0, out_low = 0;
  model->Predict(high, &out_high);
  model->Predict(low, &out_low);
  EXPECT_GT(out_high, 0.2);
  EXPECT_LT(out_low, 0.1);
  EXPECT_NE(ReadFile(r->model_dir + "/MLmodel").find("model_format: json"), std::string::npos);

  // Report and out-of-fold predictions.
  std::string report = ReadFile(r->report_path);
  EXPECT_NE(report.find("<svg"), std::string::npos);
  auto predictions = ReadCsv(r->artifact_root + "/predictions.csv");
  ASSERT_TRUE(predictions.ok()) << predictions.status().ToString();
  int64_t expected_rows = 0;
  for (const FoldResult& f : best.folds) expected_rows += f.test_rows;
  EXPECT_EQ(predictions->table.num_rows(), expected_rows);

  // Tracking: 1 parent + 2 trials + 8 folds, nested by mlflow.parentRunId.
  tracking::SearchRunsRequest search;
  search.experiment_ids = {r->experiment_id};
  search.max_results = 100;
  auto runs = tracking_->SearchRuns(search);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(runs->items.size(), 11u);
  int children_of_parent = 0;
  for (const tracking::Run& run : runs->items) {
    for (const tracking::Tag& tag : run.tags) {
      if (tag.key == "mlflow.parentRunId" && tag.value == r->run_id) ++children_of_parent;
    }
    EXPECT_EQ(run.info.status, tracking::RunStatus::kFinished);
  }
  EXPECT_EQ(children_of_parent, 2);
  auto parent = tracking_->GetRun(r->run_id);
  ASSERT_TRUE(parent.ok());
  bool has_auc_mean = false;
  for (const tracking::Metric& m : parent->metrics) has_auc_mean |= m.key == "roc_auc_mean";
  EXPECT_TRUE(has_auc_mean);
  ASSERT_EQ(parent->inputs.size(), 1u);
  EXPECT_EQ(parent->inputs[0].dataset.name, "risk");

  // Registry: a version with lineage to the run and the data.
  ASSERT_TRUE(r->registered.has_value());
  auto version = registry_->GetModelVersion("risk", r->registered->version);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->run_id, r->run_id);
  EXPECT_EQ(version->lineage.training_data_fingerprint, r->fingerprint);
  EXPECT_EQ(version->lineage.feature_set, "risk");
}

// Runs are recorded at the end of the job, but their times must be when the work happened: the parent spans the
// whole job, each fold its own fit and evaluation. One thread, so the folds run one after another and their
// durations add up to less than the parent's.
TEST_F(TrainerTest, RecordedRunTimesSpanTheWorkTheyDescribe) {
  std::string yaml = kExperiment;
  yaml.replace(yaml.find("search:"), yaml.find("backtest:") - yaml.find("search:"), "");
  yaml.replace(yaml.find("threads: 2"), 10, "threads: 1");
  auto r = Train(yaml, /*drift_day=*/100);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  tracking::SearchRunsRequest search;
  search.experiment_ids = {r->experiment_id};
  search.max_results = 100;
  auto runs = tracking_->SearchRuns(search);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->items.size(), 6u);  // parent, one trial, four folds
  const tracking::RunInfo* parent = nullptr;
  std::vector<const tracking::RunInfo*> trials, folds;
  for (const tracking::Run& run : runs->items) {
    ASSERT_TRUE(run.info.end_time.has_value()) << run.info.run_name;
    if (run.info.run_id == r->run_id) {
      parent = &run.info;
    } else if (run.info.run_name.find("-fold-") != std::string::npos) {
      folds.push_back(&run.info);
    } else {
      trials.push_back(&run.info);
    }
  }
  ASSERT_NE(parent, nullptr);
  ASSERT_EQ(trials.size(), 1u);
  ASSERT_EQ(folds.size(), 4u);
  const int64_t parent_ms = *parent->end_time - parent->start_time;
  // The whole job, give or take the moment between the parent's end and the result's clock reading.
  EXPECT_GE(parent_ms, static_cast<int64_t>(r->seconds * 1000 * 0.9)) << "parent " << parent_ms << " ms";
  EXPECT_LE(parent_ms, static_cast<int64_t>(r->seconds * 1000) + 1);
  int64_t fold_sum = 0;
  for (const tracking::RunInfo* f : folds) {
    const int64_t ms = *f->end_time - f->start_time;
    EXPECT_GT(ms, 0) << f->run_name << " lasted " << ms << " ms";
    EXPECT_GE(f->start_time, parent->start_time) << f->run_name;
    EXPECT_LE(*f->end_time, *parent->end_time) << f->run_name;
    EXPECT_GE(f->start_time, trials[0]->start_time) << f->run_name;
    EXPECT_LE(*f->end_time, *trials[0]->end_time) << f->run_name;
    fold_sum += ms;
  }
  EXPECT_GE(parent_ms, fold_sum);
  // The result carries the same times as tracking.
  for (const FoldResult& f : r->trials[0].folds) {
    std::string name = "risk_xgb-trial-1-fold-" + std::to_string(f.fold.index + 1);
    auto run = std::find_if(folds.begin(), folds.end(), [&](const tracking::RunInfo* i) { return i->run_name == name; });
    ASSERT_NE(run, folds.end()) << name;
    EXPECT_EQ((*run)->start_time, f.started_ms) << name;
    EXPECT_EQ(*(*run)->end_time, f.ended_ms) << name;
  }
}

// A false-positive budget no score can meet on the most recent fold: fraud moves to small amounts on day 14, so
// the last fold's model (trained up to day 13) scores large, now legitimate, amounts highest, and its ~3,000
// test events are far fewer than the 100,000 legitimate ones a single false positive would need. The block
// band is off at 1, not the "highest score + 1" (1.5 or so) it used to be, and the result, the package and the
// report say why.
TEST_F(TrainerTest, ABlockBandNoScoreCanReachIsOffAndExplained) {
  std::string yaml = kExperiment;
  yaml.replace(yaml.find("search:"), yaml.find("backtest:") - yaml.find("search:"), "");
  yaml += "decision: {block_fpr: 0.00001}\n";
  auto r = Train(yaml, /*drift_day=*/14);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->decision.block_threshold, 1.0);
  EXPECT_GE(r->decision.challenge_threshold, 0.0);
  EXPECT_LE(r->decision.challenge_threshold, 1.0);
  ASSERT_EQ(r->decision_notes.size(), 1u);
  const std::string& note = r->decision_notes[0];
  EXPECT_NE(note.find("block band off (1)"), std::string::npos) << note;
  EXPECT_NE(note.find("decision.block_fpr = 1e-05"), std::string::npos) << note;
  EXPECT_NE(note.find("one false positive is already"), std::string::npos) << note;
  auto descriptor = models::LoadDescriptor(r->model_dir);
  ASSERT_TRUE(descriptor.ok()) << descriptor.status().ToString();
  EXPECT_EQ(descriptor->decision.block_threshold, 1.0);
  EXPECT_NE(ReadFile(r->report_path).find("block band off (1)"), std::string::npos);

  // Fixed bands are scores too: outside [0, 1] is refused when the experiment is read.
  std::string fixed = kExperiment;
  fixed += "decision: {block_threshold: 1.5}\n";
  auto refused = ParseExperiment(fixed, "exp.yaml");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("block_threshold"), std::string::npos) << refused.status().message();
  EXPECT_NE(refused.status().message().find("expected a score in [0, 1]"), std::string::npos)
      << refused.status().message();
}

// The bands' rules on hand-made folds, each case one rule of DecideBands.
TEST(DecideBandsTest, DerivedBandsStayInTheScoresRangeAndSayWhyWhenAdjusted) {
  auto config = ParseExperiment(kExperiment, "exp.yaml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  FoldEvaluation recent;
  recent.cost_threshold = 0.4;
  std::vector<std::string> notes;

  // Plain: the top score is a takeover, so blocking at it costs no false positive; no notes.
  std::vector<float> labels = {1, 0, 1, 0, 0, 0}, scores = {0.9f, 0.7f, 0.6f, 0.3f, 0.2f, 0.1f};
  models::DecisionPolicy d = DecideBands(labels, scores, recent, *config, &notes);
  EXPECT_DOUBLE_EQ(d.challenge_threshold, 0.4);
  EXPECT_FLOAT_EQ(static_cast<float>(d.block_threshold), 0.9f);
  EXPECT_TRUE(notes.empty()) << notes[0];

  // The top score is legitimate and one false positive among four is 25% > block_fpr 5%: block off, said so.
  scores = {0.6f, 0.71f, 0.5f, 0.3f, 0.2f, 0.1f};
  config->decision.block_fpr = 0.05;
  d = DecideBands(labels, scores, recent, *config, &notes);
  EXPECT_EQ(d.block_threshold, 1.0);
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes[0],
            "block band off (1): on the most recent fold (6 test events, 4 legitimate) every score threshold that "
            "flags a positive also flags more than decision.block_fpr = 0.05 of the legitimate events (with 4 "
            "legitimate events one false positive is already 25%); set decision.block_threshold, raise "
            "decision.block_fpr, or train on a longer time range");

  // Challenging nobody is cheapest: challenge off too, said so; a fixed band is taken as it is, without a note.
  notes.clear();
  recent.cost_flags_nothing = true;
  recent.cost_threshold = 1.0;
  config->decision.block_threshold = 0.8;
  d = DecideBands(labels, scores, recent, *config, &notes);
  EXPECT_EQ(d.challenge_threshold, 1.0);
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_NE(notes[0].find("challenge band off (1)"), std::string::npos) << notes[0];
  EXPECT_EQ(notes[1], "block band raised from 0.8 to the challenge band 1: blocking never starts below challenging");
  EXPECT_EQ(d.block_threshold, 1.0);

  // A derived band outside [0, 1] (a model that does not score probabilities) is clamped, and said so.
  notes.clear();
  config->decision.block_threshold.reset();
  recent.cost_flags_nothing = false;
  recent.cost_threshold = -0.5;
  d = DecideBands(labels, scores, recent, *config, &notes);
  EXPECT_EQ(d.challenge_threshold, 0.0);
  ASSERT_GE(notes.size(), 1u);
  EXPECT_NE(std::find(notes.begin(), notes.end(), "challenge band -0.5 is outside the scores' range [0, 1]: set to 0"),
            notes.end()) << notes[0];
}

TEST_F(TrainerTest, PlantedDriftShowsAsADropInLaterFolds) {
  std::string yaml = kExperiment;
  yaml.replace(yaml.find("search:"), yaml.find("backtest:") - yaml.find("search:"), "");
  auto r = Train(yaml, /*drift_day=*/12);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& folds = r->trials[0].folds;
  ASSERT_EQ(folds.size(), 4u);
  // Test windows: days 8-10, 10-12 before the drift; 12-14, 14-16 after it.
  EXPECT_GT(folds[0].Metric("roc_auc"), 0.85);
  EXPECT_GT(folds[1].Metric("roc_auc"), 0.85);
  EXPECT_LT(folds[2].Metric("roc_auc"), 0.6);
  // The last fold's training saw a day of the new pattern: better, still well below the folds before.
  EXPECT_LT(folds[3].Metric("roc_auc"), folds[0].Metric("roc_auc") - 0.1);
}

TEST_F(TrainerTest, LabelsAreThoseKnownAtTheCutoff) {
  WriteWorkspace(dir_.File("ws"), 100);
  auto reg = features::FeatureRegistry::Load(dir_.File("ws/features.yaml"), dir_.File("ws"));
  ASSERT_TRUE(reg.ok());
  auto config = ParseExperiment(kExperiment, "exp.yaml");
  ASSERT_TRUE(config.ok());
  auto data = LoadTrainingData(*reg, *config, dir_.File("ws"), 2);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  // Find a positive row and ask for its label before and after it became known.
  int64_t row = -1;
  for (int64_t i = 0; i < data->rows; ++i) {
    if (data->final_label[i] == 1 && data->labeled_at[i] > data->time[i] + kMicrosPerHour) {
      row = i;
      break;
    }
  }
  ASSERT_GE(row, 0);
  EXPECT_EQ(data->LabelAsOf(row, data->labeled_at[row] - 1, UnlabeledPolicy::kDefault), 0.0f);
  EXPECT_EQ(data->LabelAsOf(row, data->labeled_at[row] - 1, UnlabeledPolicy::kDrop), std::nullopt);
  EXPECT_EQ(data->LabelAsOf(row, data->labeled_at[row], UnlabeledPolicy::kDefault), 1.0f);

  // In a fold, training rows younger than the maturity at the cutoff are left out, and rows whose labels
  // come after the cutoff count as 0 under the default policy.
  TimestampMicros start = *ParseTimestamp("2026-03-01"), cutoff = *ParseTimestamp("2026-03-09");
  auto fold = BuildFoldData(*data, *config, start, cutoff, cutoff, cutoff, cutoff + kMicrosPerDay, "fold");
  ASSERT_TRUE(fold.ok()) << fold.status().ToString();
  int64_t in_range = data->LowerBound(cutoff) - data->LowerBound(start);
  int64_t young = data->LowerBound(cutoff) - data->LowerBound(cutoff - kMicrosPerDay);
  EXPECT_EQ(fold->fit.rows + fold->validation.rows, in_range - young);
  int64_t known_positives = 0, positives_in_fold = 0;
  for (int64_t i = data->LowerBound(start); i < data->LowerBound(cutoff - kMicrosPerDay); ++i) {
    known_positives += data->final_label[i] == 1 && data->labeled_at[i] <= cutoff;
  }
  for (float l : fold->fit.label) positives_in_fold += l == 1;
  for (float l : fold->validation.label) positives_in_fold += l == 1;
  EXPECT_EQ(positives_in_fold, known_positives);
}

TEST_F(TrainerTest, BadInputFailsBeforeTraining) {
  auto constant = Train(kExperiment, 100, "", /*constant_label=*/true);
  ASSERT_FALSE(constant.ok());
  EXPECT_NE(constant.status().message().find("a model needs both classes"), std::string::npos)
      << constant.status().message();

  std::string empty_range = kExperiment;
  empty_range.replace(empty_range.find("2026-03-01, end: 2026-03-17"), 27, "2027-03-01, end: 2027-03-17");
  auto none = Train(empty_range, 100);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no rows in the time range"), std::string::npos) << none.status().message();

  std::string no_set = kExperiment;
  no_set.replace(no_set.find("feature_set: risk"), 17, "feature_set: fraud");
  auto unknown = Train(no_set, 100);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("fraud"), std::string::npos) << unknown.status().message();

  std::string bad_column = kExperiment;
  bad_column.replace(bad_column.find("labeled_at: labeled_at"), 22, "labeled_at: known_at");
  auto missing = Train(bad_column, 100);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("labels.csv: selected columns not in the header: 'known_at'"), std::string::npos) << missing.status().message();

  // Nothing was recorded for any of them.
  auto experiments = tracking_->GetExperimentByName("risk_xgb");
  EXPECT_FALSE(experiments.ok());
}

}  // namespace
}  // namespace gyre::train
