// Servable: one loaded model version ready to score — its package descriptor (signature, decision bands,
// reference statistics) and its runtime (models/tree_ensemble.h or models/logistic_regression.h).
//
// Immutable once loaded and shared by reference count: a hot swap replaces the pointer a deployment holds,
// while requests already holding the old one finish on it (TensorFlow Serving's loader/manager split).
// Score() is thread-safe and allocation-free. Binary, regression and multiclass models all load; what a
// deployment may decide on a model's outputs is serving's business (scoring.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "models/logistic_regression.h"
#include "models/model_package.h"
#include "models/tree_ensemble.h"

namespace gyre::serving {

// What a row's outputs mean, from the model's objective.
enum class OutputKind {
  kProbability,         // one probability of label 1 (binary:logistic, reg:logistic, logistic regression)
  kValue,               // one unbounded value (reg:squarederror, binary:logitraw)
  kClassProbabilities,  // one probability per class (multi:softprob)
  kClass,               // the predicted class index (multi:softmax)
};
std::string_view OutputKindName(OutputKind kind);

class Servable {
 public:
  // Loads <package_dir>/gyre-model.json and its model file; `name` and `version` identify it in responses.
  static Result<std::shared_ptr<const Servable>> Load(const std::string& package_dir, std::string name,
                                                      std::string version);

  const std::string& name() const { return name_; }
  const std::string& version() const { return version_; }
  const models::PackageDescriptor& descriptor() const { return descriptor_; }
  // The signature's feature names, shared with every prediction record of this model.
  const std::shared_ptr<const std::vector<std::string>>& feature_names() const { return feature_names_; }
  int num_features() const { return static_cast<int>(descriptor_.feature_names.size()); }
  // Values per row: 1, or the number of classes of a multi:softprob model.
  int num_outputs() const { return num_outputs_; }
  OutputKind output_kind() const { return output_kind_; }

  // `rows`: n rows of num_features() float32 values (NaN = missing) → n × num_outputs() values.
  void Score(const float* rows, int64_t n, float* out) const;
  // One row of a one-output model.
  float ScoreOne(const float* row) const {
    float out = 0;
    Score(row, 1, &out);
    return out;
  }

 private:
  Servable() = default;
  std::string name_, version_;
  models::PackageDescriptor descriptor_;
  std::shared_ptr<const std::vector<std::string>> feature_names_;
  int num_outputs_ = 1;
  OutputKind output_kind_ = OutputKind::kProbability;
  std::variant<models::TreeEnsemble, models::LogisticRegression> model_;
};

}  // namespace gyre::serving
