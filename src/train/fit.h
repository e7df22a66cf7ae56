// Fitting one model on one training matrix: XGBoost through libxgboost's C API (early stopping on a
// time-later validation matrix) or L2 logistic regression (train/logistic_trainer.h). The result carries the
// model as the bytes of its file — the very bytes the model package stores and serving loads — and a scorer
// built from those bytes with gyre's own runtime (src/models), so a backtest scores with exactly what will
// be served.
//
// Thread-safety: FitModel may run on several threads at once (each call owns its booster); `threads` is the
// number of threads the one fit may use.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "train/experiment.h"

namespace gyre::train {

// A dense training matrix, rows in time order.
struct DenseMatrix {
  int64_t rows = 0;
  int cols = 0;
  std::vector<float> x;       // row-major, NaN = missing
  std::vector<float> label;   // 0/1
  std::vector<float> weight;  // empty: all 1
  const float* row(int64_t i) const { return x.data() + i * cols; }
};

// Weights for the experiment's class weighting (empty for none): balanced gives positives n_neg / n_pos.
std::vector<float> ClassWeights(const std::vector<float>& labels, const ModelConfig& model);

// The scorer interface the backtest, importance and reports use: probabilities of label 1.
class Scorer {
 public:
  virtual ~Scorer() = default;
  virtual void ScoreBatch(const float* rows, int64_t n, float* out) const = 0;
};

struct FittedModel {
  ModelType type = ModelType::kXGBoost;
  std::string file_name;   // "model.json" (XGBoost JSON) or "logistic_regression.json"
  std::string file_bytes;  // the model file
  std::unique_ptr<Scorer> scorer;
  int rounds = 0;          // boosting rounds kept (best iteration + 1), or Newton iterations
  double validation_score = 0;  // the early-stopping metric at the kept round (XGBoost with validation)
  std::string validation_metric;
  std::vector<std::pair<std::string, double>> gain_importance;  // XGBoost total gain per feature (by name)
};

struct FitOptions {
  int threads = 1;
  uint64_t seed = 7;
  // The early-stopping metric: XGBoost's aucpr, auc or logloss, chosen from the selection metric.
  std::string eval_metric = "logloss";
};

// `validation` may be null (no early stopping; all num_boost_round rounds).
Result<FittedModel> FitModel(const ModelConfig& model, const ParamSet& params, const std::vector<std::string>& feature_names,
                             const DenseMatrix& train, const DenseMatrix* validation, const FitOptions& options);

// The scorer for a model file (the package's), e.g. to score a saved model again.
Result<std::unique_ptr<Scorer>> LoadScorer(ModelType type, const std::string& file_bytes, const std::string& name);

}  // namespace gyre::train
