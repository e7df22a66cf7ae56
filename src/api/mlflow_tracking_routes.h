// The MLflow tracking REST API 2.0 and the MLflow artifact proxy, bound to gyre's TrackingStore and
// ArtifactStore. Handlers parse the wire format (api/mlflow_protocol.h), call the store, and format the
// answer; every rule (limits, immutability, search semantics) lives in the store.
//
// Routes: /api/2.0/mlflow/{experiments,runs,metrics,artifacts}/... and the same under /ajax-api/2.0/mlflow
// (the MLflow UI's prefix); /api/2.0/mlflow-artifacts/artifacts[/<path>] GET (download or list), PUT,
// DELETE. Errors on these prefixes have MLflow's shape.
#pragma once

#include <functional>
#include <string_view>

#include "api/mlflow_protocol.h"
#include "http/router.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::api {

struct TrackingRouteOptions {
  // The changes that matter to an auditor (experiments and runs created, updated, deleted, restored; models
  // logged; artifacts written or deleted) are recorded in its log of audited requests once they succeed.
  auth::AuthStore* audit = nullptr;
  // Asked before the artifact proxy writes or deletes a path (relative to the artifact root); its error is the
  // answer (registry::RegistryStore::CheckArtifactWritable: a registered version's files are frozen).
  std::function<Status(std::string_view artifact_path)> check_artifact_writable;
};

// The stores (and what `options` points to) must outlive the router's use of the routes.
void AddMlflowTrackingRoutes(http::Router& router, tracking::TrackingStore* store, tracking::ArtifactStore* artifacts,
                             TrackingRouteOptions options = {});

}  // namespace gyre::api
