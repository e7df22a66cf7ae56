// The tree evaluator beside libxgboost's own predictor, one thread each, on the same model and float32 rows:
// single-row latency (XGBoosterPredictFromDense on one row vs TreeEnsemble::Predict) and 100k-row batch
// throughput. Trains the model here with the C API (100 trees of depth 6, binary:logistic, 30 features,
// 10% NaN), checks the predictions are equal, then times alternating rounds and prints medians and ratios.
// Last, gyre's batch rate on two threads (std::thread over the two halves of the batch), the rate `gyre score`
// gets on both cores (issue 6's goal: >= 1 M rows/s for 100 trees of depth 6).
#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "models/tree_ensemble.h"

namespace {

void Check(int rc, const char* what) {
  if (rc != 0) {
    fmt::print(stderr, "{}: {}\n", what, XGBGetLastError());
    std::exit(1);
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const int features = 30, train_rows = 20000, trees = argc > 1 ? std::atoi(argv[1]) : 100;
  const int batch_rows = 100000, single_calls = 20000, rounds = 5;
  std::mt19937 rng(42);
  std::normal_distribution<float> normal;
  std::uniform_real_distribution<float> unit;
  auto make = [&](int rows) {
    std::vector<float> x(static_cast<size_t>(rows) * features);
    for (float& v : x) v = unit(rng) < 0.1f ? NAN : normal(rng);
    return x;
  };
  std::vector<float> x = make(train_rows), y(train_rows);
  for (int r = 0; r < train_rows; ++r) {
    float s = 0;
    for (int c = 0; c < features; ++c) {
      float v = x[r * features + c];
      if (!std::isnan(v)) s += v * ((c % 5) - 2.0f) + (c % 7 == 0 ? v * v : 0);
    }
    y[r] = s + normal(rng) > 0 ? 1.0f : 0.0f;
  }
  DMatrixHandle dtrain;
  Check(XGDMatrixCreateFromMat(x.data(), train_rows, features, NAN, &dtrain), "dmatrix");
  Check(XGDMatrixSetFloatInfo(dtrain, "label", y.data(), train_rows), "label");
  BoosterHandle booster;
  Check(XGBoosterCreate(&dtrain, 1, &booster), "booster");
  for (auto [k, v] : {std::pair{"objective", "binary:logistic"}, {"max_depth", "6"}, {"nthread", "1"}, {"eta", "0.1"}}) {
    Check(XGBoosterSetParam(booster, k, v), k);
  }
  for (int i = 0; i < trees; ++i) Check(XGBoosterUpdateOneIter(booster, i, dtrain), "train");
  std::string path = (std::filesystem::temp_directory_path() / "gyre_models_bench.json").string();
  Check(XGBoosterSaveModel(booster, path.c_str()), "save");
  auto model = gyre::models::TreeEnsemble::LoadXGBoostJsonFile(path);
  std::filesystem::remove(path);
  if (!model.ok()) {
    fmt::print(stderr, "{}\n", model.status().ToString());
    return 1;
  }

  std::vector<float> batch = make(batch_rows);
  std::vector<float> ours(batch_rows);
  const char* dense_config = R"({"type": 0, "training": false, "iteration_begin": 0, "iteration_end": 0, "strict_shape": false, "cache_id": 0, "missing": NaN})";
  // The array-interface string XGBoosterPredictFromDense wants for `rows` float32 rows at `data`.
  auto interface = [&](const float* data, int rows) {
    return fmt::format(R"({{"data": [{}, true], "shape": [{}, {}], "typestr": "<f4", "version": 3}})",
                       reinterpret_cast<uintptr_t>(data), rows, features);
  };
  auto xgb_predict = [&](const float* data, int rows, const float** out) {
    bst_ulong const* shape = nullptr;
    bst_ulong dim = 0;
    std::string array = interface(data, rows);
    Check(XGBoosterPredictFromDense(booster, array.c_str(), dense_config, nullptr, &shape, &dim, out), "predict");
  };

  // Same answers first.
  const float* theirs = nullptr;
  xgb_predict(batch.data(), batch_rows, &theirs);
  model->PredictBatch(batch.data(), batch_rows, ours.data());
  int64_t mismatches = 0;
  for (int r = 0; r < batch_rows; ++r) mismatches += ours[r] != theirs[r];

  std::vector<double> xgb_single, gyre_single, xgb_batch, gyre_batch, gyre_two;
  volatile float sink = 0;
  for (int round = 0; round < rounds; ++round) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < single_calls; ++i) {
      const float* out = nullptr;
      xgb_predict(batch.data() + (i % batch_rows) * features, 1, &out);
      sink = sink + out[0];
    }
    xgb_single.push_back(Seconds(start) / single_calls * 1e6);
    start = std::chrono::steady_clock::now();
    for (int i = 0; i < single_calls; ++i) {
      float out;
      model->Predict(batch.data() + (i % batch_rows) * features, &out);
      sink = sink + out;
    }
    gyre_single.push_back(Seconds(start) / single_calls * 1e6);
    start = std::chrono::steady_clock::now();
    xgb_predict(batch.data(), batch_rows, &theirs);
    xgb_batch.push_back(batch_rows / Seconds(start));
    start = std::chrono::steady_clock::now();
    model->PredictBatch(batch.data(), batch_rows, ours.data());
    gyre_batch.push_back(batch_rows / Seconds(start));
    start = std::chrono::steady_clock::now();
    const int half = batch_rows / 2;
    std::thread second([&] {
      model->PredictBatch(batch.data() + static_cast<size_t>(half) * features, batch_rows - half, ours.data() + half);
    });
    model->PredictBatch(batch.data(), half, ours.data());
    second.join();
    gyre_two.push_back(batch_rows / Seconds(start));
  }
  for (int r = 0; r < batch_rows; ++r) mismatches += ours[r] != theirs[r];
  fmt::print("tree evaluator: {} trees of depth <= 6, {} features, binary:logistic, 10% NaN, one thread each\n",
             model->num_trees(), features);
  fmt::print("predictions compared on {} rows: {} differ\n", batch_rows, mismatches);
  fmt::print("{:<34} {:>14} {:>16} {:>8}\n", "", "gyre", "libxgboost 1.7", "ratio");
  double gs = Median(gyre_single), xs = Median(xgb_single);
  fmt::print("{:<34} {:>11.2f} us {:>13.2f} us {:>7.1f}x   (goal >= 10x)\n", "single-row latency (median)", gs, xs, xs / gs);
  double gb = Median(gyre_batch), xb = Median(xgb_batch);
  fmt::print("{:<34} {:>9.2f} M/s {:>11.2f} M/s {:>7.2f}x   (goal >= 2x)\n", "100k-row batch, rows/s (median)", gb / 1e6,
             xb / 1e6, gb / xb);
  double g2 = Median(gyre_two);
  fmt::print("{:<34} {:>9.2f} M/s {:>15} {:>8}   (goal >= 1 M/s; {:.2f}x one thread)\n", "100k-row batch, 2 threads (median)",
             g2 / 1e6, "", "", g2 / gb);
  XGBoosterFree(booster);
  XGDMatrixFree(dtrain);
  return mismatches == 0 ? 0 : 1;
}
