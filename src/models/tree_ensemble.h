// TreeEnsemble: gradient-boosted trees loaded from XGBoost's JSON model format (written by gyre's trainer or
// by xgboost >= 1.7, `save_model("m.json")`) into a flat, cache-friendly node array, and evaluated without
// allocation.
//
// Supported: booster gbtree with numerical splits; objectives binary:logistic, binary:logitraw,
// reg:squarederror, reg:logistic, multi:softprob, multi:softmax (class index). Missing values (NaN) follow
// each split's default direction. Anything else (dart, gblinear, categorical splits, other objectives) is
// refused at load with a message naming it.
//
// Numerics follow libxgboost's CPU predictor: float32 features, the margin starts at the base score (as a
// margin) and adds each tree's leaf in tree order in float32, then the objective's float32 transform. The
// tests compare against libxgboost itself on random rows with NaNs.
//
// Immutable after loading; Predict() may run on many threads at once.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gyre::models {

class TreeEnsemble {
 public:
  static Result<TreeEnsemble> LoadXGBoostJsonFile(const std::string& path);
  // `name` is used in messages.
  static Result<TreeEnsemble> ParseXGBoostJson(std::string_view json_text, const std::string& name);

  int num_features() const { return num_features_; }
  // Values per row: 1, or the number of classes for multi:softprob.
  int num_outputs() const { return num_outputs_; }
  int num_trees() const { return static_cast<int>(roots_.size()); }
  const std::string& objective() const { return objective_; }

  // `row` has num_features() values (NaN = missing); writes num_outputs() values.
  void Predict(const float* row, float* out) const;
  // The margin before the objective's transform (num_groups values).
  void PredictMargin(const float* row, float* out) const;
  // Rows back to back (num_features() each); out: num_outputs() per row.
  void PredictBatch(const float* rows, int64_t n, float* out) const;

 private:
  static constexpr int kMaxClasses = 256;  // margins of one row live on the stack
  struct Node {
    float value;      // split threshold, or the leaf value
    int32_t feature;  // -1 for a leaf
    int32_t left;     // absolute index of the left child; the right child is left + 1
    bool default_left;
  };
  enum class Transform : uint8_t { kIdentity, kSigmoid, kSoftmax, kArgMax };
  const Node* Leaf(int32_t root, const float* row) const;

  std::vector<Node> nodes_;
  std::vector<int32_t> roots_;
  std::vector<int32_t> tree_group_;
  int num_features_ = 0;
  int num_groups_ = 1;
  int num_outputs_ = 1;
  float base_margin_ = 0;
  Transform transform_ = Transform::kIdentity;
  std::string objective_;
};

}  // namespace gyre::models
