// App: everything one gyre process serves from a workspace, opened once: the metadata database (SQLite
// under .gyre/ or PostgreSQL, per gyre.yaml), tracking, the artifact folder, the model registry, and the
// routes that expose them.
// `gyre server` and `gyre demo` open one and add its routes to their http::Server; CLI commands that read
// runs or models open one without a server.
//
// Thread-safety: the stores are thread-safe; AddRoutes must run before the server starts.
#pragma once

#include <memory>

#include "core/status.h"
#include "core/workspace.h"
#include "http/router.h"
#include "registry/registry_store.h"
#include "store/database.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::api {

class App {
 public:
  // Opens the stores named by the workspace's gyre.yaml and migrates their schemas.
  static Result<std::unique_ptr<App>> Open(const Workspace& workspace);

  // The MLflow tracking, artifact and registry routes, and gyre's own /api/v1 routes.
  void AddRoutes(http::Router& router);

  store::Database& database() { return *database_; }
  tracking::TrackingStore& tracking() { return *tracking_; }
  tracking::ArtifactStore& artifacts() { return *artifacts_; }
  registry::RegistryStore& registry() { return *registry_; }

 private:
  App() = default;
  std::unique_ptr<store::Database> database_;
  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<tracking::ArtifactStore> artifacts_;
  std::unique_ptr<registry::RegistryStore> registry_;
};

}  // namespace gyre::api
