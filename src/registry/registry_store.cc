#include "registry/registry_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "registry/model_uri.h"
#include "registry/registry_schema.h"
#include "registry/validation.h"
#include "store/migrations.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::registry {

using gyre::NowMillis;
using internal::AppendAudit;
using internal::FindModel;
using internal::ModelRow;
using internal::Reader;
using nlohmann::json;
using store::Connection;
using store::QueryResult;
using store::Value;

namespace {

// Runs `body` in one transaction with a Reader on its connection.
template <typename Body>
Status Mutate(store::Database& db, Body&& body) {
  store::Dialect dialect = db.dialect();
  return db.Transaction([&](Connection& conn) -> Status {
    Reader reader(conn, dialect);
    return body(conn, reader);
  });
}

// Tags as MLflow stores them: one value per key, the last one given wins.
std::map<std::string, std::string> UniqueTags(const std::vector<Tag>& tags) {
  std::map<std::string, std::string> out;
  for (const Tag& t : tags) out[t.key] = t.value;
  return out;
}

Status ValidateTags(const std::vector<Tag>& tags) {
  for (const Tag& t : tags) GYRE_RETURN_IF_ERROR(ValidateRegistryTag(t.key, t.value));
  return Status::OK();
}

Status AlreadyExists(const std::string& name) {
  return Status::AlreadyExists(fmt::format("Registered Model (name={}) already exists.", name));
}

Result<std::string> TagValue(Reader& reader, std::string_view sql, std::vector<Value> key) {
  GYRE_ASSIGN_OR_RETURN(QueryResult r, reader.Query(sql, key));
  if (r.empty()) return Status::NotFound("no such tag");
  return r.Text(0, 0);
}

// NotFound with MLflow's message unless the version exists.
Status CheckVersionExists(Reader& reader, const ModelRow& model, int64_t version) {
  std::vector<Value> key{model.model_id, version};
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        reader.Query("SELECT 1 FROM model_versions WHERE model_id = ? AND version = ?", key));
  if (r.empty()) {
    return Status::NotFound(fmt::format("Model Version (name={}, version={}) not found", model.name, version));
  }
  return Status::OK();
}

}  // namespace

Result<std::unique_ptr<RegistryStore>> RegistryStore::Open(store::Database* db) {
  GYRE_RETURN_IF_ERROR(store::Migrate(*db, "registry", internal::Migrations()));
  return std::unique_ptr<RegistryStore>(new RegistryStore(db));
}

// ---------------------------------------------------------------------------------------------------------
// Registered models

Result<RegisteredModel> RegistryStore::CreateRegisteredModel(const std::string& name, const std::vector<Tag>& tags,
                                                             const std::string& description, std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateTags(tags));
  GYRE_RETURN_IF_ERROR(ValidateLength("description", description, kMaxDescriptionLength));
  RegisteredModel model;
  Status s = Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    int64_t now = NowMillis();
    std::vector<Value> row{name, now, now, std::string(actor), description};
    GYRE_ASSIGN_OR_RETURN(QueryResult r, conn.Query("INSERT INTO registered_models (name, creation_timestamp, "
                                                    "last_updated_timestamp, user_id, description, next_version) "
                                                    "VALUES (?, ?, ?, ?, ?, 1) RETURNING model_id",
                                                    row));
    int64_t id = r.Int(0, 0);
    std::vector<Tag> stored;
    for (const auto& [key, value] : UniqueTags(tags)) {
      std::vector<Value> tag{id, key, value};
      GYRE_RETURN_IF_ERROR(
          conn.Execute("INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?)", tag));
      stored.push_back({key, value});
    }
    json after = {{"name", name}};
    if (!description.empty()) after["description"] = description;
    if (!stored.empty()) after["tags"] = internal::TagsJson(stored);
    GYRE_RETURN_IF_ERROR(
        AppendAudit(conn, audit_action::kModelCreate, actor, id, name, std::nullopt, std::nullopt, nullptr, after));
    GYRE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> loaded, internal::LoadModels(reader, {id}));
    model = std::move(loaded.at(0));
    return Status::OK();
  });
  if (s.code() == StatusCode::kAlreadyExists) return AlreadyExists(name);
  GYRE_RETURN_IF_ERROR(s);
  return model;
}

Result<RegisteredModel> RegistryStore::GetRegisteredModel(const std::string& name) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  Reader reader(*db_);
  GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
  GYRE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> loaded, internal::LoadModels(reader, {row.model_id}));
  // Deleted between the two reads.
  if (loaded.empty()) return Status::NotFound(fmt::format("Registered Model with name={} not found", name));
  return std::move(loaded[0]);
}

Result<RegisteredModel> RegistryStore::RenameRegisteredModel(const std::string& name, const std::string& new_name,
                                                             std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateModelName(new_name));
  RegisteredModel model;
  Status s = Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    if (new_name != name) {
      int64_t now = NowMillis();
      std::vector<Value> update{new_name, now, row.model_id};
      GYRE_RETURN_IF_ERROR(
          conn.Execute("UPDATE registered_models SET name = ?, last_updated_timestamp = ? WHERE model_id = ?", update));
      std::vector<Value> versions{now, row.model_id};
      GYRE_RETURN_IF_ERROR(
          conn.Execute("UPDATE model_versions SET last_updated_timestamp = ? WHERE model_id = ?", versions));
      GYRE_RETURN_IF_ERROR(AppendAudit(conn, audit_action::kModelRename, actor, row.model_id, name, std::nullopt,
                                       std::nullopt, json{{"name", name}}, json{{"name", new_name}}));
    }
    GYRE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> loaded, internal::LoadModels(reader, {row.model_id}));
    model = std::move(loaded.at(0));
    return Status::OK();
  });
  if (s.code() == StatusCode::kAlreadyExists) return AlreadyExists(new_name);
  GYRE_RETURN_IF_ERROR(s);
  return model;
}

Result<RegisteredModel> RegistryStore::UpdateRegisteredModel(const std::string& name, const std::string& description,
                                                             std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateLength("description", description, kMaxDescriptionLength));
  RegisteredModel model;
  GYRE_RETURN_IF_ERROR(Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    std::vector<Value> update{description, NowMillis(), row.model_id};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE registered_models SET description = ?, last_updated_timestamp = ? WHERE model_id = ?", update));
    if (row.description != description) {
      GYRE_RETURN_IF_ERROR(AppendAudit(conn, audit_action::kModelUpdate, actor, row.model_id, name, std::nullopt,
                                       std::nullopt, json{{"description", row.description}},
                                       json{{"description", description}}));
    }
    GYRE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> loaded, internal::LoadModels(reader, {row.model_id}));
    model = std::move(loaded.at(0));
    return Status::OK();
  }));
  return model;
}

Status RegistryStore::DeleteRegisteredModel(const std::string& name, std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> loaded, internal::LoadModels(reader, {row.model_id}));
    const RegisteredModel& model = loaded.at(0);
    std::vector<Value> id{row.model_id};
    GYRE_ASSIGN_OR_RETURN(QueryResult versions,
                          conn.Query("SELECT version FROM model_versions WHERE model_id = ? ORDER BY version", id));
    // What is gone, for the record: the model's own fields, its versions, aliases and tags.
    json before = {{"name", name}};
    if (!model.description.empty()) before["description"] = model.description;
    if (!model.tags.empty()) before["tags"] = internal::TagsJson(model.tags);
    if (!model.aliases.empty()) {
      json aliases = json::object();
      for (const auto& a : model.aliases) aliases[a.alias] = a.version;
      before["aliases"] = std::move(aliases);
    }
    json version_list = json::array();
    for (size_t i = 0; i < versions.size(); ++i) version_list.push_back(std::to_string(versions.Int(i, 0)));
    before["versions"] = std::move(version_list);
    // Children first: the foreign keys are enforced.
    for (const char* sql :
         {"DELETE FROM registered_model_aliases WHERE model_id = ?",
          "DELETE FROM model_version_tags WHERE model_id = ?", "DELETE FROM model_versions WHERE model_id = ?",
          "DELETE FROM registered_model_tags WHERE model_id = ?", "DELETE FROM registered_models WHERE model_id = ?"}) {
      GYRE_RETURN_IF_ERROR(conn.Execute(sql, id));
    }
    return AppendAudit(conn, audit_action::kModelDelete, actor, row.model_id, name, std::nullopt, std::nullopt, before,
                       nullptr);
  });
}

Result<std::vector<ModelVersion>> RegistryStore::GetLatestVersions(const std::string& name,
                                                                   const std::vector<std::string>& stages) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  std::vector<bool> wanted(4, stages.empty());
  for (const std::string& s : stages) {
    GYRE_ASSIGN_OR_RETURN(Stage stage, ParseStage(s));
    wanted[static_cast<size_t>(stage)] = true;
  }
  Reader reader(*db_);
  GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
  GYRE_ASSIGN_OR_RETURN(std::vector<RegisteredModel> loaded, internal::LoadModels(reader, {row.model_id}));
  std::vector<ModelVersion> out;
  if (loaded.empty()) return Status::NotFound(fmt::format("Registered Model with name={} not found", name));
  for (ModelVersion& v : loaded[0].latest_versions) {
    if (wanted[static_cast<size_t>(v.current_stage)]) out.push_back(std::move(v));
  }
  return out;
}

Status RegistryStore::SetRegisteredModelTag(const std::string& name, const Tag& tag, std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    Result<std::string> old = TagValue(reader, "SELECT value FROM registered_model_tags WHERE model_id = ? AND key = ?",
                                       {row.model_id, tag.key});
    if (!old.ok() && !old.status().IsNotFound()) return old.status();
    if (old.ok() && *old == tag.value) return Status::OK();
    std::vector<Value> upsert{row.model_id, tag.key, tag.value};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO registered_model_tags (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO "
        "UPDATE SET value = excluded.value",
        upsert));
    json before = old.ok() ? json{{"key", tag.key}, {"value", *old}} : json();
    return AppendAudit(conn, audit_action::kModelTagSet, actor, row.model_id, name, std::nullopt, std::nullopt, before,
                       json{{"key", tag.key}, {"value", tag.value}});
  });
}

Status RegistryStore::DeleteRegisteredModelTag(const std::string& name, const std::string& key,
                                               std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(tracking::ValidateKey("tag", key));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    Result<std::string> old =
        TagValue(reader, "SELECT value FROM registered_model_tags WHERE model_id = ? AND key = ?", {row.model_id, key});
    if (!old.ok()) return old.status().IsNotFound() ? Status::OK() : old.status();
    std::vector<Value> del{row.model_id, key};
    GYRE_RETURN_IF_ERROR(conn.Execute("DELETE FROM registered_model_tags WHERE model_id = ? AND key = ?", del));
    return AppendAudit(conn, audit_action::kModelTagDelete, actor, row.model_id, name, std::nullopt, std::nullopt,
                       json{{"key", key}, {"value", *old}}, nullptr);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Model versions

Result<ModelVersion> RegistryStore::CreateModelVersion(const CreateModelVersionRequest& request,
                                                       std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(request.name));
  if (request.source.empty()) {
    return Status::InvalidArgument("Missing value for required parameter 'source'.");
  }
  GYRE_RETURN_IF_ERROR(ValidateLength("source", request.source, kMaxSourceLength));
  GYRE_RETURN_IF_ERROR(ValidateLength("run_link", request.run_link, kMaxSourceLength));
  GYRE_RETURN_IF_ERROR(ValidateLength("run_id", request.run_id, kMaxRunIdLength));
  // A relative path means a folder on the client's machine, which no server can load later: refused now
  // rather than accepted and failing at load.
  if (request.source.find(':') == std::string::npos && !request.source.starts_with("/")) {
    return Status::InvalidArgument(fmt::format(
        "Invalid model version source: '{}' is a relative path. Register an absolute path, a file:///abs/path URI "
        "or an artifact URI (mlflow-artifacts:/...); `gyre models import PATH` uploads and registers a local "
        "model in one step.", request.source));
  }
  GYRE_RETURN_IF_ERROR(ValidateTags(request.tags));
  GYRE_RETURN_IF_ERROR(ValidateLength("description", request.description, kMaxDescriptionLength));
  const Lineage& lineage = request.lineage;
  GYRE_RETURN_IF_ERROR(
      ValidateLength("lineage.training_data_fingerprint", lineage.training_data_fingerprint, kMaxLineageFieldLength));
  GYRE_RETURN_IF_ERROR(ValidateLength("lineage.feature_set", lineage.feature_set, kMaxLineageFieldLength));
  GYRE_RETURN_IF_ERROR(ValidateLength("lineage.code_version", lineage.code_version, kMaxLineageFieldLength));
  ModelVersion created;
  GYRE_RETURN_IF_ERROR(Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    // The model's row is locked (PostgreSQL) or the database is (SQLite): concurrent creations queue here
    // and each reads the number the previous one left.
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, request.name));
    int64_t version = row.next_version;
    int64_t now = NowMillis();
    std::vector<Value> bump{version + 1, now, row.model_id};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE registered_models SET next_version = ?, last_updated_timestamp = ? WHERE model_id = ?", bump));
    std::vector<Value> insert{row.model_id,
                              version,
                              now,
                              now,
                              std::string(actor),
                              std::string(StageName(Stage::kNone)),
                              request.description,
                              request.source,
                              request.run_id,
                              std::string(ModelVersionStatusName(ModelVersionStatus::kReady)),
                              std::string(),
                              request.run_link,
                              lineage.training_data_fingerprint,
                              lineage.feature_set,
                              lineage.code_version};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO model_versions (model_id, version, creation_timestamp, last_updated_timestamp, user_id, "
        "current_stage, description, source, run_id, status, status_message, run_link, training_data_fingerprint, "
        "feature_set, code_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        insert));
    for (const auto& [key, value] : UniqueTags(request.tags)) {
      std::vector<Value> tag{row.model_id, version, key, value};
      GYRE_RETURN_IF_ERROR(
          conn.Execute("INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?)", tag));
    }
    GYRE_ASSIGN_OR_RETURN(created, internal::LoadVersion(reader, row.name, row.model_id, version));
    return AppendAudit(conn, audit_action::kVersionCreate, actor, row.model_id, row.name, version, std::nullopt,
                       nullptr, internal::VersionJson(created));
  }));
  return created;
}

Result<ModelVersion> RegistryStore::GetModelVersion(const std::string& name, const std::string& version) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  Reader reader(*db_);
  std::vector<Value> key{name, number};
  GYRE_ASSIGN_OR_RETURN(
      QueryResult r, reader.Query(std::string(internal::kVersionSelect) + " WHERE m.name = ? AND v.version = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("Model Version (name={}, version={}) not found", name, version));
  GYRE_ASSIGN_OR_RETURN(std::vector<ModelVersion> versions, internal::VersionsFromQuery(reader, r));
  return std::move(versions[0]);
}

Result<ModelVersion> RegistryStore::UpdateModelVersion(const std::string& name, const std::string& version,
                                                       const std::string& description, std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  GYRE_RETURN_IF_ERROR(ValidateLength("description", description, kMaxDescriptionLength));
  ModelVersion updated;
  GYRE_RETURN_IF_ERROR(Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_ASSIGN_OR_RETURN(ModelVersion old, internal::LoadVersion(reader, name, row.model_id, number));
    std::vector<Value> update{description, NowMillis(), row.model_id, number};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE model_versions SET description = ?, last_updated_timestamp = ? WHERE model_id = ? AND version = ?",
        update));
    if (old.description != description) {
      GYRE_RETURN_IF_ERROR(AppendAudit(conn, audit_action::kVersionUpdate, actor, row.model_id, name, number,
                                       std::nullopt, json{{"description", old.description}},
                                       json{{"description", description}}));
    }
    GYRE_ASSIGN_OR_RETURN(updated, internal::LoadVersion(reader, name, row.model_id, number));
    return Status::OK();
  }));
  return updated;
}

Status RegistryStore::DeleteModelVersion(const std::string& name, const std::string& version, std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_ASSIGN_OR_RETURN(ModelVersion old, internal::LoadVersion(reader, name, row.model_id, number));
    std::vector<Value> key{row.model_id, number};
    // Aliases pointing at it go with it (MLflow's behaviour); the number is not reused (next_version stays).
    for (const char* sql : {"DELETE FROM registered_model_aliases WHERE model_id = ? AND version = ?",
                            "DELETE FROM model_version_tags WHERE model_id = ? AND version = ?",
                            "DELETE FROM model_versions WHERE model_id = ? AND version = ?"}) {
      GYRE_RETURN_IF_ERROR(conn.Execute(sql, key));
    }
    std::vector<Value> touch{NowMillis(), row.model_id};
    GYRE_RETURN_IF_ERROR(
        conn.Execute("UPDATE registered_models SET last_updated_timestamp = ? WHERE model_id = ?", touch));
    return AppendAudit(conn, audit_action::kVersionDelete, actor, row.model_id, name, number, std::nullopt,
                       internal::VersionJson(old), nullptr);
  });
}

Result<ModelVersion> RegistryStore::TransitionModelVersionStage(const std::string& name, const std::string& version,
                                                                const std::string& stage_name,
                                                                bool archive_existing_versions,
                                                                std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  GYRE_ASSIGN_OR_RETURN(Stage stage, ParseStage(stage_name));
  if (archive_existing_versions && stage != Stage::kStaging && stage != Stage::kProduction) {
    return Status::InvalidArgument(fmt::format(
        "Model version transition cannot archive existing model versions because '{}' is not an Active stage. "
        "Valid stages are Staging, Production",
        stage_name));
  }
  const std::string canonical(StageName(stage));
  ModelVersion moved;
  GYRE_RETURN_IF_ERROR(Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_ASSIGN_OR_RETURN(ModelVersion old, internal::LoadVersion(reader, name, row.model_id, number));
    int64_t now = NowMillis();
    json archived = json::array();
    if (archive_existing_versions) {
      std::vector<Value> others{row.model_id, canonical, number};
      GYRE_ASSIGN_OR_RETURN(QueryResult r, conn.Query("SELECT version FROM model_versions WHERE model_id = ? AND "
                                                      "current_stage = ? AND version <> ? ORDER BY version",
                                                      others));
      for (size_t i = 0; i < r.size(); ++i) archived.push_back(std::to_string(r.Int(i, 0)));
      std::vector<Value> archive{std::string(StageName(Stage::kArchived)), now, row.model_id, canonical, number};
      GYRE_RETURN_IF_ERROR(
          conn.Execute("UPDATE model_versions SET current_stage = ?, last_updated_timestamp = ? "
                       "WHERE model_id = ? AND current_stage = ? AND version <> ?",
                       archive));
    }
    std::vector<Value> update{canonical, now, row.model_id, number};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE model_versions SET current_stage = ?, last_updated_timestamp = ? WHERE model_id = ? AND version = ?",
        update));
    std::vector<Value> touch{now, row.model_id};
    GYRE_RETURN_IF_ERROR(
        conn.Execute("UPDATE registered_models SET last_updated_timestamp = ? WHERE model_id = ?", touch));
    if (old.current_stage != stage || !archived.empty()) {
      json after = {{"stage", canonical}};
      if (!archived.empty()) after["archived_versions"] = archived;
      GYRE_RETURN_IF_ERROR(AppendAudit(conn, audit_action::kVersionStage, actor, row.model_id, name, number,
                                       std::nullopt, json{{"stage", std::string(StageName(old.current_stage))}},
                                       after));
    }
    GYRE_ASSIGN_OR_RETURN(moved, internal::LoadVersion(reader, name, row.model_id, number));
    return Status::OK();
  }));
  return moved;
}

Result<std::string> RegistryStore::GetModelVersionDownloadUri(const std::string& name, const std::string& version) {
  GYRE_ASSIGN_OR_RETURN(ModelVersion v, GetModelVersion(name, version));
  return v.source;
}

Status RegistryStore::SetModelVersionTag(const std::string& name, const std::string& version, const Tag& tag,
                                         std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  GYRE_RETURN_IF_ERROR(ValidateRegistryTag(tag.key, tag.value));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_RETURN_IF_ERROR(CheckVersionExists(reader, row, number));
    Result<std::string> old =
        TagValue(reader, "SELECT value FROM model_version_tags WHERE model_id = ? AND version = ? AND key = ?",
                 {row.model_id, number, tag.key});
    if (!old.ok() && !old.status().IsNotFound()) return old.status();
    if (old.ok() && *old == tag.value) return Status::OK();
    std::vector<Value> upsert{row.model_id, number, tag.key, tag.value};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO model_version_tags (model_id, version, key, value) VALUES (?, ?, ?, ?) ON CONFLICT (model_id, "
        "version, key) DO UPDATE SET value = excluded.value",
        upsert));
    json before = old.ok() ? json{{"key", tag.key}, {"value", *old}} : json();
    return AppendAudit(conn, audit_action::kVersionTagSet, actor, row.model_id, name, number, std::nullopt, before,
                       json{{"key", tag.key}, {"value", tag.value}});
  });
}

Status RegistryStore::DeleteModelVersionTag(const std::string& name, const std::string& version, const std::string& key,
                                            std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  GYRE_RETURN_IF_ERROR(tracking::ValidateKey("tag", key));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_RETURN_IF_ERROR(CheckVersionExists(reader, row, number));
    Result<std::string> old =
        TagValue(reader, "SELECT value FROM model_version_tags WHERE model_id = ? AND version = ? AND key = ?",
                 {row.model_id, number, key});
    if (!old.ok()) return old.status().IsNotFound() ? Status::OK() : old.status();
    std::vector<Value> del{row.model_id, number, key};
    GYRE_RETURN_IF_ERROR(
        conn.Execute("DELETE FROM model_version_tags WHERE model_id = ? AND version = ? AND key = ?", del));
    return AppendAudit(conn, audit_action::kVersionTagDelete, actor, row.model_id, name, number, std::nullopt,
                       json{{"key", key}, {"value", *old}}, nullptr);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Aliases

Status RegistryStore::SetRegisteredModelAlias(const std::string& name, const std::string& alias,
                                              const std::string& version, std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateAlias(alias));
  GYRE_ASSIGN_OR_RETURN(int64_t number, ParseVersion(version));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    GYRE_RETURN_IF_ERROR(CheckVersionExists(reader, row, number));
    std::vector<Value> key{row.model_id, alias};
    GYRE_ASSIGN_OR_RETURN(QueryResult old, conn.Query("SELECT version FROM registered_model_aliases WHERE model_id = ? "
                                                      "AND alias = ?",
                                                      key));
    if (!old.empty() && old.Int(0, 0) == number) return Status::OK();
    std::vector<Value> upsert{row.model_id, alias, number};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO registered_model_aliases (model_id, alias, version) VALUES (?, ?, ?) ON CONFLICT (model_id, "
        "alias) DO UPDATE SET version = excluded.version",
        upsert));
    json before = old.empty() ? json() : json{{"version", std::to_string(old.Int(0, 0))}};
    return AppendAudit(conn, audit_action::kAliasSet, actor, row.model_id, name, number, alias, before,
                       json{{"version", std::to_string(number)}});
  });
}

Status RegistryStore::DeleteRegisteredModelAlias(const std::string& name, const std::string& alias,
                                                 std::string_view actor) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateAlias(alias));
  return Mutate(*db_, [&](Connection& conn, Reader& reader) -> Status {
    GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
    std::vector<Value> key{row.model_id, alias};
    GYRE_ASSIGN_OR_RETURN(QueryResult old, conn.Query("SELECT version FROM registered_model_aliases WHERE model_id = ? "
                                                      "AND alias = ?",
                                                      key));
    if (old.empty()) return Status::OK();
    GYRE_RETURN_IF_ERROR(conn.Execute("DELETE FROM registered_model_aliases WHERE model_id = ? AND alias = ?", key));
    int64_t number = old.Int(0, 0);
    return AppendAudit(conn, audit_action::kAliasDelete, actor, row.model_id, name, number, alias,
                       json{{"version", std::to_string(number)}}, nullptr);
  });
}

Result<ModelVersion> RegistryStore::GetModelVersionByAlias(const std::string& name, const std::string& alias) {
  GYRE_RETURN_IF_ERROR(ValidateModelName(name));
  GYRE_RETURN_IF_ERROR(ValidateAlias(alias));
  Reader reader(*db_);
  GYRE_ASSIGN_OR_RETURN(ModelRow row, FindModel(reader, name));
  std::vector<Value> key{row.model_id, alias};
  GYRE_ASSIGN_OR_RETURN(
      QueryResult r,
      reader.Query("SELECT version FROM registered_model_aliases WHERE model_id = ? AND alias = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("Registered model alias {} not found.", alias));
  Result<ModelVersion> v = internal::LoadVersion(reader, row.name, row.model_id, r.Int(0, 0));
  // The alias went with its version between the two reads.
  if (v.status().IsNotFound()) return Status::NotFound(fmt::format("Registered model alias {} not found.", alias));
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// Model URIs

Result<ModelVersion> RegistryStore::ResolveModelUri(const std::string& uri) {
  GYRE_ASSIGN_OR_RETURN(ModelUri parsed, ParseModelUri(uri));
  Result<ModelVersion> found = Status::Internal("unreachable");
  switch (parsed.kind) {
    case ModelUri::Kind::kVersion:
      found = GetModelVersion(parsed.name, parsed.version);
      break;
    case ModelUri::Kind::kAlias:
      found = GetModelVersionByAlias(parsed.name, parsed.alias);
      break;
    case ModelUri::Kind::kStage:
    case ModelUri::Kind::kLatest: {
      bool latest = parsed.kind == ModelUri::Kind::kLatest;
      Result<std::vector<ModelVersion>> versions =
          GetLatestVersions(parsed.name, latest ? std::vector<std::string>{}
                                                : std::vector<std::string>{std::string(StageName(parsed.stage))});
      if (!versions.ok()) {
        found = versions.status();
      } else if (versions->empty()) {
        found = Status::NotFound(latest ? fmt::format("Registered model '{}' has no versions", parsed.name)
                                        : fmt::format("No versions of model with name '{}' and stage '{}' found",
                                                      parsed.name, StageName(parsed.stage)));
      } else {
        // The latest per stage: for 'latest', the highest of those is the highest version of all.
        auto best = std::max_element(versions->begin(), versions->end(), [](const auto& a, const auto& b) {
          return std::stoll(a.version) < std::stoll(b.version);
        });
        found = std::move(*best);
      }
      break;
    }
  }
  if (!found.ok()) return found.status().WithContext(fmt::format("model URI '{}'", uri));
  return found;
}

Status RegistryStore::CheckArtifactWritable(std::string_view artifact_path) {
  SearchModelVersionsRequest request;
  request.filter = "source_path LIKE 'mlflow-artifacts:%'";
  request.max_results = kMaxSearchVersionsResults;
  for (;;) {
    GYRE_ASSIGN_OR_RETURN(Page<ModelVersion> page, SearchModelVersions(request));
    for (const ModelVersion& version : page.items) {
      Result<std::string> held = tracking::ArtifactPathOf(version.source);
      if (!held.ok()) continue;
      std::string_view frozen = *held;
      while (frozen.ends_with('/')) frozen.remove_suffix(1);
      const bool inside = artifact_path == frozen ||
                          (artifact_path.starts_with(frozen) && artifact_path.size() > frozen.size() &&
                           artifact_path[frozen.size()] == '/');
      const bool holds = frozen.starts_with(artifact_path) && frozen.size() > artifact_path.size() &&
                         frozen[artifact_path.size()] == '/';
      if (inside || holds || frozen.empty()) {
        return Status::FailedPrecondition(fmt::format(
            "artifact '{}' {} the files of registered model version {} version {} ({}): a registered version "
            "cannot change; log the model again and register a new version",
            artifact_path, inside ? "is among" : "holds", version.name, version.version, version.source));
      }
    }
    if (page.next_page_token.empty()) return Status::OK();
    request.page_token = page.next_page_token;
  }
}

}  // namespace gyre::registry
