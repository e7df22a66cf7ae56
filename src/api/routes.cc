#include "api/routes.h"

#include "api/feature_routes.h"
#include "api/metrics_routes.h"
#include "api/mlflow_registry_routes.h"
#include "api/mlflow_tracking_routes.h"
#include "api/serving_routes.h"

namespace gyre::api {

void AddRoutes(http::Server& server, services::WorkspaceServices& services) {
  http::Router& router = server.router();
  AddMlflowTrackingRoutes(router, &services.tracking(), &services.artifacts(),
                          {.audit = &services.auth(),
                           .check_artifact_writable = [&services](std::string_view path) {
                             return services.registry().CheckArtifactWritable(path);
                           }});
  AddMlflowRegistryRoutes(router, &services.registry());
  AddFeatureRoutes(router, [&services] { return services.online_features(); });
  AddServingRoutes(router, [&services] { return services.scoring(); });
  AddMetricsRoute(router, [&services, &server] {
    return MetricsSources{&server, services.online_features(), services.scoring()};
  });
}

void AddModelServingRoutes(http::Server& server, serving::ScoringService& scoring) {
  AddServingRoutes(server.router(), [&scoring] { return &scoring; });
  AddMetricsRoute(server.router(), [&scoring, &server] { return MetricsSources{&server, nullptr, &scoring}; });
}

}  // namespace gyre::api
