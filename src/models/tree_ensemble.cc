#include "models/tree_ensemble.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

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
    }
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
  return model;
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

void TreeEnsemble::PredictMargin(const float* row, float* out) const {
  for (int g = 0; g < num_groups_; ++g) out[g] = base_margin_;
  for (size_t t = 0; t < roots_.size(); ++t) out[tree_group_[t]] += Leaf(roots_[t], row)->value;
}

void TreeEnsemble::Predict(const float* row, float* out) const {
  if (transform_ == Transform::kSoftmax || transform_ == Transform::kArgMax) {
    float m[kMaxClasses];
    PredictMargin(row, m);
    if (transform_ == Transform::kArgMax) {
      int best = 0;
      for (int g = 1; g < num_groups_; ++g) best = m[g] > m[best] ? g : best;
      out[0] = static_cast<float>(best);
      return;
    }
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
  PredictMargin(row, out);
  if (transform_ == Transform::kSigmoid) out[0] = 1.0f / (1.0f + std::exp(-out[0]));
}

void TreeEnsemble::PredictBatch(const float* rows, int64_t n, float* out) const {
  if (transform_ == Transform::kSoftmax || transform_ == Transform::kArgMax) {
    for (int64_t r = 0; r < n; ++r) Predict(rows + r * num_features_, out + r * num_outputs_);
    return;
  }
  // Blocks of rows, trees outside rows inside: a tree's nodes stay in cache while the block walks it. Each
  // row still adds its trees' leaves in tree order, so the result is the same float as Predict().
  constexpr int64_t kBlock = 64;
  for (int64_t begin = 0; begin < n; begin += kBlock) {
    int64_t end = std::min(n, begin + kBlock);
    for (int64_t r = begin; r < end; ++r) out[r] = base_margin_;
    for (size_t t = 0; t < roots_.size(); ++t) {
      for (int64_t r = begin; r < end; ++r) out[r] += Leaf(roots_[t], rows + r * num_features_)->value;
    }
    if (transform_ == Transform::kSigmoid) {
      for (int64_t r = begin; r < end; ++r) out[r] = 1.0f / (1.0f + std::exp(-out[r]));
    }
  }
}

}  // namespace gyre::models
