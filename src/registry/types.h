// The model registry's data model, with MLflow's field names and meanings (../shared/reference/mlflow-rest.md,
// model_registry.proto): a registered model has numbered versions; a version sits in one stage (None,
// Staging, Production, Archived), carries tags, and may be pointed at by aliases such as `champion`.
// gyre adds lineage to each version (what made it) and an append-only audit log of every change.
// Times are int64 milliseconds since the epoch, as MLflow's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tracking/types.h"

namespace gyre::registry {

using Tag = tracking::Tag;
template <typename T>
using Page = tracking::Page<T>;

// Deprecated upstream since MLflow 2.9 in favour of aliases, but the client still sends transition-stage.
enum class Stage { kNone, kStaging, kProduction, kArchived };

// gyre registers synchronously, so every version it returns is READY; the other values exist for the wire.
enum class ModelVersionStatus { kPendingRegistration, kFailedRegistration, kReady };

// Where a version came from, beyond MLflow's run_id: enough to rebuild it or to explain it to an auditor.
// Every field may be empty (a version registered by the plain MLflow client has no gyre lineage).
struct Lineage {
  std::string training_data_fingerprint;  // digest of the training set, e.g. the dataset input's digest
  std::string feature_set;                // name of the feature set the model reads
  std::string code_version;               // e.g. the git commit of the training code
  bool operator==(const Lineage&) const = default;
};

struct ModelVersion {
  std::string name;
  std::string version;  // "1", "2", ... (a string on MLflow's wire)
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  Stage current_stage = Stage::kNone;
  std::string description;
  std::string source;  // where the model's artifacts are; also the download URI
  std::string run_id;  // the tracking run that produced it (may be empty)
  ModelVersionStatus status = ModelVersionStatus::kReady;
  std::string status_message;
  std::vector<Tag> tags;             // sorted by key
  std::string run_link;
  std::vector<std::string> aliases;  // sorted
  Lineage lineage;
};

struct RegisteredModelAlias {
  std::string alias;
  std::string version;
  bool operator==(const RegisteredModelAlias&) const = default;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string user_id;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the latest version in each stage, in stage order
  std::vector<Tag> tags;                      // sorted by key
  std::vector<RegisteredModelAlias> aliases;  // sorted by alias
};

// One audit log entry: who changed what, when, and the state before and after (JSON objects as text; empty
// when there was no before, e.g. a create, or no after, e.g. a delete).
struct AuditEntry {
  int64_t id = 0;         // increasing in the order the changes were made
  int64_t timestamp = 0;  // ms
  std::string actor;      // the user the caller named; "unknown" if it named none
  std::string action;     // one of the audit_action names below
  std::string model_name; // the model's name when the change was made (a rename records the old name)
  std::optional<std::string> version;
  std::optional<std::string> alias;
  std::string before;
  std::string after;
  bool operator==(const AuditEntry&) const = default;
};

// Audit action names, stable: scripts and dashboards filter on them.
namespace audit_action {
inline constexpr std::string_view kModelCreate = "model.create";
inline constexpr std::string_view kModelRename = "model.rename";
inline constexpr std::string_view kModelUpdate = "model.update";
inline constexpr std::string_view kModelDelete = "model.delete";
inline constexpr std::string_view kModelTagSet = "model.tag.set";
inline constexpr std::string_view kModelTagDelete = "model.tag.delete";
inline constexpr std::string_view kVersionCreate = "version.create";
inline constexpr std::string_view kVersionUpdate = "version.update";
inline constexpr std::string_view kVersionDelete = "version.delete";
inline constexpr std::string_view kVersionStage = "version.stage";
inline constexpr std::string_view kVersionTagSet = "version.tag.set";
inline constexpr std::string_view kVersionTagDelete = "version.tag.delete";
inline constexpr std::string_view kAliasSet = "alias.set";
inline constexpr std::string_view kAliasDelete = "alias.delete";
}  // namespace audit_action

// "None", "Staging", "Production", "Archived".
std::string_view StageName(Stage stage);
// Case-insensitive ("production", "PRODUCTION"); anything else is InvalidArgument naming the valid stages.
Result<Stage> ParseStage(std::string_view name);

std::string_view ModelVersionStatusName(ModelVersionStatus status);  // "READY", ...

}  // namespace gyre::registry
