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
  // The depth every tree is padded to in the fast layout, or -1 when the model uses the generic walk (a tree
  // deeper than 8, or more than 1024 distinct split features). For tests and benches.
  int padded_depth() const { return dense_depth_; }

  // `row` has num_features() values (NaN = missing); writes num_outputs() values.
  void Predict(const float* row, float* out) const;
  // The margin before the objective's transform (num_groups values).
  void PredictMargin(const float* row, float* out) const;
  // Rows back to back (num_features() each); out: num_outputs() per row.
  void PredictBatch(const float* rows, int64_t n, float* out) const;

 private:
  static constexpr int kMaxClasses = 256;  // margins of one row live on the stack
  // The fast layout: every tree padded to the same depth D <= kMaxDenseDepth as a complete binary tree, so the
  // walk is D steps of `i = 2i + 1 + go_right` with no data-dependent loop exit. A shallower leaf is pushed
  // down by padding splits whose two subtrees hold the same leaf value, so any input reaches the same value.
  // Tree t owns dense_[t << (D + 1)] onwards: 2^D - 1 splits, then 2^D leaves (value = the leaf value).
  static constexpr int kMaxDenseDepth = 8;
  // Missing values: a split reads slot `feature` of a gathered row that holds the used features twice, first
  // as given (NaN fails `v < threshold`, so goes right) and then with NaN replaced by -inf (passes, so goes
  // left). A default-left split reads the second copy; that makes the walk one comparison per level.
  static constexpr int kMaxGathered = 2048;  // floats of a gathered row; above this the generic walk is used
  struct DenseNode {
    float value;       // split threshold, or the leaf value on the last level
    uint32_t feature;  // slot in the gathered row
  };
  // The generic layout (trees too deep to pad, or too many used features): breadth first, so every right
  // child sits right after its left one.
  struct Node {
    float value;      // split threshold, or the leaf value
    int32_t feature;  // -1 for a leaf
    int32_t left;     // absolute index of the left child; the right child is left + 1
    bool default_left;
  };
  enum class Transform : uint8_t { kIdentity, kSigmoid, kSoftmax, kArgMax };
  const Node* Leaf(int32_t root, const float* row) const;
  bool dense() const { return dense_depth_ >= 0; }
  void BuildDense(const std::vector<int>& tree_depth);
  void Gather(const float* row, float* gathered) const;
  void DenseMargin(const float* gathered, float* margin) const;
  void DenseBatch(const float* rows, int64_t n, float* out) const;
  void GenericMargin(const float* row, float* margin) const;
  // Margins (num_groups_) -> outputs (num_outputs_).
  void Finish(float* margin, float* out) const;

  std::vector<Node> nodes_;
  std::vector<int32_t> roots_;
  std::vector<int32_t> tree_group_;
  std::vector<DenseNode> dense_;
  std::vector<int32_t> used_features_;  // gathered slot j (and j + size) holds row[used_features_[j]]
  int dense_depth_ = -1;                // D, or -1 when the generic walk is used
  int num_features_ = 0;
  int num_groups_ = 1;
  int num_outputs_ = 1;
  float base_margin_ = 0;
  Transform transform_ = Transform::kIdentity;
  std::string objective_;
};

}  // namespace gyre::models
