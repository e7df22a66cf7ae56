#include "api/app.h"

#include "api/mlflow_registry_routes.h"
#include "api/mlflow_tracking_routes.h"

namespace gyre::api {

Result<std::unique_ptr<App>> App::Open(const Workspace& workspace) {
  std::unique_ptr<App> app(new App());
  GYRE_ASSIGN_OR_RETURN(app->database_,
                        store::Database::Open(workspace.config().store.metadata, workspace.state_dir()));
  // Artifact URIs go through the server's MLflow artifact proxy, so clients never need the folder itself.
  GYRE_ASSIGN_OR_RETURN(app->tracking_, tracking::TrackingStore::Open(app->database_.get(), "mlflow-artifacts:"));
  GYRE_ASSIGN_OR_RETURN(tracking::ArtifactStore artifacts,
                        tracking::ArtifactStore::Open(workspace.config().store.artifacts));
  app->artifacts_ = std::make_unique<tracking::ArtifactStore>(std::move(artifacts));
  GYRE_ASSIGN_OR_RETURN(app->registry_, registry::RegistryStore::Open(app->database_.get()));
  return app;
}

void App::AddRoutes(http::Router& router) {
  AddMlflowTrackingRoutes(router, tracking_.get(), artifacts_.get());
  AddMlflowRegistryRoutes(router, registry_.get());
}

}  // namespace gyre::api
