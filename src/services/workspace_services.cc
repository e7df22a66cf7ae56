#include "services/workspace_services.h"

#include <fmt/format.h>

#include <filesystem>

#include "models/model_import.h"
#include "registry/model_uri.h"
#include "store/kv_store.h"

#include <stdlib.h>

namespace gyre::services {
namespace fs = std::filesystem;

Result<std::string> LocalModelFolder(const std::string& source, const tracking::ArtifactStore& artifacts) {
  if (source.starts_with("mlflow-artifacts:")) {
    GYRE_ASSIGN_OR_RETURN(std::string path, tracking::ArtifactPathOf(source));
    return artifacts.Resolve(path);
  }
  std::string local = source;
  if (source.starts_with("file://")) {
    local = source.substr(7);
    if (!local.starts_with("/")) {
      return Status::InvalidArgument(fmt::format(
          "model source '{}': a file:// URI needs an absolute path (file:///abs/path)", source));
    }
  } else if (source.find("://") != std::string::npos || source.starts_with("runs:") ||
             source.starts_with("models:")) {
    return Status::InvalidArgument(fmt::format(
        "model source '{}': gyre serves models from its artifact store (mlflow-artifacts:/...), a file:// URI or "
        "an absolute local path; register the version with one of those (gyre models import PATH does it for you)",
        source));
  } else if (!fs::path(source).is_absolute()) {
    return Status::InvalidArgument(fmt::format(
        "model source '{}': a local path must be absolute (relative to what? the server's folder is not the "
        "client's)", source));
  }
  std::error_code ec;
  if (!fs::is_directory(local, ec)) {
    return Status::NotFound(fmt::format("model source '{}': no such folder on this machine", source));
  }
  return local;
}

Result<std::unique_ptr<WorkspaceServices>> WorkspaceServices::Open(const Workspace& workspace, OpenOptions options) {
  std::unique_ptr<WorkspaceServices> s(new WorkspaceServices(workspace));
  GYRE_ASSIGN_OR_RETURN(s->database_,
                        store::Database::Open(workspace.config().store.metadata, workspace.state_dir()));
  // Artifact URIs go through the server's MLflow artifact proxy, so clients never need the folder itself.
  GYRE_ASSIGN_OR_RETURN(s->tracking_, tracking::TrackingStore::Open(s->database_.get(), "mlflow-artifacts:"));
  GYRE_ASSIGN_OR_RETURN(tracking::ArtifactStore artifacts,
                        tracking::ArtifactStore::Open(workspace.config().store.artifacts));
  s->artifacts_ = std::make_unique<tracking::ArtifactStore>(std::move(artifacts));
  GYRE_ASSIGN_OR_RETURN(s->registry_, registry::RegistryStore::Open(s->database_.get()));
  GYRE_ASSIGN_OR_RETURN(s->auth_, auth::AuthStore::Open(s->database_.get()));
  if (options.serve) {
    // Without features.yaml, deployments serve their models' feature rows (OIP infer, /invocations) only.
    if (fs::exists(fs::path(workspace.root()) / "features.yaml")) GYRE_RETURN_IF_ERROR(s->EnableFeatures());
    GYRE_RETURN_IF_ERROR(s->EnableServing());
  }
  return s;
}

Status WorkspaceServices::EnableFeatures() {
  if (online_ != nullptr) return Status::FailedPrecondition("online features are already enabled");
  GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry definitions,
                        features::FeatureRegistry::LoadForWorkspace(workspace_.root(), ""));
  features_ = std::make_unique<features::FeatureRegistry>(std::move(definitions));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv,
                        store::KvStore::Open(workspace_.config().store.online, workspace_.state_dir()));
  features::OnlineStoreOptions online_options;
  GYRE_ASSIGN_OR_RETURN(online_options.durability, features::ParseDurability(workspace_.config().online.durability));
  GYRE_ASSIGN_OR_RETURN(online_, features::OnlineStore::Open(features_.get(), std::move(kv), online_options));
  features_ptr_.store(features_.get());
  online_ptr_.store(online_.get());
  return Status::OK();
}

serving::ModelResolver WorkspaceServices::ModelResolver() {
  return [this](const std::string& uri) -> Result<serving::ResolvedModel> {
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion version, registry_->ResolveModelUri(uri));
    std::string source = version.source;
    if (source.starts_with("runs:/")) {  // runs:/RUN_ID/path: the path under that run's artifact location
      std::string rest = source.substr(6);
      size_t slash = rest.find('/');
      auto run = tracking_->GetRun(rest.substr(0, slash));
      if (!run.ok()) {
        return Status(run.status().code(), fmt::format("{} (version {}): source {}: {}", uri, version.version, source,
                                                       run.status().message()));
      }
      source = run->info.artifact_uri + (slash == std::string::npos ? "" : rest.substr(slash));
    }
    auto dir = LocalModelFolder(source, *artifacts_);
    if (!dir.ok()) {
      return Status(dir.status().code(),
                    fmt::format("{} (version {}): {}", uri, version.version, dir.status().message()));
    }
    return serving::ResolvedModel{version.name, version.version, *dir};
  };
}

Result<std::shared_ptr<const serving::Servable>> WorkspaceServices::LoadModel(const std::string& uri) {
  GYRE_ASSIGN_OR_RETURN(serving::ResolvedModel resolved, ModelResolver()(uri));
  return serving::Servable::Load(resolved.package_dir, resolved.name, resolved.version);
}

Status WorkspaceServices::EnableServing() {
  if (scoring_ != nullptr) return Status::FailedPrecondition("serving is already enabled");
  GYRE_ASSIGN_OR_RETURN(serving::DeploymentsConfig config, serving::LoadDeployments(workspace_.root()));
  if (config.deployments.empty()) return Status::OK();
  GYRE_ASSIGN_OR_RETURN(scoring_, serving::ScoringService::Open(std::move(config), features_.get(), online_.get(),
                                                                ModelResolver()));
  scoring_->Start();
  scoring_ptr_.store(scoring_.get());
  return Status::OK();
}

int DefaultServerThreads(const WorkspaceConfig& config) {
  if (config.server.threads != 0) return config.server.threads;
  return config.online.durability == "sync" ? kSyncDurabilityServerThreads : 0;
}

Result<std::string> ModelServingName(const std::string& target) {
  if (target.starts_with("models:/")) {
    GYRE_ASSIGN_OR_RETURN(registry::ModelUri uri, registry::ParseModelUri(target));
    return uri.name;
  }
  fs::path path = fs::path(target).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();  // "model/"
  std::error_code ec;
  return fs::is_regular_file(path, ec) ? path.stem().string() : path.filename().string();
}

Result<std::unique_ptr<serving::ScoringService>> OpenModelServing(const std::string& target, const std::string& name,
                                                                  const std::string& log_path,
                                                                  WorkspaceServices* services) {
  serving::DeploymentsConfig config;
  serving::DeploymentConfig deployment;
  deployment.name = name;
  deployment.model = target;
  deployment.push = false;
  deployment.log_path = log_path;
  serving::ModelResolver resolver;
  std::string temporary_package;  // a bare file's package: needed only until the model is loaded
  if (target.starts_with("models:/")) {
    if (services == nullptr) {
      return Status::InvalidArgument(fmt::format("{}: a registry URI needs a workspace (--workspace DIR)", target));
    }
    resolver = services->ModelResolver();
    if (log_path.empty()) {
      deployment.log_path =
          (fs::path(services->workspace().state_dir()) / "predictions" / (name + ".jsonl")).string();
    }
  } else {
    std::error_code ec;
    fs::path folder = fs::absolute(target, ec);
    if (fs::is_regular_file(folder, ec)) {
      // A bare model file (XGBoost JSON, UBJSON or binary): converted into a package beside the process, as
      // `gyre models import` would, without registering it.
      GYRE_ASSIGN_OR_RETURN(models::ImportedModel imported, models::ImportModel(folder.string()));
      std::string pattern = (fs::temp_directory_path() / "gyre-serve-XXXXXX").string();
      if (::mkdtemp(pattern.data()) == nullptr) {
        return Status::IOError(fmt::format("cannot create a folder for the package of {}", target));
      }
      temporary_package = pattern;
      Status written = models::WriteImportedModel(imported, pattern);
      if (!written.ok()) {
        fs::remove_all(pattern, ec);
        return written;
      }
      folder = pattern;
    } else if (!fs::is_directory(folder, ec)) {
      return Status::NotFound(fmt::format("{}: no such model file or folder (give an XGBoost model file, a folder "
                                          "holding gyre-model.json or an MLflow model, or a models:/ URI)", target));
    }
    // A folder on disk has no registry version: it serves as version "1" until the process restarts.
    resolver = [folder = folder.lexically_normal().string(), name](const std::string&) -> Result<serving::ResolvedModel> {
      return serving::ResolvedModel{name, "1", folder};
    };
  }
  config.deployments.push_back(std::move(deployment));
  auto scoring = serving::ScoringService::Open(std::move(config), nullptr, nullptr, std::move(resolver));
  // Open loaded the model into memory, and its version never changes, so the poller never reads the folder
  // again: a temporary package is removed now rather than left behind.
  if (!temporary_package.empty()) {
    std::error_code ec;
    fs::remove_all(temporary_package, ec);
  }
  if (!scoring.ok()) return scoring.status();
  (*scoring)->Start();
  return std::move(*scoring);
}

}  // namespace gyre::services
