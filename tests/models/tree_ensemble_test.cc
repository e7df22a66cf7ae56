// TreeEnsemble against libxgboost itself: models trained here with XGBoost's C API (Debian's libxgboost 1.7),
// saved as JSON, loaded by gyre; predictions for thousands of random rows with NaNs must be identical
// (float ==) to XGBoosterPredict on the same float32 inputs.
#include "models/tree_ensemble.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <filesystem>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace gyre::models {
namespace {

#define XGB_OK(call) ASSERT_EQ((call), 0) << XGBGetLastError()

struct Data {
  int rows, cols;
  std::vector<float> x;
  std::vector<float> y;
};

Data RandomData(int rows, int cols, int classes, uint32_t seed, double missing_rate) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<double> unit;
  Data d{rows, cols, std::vector<float>(static_cast<size_t>(rows) * cols), std::vector<float>(rows)};
  for (int r = 0; r < rows; ++r) {
    float score = 0;
    for (int c = 0; c < cols; ++c) {
      float v = normal(rng);
      if (c % 3 == 0) v = std::round(v * 4) / 4;  // ties with split thresholds
      d.x[r * cols + c] = unit(rng) < missing_rate ? NAN : v;
      if (!std::isnan(d.x[r * cols + c])) score += v * static_cast<float>(c % 4 - 1.5);
    }
    if (classes == 0) {
      d.y[r] = score + normal(rng);
    } else if (classes == 2) {
      d.y[r] = score + normal(rng) > 0 ? 1.0f : 0.0f;
    } else {
      d.y[r] = static_cast<float>(std::abs(static_cast<int>(score * 2)) % classes);
    }
  }
  return d;
}

struct Case {
  std::string objective = "binary:logistic";
  std::vector<std::pair<std::string, std::string>> params = {{"max_depth", "6"}};
  int rounds = 30;
  int train_rows = 3000;
  int cols = 12;
  double test_missing = 0.2;  // 1.0: every test value is NaN
  int expect_depth = 6;       // padded_depth() the model must get: 0..8, or -1 for the generic walk
};

class TreeEnsembleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gyre_models_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void TrainAndCompare(const Case& c);
  std::filesystem::path dir_;
};

int CountMismatches(const char* what, const std::vector<float>& got, const float* want) {
  int mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i] && ++mismatches <= 5) {
      ADD_FAILURE() << what << " value " << i << ": gyre " << got[i] << " libxgboost " << want[i];
    }
  }
  return mismatches;
}

// Trains with libxgboost, loads the saved JSON, and compares PredictBatch, Predict (row by row) and
// PredictMargin with XGBoosterPredict (value and margin) on 5000 fresh rows: every float must be equal.
void TreeEnsembleTest::TrainAndCompare(const Case& c) {
  const std::string& objective = c.objective;
  int classes = objective == "reg:squarederror" ? 0 : objective.rfind("multi:", 0) == 0 ? 4 : 2;
  Data train = RandomData(c.train_rows, c.cols, classes, 7, 0.15);
  DMatrixHandle dtrain;
  XGB_OK(XGDMatrixCreateFromMat(train.x.data(), train.rows, train.cols, NAN, &dtrain));
  XGB_OK(XGDMatrixSetFloatInfo(dtrain, "label", train.y.data(), train.rows));
  BoosterHandle booster;
  XGB_OK(XGBoosterCreate(&dtrain, 1, &booster));
  XGB_OK(XGBoosterSetParam(booster, "objective", objective.c_str()));
  XGB_OK(XGBoosterSetParam(booster, "eta", "0.3"));
  XGB_OK(XGBoosterSetParam(booster, "nthread", "1"));
  XGB_OK(XGBoosterSetParam(booster, "seed", "1"));
  for (const auto& [key, value] : c.params) XGB_OK(XGBoosterSetParam(booster, key.c_str(), value.c_str()));
  if (classes > 2) {
    XGB_OK(XGBoosterSetParam(booster, "num_class", std::to_string(classes).c_str()));
  }
  for (int i = 0; i < c.rounds; ++i) XGB_OK(XGBoosterUpdateOneIter(booster, i, dtrain));
  std::string path = (dir_ / (objective.substr(objective.find(':') + 1) + ".json")).string();
  XGB_OK(XGBoosterSaveModel(booster, path.c_str()));

  Result<TreeEnsemble> model = TreeEnsemble::LoadXGBoostJsonFile(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->num_features(), c.cols);
  EXPECT_EQ(model->objective(), objective);
  EXPECT_EQ(model->num_trees(), c.rounds * std::max(1, classes > 2 ? classes : 1));
  EXPECT_EQ(model->padded_depth(), c.expect_depth);

  Data test = RandomData(5000, c.cols, classes, 99, c.test_missing);
  DMatrixHandle dtest;
  XGB_OK(XGDMatrixCreateFromMat(test.x.data(), test.rows, test.cols, NAN, &dtest));
  bst_ulong length = 0;
  const float* want = nullptr;
  XGB_OK(XGBoosterPredict(booster, dtest, 0, 0, 0, &length, &want));
  ASSERT_EQ(length, static_cast<bst_ulong>(test.rows * model->num_outputs()));
  std::vector<float> got(length), one(length);
  model->PredictBatch(test.x.data(), test.rows, got.data());
  for (int r = 0; r < test.rows; ++r) {
    model->Predict(test.x.data() + r * test.cols, one.data() + r * model->num_outputs());
  }
  EXPECT_EQ(CountMismatches("PredictBatch", got, want), 0) << objective;
  EXPECT_EQ(CountMismatches("Predict", one, want), 0) << objective;

  int groups = classes > 2 ? classes : 1;
  XGB_OK(XGBoosterPredict(booster, dtest, /*option_mask=output margin*/ 1, 0, 0, &length, &want));
  ASSERT_EQ(length, static_cast<bst_ulong>(test.rows * groups));
  one.assign(length, 0.0f);
  for (int r = 0; r < test.rows; ++r) model->PredictMargin(test.x.data() + r * test.cols, one.data() + r * groups);
  EXPECT_EQ(CountMismatches("PredictMargin", one, want), 0) << objective;
  XGDMatrixFree(dtest);
  XGDMatrixFree(dtrain);
  XGBoosterFree(booster);
}

class ObjectiveTest : public TreeEnsembleTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(ObjectiveTest, PredictionsEqualLibxgboost) { TrainAndCompare({.objective = GetParam()}); }

INSTANTIATE_TEST_SUITE_P(Objectives, ObjectiveTest,
                         ::testing::Values("binary:logistic", "reg:squarederror", "multi:softprob", "multi:softmax",
                                           "binary:logitraw"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST_F(TreeEnsembleTest, DeepestPaddedTreesEqualLibxgboost) {
  TrainAndCompare({.params = {{"max_depth", "8"}}, .rounds = 10, .expect_depth = 8});
}

TEST_F(TreeEnsembleTest, TreesTooDeepToPadUseTheGenericWalk) {
  TrainAndCompare({.objective = "reg:squarederror", .params = {{"max_depth", "12"}, {"min_child_weight", "0"}},
                   .rounds = 5, .expect_depth = -1});
}

TEST_F(TreeEnsembleTest, UnbalancedLossguideTreesEqualLibxgboost) {
  // Leaf-wise growth with a leaf budget and no depth limit: lopsided trees, shallow leaves beside deep ones.
  // 8 leaves reach depth 7 here (padded); 12 leaves go deeper than 8 (generic walk).
  TrainAndCompare({.params = {{"tree_method", "hist"}, {"grow_policy", "lossguide"}, {"max_depth", "0"},
                              {"max_leaves", "8"}},
                   .rounds = 20, .expect_depth = 7});
  TrainAndCompare({.params = {{"tree_method", "hist"}, {"grow_policy", "lossguide"}, {"max_depth", "0"},
                              {"max_leaves", "12"}},
                   .rounds = 20, .expect_depth = -1});
}

TEST_F(TreeEnsembleTest, AllMissingRowsFollowDefaultDirections) {
  TrainAndCompare({.test_missing = 1.0});
  TrainAndCompare({.objective = "multi:softprob", .rounds = 10, .test_missing = 1.0});
}

TEST_F(TreeEnsembleTest, SingleTreeEqualsLibxgboost) { TrainAndCompare({.rounds = 1}); }

TEST_F(TreeEnsembleTest, ThousandTreesEqualLibxgboost) {
  TrainAndCompare({.params = {{"max_depth", "4"}}, .rounds = 1000, .train_rows = 1000, .expect_depth = 4});
}

// A stump (one leaf) beside a depth-2 tree: the stump is padded down to depth 2; both default directions.
std::string HandWrittenModel(const std::string& root_threshold) {
  return R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2"},
    "objective": {"name": "reg:squarederror"}, "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0, 0],
    "trees": [{"left_children": [-1], "right_children": [-1], "split_indices": [0], "split_conditions": [0.25],
               "default_left": [0]},
              {"left_children": [1, -1, 3, -1, -1], "right_children": [2, -1, 4, -1, -1],
               "split_indices": [0, 0, 1, 0, 0], "split_conditions": [)" +
         root_threshold + R"(, -1.0, 2.0, 10.0, 20.0], "default_left": [1, 0, 0, 0, 0]}]}}}})";
}

TEST(TreeEnsembleHandWritten, StumpsPaddingAndDefaultDirections) {
  const float inf = std::numeric_limits<float>::infinity();
  Result<TreeEnsemble> model = TreeEnsemble::ParseXGBoostJson(HandWrittenModel("1.0"), "m.json");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->padded_depth(), 2);
  EXPECT_EQ(model->num_trees(), 2);
  struct Row {
    float x[2];
    float want;
  };
  std::vector<Row> rows = {{{0, NAN}, -0.25f},  {{NAN, NAN}, -0.25f}, {{5, NAN}, 20.75f}, {{5, 1}, 10.75f},
                           {{1, 3}, 20.75f},    {{1, 2}, 20.75f},     {{-inf, inf}, -0.25f}, {{inf, -inf}, 10.75f}};
  std::vector<float> batch, got(rows.size());
  for (const Row& row : rows) {
    float out = 0;
    model->Predict(row.x, &out);
    EXPECT_EQ(out, row.want) << row.x[0] << ", " << row.x[1];
    batch.insert(batch.end(), row.x, row.x + 2);
  }
  model->PredictBatch(batch.data(), static_cast<int64_t>(rows.size()), got.data());
  for (size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(got[i], rows[i].want) << "batch row " << i;

  // -1e39 is -inf as a float: nothing but NaN is below it, and NaN goes left. The -inf that stands for NaN in
  // the padded layout would go right, so this model takes the generic walk and still answers right.
  Result<TreeEnsemble> low = TreeEnsemble::ParseXGBoostJson(HandWrittenModel("-1e39"), "m.json");
  ASSERT_TRUE(low.ok()) << low.status().ToString();
  EXPECT_EQ(low->padded_depth(), -1);
  rows = {{{NAN, 1}, -0.25f}, {{-inf, 1}, 10.75f}, {{0, 1}, 10.75f}, {{0, NAN}, 20.75f}};
  for (const Row& row : rows) {
    float out = 0;
    low->Predict(row.x, &out);
    EXPECT_EQ(out, row.want) << row.x[0] << ", " << row.x[1];
  }
}

// `features` one-split trees, tree i splitting feature i at 0 (default left on odd i).
std::string WideModel(int features) {
  std::string trees;
  std::string info;
  for (int i = 0; i < features; ++i) {
    trees += fmt::format(R"({}{{"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [{}, 0, 0],
      "split_conditions": [0.0, {}, {}], "default_left": [{}, 0, 0]}})",
                         i ? "," : "", i, (i % 7) * 0.125, -(i % 5) * 0.375, i % 2);
    info += i ? ",0" : "0";
  }
  return fmt::format(R"({{"learner": {{"learner_model_param": {{"base_score": "0", "num_class": "0",
    "num_feature": "{}"}}, "objective": {{"name": "reg:squarederror"}}, "gradient_booster": {{"name": "gbtree",
    "model": {{"tree_info": [{}], "trees": [{}]}}}}}}}})",
                     features, info, trees);
}

TEST(TreeEnsembleHandWritten, ManySplitFeaturesFallBackToTheGenericWalk) {
  // 1024 distinct split features still fit the gathered row; 1025 do not. Both give the float sum in tree order.
  for (int features : {1024, 1025}) {
    Result<TreeEnsemble> model = TreeEnsemble::ParseXGBoostJson(WideModel(features), "wide.json");
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->padded_depth(), features == 1024 ? 1 : -1);
    std::mt19937 rng(3);
    std::normal_distribution<float> normal;
    std::vector<float> rows(static_cast<size_t>(20) * features), got(20);
    for (float& v : rows) v = rng() % 4 == 0 ? NAN : normal(rng);
    model->PredictBatch(rows.data(), 20, got.data());
    for (int r = 0; r < 20; ++r) {
      float want = 0;
      for (int i = 0; i < features; ++i) {
        float v = rows[r * features + i];
        bool left = std::isnan(v) ? i % 2 == 1 : v < 0.0f;
        want += left ? static_cast<float>((i % 7) * 0.125) : static_cast<float>(-(i % 5) * 0.375);
      }
      EXPECT_EQ(got[r], want) << features << " features, row " << r;
      float one = 0;
      model->Predict(rows.data() + r * features, &one);
      EXPECT_EQ(one, want) << features << " features, row " << r;
    }
  }
}

TEST(TreeEnsembleErrors, RefusesWhatItCannotEvaluate) {
  EXPECT_NE(TreeEnsemble::ParseXGBoostJson("{", "m.json").status().message().find("not valid JSON"), std::string::npos);
  std::string dart = R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2"},
    "objective": {"name": "binary:logistic"}, "gradient_booster": {"name": "dart"}}})";
  EXPECT_NE(TreeEnsemble::ParseXGBoostJson(dart, "m.json").status().message().find("booster 'dart' is not supported"),
            std::string::npos);
  std::string rank = R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2"},
    "objective": {"name": "rank:pairwise"}, "gradient_booster": {"name": "gbtree"}}})";
  EXPECT_NE(TreeEnsemble::ParseXGBoostJson(rank, "m.json").status().message().find("objective 'rank:pairwise'"),
            std::string::npos);
  std::string categorical = R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2"},
    "objective": {"name": "binary:logistic"}, "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0],
    "trees": [{"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
               "split_conditions": [0.5, 1.0, -1.0], "default_left": [1, 0, 0], "split_type": [1, 0, 0]}]}}}})";
  EXPECT_NE(TreeEnsemble::ParseXGBoostJson(categorical, "m.json").status().message().find("categorical splits"),
            std::string::npos);
  std::string bad_child = R"({"learner": {"learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2"},
    "objective": {"name": "binary:logistic"}, "gradient_booster": {"name": "gbtree", "model": {"tree_info": [0],
    "trees": [{"left_children": [7, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
               "split_conditions": [0.5, 1.0, -1.0], "default_left": [1, 0, 0]}]}}}})";
  EXPECT_NE(TreeEnsemble::ParseXGBoostJson(bad_child, "m.json").status().message().find("node 0 has an invalid child"),
            std::string::npos);
}

}  // namespace
}  // namespace gyre::models
