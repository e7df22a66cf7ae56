// Evaluate and EvaluateFile: one struct of every metric, stable keys, JSON, and file errors that say where.
#include "train/evaluate.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>

namespace gyre::train {
namespace {

constexpr double kTol = 1e-9;
const std::string kFixture = std::string(GYRE_SOURCE_DIR) + "/tests/train/fixtures/metrics_predictions.csv";

std::map<std::string, double> AsMap(const std::vector<std::pair<std::string, double>>& metrics) {
  std::map<std::string, double> m;
  for (const auto& [k, v] : metrics) m[k] = v;
  return m;
}

class EvaluateFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    std::filesystem::path p = std::filesystem::path(::testing::TempDir()) / ("metrics_eval_" + name);
    std::ofstream(p) << text;
    files_.push_back(p);
    return p.string();
  }
  void TearDown() override {
    for (const auto& p : files_) std::filesystem::remove(p);
  }
  std::vector<std::filesystem::path> files_;
};

// The fixture holds the 20 tied rows of metrics_test.cc (the sklearn values there), alternating two days.
TEST_F(EvaluateFileTest, FixtureGivesTheSklearnValuesAndStableKeys) {
  EvaluateFileOptions o;
  o.label_column = "label";
  o.score_column = "score";
  o.time_column = "time";
  o.evaluate.k = 3;
  o.evaluate.fpr = 0.1;
  o.evaluate.cost_false_negative = 10;
  o.evaluate.cost_false_positive = 1;
  Evaluation e = EvaluateFile(kFixture, o).value();
  EXPECT_EQ(e.rows, 20);
  EXPECT_EQ(e.positives, 8);
  auto m = AsMap(e.Metrics());
  EXPECT_NEAR(m.at("roc_auc"), 0.8541666666666666, kTol);
  EXPECT_NEAR(m.at("average_precision"), 0.771875, kTol);
  EXPECT_NEAR(m.at("log_loss"), 0.4705631454853968, kTol);
  EXPECT_NEAR(m.at("brier"), 0.15999999999999998, kTol);
  EXPECT_NEAR(m.at("ks"), 0.6666666666666667, kTol);
  EXPECT_NEAR(m.at("ece"), 0.15000000000000002, kTol);
  EXPECT_NEAR(m.at("recall_at_fpr_0.1"), 0.5, kTol);
  EXPECT_NEAR(m.at("threshold_at_fpr_0.1"), 0.65, kTol);
  EXPECT_NEAR(m.at("precision_at_threshold"), 0.625, kTol);
  EXPECT_NEAR(m.at("cost_threshold"), 0.4, kTol);
  EXPECT_NEAR(m.at("cost_total"), 4, kTol);
  EXPECT_NEAR(m.at("cost_per_event"), 0.2, kTol);
  // Checked by hand (k = 3; rows alternate days, even rows on jan 5):
  //   jan 5 (even i): 0.1 0.35 0.4 0.1 0.2 0.65 0.8 0.5 0.5 0.0 → 0.8(0) 0.65(1) 0.5(0) → 1/3
  //   jan 6 (odd i):  0.4 0.8 0.4 0.9 0.2 0.4 0.05 0.5 1.0 0.3 → 1.0(1) 0.9(1) 0.8(1) → 1
  ASSERT_TRUE(e.precision_at_k.has_value());
  ASSERT_EQ(e.precision_at_k->days.size(), 2u);
  EXPECT_NEAR(e.precision_at_k->days[0].precision, 1.0 / 3, kTol);
  EXPECT_NEAR(e.precision_at_k->days[1].precision, 1.0, kTol);
  EXPECT_NEAR(m.at("precision_at_3_per_day"), 2.0 / 3, kTol);

  // The documented key order.
  std::vector<std::string> keys;
  for (const auto& [k, v] : e.Metrics()) keys.push_back(k);
  EXPECT_EQ(keys, (std::vector<std::string>{"rows", "positives", "positive_rate", "roc_auc", "average_precision", "ks",
                                            "log_loss", "brier", "ece", "recall_at_fpr_0.1", "threshold_at_fpr_0.1",
                                            "precision_at_3_per_day", "precision_at_threshold", "recall_at_threshold",
                                            "fpr_at_threshold", "f1_at_threshold", "cost_threshold", "cost_total",
                                            "cost_per_event"}));

  nlohmann::json j = e.ToJson();
  EXPECT_NEAR(j["metrics"]["roc_auc"].get<double>(), 0.8541666666666666, kTol);
  EXPECT_EQ(j["precision_at_k"]["days"][0]["day"], "2026-01-05");
  EXPECT_EQ(j["calibration"]["curve"].size(), 9u);
  EXPECT_EQ(j["cost"]["confusion"]["tp"], 8);
  EXPECT_EQ(j["roc"].size(), 13u);  // 13 points, fewer than curve_points: not thinned
}

TEST(EvaluateTest, RawScoresSkipProbabilityMetricsAndNoTimesSkipPerDay) {
  std::vector<double> y = {0, 1, 0, 1}, s = {-2.0, 3.5, 0.5, 0.7};
  Evaluation e = Evaluate(y, s, {}).value();
  EXPECT_FALSE(e.probability_scores);
  auto m = AsMap(e.Metrics());
  EXPECT_EQ(m.count("log_loss"), 0u);
  EXPECT_EQ(m.count("ece"), 0u);
  EXPECT_EQ(m.count("precision_at_100_per_day"), 0u);
  EXPECT_NEAR(m.at("roc_auc"), 1.0, kTol);
  EXPECT_EQ(m.count("recall_at_fpr_0.01"), 1u);
}

TEST(EvaluateTest, OneSortServesManyRows) {
  // Not a timing assertion (sanitizers; see the report for 1M-row timings): 200k rows, 1001 tied scores.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  const size_t n = 200'000;
  std::vector<double> y(n), s(n);
  std::vector<TimestampMicros> t(n);
  for (size_t i = 0; i < n; ++i) {
    s[i] = std::round(u(rng) * 1000) / 1000;
    y[i] = u(rng) < s[i] * 0.1 ? 1.0 : 0.0;
    t[i] = static_cast<TimestampMicros>(i) * 12'960'000;  // 30 days
  }
  Evaluation e = Evaluate(y, s, t).value();
  EXPECT_NEAR(e.roc_auc, 0.676, 0.01);  // P(y=1|s) = s/10, s uniform
  EXPECT_EQ(e.precision_at_k->days.size(), 30u);
  EXPECT_LE(e.roc.size(), 200u);
  EXPECT_NEAR(e.roc_auc, RocAuc(y, s).value(), 1e-12);
}

TEST_F(EvaluateFileTest, ErrorsNameTheFileRowAndColumn) {
  EvaluateFileOptions o;
  o.label_column = "label";
  o.score_column = "prob";
  Status s = EvaluateFile(kFixture, o).status();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("prob"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("event_id"), std::string::npos) << s.message();  // lists the columns

  o.score_column = "score";
  s = EvaluateFile(Write("text.csv", "label,score\n0,0.1\n1,high\n"), o).status();
  EXPECT_NE(s.message().find("text.csv:3"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("score"), std::string::npos) << s.message();

  s = EvaluateFile(Write("empty_score.csv", "label,score\n0,0.1\n1,\n"), o).status();
  EXPECT_NE(s.message().find("empty_score.csv: row 2: column 'score' is empty"), std::string::npos) << s.message();

  s = EvaluateFile(Write("bad_label.csv", "label,score\n0,0.1\n2,0.3\n1,0.4\n"), o).status();
  EXPECT_NE(s.message().find("bad_label.csv: row 2: label 2 is not 0 or 1"), std::string::npos) << s.message();

  s = EvaluateFile(Write("one_class.csv", "label,score\n0,0.1\n0,0.3\n0,0.4\n"), o).status();
  EXPECT_NE(s.message().find("all 3 labels are 0"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("one_class.csv"), std::string::npos) << s.message();

  EXPECT_FALSE(EvaluateFile("/nonexistent/preds.csv", o).ok());
}

}  // namespace
}  // namespace gyre::train
