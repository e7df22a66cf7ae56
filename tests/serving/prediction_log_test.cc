// Tests of the prediction log's lines (serving/prediction_log.h): valid JSON whose numbers read back as the
// floats that were scored, null for a missing value.
#include "serving/prediction_log.h"

#include <gtest/gtest.h>

#include <cmath>
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

}  // namespace
}  // namespace gyre::serving
