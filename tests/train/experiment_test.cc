// ExperimentConfig parsing (every error names file:line:column and the key), the search expansion, and the
// walk-forward folds.
#include "train/experiment.h"

#include <gtest/gtest.h>

#include <set>

#include "train/backtest.h"

namespace gyre::train {
namespace {

const char* kValid = R"(name: ato
feature_set: ato_login
time_range: {start: 2026-01-01, end: 2026-01-31}
labels: {labeled_at: labeled_at, unlabeled: drop, maturity: 2d}
model:
  type: xgboost
  params: {max_depth: 6, eta: 0.1}
  num_boost_round: 50
  class_weight: balanced
search:
  method: grid
  space:
    max_depth: [3, 5]
    eta: [0.1, 0.2, 0.3]
backtest: {folds: 3, test_window: 3d, gap: 1d}
metric: roc_auc
evaluation: {fpr: 0.02, alerts_per_day: 10, cost: {false_negative: 50, false_positive: 1}}
)";

std::string ErrorOf(const std::string& yaml) {
  auto r = ParseExperiment(yaml, "exp.yaml");
  return r.ok() ? "(parsed)" : r.status().message();
}

TEST(ExperimentTest, ParsesEveryKey) {
  auto r = ParseExperiment(kValid, "exp.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "ato");
  EXPECT_EQ(r->feature_set, "ato_login");
  EXPECT_EQ(*r->start, *ParseTimestamp("2026-01-01"));
  EXPECT_EQ(*r->end, *ParseTimestamp("2026-01-31"));
  EXPECT_EQ(r->labels.labeled_at_column, "labeled_at");
  EXPECT_EQ(r->labels.unlabeled, UnlabeledPolicy::kDrop);
  EXPECT_EQ(r->labels.maturity, 2 * kMicrosPerDay);
  EXPECT_EQ(r->model.num_boost_round, 50);
  EXPECT_EQ(r->model.class_weight, ClassWeight::kBalanced);
  EXPECT_EQ(r->search.method, SearchConfig::Method::kGrid);
  ASSERT_EQ(r->search.space.size(), 2u);
  EXPECT_EQ(r->backtest.folds, 3);
  EXPECT_EQ(r->backtest.gap, kMicrosPerDay);
  EXPECT_EQ(r->metric, "roc_auc");
  EXPECT_DOUBLE_EQ(r->evaluation.fpr, 0.02);
  EXPECT_EQ(r->evaluation.alerts_per_day, 10);
  EXPECT_DOUBLE_EQ(r->evaluation.cost_false_negative, 50);
}

TEST(ExperimentTest, GridIsTheCrossProductOverFixedParams) {
  auto r = ParseExperiment(kValid, "exp.yaml");
  ASSERT_TRUE(r.ok());
  std::vector<ParamSet> sets = ExpandSearch(r->model, r->search);
  ASSERT_EQ(sets.size(), 6u);
  // Fixed params are overridden by the grid, in the fixed params' order; the last key varies fastest.
  EXPECT_EQ(sets[0], (ParamSet{{"max_depth", "3"}, {"eta", "0.1"}}));
  EXPECT_EQ(sets[1], (ParamSet{{"max_depth", "3"}, {"eta", "0.2"}}));
  EXPECT_EQ(sets[5], (ParamSet{{"max_depth", "5"}, {"eta", "0.3"}}));
}

TEST(ExperimentTest, RandomSearchIsSeededAndInRange) {
  std::string yaml = R"(name: a
feature_set: s
search:
  method: random
  trials: 20
  seed: 3
  space:
    eta: {log_uniform: [0.01, 0.3]}
    max_depth: {int_uniform: [2, 8]}
    subsample: {uniform: [0.5, 1]}
    tree_method: [hist, approx]
backtest: {folds: 2, test_window: 1d}
)";
  auto r = ParseExperiment(yaml, "exp.yaml");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto a = ExpandSearch(r->model, r->search), b = ExpandSearch(r->model, r->search);
  ASSERT_EQ(a.size(), 20u);
  EXPECT_EQ(a, b);
  std::set<std::string> depths;
  for (const ParamSet& p : a) {
    for (const auto& [k, v] : p) {
      double x = std::stod(v == "hist" || v == "approx" ? "0" : v);
      if (k == "eta") {
        EXPECT_TRUE(x >= 0.01 && x <= 0.3) << v;
      }
      if (k == "max_depth") {
        EXPECT_TRUE(x >= 2 && x <= 8) << v;
        depths.insert(v);
      }
      if (k == "subsample") {
        EXPECT_TRUE(x >= 0.5 && x <= 1) << v;
      }
    }
  }
  EXPECT_GE(depths.size(), 4u);  // 20 draws over 7 values
}

TEST(ExperimentTest, ErrorsNameTheLocationAndKey) {
  EXPECT_EQ(ErrorOf("feature_set: x\n"), "exp.yaml:1:1: missing required key 'name'");
  // A typo in a parameter lists the real names.
  std::string typo = ErrorOf("name: a\nfeature_set: s\nmodel:\n  params: {max_dept: 3}\n");
  EXPECT_NE(typo.find("exp.yaml:4:12: unknown key 'max_dept' in 'model.params'"), std::string::npos) << typo;
  EXPECT_NE(typo.find("max_depth"), std::string::npos) << typo;
  EXPECT_EQ(ErrorOf("name: a\nfeature_set: s\nmodel:\n  params: {max_depth: 0}\n"),
            "exp.yaml:4:23: 'model.params.max_depth': 0 is outside [1, 30]");
  EXPECT_EQ(ErrorOf("name: a\nfeature_set: s\nmodel:\n  params: {eta: 1.5}\n"),
            "exp.yaml:4:17: 'model.params.eta': 1.5 is outside (0, 1]");
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nsearch:\n  space: {eta: []}\nbacktest: {folds: 2, test_window: 1d}\n")
                .find("'search.space.eta': an empty list of values"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nsearch:\n  space: {min_child_weight: {log_uniform: [0, 10]}}\n"
                    "backtest: {folds: 2, test_window: 1d}\n")
                .find("a log-uniform range must be > 0"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nsearch:\n  space: {eta: {uniform: [0.1, 0.3]}}\n"
                    "backtest: {folds: 2, test_window: 1d}\n")
                .find("grid search needs a list of values for 'eta'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nsearch:\n  space: {eta: [0.1]}\n").find("add a 'backtest' section"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nbacktest: {folds: 2, test_window: soon}\n")
                .find("'backtest.test_window': expected a positive duration"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nmodel: {type: forest}\n").find("expected 'xgboost' or 'logistic_regression'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nmodel: {type: logistic_regression, params: {c: 0}}\n")
                .find("'model.params.c': 0 is outside (0,"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nmetric: accuracy\n").find("'accuracy' is not a selection metric"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\ntime_range: {start: 2026-02-01, end: 2026-01-01}\n")
                .find("the end must come after the start"),
            std::string::npos);
  EXPECT_NE(ErrorOf("name: a\nfeature_set: s\nbacktest: {folds: 2, test_window: 1d, scheme: sliding}\n")
                .find("needs 'backtest.train_window'"),
            std::string::npos);
}

TEST(BacktestTest, FoldsTileTheEndOfTheRange) {
  BacktestConfig c;
  c.folds = 3;
  c.test_window = 2 * kMicrosPerDay;
  c.gap = kMicrosPerDay;
  TimestampMicros start = *ParseTimestamp("2026-01-01"), end = *ParseTimestamp("2026-01-21");
  auto folds = MakeFolds(c, start, end);
  ASSERT_TRUE(folds.ok()) << folds.status().ToString();
  ASSERT_EQ(folds->size(), 3u);
  EXPECT_EQ(FormatTimestamp((*folds)[0].test_start), "2026-01-15T00:00:00Z");
  EXPECT_EQ(FormatTimestamp((*folds)[0].train_end), "2026-01-14T00:00:00Z");
  EXPECT_EQ((*folds)[0].train_start, start);
  EXPECT_EQ((*folds)[2].test_end, end);
  EXPECT_EQ((*folds)[2].cutoff(), (*folds)[2].test_start);
  for (size_t k = 1; k < folds->size(); ++k) EXPECT_EQ((*folds)[k].test_start, (*folds)[k - 1].test_end);

  c.scheme = FoldScheme::kSliding;
  c.train_window = 5 * kMicrosPerDay;
  folds = MakeFolds(c, start, end);
  ASSERT_TRUE(folds.ok());
  EXPECT_EQ((*folds)[2].train_end - (*folds)[2].train_start, 5 * kMicrosPerDay);

  c.folds = 10;
  auto too_many = MakeFolds(c, start, end);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("fold 1 of 10 would train on"), std::string::npos)
      << too_many.status().message();
}

}  // namespace
}  // namespace gyre::train
