// Servable::Load on a folder as the unmodified MLflow client uploads it (mlflow.xgboost.log_model: MLmodel and
// model.xgb, no gyre-model.json): converted in memory, named by its signature, scoring what xgboost predicted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "serving/servable.h"

namespace fs = std::filesystem;

namespace gyre::serving {
namespace {

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<float> Floats(const fs::path& p) {
  std::string bytes = Slurp(p);
  std::vector<float> out(bytes.size() / sizeof(float));
  std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

class ServableMlflowTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gyre_servable_mlflow_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "models");
    // /usr/bin/python3: Debian's, which has python3-xgboost (scripts/bootstrap.sh).
    std::string cmd = "/usr/bin/python3 " + std::string(GYRE_SOURCE_DIR) + "/tests/models/make_import_models.py " +
                      (dir_ / "models").string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path MlflowFolder(const std::string& name, const std::string& model, int features) {
    fs::path d = dir_ / name;
    fs::create_directories(d);
    fs::copy_file(dir_ / "models" / model, d / "model.xgb");
    std::string inputs;
    for (int i = 0; i < features; ++i) {
      inputs += (i ? ", " : "") + std::string("{\"type\": \"double\", \"name\": \"login_") + std::to_string(i) +
                "\", \"required\": true}";
    }
    std::ofstream(d / "MLmodel") << "artifact_path: model\nflavors:\n  python_function:\n    data: model.xgb\n"
                                    "    loader_module: mlflow.xgboost\n    python_version: 3.11.2\n  xgboost:\n"
                                    "    code: null\n    data: model.xgb\n    model_class: xgboost.core.Booster\n"
                                    "    model_format: xgb\n    xgb_version: 1.7.4\nmlflow_version: 2.12.1\n"
                                    "run_id: 0123456789abcdef0123456789abcdef\nsignature:\n  inputs: '["
                                 << inputs
                                 << "]'\n  outputs: '[{\"type\": \"tensor\", \"tensor-spec\": {\"dtype\": \"float32\", "
                                    "\"shape\": [-1]}}]'\n  params: null\nutc_time_created: '2024-05-02 10:11:12.131415'\n";
    return d;
  }
  fs::path dir_;
};

TEST_F(ServableMlflowTest, LoadsAnMlflowXGBoostFolderAsItStands) {
  fs::path folder = MlflowFolder("binary", "binary.xgb", 8);
  ASSERT_FALSE(fs::exists(folder / "gyre-model.json"));
  auto servable = Servable::Load(folder.string(), "ato", "3");
  ASSERT_TRUE(servable.ok()) << servable.status().ToString();
  EXPECT_EQ((*servable)->num_features(), 8);
  EXPECT_EQ((*servable)->descriptor().feature_names[5], "login_5");
  EXPECT_EQ((*servable)->descriptor().objective, "binary:logistic");
  std::vector<float> rows = Floats(dir_ / "models" / "binary.rows.f32");
  std::vector<float> expected = Floats(dir_ / "models" / "binary.pred.f32");
  ASSERT_EQ(rows.size(), expected.size() * 8);
  std::vector<float> scores(expected.size());
  (*servable)->Score(rows.data(), static_cast<int64_t>(expected.size()), scores.data());
  for (size_t i = 0; i < scores.size(); ++i) ASSERT_EQ(scores[i], expected[i]) << "row " << i;
}

// A multi:softprob model registered by the MLflow client serves every class probability, equal (float ==) to
// Python's xgboost; an empty folder is NotFound.
TEST_F(ServableMlflowTest, MulticlassServesEveryClassAndAnEmptyFolderIsNotFound) {
  fs::path folder = MlflowFolder("multi", "multi.xgb", 6);
  auto multi = Servable::Load(folder.string(), "m", "1");
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  EXPECT_EQ((*multi)->num_outputs(), 3);
  EXPECT_EQ((*multi)->output_kind(), OutputKind::kClassProbabilities);
  std::vector<float> rows = Floats(dir_ / "models" / "multi.rows.f32");
  std::vector<float> expected = Floats(dir_ / "models" / "multi.pred.f32");
  ASSERT_EQ(rows.size() / 6 * 3, expected.size());
  std::vector<float> probabilities(expected.size());
  (*multi)->Score(rows.data(), static_cast<int64_t>(rows.size() / 6), probabilities.data());
  for (size_t i = 0; i < expected.size(); ++i) ASSERT_EQ(probabilities[i], expected[i]) << "value " << i;

  fs::create_directories(dir_ / "empty");
  auto empty = Servable::Load((dir_ / "empty").string(), "e", "1");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  EXPECT_NE(empty.status().message().find((dir_ / "empty").string()), std::string::npos);
}

}  // namespace
}  // namespace gyre::serving
