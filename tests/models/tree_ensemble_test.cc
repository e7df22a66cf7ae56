// TreeEnsemble against libxgboost itself: models trained here with XGBoost's C API (Debian's libxgboost 1.7),
// saved as JSON, loaded by gyre; predictions for thousands of random rows with NaNs must be identical
// (float ==) to XGBoosterPredict on the same float32 inputs.
#include "models/tree_ensemble.h"

#include <gtest/gtest.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <string>
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

class TreeEnsembleTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gyre_models_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

void TrainAndCompare(const std::string& objective, const std::filesystem::path& dir) {
  int classes = objective == "reg:squarederror" ? 0 : objective.rfind("multi:", 0) == 0 ? 4 : 2;
  Data train = RandomData(3000, 12, classes, 7, 0.15);
  DMatrixHandle dtrain;
  XGB_OK(XGDMatrixCreateFromMat(train.x.data(), train.rows, train.cols, NAN, &dtrain));
  XGB_OK(XGDMatrixSetFloatInfo(dtrain, "label", train.y.data(), train.rows));
  BoosterHandle booster;
  XGB_OK(XGBoosterCreate(&dtrain, 1, &booster));
  XGB_OK(XGBoosterSetParam(booster, "objective", objective.c_str()));
  XGB_OK(XGBoosterSetParam(booster, "max_depth", "6"));
  XGB_OK(XGBoosterSetParam(booster, "eta", "0.3"));
  XGB_OK(XGBoosterSetParam(booster, "nthread", "1"));
  XGB_OK(XGBoosterSetParam(booster, "seed", "1"));
  if (classes > 2) {
    XGB_OK(XGBoosterSetParam(booster, "num_class", std::to_string(classes).c_str()));
  }
  for (int i = 0; i < 30; ++i) XGB_OK(XGBoosterUpdateOneIter(booster, i, dtrain));
  std::string path = (dir / (objective.substr(objective.find(':') + 1) + ".json")).string();
  XGB_OK(XGBoosterSaveModel(booster, path.c_str()));

  Result<TreeEnsemble> model = TreeEnsemble::LoadXGBoostJsonFile(path);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->num_features(), 12);
  EXPECT_EQ(model->objective(), objective);

  Data test = RandomData(5000, 12, classes, 99, 0.2);
  DMatrixHandle dtest;
  XGB_OK(XGDMatrixCreateFromMat(test.x.data(), test.rows, test.cols, NAN, &dtest));
  bst_ulong length = 0;
  const float* want = nullptr;
  XGB_OK(XGBoosterPredict(booster, dtest, 0, 0, 0, &length, &want));
  ASSERT_EQ(length, static_cast<bst_ulong>(test.rows * model->num_outputs()));
  std::vector<float> got(length);
  model->PredictBatch(test.x.data(), test.rows, got.data());
  int mismatches = 0;
  for (bst_ulong i = 0; i < length; ++i) {
    if (got[i] != want[i] && ++mismatches <= 5) {
      ADD_FAILURE() << objective << " value " << i << ": gyre " << got[i] << " libxgboost " << want[i];
    }
  }
  EXPECT_EQ(mismatches, 0) << objective;
  XGDMatrixFree(dtest);
  XGDMatrixFree(dtrain);
  XGBoosterFree(booster);
}

TEST_P(TreeEnsembleTest, PredictionsEqualLibxgboost) { TrainAndCompare(GetParam(), dir_); }

INSTANTIATE_TEST_SUITE_P(Objectives, TreeEnsembleTest,
                         ::testing::Values("binary:logistic", "reg:squarederror", "multi:softprob", "multi:softmax",
                                           "binary:logitraw"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

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
