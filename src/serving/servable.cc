#include "serving/servable.h"

#include <fmt/format.h>

#include "models/model_import.h"

namespace gyre::serving {

std::string_view OutputKindName(OutputKind kind) {
  switch (kind) {
    case OutputKind::kProbability: return "probability";
    case OutputKind::kValue: return "value";
    case OutputKind::kClassProbabilities: return "class probabilities";
    case OutputKind::kClass: return "class";
  }
  return "?";
}

Result<std::shared_ptr<const Servable>> Servable::Load(const std::string& package_dir, std::string name,
                                                       std::string version) {
  auto servable = std::shared_ptr<Servable>(new Servable());
  servable->name_ = std::move(name);
  servable->version_ = std::move(version);
  // A gyre package, or an MLflow xgboost folder as the MLflow client uploaded it (converted in memory).
  GYRE_ASSIGN_OR_RETURN(models::LoadedModel loaded, models::LoadModelFolder(package_dir));
  servable->descriptor_ = std::move(loaded.descriptor);
  const models::PackageDescriptor& d = servable->descriptor_;
  servable->feature_names_ = std::make_shared<const std::vector<std::string>>(d.feature_names);
  std::string model_path = package_dir + "/" + d.model_file;
  if (auto* trees = std::get_if<models::TreeEnsemble>(&loaded.model)) {
    const std::string& objective = trees->objective();
    servable->num_outputs_ = trees->num_outputs();
    servable->output_kind_ = objective == "multi:softprob"   ? OutputKind::kClassProbabilities
                             : objective == "multi:softmax"  ? OutputKind::kClass
                             : objective == "binary:logistic" || objective == "reg:logistic" ? OutputKind::kProbability
                                                                                              : OutputKind::kValue;
    if (trees->num_features() != servable->num_features()) {
      return Status::InvalidArgument(fmt::format("{}: the model reads {} features, its signature lists {}", model_path,
                                                 trees->num_features(), servable->num_features()));
    }
    servable->model_ = std::move(*trees);
  } else {
    auto& lr = std::get<models::LogisticRegression>(loaded.model);
    if (lr.num_features() != servable->num_features()) {
      return Status::InvalidArgument(fmt::format("{}: the model reads {} features, its signature lists {}", model_path,
                                                 lr.num_features(), servable->num_features()));
    }
    servable->model_ = std::move(lr);
  }
  return std::shared_ptr<const Servable>(std::move(servable));
}

void Servable::Score(const float* rows, int64_t n, float* out) const {
  if (const auto* trees = std::get_if<models::TreeEnsemble>(&model_)) {
    trees->PredictBatch(rows, n, out);
    return;
  }
  const auto& lr = std::get<models::LogisticRegression>(model_);  // one probability per row
  const int d = num_features();
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(lr.Predict(rows + i * d));
}

}  // namespace gyre::serving
