#include "train/publish.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/time.h"

namespace gyre::train {

Status UploadPackage(tracking::ArtifactStore& artifacts, const std::string& artifact_uri, const std::string& folder,
                     const std::vector<std::pair<std::string, std::string>>& files) {
  GYRE_ASSIGN_OR_RETURN(std::string root, tracking::ArtifactPathOf(artifact_uri));
  for (const auto& [name, bytes] : files) GYRE_RETURN_IF_ERROR(artifacts.Put(root + "/" + folder + "/" + name, bytes));
  return Status::OK();
}

Result<registry::ModelVersion> RegisterPackageVersion(registry::RegistryStore& models, PackageVersionRequest request) {
  auto existing = models.GetRegisteredModel(request.name);
  if (!existing.ok()) {
    if (existing.status().code() != StatusCode::kNotFound) return existing.status();
    GYRE_RETURN_IF_ERROR(models.CreateRegisteredModel(request.name, {}, request.model_description, request.user).status());
  }
  request.version.name = request.name;
  return models.CreateModelVersion(request.version, request.user);
}

Result<PublishedImport> PublishImportedModel(models::ImportedModel model, const ImportPublishOptions& options,
                                             tracking::TrackingStore& tracking, tracking::ArtifactStore& artifacts,
                                             registry::RegistryStore& models) {
  std::string experiment_id;
  auto existing = tracking.GetExperimentByName(options.experiment);
  if (existing.ok()) {
    experiment_id = existing->experiment_id;
  } else if (existing.status().code() == StatusCode::kNotFound) {
    GYRE_ASSIGN_OR_RETURN(experiment_id,
                          tracking.CreateExperiment(options.experiment, "",
                                                    {{"mlflow.note.content", "Models trained elsewhere, imported by "
                                                                             "gyre models import"}}));
  } else {
    return existing.status();
  }
  std::string lineage = model.source == models::ImportSource::kGyrePackage
                            ? fmt::format("imported from {} (sha256 {})",
                                          std::filesystem::absolute(model.path).lexically_normal().string(), model.sha256)
                            : model.descriptor.provenance;
  tracking::CreateRunRequest run_request;
  run_request.experiment_id = experiment_id;
  run_request.user_id = options.user;
  run_request.run_name = fmt::format("import {}", options.name);
  run_request.tags = {{"mlflow.source.name", "gyre models import"},
                      {"mlflow.source.type", "LOCAL"},
                      {"gyre.import.source", model.path},
                      {"gyre.import.kind", std::string(models::ImportSourceName(model.source))},
                      {"gyre.import.sha256", model.sha256}};
  GYRE_ASSIGN_OR_RETURN(tracking::Run run, tracking.CreateRun(run_request));

  PublishedImport out;
  out.run_id = run.info.run_id;
  out.source = run.info.artifact_uri + "/model";
  Status stored = [&]() -> Status {
    if (model.descriptor.run_id.empty()) {
      model.descriptor.run_id = run.info.run_id;
      models::RefreshPackageFiles(model);
    }
    GYRE_RETURN_IF_ERROR(UploadPackage(artifacts, run.info.artifact_uri, "model", model.files));
    GYRE_ASSIGN_OR_RETURN(std::string root, tracking::ArtifactPathOf(run.info.artifact_uri));
    GYRE_ASSIGN_OR_RETURN(out.package_dir, artifacts.Resolve(root + "/model"));
    return Status::OK();
  }();
  tracking::UpdateRunRequest finish;
  finish.run_id = run.info.run_id;
  finish.status = stored.ok() ? tracking::RunStatus::kFinished : tracking::RunStatus::kFailed;
  finish.end_time = NowMillis();
  GYRE_RETURN_IF_ERROR(tracking.UpdateRun(finish).status());
  GYRE_RETURN_IF_ERROR(stored);

  PackageVersionRequest request;
  request.name = options.name;
  request.user = options.user;
  request.version.source = out.source;
  request.version.run_id = run.info.run_id;
  request.version.description = fmt::format("{} {}, {}", models::ImportSourceName(model.source), lineage,
                                            model.descriptor.objective);
  request.version.lineage.training_data_fingerprint = model.descriptor.data_fingerprint;
  request.version.lineage.feature_set = model.descriptor.feature_set;
  request.version.lineage.code_version = "imported";
  request.version.tags = {{"gyre.imported_from", lineage},
                          {"gyre.model_type", model.descriptor.flavor},
                          {"gyre.feature_names", model.feature_names_origin}};
  GYRE_ASSIGN_OR_RETURN(out.version, RegisterPackageVersion(models, std::move(request)));
  if (!options.alias.empty()) {
    GYRE_RETURN_IF_ERROR(models.SetRegisteredModelAlias(options.name, options.alias, out.version.version, options.user));
    out.version.aliases.push_back(options.alias);
  }
  return out;
}

}  // namespace gyre::train
