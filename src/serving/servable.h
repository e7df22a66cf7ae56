// Servable: one loaded model version ready to score — its package descriptor (signature, decision bands,
// reference statistics) and its runtime (models/tree_ensemble.h or models/logistic_regression.h).
//
// Immutable once loaded and shared by reference count: a hot swap replaces the pointer a deployment holds,
// while requests already holding the old one finish on it (TensorFlow Serving's loader/manager split).
// Score() is thread-safe and allocation-free.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "core/status.h"
#include "models/logistic_regression.h"
#include "models/model_package.h"
#include "models/tree_ensemble.h"

namespace gyre::serving {

class Servable {
 public:
  // Loads <package_dir>/gyre-model.json and its model file; `name` and `version` identify it in responses.
  static Result<std::shared_ptr<const Servable>> Load(const std::string& package_dir, std::string name,
                                                      std::string version);

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const models::PackageDescriptor& descriptor() const { return descriptor_; }
  int num_features() const { return static_cast<int>(descriptor_.feature_names.size()); }

  // `rows`: n rows of num_features() float32 values (NaN = missing) → n probabilities of label 1.
  void Score(const float* rows, int64_t n, float* out) const;
  float ScoreOne(const float* row) const {
    float out = 0;
    Score(row, 1, &out);
    return out;
  }

 private:
  Servable() = default;
  std::string name_, version_;
  models::PackageDescriptor descriptor_;
  std::variant<models::TreeEnsemble, models::LogisticRegression> model_;
};

}  // namespace gyre::serving
