// FitLogisticRegression against scikit-learn 1.2.1 (Debian bookworm's python3-sklearn). The expected values
// below were computed once with /usr/bin/python3 and this snippet (the data formula is the one in MakeData):
//
//   import numpy as np
//   from sklearn.preprocessing import StandardScaler
//   from sklearn.linear_model import LogisticRegression
//   def data(n, nan_and_const):
//       X = np.zeros((n, 5 if nan_and_const else 4)); y = np.zeros(n)
//       for i in range(n):
//           for j in range(4):
//               h = (i * 2654435761 + j * 40503 + 12345) % 2**32
//               X[i, j] = ((h >> 8) % 2001 - 1000) / 256.0 * (j + 1)
//           h2 = (i * 2246822519 + 7) % 2**32
//           s = 2.0 * X[i, 0] - 1.5 * X[i, 1] + 0.5 * X[i, 2] + ((h2 >> 8) % 401 - 200) / 100.0 - 2.0
//           y[i] = 1.0 if s > 0 else 0.0
//           if nan_and_const:
//               X[i, 4] = 3.5
//               for j in (0, 2):
//                   if (i * 7 + j * 3) % 11 == 0: X[i, j] = np.nan
//       return X.astype(np.float32).astype(np.float64), y
//   def fit(X, y, C, w=None):
//       sc = StandardScaler().fit(X, sample_weight=w)
//       Z = np.nan_to_num(sc.transform(X), nan=0.0)
//       lr = LogisticRegression(penalty='l2', C=C, tol=1e-12, max_iter=100000, solver='newton-cg')
//       lr.fit(Z, y, sample_weight=w)
//       return sc, lr, Z
//   # plain: data(200, False), C=1.0; nan_const: data(200, True), C=0.05;
//   # weighted: data(200, False), C=0.5, w = [1.0 + (i % 5) for i in range(200)]
//   # printed: sc.mean_, sc.scale_, lr.coef_[0], lr.intercept_[0], lr.predict_proba(Z)[:6, 1] (repr)
//
// newton-cg stops at |gradient| ~ 2e-9 here; a few extra numpy Newton steps move sklearn's coefficients by
// less than 4e-10 and its probabilities by less than 6e-11, well inside the tolerances below. (lbfgs only
// reaches ~1e-5, which is why newton-cg is the reference.)
#include "train/logistic_trainer.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace gyre::train {
namespace {

struct Data {
  int64_t n = 0;
  int d = 0;
  std::vector<float> x;
  std::vector<float> y;
  std::vector<std::string> names;
};

Data MakeData(int64_t n, bool nan_and_const) {
  Data data;
  data.n = n;
  data.d = nan_and_const ? 5 : 4;
  data.x.assign(n * data.d, 0.0f);
  data.y.assign(n, 0.0f);
  for (int j = 0; j < data.d; ++j) data.names.push_back(fmt::format("f{}", j));
  for (int64_t i = 0; i < n; ++i) {
    double v[4];
    for (int j = 0; j < 4; ++j) {
      uint64_t h = (static_cast<uint64_t>(i) * 2654435761u + static_cast<uint64_t>(j) * 40503u + 12345u) % (1ull << 32);
      v[j] = static_cast<double>(static_cast<int64_t>((h >> 8) % 2001) - 1000) / 256.0 * (j + 1);
      data.x[i * data.d + j] = static_cast<float>(v[j]);
    }
    uint64_t h2 = (static_cast<uint64_t>(i) * 2246822519u + 7u) % (1ull << 32);
    double noise = static_cast<double>(static_cast<int64_t>((h2 >> 8) % 401) - 200) / 100.0;
    double s = 2.0 * v[0] - 1.5 * v[1] + 0.5 * v[2] + noise - 2.0;
    data.y[i] = s > 0 ? 1.0f : 0.0f;
    if (nan_and_const) {
      data.x[i * data.d + 4] = 3.5f;
      for (int j : {0, 2}) {
        if ((i * 7 + j * 3) % 11 == 0) data.x[i * data.d + j] = NAN;
      }
    }
  }
  return data;
}

struct Expected {
  std::vector<double> mean, scale, coef;
  double intercept;
  std::vector<double> proba;  // rows 0..5
};

void ExpectMatches(const models::LogisticRegression& m, const Data& data, const Expected& e) {
  ASSERT_EQ(m.num_features(), data.d);
  for (int j = 0; j < data.d; ++j) {
    EXPECT_NEAR(m.mean()[j], e.mean[j], 1e-12) << "feature " << j;
    EXPECT_NEAR(m.scale()[j], e.scale[j], 1e-12) << "feature " << j;
    EXPECT_NEAR(m.coefficients()[j], e.coef[j], 1e-6) << "feature " << j;
    EXPECT_EQ(m.impute()[j], m.mean()[j]);
  }
  EXPECT_NEAR(m.intercept(), e.intercept, 1e-6);
  for (size_t i = 0; i < e.proba.size(); ++i) {
    EXPECT_NEAR(m.Predict(&data.x[i * data.d]), e.proba[i], 1e-9) << "row " << i;
  }
}

TEST(LogisticTrainerTest, DataMatchesThePythonSnippet) {
  Data data = MakeData(200, false);
  EXPECT_EQ(data.x[0], -3.71875f);
  EXPECT_EQ(data.x[1], -6.203125f);
  EXPECT_EQ(data.x[4 + 2], -10.875f);
  EXPECT_EQ(data.x[8 + 3], 1.671875f);
  double positives = 0;
  for (float y : data.y) positives += y;
  EXPECT_EQ(positives, 26);
  Data with_nan = MakeData(200, true);
  EXPECT_TRUE(std::isnan(with_nan.x[0]));
  EXPECT_EQ(with_nan.x[5 + 0], 2.953125f);
}

TEST(LogisticTrainerTest, MatchesScikitLearn) {
  Data data = MakeData(200, false);
  LogisticOptions options;
  options.c = 1.0;
  LogisticFitInfo info;
  auto m = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), nullptr, data.names, options, &info);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ExpectMatches(*m, data,
                {{-0.056484375, -0.1275, -0.33029296875, -0.156953125},
                 {2.2685745495928815, 4.523223815656643, 6.705952072394372, 8.873247006877943},
                 {2.6422356362874058, -1.5152209020048608, 0.8573390236963331, -0.1787149385704896},
                 -3.1673118302754992,
                 {0.0021058856840385216, 0.03885518220249889, 0.012869578739786667, 0.0052148564455224864,
                  0.07427785189386994, 0.002417454091160062}});
  EXPECT_TRUE(info.converged);
  EXPECT_LT(info.grad_norm, 1e-8);
  EXPECT_GT(info.iterations, 1);
  EXPECT_LT(info.iterations, 20);
  EXPECT_EQ(info.rows_used, 200);
  EXPECT_GT(info.loss, 0);
}

TEST(LogisticTrainerTest, MissingValuesAndAConstantColumnMatchScikitLearn) {
  Data data = MakeData(200, true);
  LogisticOptions options;
  options.c = 0.05;
  auto m = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), nullptr, data.names, options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ExpectMatches(*m, data,
                {{-0.027300587016574587, -0.1275, -0.47963169642857145, -0.156953125, 3.5},
                 {2.2505328794317863, 4.523223815656643, 6.707651624738458, 8.873247006877943, 1.0},
                 {0.7832012422044387, -0.4309120988669868, 0.054801676235511874, -0.2818156698303576, 0.0},
                 -2.1099335236848886,
                 {0.2049108413585674, 0.18638404132251124, 0.07477241676056486, 0.07057698428064064,
                  0.08386191474992279, 0.06713927415249606}});
  // The constant column: scale 1 and a coefficient of exactly zero (it never moves from its start).
  EXPECT_EQ(m->scale()[4], 1.0);
  EXPECT_EQ(m->coefficients()[4], 0.0);
  // A missing value scores as its training mean.
  std::vector<float> row(data.x.begin(), data.x.begin() + 5);
  ASSERT_TRUE(std::isnan(row[0]));
  row[0] = static_cast<float>(m->mean()[0]);
  EXPECT_NEAR(m->Predict(row.data()), m->Predict(&data.x[0]), 1e-7);  // the mean rounded to float
}

TEST(LogisticTrainerTest, SampleWeightsMatchScikitLearn) {
  Data data = MakeData(200, false);
  std::vector<float> w(200);
  for (int i = 0; i < 200; ++i) w[i] = static_cast<float>(1 + i % 5);
  LogisticOptions options;
  options.c = 0.5;
  auto m = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), w.data(), data.names, options);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ExpectMatches(*m, data,
                {{-0.1830859375, -0.19828125, -0.08478515625, 0.431015625},
                 {2.1781577728593513, 4.295941770816055, 6.415871000528247, 8.586551285712895},
                 {2.6515457757152143, -1.6048956932012377, 0.7568618717547486, -0.33733803901268755},
                 -3.7469496494443737,
                 {0.0017150693193348605, 0.030559636941692774, 0.007810809041487508, 0.0036627209524090465,
                  0.03469285850899538, 0.0019244480455275314}});
}

TEST(LogisticTrainerTest, WeightTenOnPositivesEqualsTenCopies) {
  Data data = MakeData(200, true);
  std::vector<float> w(200);
  Data copies = data;
  copies.x.clear();
  copies.y.clear();
  for (int64_t i = 0; i < data.n; ++i) {
    w[i] = data.y[i] == 1.0f ? 10.0f : 1.0f;
    for (int k = 0; k < static_cast<int>(w[i]); ++k) {
      copies.x.insert(copies.x.end(), &data.x[i * data.d], &data.x[(i + 1) * data.d]);
      copies.y.push_back(data.y[i]);
    }
  }
  copies.n = static_cast<int64_t>(copies.y.size());
  ASSERT_EQ(copies.n, 200 + 9 * 26);
  LogisticOptions options;
  options.c = 0.3;
  auto weighted = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), w.data(), data.names, options);
  auto copied =
      FitLogisticRegression(copies.x.data(), copies.n, copies.d, copies.y.data(), nullptr, copies.names, options);
  ASSERT_TRUE(weighted.ok()) << weighted.status().ToString();
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  for (int j = 0; j < data.d; ++j) {
    EXPECT_NEAR(weighted->mean()[j], copied->mean()[j], 1e-12);
    EXPECT_NEAR(weighted->scale()[j], copied->scale()[j], 1e-12);
    EXPECT_NEAR(weighted->coefficients()[j], copied->coefficients()[j], 1e-9);
  }
  EXPECT_NEAR(weighted->intercept(), copied->intercept(), 1e-9);
  // Not a vacuous equality: weighting the positives moved the model.
  auto unweighted = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), nullptr, data.names, options);
  ASSERT_TRUE(unweighted.ok());
  EXPECT_GT(weighted->intercept() - unweighted->intercept(), 1.0);
}

TEST(LogisticTrainerTest, ZeroWeightRowsAreIgnored) {
  Data data = MakeData(200, false);
  Data padded = data;
  std::vector<float> w(200, 1.0f);
  for (int i = 0; i < 50; ++i) {  // wild rows that must not count, not even in the standardisation
    for (int j = 0; j < data.d; ++j) padded.x.push_back(1000.0f + i * j);
    padded.y.push_back(i % 2);
    w.push_back(0.0f);
  }
  padded.n = 250;
  LogisticOptions options;
  auto a = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), nullptr, data.names, options);
  LogisticFitInfo info;
  auto b = FitLogisticRegression(padded.x.data(), padded.n, padded.d, padded.y.data(), w.data(), padded.names,
                                 options, &info);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(info.rows_used, 200);
  for (int j = 0; j < data.d; ++j) {
    EXPECT_NEAR(a->mean()[j], b->mean()[j], 1e-12);
    EXPECT_NEAR(a->coefficients()[j], b->coefficients()[j], 1e-9);
  }
}

// Many rows (several blocks), random data with NaNs: the same bits for 1 and 2 threads.
TEST(LogisticTrainerTest, ResultDoesNotDependOnThreadCount) {
  const int64_t n = 12000;  // three blocks
  const int d = 6;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit;
  std::vector<float> x(n * d), y(n);
  std::vector<std::string> names;
  for (int j = 0; j < d; ++j) names.push_back(fmt::format("x{}", j));
  for (int64_t i = 0; i < n; ++i) {
    float s = 0;
    for (int j = 0; j < d; ++j) {
      float v = normal(rng) * (j + 1) + j;
      s += v * (j % 2 == 0 ? 0.3f : -0.2f);
      x[i * d + j] = unit(rng) < 0.1f ? NAN : v;
    }
    y[i] = s + normal(rng) > 0.5f ? 1.0f : 0.0f;
  }
  std::vector<models::LogisticRegression> fits;
  for (int threads : {1, 2}) {
    LogisticOptions options;
    options.threads = threads;
    auto m = FitLogisticRegression(x.data(), n, d, y.data(), nullptr, names, options);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    fits.push_back(*m);
  }
  for (size_t k = 1; k < fits.size(); ++k) {
    EXPECT_EQ(fits[k].coefficients(), fits[0].coefficients());
    EXPECT_EQ(fits[k].intercept(), fits[0].intercept());
    EXPECT_EQ(fits[k].mean(), fits[0].mean());
    EXPECT_EQ(fits[k].scale(), fits[0].scale());
  }
  EXPECT_GT(fits[0].coefficients()[0], 0.1);  // the planted signs
  EXPECT_LT(fits[0].coefficients()[1], -0.1);
}

TEST(LogisticTrainerTest, SeparableDataStaysFinite) {
  std::vector<float> x = {-2, -1, -0.5f, 0.5f, 1, 2};
  std::vector<float> y = {0, 0, 0, 1, 1, 1};
  LogisticFitInfo info;
  auto m = FitLogisticRegression(x.data(), 6, 1, y.data(), nullptr, {"x"}, LogisticOptions{}, &info);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(info.converged);
  EXPECT_GT(m->coefficients()[0], 1.0);
  EXPECT_NEAR(m->intercept(), 0.0, 1e-12);  // symmetric data
}

TEST(LogisticTrainerTest, MaxIterStopsEarly) {
  Data data = MakeData(200, false);
  LogisticOptions options;
  options.max_iter = 1;
  LogisticFitInfo info;
  auto m = FitLogisticRegression(data.x.data(), data.n, data.d, data.y.data(), nullptr, data.names, options, &info);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(info.iterations, 1);
  EXPECT_FALSE(info.converged);
  EXPECT_GT(info.grad_norm, 1e-8);
}

std::string FitError(const std::vector<float>& x, int64_t n, int d, const std::vector<float>& y,
                     const std::vector<float>* w, const std::vector<std::string>& names,
                     LogisticOptions options = {}) {
  auto m = FitLogisticRegression(x.data(), n, d, y.data(), w ? w->data() : nullptr, names, options);
  if (m.ok()) return "OK";
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
  return m.status().message();
}

TEST(LogisticTrainerTest, BadInputsAreNamed) {
  std::vector<float> x = {1, 2, 3, 4, 5, 6};
  std::vector<float> y = {0, 1, 0};
  std::vector<std::string> names = {"a", "b"};
  EXPECT_EQ(FitError(x, 3, 2, y, nullptr, names), "OK");
  EXPECT_NE(FitError(x, 0, 2, y, nullptr, names).find("no training rows"), std::string::npos);
  EXPECT_NE(FitError(x, 3, 0, y, nullptr, {}).find("no features"), std::string::npos);
  EXPECT_NE(FitError(x, 3, 2, y, nullptr, {"a"}).find("1 feature names for 2 feature columns"), std::string::npos);
  EXPECT_NE(FitError(x, 3, 2, {1, 1, 1}, nullptr, names).find("0 negatives and 3 positives"), std::string::npos);
  EXPECT_NE(FitError(x, 3, 2, {0, 2, 1}, nullptr, names).find("row 1: label 2 is not 0 or 1"), std::string::npos);
  EXPECT_NE(FitError(x, 3, 2, {0, NAN, 1}, nullptr, names).find("row 1: label nan"), std::string::npos);
  std::vector<float> w = {1, -1, 1};
  EXPECT_NE(FitError(x, 3, 2, y, &w, names).find("row 1: weight -1"), std::string::npos);
  w = {1, 0, 1};  // the only positive (row 1) has weight 0
  EXPECT_NE(FitError(x, 3, 2, y, &w, names).find("2 negatives and 0 positives"), std::string::npos);
  std::vector<float> bad = x;
  bad[5] = INFINITY;
  EXPECT_NE(FitError(bad, 3, 2, y, nullptr, names).find("row 2, column 'b': infinite value"), std::string::npos);
  LogisticOptions options;
  options.c = 0;
  EXPECT_NE(FitError(x, 3, 2, y, nullptr, names, options).find("field 'c'"), std::string::npos);
  options = {};
  options.max_iter = 0;
  EXPECT_NE(FitError(x, 3, 2, y, nullptr, names, options).find("field 'max_iter'"), std::string::npos);
}

// The size the brief asks for: 1M x 30 "in a few seconds". Disabled by default (slow under sanitizers); run in
// a Release build with --gtest_also_run_disabled_tests --gtest_filter='*Million*'.
TEST(LogisticTrainerTest, DISABLED_MillionByThirty) {
  const int64_t n = 1000000;
  const int d = 30;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit;
  std::vector<float> x(n * d), y(n);
  std::vector<std::string> names;
  for (int j = 0; j < d; ++j) names.push_back(fmt::format("x{}", j));
  for (int64_t i = 0; i < n; ++i) {
    float s = -2.0f;
    for (int j = 0; j < d; ++j) {
      float v = normal(rng) * (1 + j % 4) + j;
      s += (v - j) * (j % 3 == 0 ? 0.2f : -0.1f) / (1 + j % 4);
      x[i * d + j] = unit(rng) < 0.05f ? NAN : v;
    }
    y[i] = s + normal(rng) > 0 ? 1.0f : 0.0f;
  }
  LogisticOptions options;
  options.threads = std::getenv("GYRE_LOGISTIC_THREADS") ? std::atoi(std::getenv("GYRE_LOGISTIC_THREADS")) : 2;
  LogisticFitInfo info;
  auto start = std::chrono::steady_clock::now();
  auto m = FitLogisticRegression(x.data(), n, d, y.data(), nullptr, names, options, &info);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  std::printf("1M x 30, %d threads: %.3f s, %d Newton iterations, |grad|inf %.3g, converged %d\n", options.threads, seconds,
              info.iterations, info.grad_norm, info.converged);
  EXPECT_LT(seconds, 10.0);
}

}  // namespace
}  // namespace gyre::train
