#include "api/app.h"

#include "api/feature_routes.h"
#include "api/metrics_routes.h"
#include "api/mlflow_registry_routes.h"
#include "api/mlflow_tracking_routes.h"
#include "api/serving_routes.h"

#include <filesystem>

#include "store/kv_store.h"

namespace gyre::api {

Result<std::unique_ptr<App>> App::Open(const Workspace& workspace, bool serve_features) {
  std::unique_ptr<App> app(new App());
  GYRE_ASSIGN_OR_RETURN(app->database_,
                        store::Database::Open(workspace.config().store.metadata, workspace.state_dir()));
  // Artifact URIs go through the server's MLflow artifact proxy, so clients never need the folder itself.
  GYRE_ASSIGN_OR_RETURN(app->tracking_, tracking::TrackingStore::Open(app->database_.get(), "mlflow-artifacts:"));
  GYRE_ASSIGN_OR_RETURN(tracking::ArtifactStore artifacts,
                        tracking::ArtifactStore::Open(workspace.config().store.artifacts));
  app->artifacts_ = std::make_unique<tracking::ArtifactStore>(std::move(artifacts));
  GYRE_ASSIGN_OR_RETURN(app->registry_, registry::RegistryStore::Open(app->database_.get()));
  if (serve_features && std::filesystem::exists(std::filesystem::path(workspace.root()) / "features.yaml")) {
    GYRE_RETURN_IF_ERROR(app->EnableFeatures(workspace));
    GYRE_RETURN_IF_ERROR(app->EnableServing(workspace));
  }
  return app;
}

Status App::EnableFeatures(const Workspace& workspace) {
  if (online_ != nullptr) return Status::FailedPrecondition("online features are already enabled");
  GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry definitions,
                        features::FeatureRegistry::LoadForWorkspace(workspace.root(), ""));
  features_ = std::make_unique<features::FeatureRegistry>(std::move(definitions));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                        store::KvStore::Open(workspace.config().store.online, workspace.state_dir()));
  GYRE_ASSIGN_OR_RETURN(online_, features::OnlineStore::Open(features_.get(), std::move(kv)));
  online_ptr_.store(online_.get());
  return Status::OK();
}

serving::ModelResolver App::ModelResolver() {
  return [this](const std::string& uri) -> Result<serving::ResolvedModel> {
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion version, registry_->ResolveModelUri(uri));
    GYRE_ASSIGN_OR_RETURN(std::string path, tracking::ArtifactPathOf(version.source));
    GYRE_ASSIGN_OR_RETURN(std::string dir, artifacts_->Resolve(path));
    return serving::ResolvedModel{version.name, version.version, dir};
  };
}

Status App::EnableServing(const Workspace& workspace) {
  if (scoring_ != nullptr) return Status::FailedPrecondition("serving is already enabled");
  GYRE_ASSIGN_OR_RETURN(serving::DeploymentsConfig config, serving::LoadDeployments(workspace.root()));
  if (config.deployments.empty()) return Status::OK();
  if (features_ == nullptr) {
    return Status::FailedPrecondition("deployments.yaml needs features.yaml: deployments score events with online features");
  }
  GYRE_ASSIGN_OR_RETURN(scoring_, serving::ScoringService::Open(std::move(config), features_.get(), online_.get(),
                                                                ModelResolver()));
  scoring_->Start();
  scoring_ptr_.store(scoring_.get());
  return Status::OK();
}

void App::AddRoutes(http::Server& server) {
  http::Router& router = server.router();
  AddMlflowTrackingRoutes(router, tracking_.get(), artifacts_.get());
  AddMlflowRegistryRoutes(router, registry_.get());
  AddFeatureRoutes(router, [this] { return online_features(); });
  AddServingRoutes(router, [this] { return scoring(); });
  AddMetricsRoute(router, [this, &server] { return MetricsSources{&server, online_features(), scoring()}; });
}

}  // namespace gyre::api
