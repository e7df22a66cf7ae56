// RegistryStore: the model registry — registered models, their numbered versions, stages, aliases and
// tags, with MLflow 2.12's semantics and messages — plus gyre's lineage per version and an append-only
// audit log, on a store::Database (SQLite or PostgreSQL: same SQL, same behaviour).
//
// Contract:
// - Input is validated here, not in the HTTP layer: names, versions ("3"; not "abc", "0", "-1"), stages
//   (case-insensitive in, canonical out), aliases (MLflow's rule: not "latest", not shaped like a version),
//   tag keys and values, description and lineage lengths. Violations are InvalidArgument naming the field.
// - A missing model, version or alias is NotFound with MLflow's message ("Registered Model with name=X not
//   found", "Model Version (name=X, version=3) not found"); a duplicate model name is AlreadyExists.
// - Version numbers are 1, 2, 3, ... per model and never reused, even after a delete. Concurrent creations
//   of versions of one model get distinct consecutive numbers (the model's row is locked for the change).
// - Deleting a version removes its tags and the aliases pointing at it; deleting a model removes its
//   versions, tags and aliases. Its audit entries stay.
// - Every mutation is one transaction, and appends its audit entry in that same transaction: the change
//   and its record commit together or not at all. One call appends one entry; a call that changes nothing
//   (setting a tag to its current value, deleting a tag or alias that does not exist, moving an alias to
//   the version it already points at) appends none. Nothing in gyre updates or deletes audit entries.
// - `actor` is the user the caller acts for (from the request's credentials); "" is recorded as "unknown".
//   A new model's or version's user_id is its creator's actor.
// - Searches page with opaque offset tokens over a total order (ties broken by name, then version), so
//   paging a stable result visits every item exactly once.
// Thread-safe: the Database serialises what must be serialised. The Database must outlive the store.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "registry/types.h"

namespace gyre::registry {

struct SearchRegisteredModelsRequest {
  // `name = 'x'`, `name != 'x'`, `name LIKE '%x%'`, `name ILIKE ...`, `tags.k = 'v'` (and != LIKE ILIKE),
  // joined with AND.
  std::string filter;
  int64_t max_results = 100;
  // "name", "last_updated_timestamp" (or "timestamp"), "creation_timestamp", each optionally ASC|DESC.
  // Default and final tie-break: name ASC.
  std::vector<std::string> order_by;
  std::string page_token;
};

struct SearchModelVersionsRequest {
  // Attributes: name, run_id, source_path, version_number, creation_timestamp, last_updated_timestamp,
  // and gyre's lineage: training_data_fingerprint, feature_set, code_version. Strings take = != LIKE ILIKE
  // IN / NOT IN; numbers take = != > >= < <=. Tags: `tags.k = 'v'` (= != LIKE ILIKE).
  std::string filter;
  int64_t max_results = 1000;
  // "name", "version_number", "creation_timestamp", "last_updated_timestamp" ASC|DESC. Default:
  // last_updated_timestamp DESC; ties broken by name ASC, then version_number DESC.
  std::vector<std::string> order_by;
  std::string page_token;
};

struct CreateModelVersionRequest {
  std::string name;    // the registered model; must exist
  std::string source;  // required: where the artifacts are
  std::string run_id;
  std::vector<Tag> tags;
  std::string run_link;
  std::string description;
  Lineage lineage;
};

struct AuditQuery {
  // Entries of the model now called this (including those from before a rename), and any entries recorded
  // under this name (e.g. of a deleted model that had it).
  std::optional<std::string> model_name;
  std::optional<std::string> action;  // exact, e.g. "alias.set"
  std::optional<int64_t> since;       // ms, inclusive
  std::optional<int64_t> until;       // ms, exclusive
  int64_t max_results = 100;
  std::string page_token;
};

class RegistryStore {
 public:
  static constexpr int64_t kMaxSearchModelsResults = 1000;     // MLflow's threshold
  static constexpr int64_t kMaxSearchVersionsResults = 200000;  // MLflow's threshold
  static constexpr int64_t kMaxAuditResults = 10000;

  // Migrates the registry's schema ("registry" component). The Database must outlive the store.
  static Result<std::unique_ptr<RegistryStore>> Open(store::Database* db);

  // Registered models.
  Result<RegisteredModel> CreateRegisteredModel(const std::string& name, const std::vector<Tag>& tags,
                                                const std::string& description, std::string_view actor);
  Result<RegisteredModel> GetRegisteredModel(const std::string& name);
  Result<Page<RegisteredModel>> SearchRegisteredModels(const SearchRegisteredModelsRequest& request);
  // Versions, tags and aliases follow the model to its new name.
  Result<RegisteredModel> RenameRegisteredModel(const std::string& name, const std::string& new_name,
                                                std::string_view actor);
  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name, const std::string& description,
                                                std::string_view actor);
  Status DeleteRegisteredModel(const std::string& name, std::string_view actor);
  // The latest version in each of `stages` (names, case-insensitive; empty: every stage, None included),
  // in stage order None, Staging, Production, Archived; stages without versions are left out.
  Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name, const std::vector<std::string>& stages);
  Status SetRegisteredModelTag(const std::string& name, const Tag& tag, std::string_view actor);
  // Deleting a tag the model does not have is OK (MLflow's behaviour); the model must exist.
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key, std::string_view actor);

  // Model versions.
  Result<ModelVersion> CreateModelVersion(const CreateModelVersionRequest& request, std::string_view actor);
  Result<ModelVersion> GetModelVersion(const std::string& name, const std::string& version);
  Result<Page<ModelVersion>> SearchModelVersions(const SearchModelVersionsRequest& request);
  Result<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                          const std::string& description, std::string_view actor);
  Status DeleteModelVersion(const std::string& name, const std::string& version, std::string_view actor);
  // `stage` is None/Staging/Production/Archived in any case. archive_existing_versions moves the model's
  // other versions in that stage to Archived; it is allowed only for Staging and Production.
  Result<ModelVersion> TransitionModelVersionStage(const std::string& name, const std::string& version,
                                                   const std::string& stage, bool archive_existing_versions,
                                                   std::string_view actor);
  // The version's source: gyre does not copy artifacts on registration.
  Result<std::string> GetModelVersionDownloadUri(const std::string& name, const std::string& version);
  Status SetModelVersionTag(const std::string& name, const std::string& version, const Tag& tag,
                            std::string_view actor);
  Status DeleteModelVersionTag(const std::string& name, const std::string& version, const std::string& key,
                               std::string_view actor);

  // Aliases. Setting an existing alias moves it; the version must exist.
  Status SetRegisteredModelAlias(const std::string& name, const std::string& alias, const std::string& version,
                                 std::string_view actor);
  // Deleting an alias the model does not have is OK (MLflow's behaviour); the model must exist.
  Status DeleteRegisteredModelAlias(const std::string& name, const std::string& alias, std::string_view actor);
  // NotFound "Registered model alias X not found." when the model has no such alias.
  Result<ModelVersion> GetModelVersionByAlias(const std::string& name, const std::string& alias);

  // models:/name/3, models:/name@alias, models:/name/<stage> (latest in stage), models:/name/latest (highest
  // version). Errors are prefixed with "model URI '<uri>': ".
  Result<ModelVersion> ResolveModelUri(const std::string& uri);

  // OK when the artifact proxy may write or delete `artifact_path` (relative to the artifact root);
  // FailedPrecondition naming the version when the path is inside, or holds, the files of a registered model
  // version (source mlflow-artifacts:/...): what is registered — and may be served — is frozen, so a token
  // that may log runs cannot swap a deployed model's files. A new version is the way to change a model.
  Status CheckArtifactWritable(std::string_view artifact_path);

  // The audit log, newest first. Page tokens are keyset cursors: entries appended while a caller pages do
  // not shift later pages.
  Result<Page<AuditEntry>> QueryAudit(const AuditQuery& query);

  store::Database& database() { return *db_; }

 private:
  explicit RegistryStore(store::Database* db) : db_(db) {}

  store::Database* db_;
};

}  // namespace gyre::registry
