#include "train/fit.h"

#include <fmt/format.h>
#include <xgboost/c_api.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/value_parse.h"
#include "models/logistic_regression.h"
#include "models/tree_ensemble.h"
#include "train/logistic_trainer.h"

namespace gyre::train {
namespace {

Status XGBoostError(std::string_view what) {
  return Status::Internal(fmt::format("libxgboost: {}: {}", what, XGBGetLastError()));
}

#define GYRE_XGB(call, what)                                  \
  do {                                                        \
    if ((call) != 0) return XGBoostError(what);               \
  } while (0)

// Owns a handle, frees it on every path out.
struct DMatrix {
  DMatrixHandle handle = nullptr;
  ~DMatrix() {
    if (handle != nullptr) XGDMatrixFree(handle);
  }
};
struct Booster {
  BoosterHandle handle = nullptr;
  ~Booster() {
    if (handle != nullptr) XGBoosterFree(handle);
  }
};

Status MakeDMatrix(const DenseMatrix& m, const std::vector<std::string>& names, DMatrix* out) {
  GYRE_XGB(XGDMatrixCreateFromMat(m.x.data(), static_cast<bst_ulong>(m.rows), static_cast<bst_ulong>(m.cols),
                                  std::numeric_limits<float>::quiet_NaN(), &out->handle),
           "creating the training matrix");
  GYRE_XGB(XGDMatrixSetFloatInfo(out->handle, "label", m.label.data(), static_cast<bst_ulong>(m.rows)), "setting labels");
  if (!m.weight.empty()) {
    GYRE_XGB(XGDMatrixSetFloatInfo(out->handle, "weight", m.weight.data(), static_cast<bst_ulong>(m.rows)),
             "setting weights");
  }
  std::vector<const char*> c_names;
  for (const std::string& n : names) c_names.push_back(n.c_str());
  GYRE_XGB(XGDMatrixSetStrFeatureInfo(out->handle, "feature_name", c_names.data(), static_cast<bst_ulong>(c_names.size())),
           "setting feature names");
  return Status::OK();
}

// "[12]\tvalid-aucpr:0.51234" → 0.51234
Result<double> ParseEval(const char* text) {
  std::string_view s(text);
  size_t colon = s.rfind(':');
  double v = 0;
  if (colon == std::string_view::npos || !ParseFloat64(s.substr(colon + 1), &v)) {
    return Status::Internal(fmt::format("libxgboost: cannot read evaluation '{}'", s));
  }
  return v;
}

class TreeScorer : public Scorer {
 public:
  explicit TreeScorer(models::TreeEnsemble model) : model_(std::move(model)) {}
  void ScoreBatch(const float* rows, int64_t n, float* out) const override { model_.PredictBatch(rows, n, out); }

 private:
  models::TreeEnsemble model_;
};

class LogisticScorer : public Scorer {
 public:
  explicit LogisticScorer(models::LogisticRegression model) : model_(std::move(model)) {}
  void ScoreBatch(const float* rows, int64_t n, float* out) const override {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(model_.Predict(rows + i * model_.num_features()));
  }

 private:
  models::LogisticRegression model_;
};

Result<FittedModel> FitXGBoost(const ModelConfig& model, const ParamSet& params,
                               const std::vector<std::string>& feature_names, const DenseMatrix& train,
                               const DenseMatrix* validation, const FitOptions& options) {
  DMatrix dtrain, dvalid;
  GYRE_RETURN_IF_ERROR(MakeDMatrix(train, feature_names, &dtrain));
  if (validation != nullptr) GYRE_RETURN_IF_ERROR(MakeDMatrix(*validation, feature_names, &dvalid));
  Booster booster;
  DMatrixHandle cache[2] = {dtrain.handle, dvalid.handle};
  GYRE_XGB(XGBoosterCreate(cache, validation != nullptr ? 2 : 1, &booster.handle), "creating the booster");
  auto set = [&](const std::string& k, const std::string& v) -> Status {
    GYRE_XGB(XGBoosterSetParam(booster.handle, k.c_str(), v.c_str()), fmt::format("parameter {}={}", k, v));
    return Status::OK();
  };
  GYRE_RETURN_IF_ERROR(set("objective", "binary:logistic"));
  GYRE_RETURN_IF_ERROR(set("tree_method", "hist"));
  GYRE_RETURN_IF_ERROR(set("nthread", std::to_string(options.threads)));
  GYRE_RETURN_IF_ERROR(set("seed", std::to_string(options.seed)));
  GYRE_RETURN_IF_ERROR(set("eval_metric", options.eval_metric));
  GYRE_RETURN_IF_ERROR(set("verbosity", "0"));
  // Start from the weighted base rate, not libxgboost 1.7's 0.5: with a rare positive class and early
  // stopping after a few rounds, a 0.5 start leaves every probability far too high (xgboost 2.0 does the same).
  double positive = 0, total = 0;
  for (int64_t i = 0; i < train.rows; ++i) {
    double w = train.weight.empty() ? 1.0 : train.weight[i];
    positive += w * train.label[i];
    total += w;
  }
  GYRE_RETURN_IF_ERROR(set("base_score", fmt::format("{:.9g}", std::clamp(positive / total, 1e-6, 1 - 1e-6))));
  for (const auto& [k, v] : params) GYRE_RETURN_IF_ERROR(set(k, v));

  const bool maximize = options.eval_metric != "logloss";
  const bool early = validation != nullptr && model.early_stopping_rounds > 0;
  double best = maximize ? -INFINITY : INFINITY;
  int best_round = model.num_boost_round - 1;
  const char* names[1] = {"valid"};
  for (int round = 0; round < model.num_boost_round; ++round) {
    GYRE_XGB(XGBoosterUpdateOneIter(booster.handle, round, dtrain.handle), "boosting");
    if (validation == nullptr) continue;
    const char* eval = nullptr;
    GYRE_XGB(XGBoosterEvalOneIter(booster.handle, round, &dvalid.handle, names, 1, &eval), "evaluating");
    GYRE_ASSIGN_OR_RETURN(double score, ParseEval(eval));
    if (maximize ? score > best : score < best) {
      best = score;
      best_round = round;
    } else if (early && round - best_round >= model.early_stopping_rounds) {
      break;
    }
  }

  FittedModel fitted;
  fitted.type = ModelType::kXGBoost;
  fitted.file_name = "model.json";
  fitted.rounds = best_round + 1;
  fitted.validation_metric = validation != nullptr ? options.eval_metric : "";
  fitted.validation_score = validation != nullptr ? best : 0;
  int boosted = 0;
  GYRE_XGB(XGBoosterBoostedRounds(booster.handle, &boosted), "counting rounds");
  Booster kept;
  BoosterHandle final_handle = booster.handle;
  if (early && boosted > fitted.rounds) {
    GYRE_XGB(XGBoosterSlice(booster.handle, 0, fitted.rounds, 1, &kept.handle), "keeping the best rounds");
    final_handle = kept.handle;
  }
  bst_ulong len = 0;
  const char* bytes = nullptr;
  GYRE_XGB(XGBoosterSaveModelToBuffer(final_handle, R"({"format": "json"})", &len, &bytes), "saving the model");
  fitted.file_bytes.assign(bytes, len);

  bst_ulong n_features = 0, dim = 0;
  const char** out_names = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  GYRE_XGB(XGBoosterFeatureScore(final_handle, R"({"importance_type": "total_gain"})", &n_features, &out_names, &dim,
                                 &shape, &scores),
           "computing gain importance");
  // Boosters made by slicing forget the matrix's feature names and say "f<index>": name them again.
  for (bst_ulong i = 0; i < n_features; ++i) {
    std::string name = out_names[i];
    int64_t index = -1;
    if (name.size() > 1 && name[0] == 'f' && ParseInt64(std::string_view(name).substr(1), &index) && index >= 0 &&
        index < static_cast<int64_t>(feature_names.size())) {
      name = feature_names[index];
    }
    fitted.gain_importance.emplace_back(std::move(name), scores[i]);
  }

  GYRE_ASSIGN_OR_RETURN(fitted.scorer, LoadScorer(ModelType::kXGBoost, fitted.file_bytes, fitted.file_name));
  return fitted;
}

Result<FittedModel> FitLogistic(const ParamSet& params, const std::vector<std::string>& feature_names,
                                const DenseMatrix& train, const FitOptions& options) {
  LogisticOptions lo;
  lo.threads = options.threads;
  for (const auto& [k, v] : params) {
    double value = 0;
    ParseFloat64(v, &value);  // checked when the experiment was parsed
    if (k == "c") lo.c = value;
    if (k == "max_iter") lo.max_iter = static_cast<int>(value);
  }
  LogisticFitInfo info;
  GYRE_ASSIGN_OR_RETURN(models::LogisticRegression m,
                        FitLogisticRegression(train.x.data(), train.rows, train.cols, train.label.data(),
                                              train.weight.empty() ? nullptr : train.weight.data(), feature_names, lo,
                                              &info));
  FittedModel fitted;
  fitted.type = ModelType::kLogisticRegression;
  fitted.file_name = "logistic_regression.json";
  fitted.file_bytes = m.ToJson();
  fitted.rounds = info.iterations;
  fitted.scorer = std::make_unique<LogisticScorer>(std::move(m));
  return fitted;
}

}  // namespace

Result<FittedModel> FitModel(const ModelConfig& model, const ParamSet& params, const std::vector<std::string>& feature_names,
                             const DenseMatrix& train, const DenseMatrix* validation, const FitOptions& options) {
  if (train.rows == 0) return Status::InvalidArgument("no training rows");
  if (model.type == ModelType::kLogisticRegression) return FitLogistic(params, feature_names, train, options);
  return FitXGBoost(model, params, feature_names, train, validation, options);
}

Result<std::unique_ptr<Scorer>> LoadScorer(ModelType type, const std::string& file_bytes, const std::string& name) {
  if (type == ModelType::kLogisticRegression) {
    GYRE_ASSIGN_OR_RETURN(models::LogisticRegression m, models::LogisticRegression::ParseJson(file_bytes, name));
    return std::unique_ptr<Scorer>(std::make_unique<LogisticScorer>(std::move(m)));
  }
  GYRE_ASSIGN_OR_RETURN(models::TreeEnsemble m, models::TreeEnsemble::ParseXGBoostJson(file_bytes, name));
  return std::unique_ptr<Scorer>(std::make_unique<TreeScorer>(std::move(m)));
}

}  // namespace gyre::train
