// Tests of the prediction log (serving/prediction_log.h): lines are valid JSON whose numbers read back as the
// floats that were scored (null for a missing or infinite value), whole numbers printed with the same digits as
// fmt's shortest form; the writer writes within its interval, drains on Close, and counts what it drops.
#include "serving/prediction_log.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <thread>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

namespace gyre::serving {
namespace {

TEST(PredictionLineTest, NumbersReadBackAsTheSameFloats) {
  std::mt19937 rng(3);
  std::vector<float> values = {0.0f, -0.0f, 1.0f, -1.5f, 0.1f, 1e-45f, 1.17549435e-38f, 3.4028235e38f,
                               16777216.0f, 123456789.0f, std::numeric_limits<float>::quiet_NaN()};
  for (int i = 0; i < 5000; ++i) {
    uint32_t bits = rng();
    float v;
    std::memcpy(&v, &bits, sizeof(v));
    if (std::isfinite(v)) values.push_back(v);
  }
  auto names = std::make_shared<std::vector<std::string>>();
  for (size_t i = 0; i < values.size(); ++i) names->push_back("f" + std::to_string(i));
  PredictionRecord record;
  record.time_us = 1'700'000'000'123'456;
  record.request_id = "r\"1";
  record.deployment = "ato";
  record.score = 0.25f;
  record.feature_names = names;
  record.features = values;
  nlohmann::json line = nlohmann::json::parse(PredictionLine(record));
  EXPECT_EQ(line["request_id"], "r\"1");
  EXPECT_EQ(line["score"].get<float>(), 0.25f);
  for (size_t i = 0; i < values.size(); ++i) {
    const nlohmann::json& got = line["features"][(*names)[i]];
    if (std::isnan(values[i])) {
      EXPECT_TRUE(got.is_null()) << i;
      continue;
    }
    ASSERT_TRUE(got.is_number()) << i << ": " << got.dump();
    const float back = got.get<float>();
    EXPECT_EQ(back, values[i]) << i << " came back as " << back;  // -0 reads back as 0: equal
  }
}

// The text a record with the single feature "x" = v gets for v.
std::string FeatureText(float v) {
  PredictionRecord record;
  record.feature_names = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"x"});
  record.features = {v};
  const std::string line = PredictionLine(record);
  const size_t at = line.find("\"x\":");
  EXPECT_NE(at, std::string::npos) << line;
  return line.substr(at + 4, line.size() - 2 - (at + 4));  // up to the closing "}}"
}

TEST(PredictionLineTest, WholeNumbersHaveTheDigitsOfTheShortestForm) {
  std::vector<float> values;
  for (int i = -70000; i <= 70000; ++i) values.push_back(static_cast<float>(i));
  for (float v : {16777215.0f, 16777216.0f, 16777218.0f, -16777216.0f, 1e7f, 3e7f, 1e15f, 1e16f, 1e20f, 0.5f,
                  -2.5f, 1e-5f}) {
    values.push_back(v);
  }
  std::mt19937 rng(11);
  std::uniform_int_distribution<int32_t> whole(-(1 << 24), 1 << 24);
  for (int i = 0; i < 20000; ++i) values.push_back(static_cast<float>(whole(rng)));
  for (float v : values) ASSERT_EQ(FeatureText(v), fmt::format("{}", v)) << v;
}

TEST(PredictionLineTest, NegativeZeroKeepsItsSignAndInfinitiesAreNull) {
  EXPECT_EQ(FeatureText(-0.0f), "-0");
  EXPECT_EQ(FeatureText(0.0f), "0");
  EXPECT_EQ(FeatureText(std::numeric_limits<float>::infinity()), "null");
  EXPECT_EQ(FeatureText(-std::numeric_limits<float>::infinity()), "null");
  EXPECT_EQ(FeatureText(std::numeric_limits<float>::quiet_NaN()), "null");
}

TEST(PredictionLineTest, AFormatterFollowsTheNamesOfEachRecord) {
  auto a = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"a\"1", "b"});
  auto b = std::make_shared<std::vector<std::string>>(std::vector<std::string>{"c"});
  PredictionLineFormatter formatter;
  for (int i = 0; i < 4; ++i) {
    PredictionRecord record;
    record.feature_names = i % 2 == 0 ? a : b;
    record.features = i % 2 == 0 ? std::vector<float>{1, 2} : std::vector<float>{3};
    std::string line;
    formatter.Append(record, line);
    const nlohmann::json parsed = nlohmann::json::parse(line);
    EXPECT_EQ(parsed["features"], i % 2 == 0 ? nlohmann::json({{"a\"1", 1}, {"b", 2}}) : nlohmann::json({{"c", 3}}))
        << line;
    EXPECT_EQ(line, PredictionLine(record));
  }
}

class PredictionLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("gyre_prediction_log_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static int64_t Lines(const std::filesystem::path& path) {
    std::ifstream in(path);
    int64_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  std::filesystem::path dir_;
};

TEST_F(PredictionLogTest, RecordsReachTheFileWithinTheIntervalWithoutClose) {
  const auto path = dir_ / "log.jsonl";
  auto log = PredictionLog::Open(path.string(), 65536);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  // The second record comes after the writer has gone back to sleep with nothing queued.
  for (int n = 1; n <= 2; ++n) {
    if (n == 2) std::this_thread::sleep_for(std::chrono::milliseconds(3 * PredictionLog::kWriteIntervalMs));
    PredictionRecord record;
    record.request_id = std::to_string(n);
    ASSERT_TRUE((*log)->Append(record));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while ((*log)->written() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ((*log)->written(), n);
    EXPECT_EQ(Lines(path), n);
  }
}

TEST_F(PredictionLogTest, CloseWritesEverythingAcceptedAndDropsAreCounted) {
  const auto path = dir_ / "log.jsonl";
  auto log = PredictionLog::Open(path.string(), 16);
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  int64_t accepted = 0;
  for (int i = 0; i < 5000; ++i) {
    PredictionRecord record;
    record.request_id = std::to_string(i);
    accepted += (*log)->Append(std::move(record)) ? 1 : 0;
  }
  (*log)->Close();
  EXPECT_EQ(accepted + (*log)->dropped(), 5000);
  EXPECT_EQ((*log)->written(), accepted);
  EXPECT_EQ(Lines(path), accepted);
  PredictionRecord late;
  EXPECT_FALSE((*log)->Append(late));
  EXPECT_EQ((*log)->dropped(), 5000 - accepted + 1);
}

}  // namespace
}  // namespace gyre::serving
