// ExperimentConfig: what `gyre train EXPERIMENT.yaml` reads — the feature set and its labels, the time range,
// the model and its search space, the walk-forward backtest, the evaluation settings and the decision policy
// (examples/ato/experiments/*.yaml are annotated examples; docs/training.md describes every key).
//
// Contract: ParseExperiment checks everything that can be checked without data — unknown keys, wrong types,
// search-space values a model would refuse (a depth of 0, a learning rate outside (0, 1], an empty list,
// a log-uniform range that includes 0), folds that cannot fit — and names file:line:column and the key. The
// checks that need the data (a missing label column, a constant label, an empty time range, features not
// in the set) happen in the trainer before any model is fitted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace gyre::train {

enum class ModelType { kXGBoost, kLogisticRegression };
std::string_view ModelTypeName(ModelType type);

// One hyperparameter's values in a search: a list (grid or random choice), or a range sampled by random search.
struct ParamSpace {
  enum class Kind { kChoice, kUniform, kLogUniform, kIntUniform };
  Kind kind = Kind::kChoice;
  std::vector<std::string> choices;  // kChoice: values as written
  double low = 0, high = 0;          // ranges, inclusive
};

// Events that have no label known at a fold's cutoff: `kDefault` gives them the label file's default (for
// fraud, unlabeled = legitimate — what production would have believed then); `kDrop` leaves them out.
enum class UnlabeledPolicy { kDefault, kDrop };

struct LabelPolicy {
  std::string labeled_at_column;  // in the label file; empty: labels are known as soon as the event happens
  UnlabeledPolicy unlabeled = UnlabeledPolicy::kDefault;
  // Training events younger than this at the cutoff are left out: their labels are not mature yet.
  TimestampMicros maturity = 0;
};

enum class FoldScheme { kExpanding, kSliding };

struct BacktestConfig {
  int folds = 0;  // 0: no backtest, only the final model
  FoldScheme scheme = FoldScheme::kExpanding;
  TimestampMicros test_window = 0;
  TimestampMicros gap = 0;
  TimestampMicros train_window = 0;  // sliding: the training window's length
};

enum class ClassWeight { kNone, kBalanced, kFixed };

struct ModelConfig {
  ModelType type = ModelType::kXGBoost;
  // Fixed parameters (xgboost's names, or `c` for logistic regression), values as written.
  std::vector<std::pair<std::string, std::string>> params;
  int num_boost_round = 200;
  int early_stopping_rounds = 20;  // 0: off
  double validation_fraction = 0.15;  // time-latest share of each training window used for early stopping
  ClassWeight class_weight = ClassWeight::kNone;
  double positive_weight = 1;  // kFixed
};

struct SearchConfig {
  enum class Method { kNone, kGrid, kRandom };
  Method method = Method::kNone;
  int trials = 1;  // random search
  uint64_t seed = 1;
  std::vector<std::pair<std::string, ParamSpace>> space;  // in file order
};

struct EvaluationConfig {
  double fpr = 0.01;          // recall at this false-positive rate
  int alerts_per_day = 100;   // precision@k per day: the analysts' daily budget
  double cost_false_negative = 100;  // a missed takeover
  double cost_false_positive = 1;    // a challenged good customer
  int calibration_bins = 10;
  int importance_top = 20;
};

// Score bands → actions served by deployments: score ≥ block → block, ≥ challenge → challenge, else allow.
// Thresholds come from the backtest's most recent fold: `challenge` minimises the evaluation's cost, `block`
// keeps the false-positive rate at `block_fpr`; either can be fixed instead.
struct DecisionConfig {
  std::optional<double> challenge_threshold;
  std::optional<double> block_threshold;
  double block_fpr = 0.001;
};

struct ExperimentConfig {
  std::string name;         // the tracking experiment
  std::string description;
  std::string file;         // where it was read from
  std::string yaml;         // its text, logged as an artifact
  std::string feature_set;
  std::string training_set;  // optional: an existing backfill output (CSV), relative to the workspace
  std::optional<TimestampMicros> start, end;  // [start, end); absent: the data's own range
  LabelPolicy labels;
  ModelConfig model;
  SearchConfig search;
  BacktestConfig backtest;
  std::string metric = "average_precision";  // selection metric, higher is better unless it is a loss
  EvaluationConfig evaluation;
  DecisionConfig decision;
  int threads = 0;  // trials and folds in parallel; 0: the machine's cores
  uint64_t seed = 7;
};

Result<ExperimentConfig> ParseExperiment(const std::string& yaml, const std::string& file_name);
Result<ExperimentConfig> LoadExperiment(const std::string& path);

// True for metrics where lower is better (log_loss, brier, ece, cost).
bool LowerIsBetter(std::string_view metric);

// The concrete parameter sets to try: the grid's cross product (file order, last key fastest), `trials`
// seeded random draws, or the fixed parameters alone. Each set is the fixed params overridden by the draw.
using ParamSet = std::vector<std::pair<std::string, std::string>>;
std::vector<ParamSet> ExpandSearch(const ModelConfig& model, const SearchConfig& search);

}  // namespace gyre::train
