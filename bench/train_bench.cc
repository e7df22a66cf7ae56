// `gyre train` against raw libxgboost training on the same matrix with the same parameters (issue 5, goal:
// gyre's wall time ≤ 1.10 × raw training).
//
//   train_bench prepare DIR ROWS        writes DIR/ (a workspace: gyre.yaml, features.yaml, training.csv,
//                                       labels.csv, experiment.yaml) with ROWS rows × 30 features
//   train_bench raw DIR ROUNDS THREADS  reads DIR/training.csv (not timed), then times XGDMatrixCreateFromMat +
//                                       ROUNDS boosting rounds with the experiment's parameters; prints seconds
//
// bench/train_bench.sh runs both around `gyre train` and prints the ratio. The data: 30 features, a few with
// missing values, a label that depends on four of them through a logistic link (~3% positive).
#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "core/csv_reader.h"
#include "core/time.h"

namespace {

constexpr int kFeatures = 30;

int Prepare(const std::string& dir, int64_t rows) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/gyre.yaml") << "name: train-bench\n";
  // The definitions name a one-row source (events.csv, columns c0..c29); training reads the prepared
  // training set (the shape of a backfill output: row_id, time, f0..f29) instead of backfilling.
  std::string features = "entities:\n  row: {keys: [row_id]}\nsources:\n  rows:\n    path: events.csv\n"
                         "    timestamp: time\nderived:\n";
  std::string list;
  for (int f = 0; f < kFeatures; ++f) {
    features += fmt::format("  f{}: {{source: rows, expr: \"c{}\"}}\n", f, f);
    list += fmt::format("{}f{}", f ? ", " : "", f);
  }
  features += fmt::format(
      "feature_sets:\n  bench:\n    source: rows\n    features: [{}]\n"
      "    label: {{path: labels.csv, key: row_id, column: label, default: 0}}\n", list);
  std::ofstream(dir + "/features.yaml") << features;
  {
    std::ofstream events(dir + "/events.csv");
    events << "row_id,time";
    for (int f = 0; f < kFeatures; ++f) events << ",c" << f;
    events << "\n0,2026-01-01T00:00:00Z";
    for (int f = 0; f < kFeatures; ++f) events << ",0.5";
    events << "\n";
  }
  std::ofstream(dir + "/experiment.yaml")
      << "name: train_bench\nfeature_set: bench\ntraining_set: training.csv\n"
         "model:\n  type: xgboost\n  params: {max_depth: 6, eta: 0.1, subsample: 0.8, colsample_bytree: 0.8}\n"
         "  num_boost_round: 100\n  early_stopping_rounds: 0\nthreads: 2\n";
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> unit(0, 1);
  std::FILE* data = std::fopen((dir + "/training.csv").c_str(), "w");
  std::FILE* labels = std::fopen((dir + "/labels.csv").c_str(), "w");
  std::fprintf(data, "row_id,time");
  for (int f = 0; f < kFeatures; ++f) std::fprintf(data, ",f%d", f);
  std::fprintf(data, "\n");
  std::fprintf(labels, "row_id,label\n");
  gyre::TimestampMicros t0 = *gyre::ParseTimestamp("2026-01-01");
  double x[kFeatures];
  for (int64_t r = 0; r < rows; ++r) {
    for (int f = 0; f < kFeatures; ++f) x[f] = f % 3 == 0 ? std::floor(std::exp(normal(rng))) : normal(rng);
    double margin = -4 + 1.2 * x[1] - 0.8 * x[2] + 0.5 * x[3] * x[4] + 0.3 * x[0];
    bool positive = unit(rng) < 1 / (1 + std::exp(-margin));
    std::fprintf(data, "%lld,%s", static_cast<long long>(r),
                 gyre::FormatTimestamp(t0 + r * 1000000 / 20).c_str());
    for (int f = 0; f < kFeatures; ++f) {
      if (f % 7 == 5 && unit(rng) < 0.2) {
        std::fprintf(data, ",");
      } else {
        std::fprintf(data, ",%.6g", x[f]);
      }
    }
    std::fprintf(data, "\n");
    if (positive) std::fprintf(labels, "%lld,1\n", static_cast<long long>(r));
  }
  std::fclose(data);
  std::fclose(labels);
  return 0;
}

#define CHECK_XGB(call)                                            \
  if ((call) != 0) {                                               \
    std::fprintf(stderr, "libxgboost: %s\n", XGBGetLastError());   \
    return 1;                                                      \
  }

int Raw(const std::string& dir, int rounds, int threads) {
  // The matrix gyre trains on: the feature columns as float32, labels joined by row id (default 0).
  auto read = gyre::ReadCsv(dir + "/training.csv");
  auto labels = gyre::ReadCsv(dir + "/labels.csv");
  if (!read.ok() || !labels.ok()) {
    std::fprintf(stderr, "cannot read the prepared data\n");
    return 1;
  }
  const gyre::Table& t = read->table;
  const int64_t n = t.num_rows();
  std::vector<float> x(static_cast<size_t>(n) * kFeatures), y(n, 0.0f);
  for (int f = 0; f < kFeatures; ++f) {
    const gyre::Column& c = **t.ColumnByName(fmt::format("f{}", f));
    for (int64_t r = 0; r < n; ++r) {
      x[r * kFeatures + f] = c.IsNull(r) ? NAN
                             : c.type() == gyre::ColumnType::kInt64 ? static_cast<float>(c.Int64(r))
                                                                    : static_cast<float>(c.Float64(r));
    }
  }
  const gyre::Column& positive = labels->table.column(0);
  for (int64_t r = 0; r < labels->table.num_rows(); ++r) y[positive.Int64(r)] = 1.0f;

  auto start = std::chrono::steady_clock::now();
  DMatrixHandle dtrain;
  CHECK_XGB(XGDMatrixCreateFromMat(x.data(), n, kFeatures, NAN, &dtrain));
  CHECK_XGB(XGDMatrixSetFloatInfo(dtrain, "label", y.data(), n));
  BoosterHandle booster;
  CHECK_XGB(XGBoosterCreate(&dtrain, 1, &booster));
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"objective", "binary:logistic"}, {"tree_method", "hist"}, {"nthread", std::to_string(threads)},
           {"seed", "7"}, {"eval_metric", "aucpr"}, {"verbosity", "0"}, {"max_depth", "6"}, {"eta", "0.1"},
           {"subsample", "0.8"}, {"colsample_bytree", "0.8"}}) {
    CHECK_XGB(XGBoosterSetParam(booster, k.c_str(), v.c_str()));
  }
  for (int i = 0; i < rounds; ++i) CHECK_XGB(XGBoosterUpdateOneIter(booster, i, dtrain));
  bst_ulong len = 0;
  const char* bytes = nullptr;
  CHECK_XGB(XGBoosterSaveModelToBuffer(booster, R"({"format": "json"})", &len, &bytes));
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  XGBoosterFree(booster);
  XGDMatrixFree(dtrain);
  std::printf("%.3f\n", seconds);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "prepare" && argc == 4) return Prepare(argv[2], std::stoll(argv[3]));
  if (mode == "raw" && argc == 5) return Raw(argv[2], std::stoi(argv[3]), std::stoi(argv[4]));
  std::fprintf(stderr, "usage: train_bench prepare DIR ROWS | raw DIR ROUNDS THREADS\n");
  return 2;
}
