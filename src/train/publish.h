// Publishing a model package: its files stored under a tracking run's artifacts (so the registry source is an
// mlflow-artifacts:/ URI that serving, the MLflow client and `gyre models show` all resolve), and a registry
// version of it. Shared by `gyre train --register` (RunExperiment) and `gyre models import`.
//
// Not atomic: files uploaded before a failed registration stay under their run (as MLflow leaves them).
// Thread-safe as far as the stores are.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "models/model_import.h"
#include "registry/registry_store.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::train {

// Stores `files` (name → bytes) under `<artifact_uri>/<folder>/`.
Status UploadPackage(tracking::ArtifactStore& artifacts, const std::string& artifact_uri, const std::string& folder,
                     const std::vector<std::pair<std::string, std::string>>& files);

struct PackageVersionRequest {
  std::string name;               // the registered model, created on first use
  std::string model_description;  // of the registered model, when this call creates it
  registry::CreateModelVersionRequest version;  // its `name` is set from `name`
  std::string user;
};
Result<registry::ModelVersion> RegisterPackageVersion(registry::RegistryStore& models, PackageVersionRequest request);

struct ImportPublishOptions {
  std::string name;     // registered model
  std::string alias;    // set on the new version when not empty
  std::string user = "gyre";
  std::string experiment = "gyre-imports";  // tracking experiment of the import's run
};

struct PublishedImport {
  registry::ModelVersion version;
  std::string run_id;
  std::string source;       // mlflow-artifacts:/<experiment>/<run>/artifacts/model
  std::string package_dir;  // where the package is on disk
};

// `gyre models import` after the package is built (models::ImportModel): a FINISHED run in `experiment` that
// records the import (tags gyre.import.source, gyre.import.sha256), the package under its artifacts at model/
// (its descriptor's run_id set to the run), a registry version with lineage and tag `gyre.imported_from`
// ("imported from PATH (sha256 HEX)"), and the alias if asked.
Result<PublishedImport> PublishImportedModel(models::ImportedModel model, const ImportPublishOptions& options,
                                             tracking::TrackingStore& tracking, tracking::ArtifactStore& artifacts,
                                             registry::RegistryStore& models);

}  // namespace gyre::train
