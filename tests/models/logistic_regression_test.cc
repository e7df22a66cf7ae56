// LogisticRegression runtime: predictions computed by hand, imputation of missing values, raw-space
// coefficients, an exact JSON round trip, and load errors that name the file and the field.
#include "models/logistic_regression.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gyre::models {
namespace {

LogisticRegression Model() {
  auto m = LogisticRegression::Create({"amount", "failed_logins", "new_device"}, {10.0, 2.0, 0.25},
                                      {4.0, 0.5, 0.4330127018922193}, {10.0, 2.0, 0.25}, {0.8, -1.25, 0.3},
                                      -2.0);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return *m;
}

TEST(LogisticRegressionTest, PredictsByHand) {
  LogisticRegression m = Model();
  ASSERT_EQ(m.num_features(), 3);
  float row[3] = {14.0f, 1.0f, 1.0f};
  double margin = -2.0 + 0.8 * (14.0 - 10.0) / 4.0 + -1.25 * (1.0 - 2.0) / 0.5 + 0.3 * (1.0 - 0.25) / 0.4330127018922193;
  EXPECT_DOUBLE_EQ(m.PredictMargin(row), margin);
  EXPECT_DOUBLE_EQ(m.Predict(row), 1.0 / (1.0 + std::exp(-margin)));
  // Extreme margins saturate without overflow.
  float far[3] = {1e30f, 0.0f, 0.0f};
  EXPECT_EQ(m.Predict(far), 1.0);
  far[0] = -1e30f;
  EXPECT_EQ(m.Predict(far), 0.0);
}

TEST(LogisticRegressionTest, MissingValuesTakeTheImputationValue) {
  LogisticRegression m = Model();
  float missing[3] = {NAN, 1.0f, NAN};
  float imputed[3] = {10.0f, 1.0f, 0.25f};
  EXPECT_EQ(m.PredictMargin(missing), m.PredictMargin(imputed));
  // The imputation value is the model's, not necessarily the mean.
  auto other = LogisticRegression::Create({"a"}, {0.0}, {1.0}, {5.0}, {2.0}, 0.0);
  ASSERT_TRUE(other.ok());
  float nan_row[1] = {NAN};
  EXPECT_DOUBLE_EQ(other->PredictMargin(nan_row), 10.0);
}

TEST(LogisticRegressionTest, BatchEqualsRowByRow) {
  LogisticRegression m = Model();
  std::vector<float> rows = {14, 1, 1, NAN, 3, 0, 9.5f, NAN, NAN, -3, 7, 1};
  std::vector<double> out(4);
  std::vector<float> out_float(4);
  m.PredictBatch(rows.data(), 4, out.data());
  m.PredictBatch(rows.data(), 4, out_float.data());
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(out[i], m.Predict(&rows[i * 3])) << i;
    EXPECT_EQ(out_float[i], static_cast<float>(out[i])) << i;
  }
}

TEST(LogisticRegressionTest, RawCoefficientsGiveTheSameMargin) {
  LogisticRegression m = Model();
  std::vector<double> raw = m.RawCoefficients();
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_DOUBLE_EQ(raw[0], 0.2);
  EXPECT_DOUBLE_EQ(raw[1], -2.5);
  float row[3] = {3.5f, 7.0f, 0.0f};
  double raw_margin = m.RawIntercept() + raw[0] * 3.5 + raw[1] * 7.0 + raw[2] * 0.0;
  EXPECT_NEAR(raw_margin, m.PredictMargin(row), 1e-12);
}

TEST(LogisticRegressionTest, JsonRoundTripIsExact) {
  // Doubles that need all 17 digits.
  auto m = LogisticRegression::Create({"a", "b", "c"}, {0.1, 1.0 / 3.0, -2.5e17}, {1e-300, 3.141592653589793, 7.0},
                                      {0.1, 2.0 / 3.0, -2.5e17}, {-0.30000000000000004, 1e300, 5e-324},
                                      0.7071067811865476);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::string text = m->ToJson();
  auto back = LogisticRegression::ParseJson(text, "m.json");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->feature_names(), m->feature_names());
  EXPECT_EQ(back->mean(), m->mean());
  EXPECT_EQ(back->scale(), m->scale());
  EXPECT_EQ(back->impute(), m->impute());
  EXPECT_EQ(back->coefficients(), m->coefficients());
  EXPECT_EQ(back->intercept(), m->intercept());
  EXPECT_EQ(back->ToJson(), text);
  nlohmann::json doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc["format"], "gyre.logistic_regression");
  EXPECT_EQ(doc["version"], 1);
  EXPECT_EQ(doc["raw_coefficients"].size(), 3u);

  LogisticRegression plain = Model();
  auto plain_back = LogisticRegression::ParseJson(plain.ToJson(), "m.json");
  ASSERT_TRUE(plain_back.ok());
  float row[3] = {12.25f, NAN, 1.0f};
  EXPECT_EQ(plain_back->Predict(row), plain.Predict(row));
}

class LogisticRegressionFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("gyre_logistic_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = (dir_ / name).string();
    std::ofstream(path) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(LogisticRegressionFileTest, LoadsAFile) {
  LogisticRegression m = Model();
  std::string path = Write("model.json", m.ToJson());
  auto loaded = LogisticRegression::LoadJsonFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->coefficients(), m.coefficients());
  auto missing = LogisticRegression::LoadJsonFile((dir_ / "absent.json").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError);
  EXPECT_NE(missing.status().message().find("absent.json"), std::string::npos);
}

// Each case edits a valid model document; the error must name the file and the field.
TEST_F(LogisticRegressionFileTest, BadFilesNameTheFileAndField) {
  const nlohmann::json good = nlohmann::json::parse(Model().ToJson());
  struct Case {
    std::string what;
    std::function<void(nlohmann::json&)> edit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {"format", [](auto& d) { d["format"] = "sklearn.pickle"; }, "field 'format': unknown format \"sklearn.pickle\""},
      {"no format", [](auto& d) { d.erase("format"); }, "field 'format': missing"},
      {"version", [](auto& d) { d["version"] = 2; }, "field 'version': unsupported version 2"},
      {"version string", [](auto& d) { d["version"] = "1"; }, "field 'version': unsupported version \"1\""},
      {"no mean", [](auto& d) { d.erase("mean"); }, "field 'mean': missing"},
      {"short scale", [](auto& d) { d["scale"] = {1.0, 2.0}; }, "field 'scale': has 2 values; feature_names has 3"},
      {"long coefficients", [](auto& d) { d["coefficients"].push_back(1.0); },
       "field 'coefficients': has 4 values; feature_names has 3"},
      {"zero scale", [](auto& d) { d["scale"][1] = 0.0; }, "field 'scale[1]': must be > 0, got 0"},
      {"negative scale", [](auto& d) { d["scale"][2] = -1.5; }, "field 'scale[2]': must be > 0, got -1.5"},
      {"null (NaN) coefficient", [](auto& d) { d["coefficients"][0] = nullptr; },
       "field 'coefficients[0]': expected a finite number, got null"},
      {"string coefficient", [](auto& d) { d["impute"][2] = "NaN"; },
       "field 'impute[2]': expected a finite number, got \"NaN\""},
      {"no intercept", [](auto& d) { d.erase("intercept"); }, "field 'intercept': missing"},
      {"intercept", [](auto& d) { d["intercept"] = "x"; }, "field 'intercept': expected a finite number"},
      {"names", [](auto& d) { d["feature_names"] = "amount"; }, "field 'feature_names': expected an array"},
      {"name type", [](auto& d) { d["feature_names"][1] = 3; }, "field 'feature_names[1]': expected a string, got 3"},
      {"duplicate", [](auto& d) { d["feature_names"][2] = "amount"; }, "field 'feature_names[2]': 'amount' appears twice"},
      {"no features",
       [](auto& d) {
         for (const char* k : {"feature_names", "mean", "scale", "impute", "coefficients"}) d[k] = nlohmann::json::array();
       },
       "field 'feature_names': at least one feature is required"},
  };
  for (const Case& c : cases) {
    nlohmann::json doc = good;
    c.edit(doc);
    std::string path = Write("bad.json", doc.dump());
    auto m = LogisticRegression::LoadJsonFile(path);
    ASSERT_FALSE(m.ok()) << c.what;
    EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(m.status().message().rfind(path + ": ", 0), 0u) << c.what << ": " << m.status().message();
    EXPECT_NE(m.status().message().find(c.expected), std::string::npos) << c.what << ": " << m.status().message();
  }
  // Overflowing numbers and broken syntax: the position of the problem.
  std::string text = good.dump();
  text.replace(text.find("\"intercept\":") + 12, 4, "1e999");
  auto overflow = LogisticRegression::ParseJson(text, "o.json");
  ASSERT_FALSE(overflow.ok());
  EXPECT_EQ(overflow.status().message().rfind("o.json:1:", 0), 0u) << overflow.status().message();
  EXPECT_NE(overflow.status().message().find("not valid JSON"), std::string::npos);
  auto not_json = LogisticRegression::ParseJson("{\n  \"format\": ,", "t.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().message().rfind("t.json:2:13: not valid JSON", 0), 0u) << not_json.status().message();
  auto array = LogisticRegression::ParseJson("[1]", "a.json");
  ASSERT_FALSE(array.ok());
  EXPECT_EQ(array.status().message(), "a.json: expected a JSON object");
}

TEST(LogisticRegressionTest, CreateValidates) {
  auto bad = LogisticRegression::Create({"a", "b"}, {0, 0}, {1, 0}, {0, 0}, {1, 1}, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("field 'scale[1]'"), std::string::npos);
  bad = LogisticRegression::Create({"a"}, {0}, {1}, {0}, {NAN}, 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("field 'coefficients[0]': not finite"), std::string::npos);
  bad = LogisticRegression::Create({"a"}, {0}, {1}, {0}, {1}, INFINITY);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("field 'intercept'"), std::string::npos);
}

}  // namespace
}  // namespace gyre::models
