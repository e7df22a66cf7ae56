#include "models/tree_ensemble.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

namespace gyre::models {
namespace {

using nlohmann::json;

// XGBoost writes numbers in learner_model_param as strings ("5E-1").
Result<double> NumberField(const json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) return Status::InvalidArgument(fmt::format("{}: missing '{}'", where, key));
  if (it->is_number()) return it->get<double>();
  if (it->is_string()) {
    try {
      return std::stod(it->get<std::string>());
    } catch (const std::exception&) {
    }
  }
  return Status::InvalidArgument(fmt::format("{}: '{}' is not a number: {}", where, key, it->dump()));
}

Result<const json*> Child(const json& object, const char* key, const std::string& where) {
  if (!object.is_object()) return Status::InvalidArgument(where + ": expected an object");
  auto it = object.find(key);
  if (it == object.end()) return Status::InvalidArgument(fmt::format("{}: missing '{}'", where, key));
  return &*it;
}

}  // namespace

Result<TreeEnsemble> TreeEnsemble::LoadXGBoostJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open model file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseXGBoostJson(buffer.str(), path);
}

Result<TreeEnsemble> TreeEnsemble::ParseXGBoostJson(std::string_view json_text, const std::string& name) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Status::InvalidArgument(name + ": not valid JSON (an XGBoost JSON model was expected)");
  GYRE_ASSIGN_OR_RETURN(const json* learner, Child(doc, "learner", name));
  GYRE_ASSIGN_OR_RETURN(const json* params, Child(*learner, "learner_model_param", name + ": learner"));
  GYRE_ASSIGN_OR_RETURN(const json* objective, Child(*learner, "objective", name + ": learner"));
  GYRE_ASSIGN_OR_RETURN(const json* booster, Child(*learner, "gradient_booster", name + ": learner"));

  TreeEnsemble model;
  model.objective_ = objective->value("name", "");
  GYRE_ASSIGN_OR_RETURN(double base_score, NumberField(*params, "base_score", name + ": learner_model_param"));
  GYRE_ASSIGN_OR_RETURN(double num_class, NumberField(*params, "num_class", name + ": learner_model_param"));
  GYRE_ASSIGN_OR_RETURN(double num_feature, NumberField(*params, "num_feature", name + ": learner_model_param"));
  model.num_features_ = static_cast<int>(num_feature);
  model.num_groups_ = std::max(1, static_cast<int>(num_class));
  if (model.num_groups_ > kMaxClasses) {
    return Status::InvalidArgument(fmt::format("{}: {} classes; at most {} are supported", name, model.num_groups_,
                                               kMaxClasses));
  }
  float base = static_cast<float>(base_score);
  const std::string& obj = model.objective_;
  if (obj == "binary:logistic" || obj == "reg:logistic") {
    model.transform_ = Transform::kSigmoid;
    model.base_margin_ = -std::log(1.0f / base - 1.0f);
  } else if (obj == "binary:logitraw" || obj == "reg:squarederror") {
    model.base_margin_ = base;  // libxgboost 1.7 uses these base scores as margins unchanged
  } else if (obj == "multi:softprob" || obj == "multi:softmax") {
    model.transform_ = obj == "multi:softprob" ? Transform::kSoftmax : Transform::kArgMax;
    model.base_margin_ = base;
  } else {
    return Status::InvalidArgument(fmt::format("{}: objective '{}' is not supported (supported: binary:logistic, "
                                               "binary:logitraw, reg:logistic, reg:squarederror, multi:softprob, "
                                               "multi:softmax)", name, obj));
  }
  model.num_outputs_ = model.transform_ == Transform::kSoftmax ? model.num_groups_ : 1;
  std::string booster_name = booster->value("name", "");
  if (booster_name != "gbtree") {
    return Status::InvalidArgument(fmt::format("{}: booster '{}' is not supported (only gbtree)", name, booster_name));
  }
  GYRE_ASSIGN_OR_RETURN(const json* gbtree, Child(*booster, "model", name + ": gradient_booster"));
  GYRE_ASSIGN_OR_RETURN(const json* trees, Child(*gbtree, "trees", name + ": gradient_booster.model"));
  GYRE_ASSIGN_OR_RETURN(const json* tree_info, Child(*gbtree, "tree_info", name + ": gradient_booster.model"));
  if (!trees->is_array() || !tree_info->is_array() || tree_info->size() != trees->size()) {
    return Status::InvalidArgument(name + ": 'trees' and 'tree_info' must be arrays of the same length");
  }
  std::vector<int> tree_depth;
  for (size_t t = 0; t < trees->size(); ++t) {
    const json& tree = (*trees)[t];
    std::string where = fmt::format("{}: trees[{}]", name, t);
    for (const char* key : {"left_children", "right_children", "split_indices", "split_conditions", "default_left"}) {
      if (!tree.contains(key) || !tree[key].is_array()) return Status::InvalidArgument(fmt::format("{}: missing '{}'", where, key));
    }
    const json& left = tree["left_children"];
    const json& right = tree["right_children"];
    const json& index = tree["split_indices"];
    const json& cond = tree["split_conditions"];
    const json& dflt = tree["default_left"];
    size_t n = left.size();
    if (n == 0 || right.size() != n || index.size() != n || cond.size() != n || dflt.size() != n) {
      return Status::InvalidArgument(where + ": node arrays differ in length");
    }
    if (tree.contains("split_type")) {
      for (const json& type : tree["split_type"]) {
        if (type.is_number() && type.get<int>() != 0) {
          return Status::InvalidArgument(where + ": categorical splits are not supported");
        }
      }
    }
    int group = (*tree_info)[t].get<int>();
    if (group < 0 || group >= model.num_groups_) return Status::InvalidArgument(where + ": tree_info out of range");
    // Validate, then lay the tree out breadth first so that every right child sits right after its left one:
    // the walk then picks the next node with arithmetic instead of a hard-to-predict branch.
    for (size_t i = 0; i < n; ++i) {
      int l = left[i].get<int>(), r = right[i].get<int>();
      if (l == -1) continue;
      int feature = index[i].get<int>();
      if (l <= 0 || r <= 0 || static_cast<size_t>(l) >= n || static_cast<size_t>(r) >= n || feature < 0 ||
          feature >= model.num_features_) {
        return Status::InvalidArgument(fmt::format("{}: node {} has an invalid child or feature", where, i));
      }
    }
    int32_t offset = static_cast<int32_t>(model.nodes_.size());
    std::vector<int> order{0};  // original node ids in new order
    std::vector<int> depth{0};  // depth of order[k]
    std::vector<int32_t> new_left;
    for (size_t k = 0; k < order.size(); ++k) {
      int i = order[k];
      int l = left[i].get<int>();
      if (l == -1) {
        new_left.push_back(-1);
        continue;
      }
      if (order.size() + 2 > n) return Status::InvalidArgument(where + ": nodes are shared or form a cycle");
      new_left.push_back(static_cast<int32_t>(order.size()));
      order.push_back(l);
      order.push_back(right[i].get<int>());
      depth.push_back(depth[k] + 1);
      depth.push_back(depth[k] + 1);
    }
    tree_depth.push_back(*std::max_element(depth.begin(), depth.end()));
    for (size_t k = 0; k < order.size(); ++k) {
      int i = order[k];
      Node node;
      node.value = cond[i].get<float>();
      node.default_left = dflt[i].get<int>() != 0;
      node.feature = new_left[k] < 0 ? -1 : index[i].get<int>();
      node.left = new_left[k] < 0 ? -1 : offset + new_left[k];
      model.nodes_.push_back(node);
    }
    model.roots_.push_back(offset);
    model.tree_group_.push_back(group);
  }
  model.BuildDense(tree_depth);
  return model;
}

void TreeEnsemble::BuildDense(const std::vector<int>& tree_depth) {
  int depth = 0;
  for (int d : tree_depth) depth = std::max(depth, d);
  if (depth > kMaxDenseDepth) return;
  std::vector<int32_t> slot(num_features_, -1);
  for (const Node& node : nodes_) {
    if (node.feature < 0) continue;
    // A default-left split at -inf would let the -inf that stands for NaN go right; keep such a model generic.
    if (node.default_left && node.value == -std::numeric_limits<float>::infinity()) return;
    if (slot[node.feature] < 0) {
      slot[node.feature] = static_cast<int32_t>(used_features_.size());
      used_features_.push_back(node.feature);
    }
  }
  if (2 * used_features_.size() > static_cast<size_t>(kMaxGathered)) {
    used_features_.clear();
    return;
  }
  const uint32_t used = static_cast<uint32_t>(used_features_.size());
  const size_t stride = size_t{2} << depth;
  dense_.assign(roots_.size() * stride, DenseNode{0, 0});
  // Padding splits read slot 0 (it exists: a tree deeper than 0 has a split) against threshold 0; both of their
  // subtrees carry the same leaf, so the comparison does not matter.
  auto fill = [&](auto& self, DenseNode* tree, const Node& node, size_t index, int level) -> void {
    if (level == depth) {
      tree[index] = {node.value, 0};
      return;
    }
    bool leaf = node.feature < 0;
    tree[index] = leaf ? DenseNode{0, 0}
                       : DenseNode{node.value, static_cast<uint32_t>(slot[node.feature]) + (node.default_left ? used : 0)};
    self(self, tree, leaf ? node : nodes_[node.left], 2 * index + 1, level + 1);
    self(self, tree, leaf ? node : nodes_[node.left + 1], 2 * index + 2, level + 1);
  };
  for (size_t t = 0; t < roots_.size(); ++t) fill(fill, dense_.data() + t * stride, nodes_[roots_[t]], 0, 0);
  dense_depth_ = depth;
}

namespace {

// K walks of depth D side by side (independent chains keep the core busy while each waits for its loads):
// lane k walks the tree at trees + k * tree_stride on the gathered row at rows + k * row_stride.
template <int D, int K, typename DenseNode>
inline void WalkDense(const DenseNode* __restrict trees, size_t tree_stride, const float* __restrict rows,
                      size_t row_stride, float* __restrict leaf) {
  uint32_t index[K];
  for (int k = 0; k < K; ++k) index[k] = 0;
#pragma GCC unroll 16
  for (int level = 0; level < D; ++level) {
#pragma GCC unroll 16
    for (int k = 0; k < K; ++k) {
      const DenseNode& node = trees[k * tree_stride + index[k]];
      index[k] = 2 * index[k] + 1 + !(rows[k * row_stride + node.feature] < node.value);
    }
  }
  for (int k = 0; k < K; ++k) leaf[k] = trees[k * tree_stride + index[k]].value;
}

// One gathered row through every tree, 16 trees side by side (then 4, then 1 for the rest); the leaves are
// added to the margins in tree order.
template <int D, int K, typename DenseNode>
inline int DenseTrees(const DenseNode* __restrict dense, const int32_t* group, int t, int trees, int groups,
                      const float* __restrict x, float* __restrict margin) {
  constexpr size_t kStride = size_t{2} << D;
  float leaf[K];
  if (groups == 1) {
    float m = margin[0];
    for (; t + K <= trees; t += K) {
      WalkDense<D, K>(dense + t * kStride, kStride, x, 0, leaf);
      for (int k = 0; k < K; ++k) m += leaf[k];
    }
    margin[0] = m;
    return t;
  }
  for (; t + K <= trees; t += K) {
    WalkDense<D, K>(dense + t * kStride, kStride, x, 0, leaf);
    for (int k = 0; k < K; ++k) margin[group[t + k]] += leaf[k];
  }
  return t;
}

template <int D, typename DenseNode>
void DenseMarginT(const DenseNode* __restrict dense, const int32_t* group, int trees, int groups,
                  const float* __restrict x, float* __restrict margin) {
  int t = DenseTrees<D, 16>(dense, group, 0, trees, groups, x, margin);
  t = DenseTrees<D, 4>(dense, group, t, trees, groups, x, margin);
  DenseTrees<D, 1>(dense, group, t, trees, groups, x, margin);
}

// `rows` gathered rows (row_stride floats apart) through every tree: trees outside, rows inside and
// 16 at a time, so a tree's nodes stay in L1 while the block walks it. Each row still adds leaves in tree order.
template <int D, typename DenseNode>
void DenseBlockT(const DenseNode* __restrict dense, const int32_t* group, int trees, int groups,
                 const float* __restrict x, size_t row_stride, int rows, float* __restrict margin) {
  constexpr int K = 16;
  constexpr size_t kStride = size_t{2} << D;
  float leaf[K];
  for (int t = 0; t < trees; ++t) {
    const DenseNode* tree = dense + t * kStride;
    float* m = margin + group[t];
    int r = 0;
    for (; r + K <= rows; r += K) {
      WalkDense<D, K>(tree, 0, x + r * row_stride, row_stride, leaf);
      for (int k = 0; k < K; ++k) m[(r + k) * groups] += leaf[k];
    }
    for (; r < rows; ++r) {
      WalkDense<D, 1>(tree, 0, x + r * row_stride, row_stride, leaf);
      m[r * groups] += leaf[0];
    }
  }
}

template <typename DenseNode>
using MarginFn = void (*)(const DenseNode*, const int32_t*, int, int, const float*, float*);
template <typename DenseNode>
using BlockFn = void (*)(const DenseNode*, const int32_t*, int, int, const float*, size_t, int, float*);

template <typename DenseNode, int... D>
constexpr std::array<MarginFn<DenseNode>, sizeof...(D)> MarginTable(std::integer_sequence<int, D...>) {
  return {&DenseMarginT<D, DenseNode>...};
}
template <typename DenseNode, int... D>
constexpr std::array<BlockFn<DenseNode>, sizeof...(D)> BlockTable(std::integer_sequence<int, D...>) {
  return {&DenseBlockT<D, DenseNode>...};
}

}  // namespace

void TreeEnsemble::Gather(const float* row, float* gathered) const {
  const size_t used = used_features_.size();
  const int32_t* features = used_features_.data();
  for (size_t j = 0; j < used; ++j) {
    float v = row[features[j]];
    gathered[j] = v;
    gathered[used + j] = std::isnan(v) ? -std::numeric_limits<float>::infinity() : v;
  }
}

void TreeEnsemble::DenseMargin(const float* gathered, float* margin) const {
  static constexpr auto kTable = MarginTable<DenseNode>(std::make_integer_sequence<int, kMaxDenseDepth + 1>());
  kTable[dense_depth_](dense_.data(), tree_group_.data(), num_trees(), num_groups_, gathered, margin);
}

void TreeEnsemble::DenseBatch(const float* rows, int64_t n, float* out) const {
  static constexpr auto kTable = BlockTable<DenseNode>(std::make_integer_sequence<int, kMaxDenseDepth + 1>());
  constexpr size_t kBlockFloats = 8192;  // gathered rows of one block: 32 KiB, beside the trees in L1/L2
  constexpr int kMaxBlockRows = 64;
  constexpr int kMarginFloats = 4096;
  const size_t row_stride = std::max<size_t>(1, 2 * used_features_.size());
  const int block = static_cast<int>(std::min<size_t>(
      {std::max<size_t>(1, kBlockFloats / row_stride), kMaxBlockRows, static_cast<size_t>(kMarginFloats / num_groups_)}));
  alignas(64) float gathered[std::max<size_t>(kBlockFloats, kMaxGathered)];
  float margin[kMarginFloats];
  for (int64_t begin = 0; begin < n; begin += block) {
    const int count = static_cast<int>(std::min<int64_t>(block, n - begin));
    const float* first = rows + begin * num_features_;
    for (int r = 0; r < count; ++r) Gather(first + static_cast<size_t>(r) * num_features_, gathered + r * row_stride);
    std::fill(margin, margin + count * num_groups_, base_margin_);
    kTable[dense_depth_](dense_.data(), tree_group_.data(), num_trees(), num_groups_, gathered, row_stride, count,
                         margin);
    for (int r = 0; r < count; ++r) Finish(margin + r * num_groups_, out + (begin + r) * num_outputs_);
  }
}

const TreeEnsemble::Node* TreeEnsemble::Leaf(int32_t root, const float* row) const {
  const Node* nodes = nodes_.data();
  const Node* node = nodes + root;
  while (node->feature >= 0) {
    float v = row[node->feature];
    int go_right = std::isnan(v) ? !node->default_left : !(v < node->value);
    node = nodes + node->left + go_right;
  }
  return node;
}

void TreeEnsemble::GenericMargin(const float* row, float* margin) const {
  for (size_t t = 0; t < roots_.size(); ++t) margin[tree_group_[t]] += Leaf(roots_[t], row)->value;
}

void TreeEnsemble::PredictMargin(const float* row, float* out) const {
  for (int g = 0; g < num_groups_; ++g) out[g] = base_margin_;
  if (dense()) {
    float gathered[kMaxGathered];
    Gather(row, gathered);
    DenseMargin(gathered, out);
  } else {
    GenericMargin(row, out);
  }
}

void TreeEnsemble::Finish(float* m, float* out) const {
  switch (transform_) {
    case Transform::kIdentity:
      for (int g = 0; g < num_groups_; ++g) out[g] = m[g];
      return;
    case Transform::kSigmoid:
      out[0] = 1.0f / (1.0f + std::exp(-m[0]));
      return;
    case Transform::kArgMax: {
      int best = 0;
      for (int g = 1; g < num_groups_; ++g) best = m[g] > m[best] ? g : best;
      out[0] = static_cast<float>(best);
      return;
    }
    case Transform::kSoftmax: {
      float wmax = m[0];
      for (int g = 1; g < num_groups_; ++g) wmax = std::fmax(m[g], wmax);
      double wsum = 0;
      for (int g = 0; g < num_groups_; ++g) {
        out[g] = std::exp(m[g] - wmax);
        wsum += out[g];
      }
      for (int g = 0; g < num_groups_; ++g) out[g] /= static_cast<float>(wsum);
      return;
    }
  }
}

void TreeEnsemble::Predict(const float* row, float* out) const {
  float m[kMaxClasses];
  PredictMargin(row, m);
  Finish(m, out);
}

void TreeEnsemble::PredictBatch(const float* rows, int64_t n, float* out) const {
  if (dense()) {
    DenseBatch(rows, n, out);
    return;
  }
  for (int64_t r = 0; r < n; ++r) Predict(rows + r * num_features_, out + r * num_outputs_);
}

}  // namespace gyre::models
