// WorkspaceServices: everything one gyre process runs from a workspace, opened once — the metadata database
// (SQLite under .gyre/ or PostgreSQL, per gyre.yaml), tracking, the artifact folder, the model registry and
// the resolution of model URIs to package folders, the feature definitions and online store, and serving.
//
// `gyre server` opens one and lets `api` add HTTP routes over it; `gyre demo` and the CLI commands open one
// and call the modules directly. Nothing here knows about HTTP.
//
// Thread-safety: the stores are thread-safe; EnableFeatures / EnableServing run before anything reads
// online_features() / scoring() concurrently, or publish them atomically (the accessors never see a
// half-opened service).
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "auth/auth_store.h"
#include "core/status.h"
#include "core/workspace.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "registry/registry_store.h"
#include "serving/model_manager.h"
#include "serving/scoring.h"
#include "store/database.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::services {

struct OpenOptions {
  // Also open the online feature store and serving when the workspace has features.yaml. False for commands
  // that only read runs or models: they must not take RocksDB's lock away from a running server.
  bool serve = true;
};

class WorkspaceServices {
 public:
  // Opens the stores named by the workspace's gyre.yaml and migrates their schemas; with `serve` and a
  // features.yaml, also the online features (store.online: RocksDB under .gyre/online by default, or Redis)
  // and the deployments of deployments.yaml.
  static Result<std::unique_ptr<WorkspaceServices>> Open(const Workspace& workspace, OpenOptions options = {});

  // Loads features.yaml and opens the online store now (e.g. once the demo has generated the sources the
  // definitions read). Until then online_features() is null. Call at most once.
  Status EnableFeatures();
  // Loads deployments.yaml and every model it names, and starts following their aliases (hot swap). Call
  // EnableFeatures first for deployments to score events; without it they score feature rows only. Without
  // deployments.yaml there is nothing to serve: OK, and scoring() stays null.
  // Call at most once.
  Status EnableServing();

  // models:/ato@champion (or a version's source) → the local package folder serving loads.
  serving::ModelResolver ModelResolver();
  // Resolves `uri` and loads it, outside any deployment (batch scoring, `gyre models serve`).
  Result<std::shared_ptr<const serving::Servable>> LoadModel(const std::string& uri);

  const Workspace& workspace() const { return workspace_; }
  store::Database& database() { return *database_; }
  tracking::TrackingStore& tracking() { return *tracking_; }
  tracking::ArtifactStore& artifacts() { return *artifacts_; }
  registry::RegistryStore& registry() { return *registry_; }
  // Users and API tokens (whether a server checks them is the server's choice: gyre server --auth).
  auth::AuthStore& auth() { return *auth_; }
  // The workspace's feature definitions and online store; null before EnableFeatures.
  const features::FeatureRegistry* features() const { return features_ptr_.load(); }
  features::OnlineStore* online_features() { return online_ptr_.load(); }
  // Null until EnableServing found deployments.
  serving::ScoringService* scoring() { return scoring_ptr_.load(); }

 private:
  explicit WorkspaceServices(Workspace workspace) : workspace_(std::move(workspace)) {}

  Workspace workspace_;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<tracking::ArtifactStore> artifacts_;
  std::unique_ptr<registry::RegistryStore> registry_;
  std::unique_ptr<auth::AuthStore> auth_;
  std::unique_ptr<features::FeatureRegistry> features_;
  std::atomic<const features::FeatureRegistry*> features_ptr_{nullptr};
  std::unique_ptr<features::OnlineStore> online_;
  std::atomic<features::OnlineStore*> online_ptr_{nullptr};  // published once online_ is ready
  // Declared last so it stops first: serving reads the online store and the registry.
  std::unique_ptr<serving::ScoringService> scoring_;
  std::atomic<serving::ScoringService*> scoring_ptr_{nullptr};
};

// The worker threads `gyre server` runs when neither --threads nor server.threads sets them: 0 (one per core),
// but kSyncDurabilityServerThreads with online.durability: sync. There a push waits for its fsync on its
// worker thread, blocking that worker's other connections meanwhile, and group commit shares one fsync among
// the pushes waiting at once: more workers, more pushes per fsync.
inline constexpr int kSyncDurabilityServerThreads = 32;
int DefaultServerThreads(const WorkspaceConfig& config);

// Serving for one model outside deployments.yaml (`gyre models serve`, like `mlflow models serve -m`): a
// deployment named `name` that scores feature rows (OIP v2, /invocations) with no feature definitions.
// `target` is a models:/ URI resolved through `services` (then predictions are logged under its workspace's
// .gyre/predictions/), or a model folder (gyre package, MLflow model) or XGBoost model file on disk (then
// `services` may be null, and predictions go to `log_path` if given; a file is converted into a package in a
// temporary folder first). The model is followed like a deployment's: an alias move swaps it in.
// The name a served `target` answers to when none is given: the registered model's for a models:/ URI, else
// the file's stem or the folder's name.
Result<std::string> ModelServingName(const std::string& target);
Result<std::unique_ptr<serving::ScoringService>> OpenModelServing(const std::string& target, const std::string& name,
                                                                  const std::string& log_path,
                                                                  WorkspaceServices* services);

// The local folder a model version's `source` names: an `mlflow-artifacts:/...` URI (served from the
// workspace's artifact folder), a `file://` URI, or an absolute local path. Anything else — a relative path,
// a remote scheme — is an error saying what to register instead.
Result<std::string> LocalModelFolder(const std::string& source, const tracking::ArtifactStore& artifacts);

}  // namespace gyre::services
