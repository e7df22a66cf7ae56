// App: everything one gyre process serves from a workspace, opened once: the metadata database (SQLite
// under .gyre/ or PostgreSQL, per gyre.yaml), tracking, the artifact folder, the model registry, and the
// routes that expose them.
// `gyre server` and `gyre demo` open one and add its routes to their http::Server; CLI commands that read
// runs or models open one without a server.
//
// Thread-safety: the stores are thread-safe; AddRoutes must run before the server starts.
#pragma once

#include <atomic>
#include <memory>

#include "core/status.h"
#include "core/workspace.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "http/router.h"
#include "http/server.h"
#include "registry/registry_store.h"
#include "serving/scoring.h"
#include "store/database.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::api {

class App {
 public:
  // Opens the stores named by the workspace's gyre.yaml and migrates their schemas; with a features.yaml,
  // also the online feature store (store.online: RocksDB under .gyre/online by default, or Redis).
  // `serve_features` = false skips the online store: CLI commands that only read runs or models must not take
  // RocksDB's lock away from a running server.
  static Result<std::unique_ptr<App>> Open(const Workspace& workspace, bool serve_features = true);
  // Loads features.yaml and opens the online store now (e.g. once the demo has generated the sources the
  // definitions read). The feature routes answer 404 until then. Call at most once.
  Status EnableFeatures(const Workspace& workspace);

  // Loads deployments.yaml and every model it names, and starts following their aliases (hot swap). Needs
  // the online features (EnableFeatures) first. Without deployments.yaml there is nothing to serve: OK, and
  // the scoring routes answer 503. Call at most once.
  Status EnableServing(const Workspace& workspace);
  // The registry URI → local package folder resolution serving uses (models:/ato@champion → .gyre/artifacts/...).
  serving::ModelResolver ModelResolver();

  // The MLflow tracking, artifact and registry routes, the online feature and scoring routes, and /metrics
  // (which also reports `server`'s own counters).
  void AddRoutes(http::Server& server);

  store::Database& database() { return *database_; }
  tracking::TrackingStore& tracking() { return *tracking_; }
  tracking::ArtifactStore& artifacts() { return *artifacts_; }
  registry::RegistryStore& registry() { return *registry_; }
  // The workspace's feature definitions and online store; null when it has no features.yaml.
  const features::FeatureRegistry* features() const { return features_.get(); }
  features::OnlineStore* online_features() { return online_ptr_.load(); }
  serving::ScoringService* scoring() { return scoring_ptr_.load(); }

 private:
  App() = default;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<tracking::ArtifactStore> artifacts_;
  std::unique_ptr<registry::RegistryStore> registry_;
  std::unique_ptr<features::FeatureRegistry> features_;
  std::unique_ptr<features::OnlineStore> online_;
  std::atomic<features::OnlineStore*> online_ptr_{nullptr};  // published once online_ is ready
  std::unique_ptr<serving::ScoringService> scoring_;
  std::atomic<serving::ScoringService*> scoring_ptr_{nullptr};
};

}  // namespace gyre::api
