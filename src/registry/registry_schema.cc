#include "registry/registry_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

namespace gyre::registry::internal {

using store::QueryResult;
using store::Value;

namespace {

// The two dialects differ only in how a key auto-increments.
std::string Schema(std::string_view serial) {
  return fmt::format(R"(
CREATE TABLE registered_models (
  model_id {0},
  name TEXT NOT NULL UNIQUE,
  creation_timestamp BIGINT NOT NULL,
  last_updated_timestamp BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  description TEXT NOT NULL,
  next_version BIGINT NOT NULL);
CREATE TABLE registered_model_tags (
  model_id BIGINT NOT NULL REFERENCES registered_models(model_id),
  key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (model_id, key));
CREATE TABLE model_versions (
  model_id BIGINT NOT NULL REFERENCES registered_models(model_id),
  version BIGINT NOT NULL,
  creation_timestamp BIGINT NOT NULL,
  last_updated_timestamp BIGINT NOT NULL,
  user_id TEXT NOT NULL,
  current_stage TEXT NOT NULL,
  description TEXT NOT NULL,
  source TEXT NOT NULL,
  run_id TEXT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT NOT NULL,
  run_link TEXT NOT NULL,
  training_data_fingerprint TEXT NOT NULL,
  feature_set TEXT NOT NULL,
  code_version TEXT NOT NULL,
  PRIMARY KEY (model_id, version));
CREATE INDEX model_versions_by_stage ON model_versions (model_id, current_stage, version);
CREATE INDEX model_versions_by_run ON model_versions (run_id);
CREATE INDEX model_versions_by_updated ON model_versions (last_updated_timestamp);
CREATE TABLE model_version_tags (
  model_id BIGINT NOT NULL, version BIGINT NOT NULL,
  key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (model_id, version, key),
  FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version));
CREATE TABLE registered_model_aliases (
  model_id BIGINT NOT NULL, alias TEXT NOT NULL, version BIGINT NOT NULL,
  PRIMARY KEY (model_id, alias),
  FOREIGN KEY (model_id, version) REFERENCES model_versions(model_id, version));
CREATE TABLE registry_audit (
  id {0},
  timestamp BIGINT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  model_id BIGINT NOT NULL,
  model_name TEXT NOT NULL,
  version BIGINT,
  alias TEXT,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL);
CREATE INDEX registry_audit_by_name ON registry_audit (model_name, id);
CREATE INDEX registry_audit_by_model ON registry_audit (model_id, id);
CREATE INDEX registry_audit_by_action ON registry_audit (action, id);
CREATE INDEX registry_audit_by_time ON registry_audit (timestamp);
)",
                     serial);
}

int StageRank(Stage s) { return static_cast<int>(s); }

ModelVersionStatus ParseStatus(const std::string& s) {
  if (s == "PENDING_REGISTRATION") return ModelVersionStatus::kPendingRegistration;
  if (s == "FAILED_REGISTRATION") return ModelVersionStatus::kFailedRegistration;
  return ModelVersionStatus::kReady;
}

ModelVersion VersionFromRow(const QueryResult& r, size_t i) {
  ModelVersion v;
  v.name = r.Text(i, 0);
  v.version = std::to_string(r.Int(i, 2));
  v.creation_timestamp = r.Int(i, 3);
  v.last_updated_timestamp = r.Int(i, 4);
  v.user_id = r.Text(i, 5);
  v.current_stage = ParseStage(r.Text(i, 6)).value_or(Stage::kNone);
  v.description = r.Text(i, 7);
  v.source = r.Text(i, 8);
  v.run_id = r.Text(i, 9);
  v.status = ParseStatus(r.Text(i, 10));
  v.status_message = r.Text(i, 11);
  v.run_link = r.Text(i, 12);
  v.lineage.training_data_fingerprint = r.Text(i, 13);
  v.lineage.feature_set = r.Text(i, 14);
  v.lineage.code_version = r.Text(i, 15);
  return v;
}

// Keys are looked up a fixed number per statement, as `(model_id = ? AND version = ?) OR ...`: each arm
// is an equality on the whole primary key, which both databases answer with index lookups whatever their
// statistics say (a join on the key alone was planned as a scan of all the model's versions).
constexpr size_t kPairChunk = 64;

std::string PairCondition(std::string_view prefix, size_t n) {
  std::string sql;
  for (size_t i = 0; i < n; ++i) {
    sql += fmt::format("{}({}model_id = ? AND {}version = ?)", i == 0 ? "" : " OR ", prefix, prefix);
  }
  return sql;
}

// Chunks of kPairChunk keys, the last padded by repeating its last key.
std::vector<std::vector<Value>> PairChunks(const std::vector<VersionKey>& keys) {
  std::vector<std::vector<Value>> chunks;
  for (size_t start = 0; start < keys.size(); start += kPairChunk) {
    std::vector<Value>& params = chunks.emplace_back();
    for (size_t j = start; j < start + kPairChunk; ++j) {
      const VersionKey& k = keys[std::min(j, keys.size() - 1)];
      params.emplace_back(k.model_id);
      params.emplace_back(k.version);
    }
  }
  return chunks;
}

// Fills tags and aliases of versions (keys[i] is versions[i]'s key).
Status FillVersionDetails(Reader& reader, const std::vector<VersionKey>& keys, std::vector<ModelVersion>& versions) {
  if (versions.empty()) return Status::OK();
  std::map<std::pair<int64_t, int64_t>, size_t> index;
  std::set<int64_t> model_ids;
  for (size_t i = 0; i < keys.size(); ++i) {
    index[{keys[i].model_id, keys[i].version}] = i;
    model_ids.insert(keys[i].model_id);
  }
  static const std::string kTagSql = "SELECT model_id, version, key, value FROM model_version_tags WHERE " +
                                     PairCondition("", kPairChunk) + " ORDER BY key";
  for (const auto& chunk : PairChunks(keys)) {
    GYRE_ASSIGN_OR_RETURN(QueryResult t, reader.Query(kTagSql, chunk));
    for (size_t i = 0; i < t.size(); ++i) {
      auto it = index.find({t.Int(i, 0), t.Int(i, 1)});
      if (it != index.end()) versions[it->second].tags.push_back({t.Text(i, 2), t.Text(i, 3)});
    }
  }
  static const std::string kAliasSql =
      "SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id IN (" +
      store::Placeholders(kIdChunk) + ") ORDER BY alias";
  for (const auto& chunk : IdChunks(std::vector<int64_t>(model_ids.begin(), model_ids.end()))) {
    GYRE_ASSIGN_OR_RETURN(QueryResult a, reader.Query(kAliasSql, chunk));
    for (size_t i = 0; i < a.size(); ++i) {
      auto it = index.find({a.Int(i, 0), a.Int(i, 2)});
      if (it != index.end()) versions[it->second].aliases.push_back(a.Text(i, 1));
    }
  }
  return Status::OK();
}

}  // namespace

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "registered models, versions, tags, aliases, audit log", Schema("INTEGER PRIMARY KEY AUTOINCREMENT"),
       Schema("BIGSERIAL PRIMARY KEY")},
      // The code has no path that changes an audit entry; these make the database refuse one too (a stray
      // UPDATE in a future change, or an operator's ad-hoc SQL through gyre's connection).
      {2, "audit log is append-only", store::AppendOnlySqlite("registry_audit"),
       store::AppendOnlyPostgres("registry_audit")},
  };
  return kMigrations;
}

std::vector<std::vector<Value>> IdChunks(const std::vector<int64_t>& ids) {
  std::vector<std::vector<Value>> chunks;
  for (size_t i = 0; i < ids.size(); i += kIdChunk) {
    std::vector<Value>& chunk = chunks.emplace_back();
    for (size_t j = i; j < i + kIdChunk; ++j) chunk.emplace_back(ids[std::min(j, ids.size() - 1)]);
  }
  return chunks;
}

Result<ModelRow> FindModel(Reader& reader, const std::string& name) {
  std::vector<Value> key{name};
  GYRE_ASSIGN_OR_RETURN(
      QueryResult r,
      reader.Query(
          fmt::format("SELECT model_id, name, description, next_version FROM registered_models WHERE name = ?{}",
                      reader.ForUpdate()),
          key));
  if (r.empty()) return Status::NotFound(fmt::format("Registered Model with name={} not found", name));
  return ModelRow{r.Int(0, 0), r.Text(0, 1), r.Text(0, 2), r.Int(0, 3)};
}

const char* const kVersionSelect =
    "SELECT m.name, v.model_id, v.version, v.creation_timestamp, v.last_updated_timestamp, v.user_id, "
    "v.current_stage, v.description, v.source, v.run_id, v.status, v.status_message, v.run_link, "
    "v.training_data_fingerprint, v.feature_set, v.code_version "
    "FROM model_versions v JOIN registered_models m ON m.model_id = v.model_id";

Result<std::vector<ModelVersion>> VersionsFromQuery(Reader& reader, const QueryResult& rows,
                                                    std::vector<VersionKey>* keys_out) {
  std::vector<ModelVersion> versions;
  std::vector<VersionKey> keys;
  versions.reserve(rows.size());
  keys.reserve(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    versions.push_back(VersionFromRow(rows, i));
    keys.push_back({rows.Int(i, 1), rows.Int(i, 2)});
  }
  GYRE_RETURN_IF_ERROR(FillVersionDetails(reader, keys, versions));
  if (keys_out != nullptr) *keys_out = std::move(keys);
  return versions;
}

Result<ModelVersion> LoadVersion(Reader& reader, const std::string& name, int64_t model_id, int64_t version) {
  std::vector<Value> key{model_id, version};
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        reader.Query(std::string(kVersionSelect) + " WHERE v.model_id = ? AND v.version = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("Model Version (name={}, version={}) not found", name, version));
  GYRE_ASSIGN_OR_RETURN(std::vector<ModelVersion> v, VersionsFromQuery(reader, r));
  return std::move(v[0]);
}

Result<std::vector<RegisteredModel>> LoadModels(Reader& reader, const std::vector<int64_t>& ids) {
  std::map<int64_t, RegisteredModel> loaded;
  static const std::string in = store::PlaceholderList(kIdChunk);
  static const std::string kModelSql =
      "SELECT model_id, name, creation_timestamp, last_updated_timestamp, user_id, description FROM "
      "registered_models WHERE model_id IN " +
      in;
  static const std::string kTagSql =
      "SELECT model_id, key, value FROM registered_model_tags WHERE model_id IN " + in + " ORDER BY key";
  static const std::string kAliasSql =
      "SELECT model_id, alias, version FROM registered_model_aliases WHERE model_id IN " + in + " ORDER BY alias";
  // The latest version per (model, stage), in two steps: its key, then the version by key (see PairCondition).
  static const std::string kLatestKeySql =
      "SELECT model_id, MAX(version) FROM model_versions WHERE model_id IN " + in + " GROUP BY model_id, current_stage";
  static const std::string kVersionsByKeySql =
      std::string(kVersionSelect) + " WHERE " + PairCondition("v.", kPairChunk);
  for (const auto& chunk : IdChunks(ids)) {
    GYRE_ASSIGN_OR_RETURN(QueryResult m, reader.Query(kModelSql, chunk));
    for (size_t i = 0; i < m.size(); ++i) {
      RegisteredModel& model = loaded[m.Int(i, 0)];
      model.name = m.Text(i, 1);
      model.creation_timestamp = m.Int(i, 2);
      model.last_updated_timestamp = m.Int(i, 3);
      model.user_id = m.Text(i, 4);
      model.description = m.Text(i, 5);
    }
    GYRE_ASSIGN_OR_RETURN(QueryResult t, reader.Query(kTagSql, chunk));
    for (size_t i = 0; i < t.size(); ++i) {
      if (auto it = loaded.find(t.Int(i, 0)); it != loaded.end())
        it->second.tags.push_back({t.Text(i, 1), t.Text(i, 2)});
    }
    GYRE_ASSIGN_OR_RETURN(QueryResult a, reader.Query(kAliasSql, chunk));
    for (size_t i = 0; i < a.size(); ++i) {
      if (auto it = loaded.find(a.Int(i, 0)); it != loaded.end()) {
        it->second.aliases.push_back({a.Text(i, 1), std::to_string(a.Int(i, 2))});
      }
    }
    GYRE_ASSIGN_OR_RETURN(QueryResult l, reader.Query(kLatestKeySql, chunk));
    std::vector<VersionKey> latest_keys;
    for (size_t i = 0; i < l.size(); ++i) latest_keys.push_back({l.Int(i, 0), l.Int(i, 1)});
    for (const auto& pairs : PairChunks(latest_keys)) {
      GYRE_ASSIGN_OR_RETURN(QueryResult rows, reader.Query(kVersionsByKeySql, pairs));
      std::vector<VersionKey> keys;
      GYRE_ASSIGN_OR_RETURN(std::vector<ModelVersion> latest, VersionsFromQuery(reader, rows, &keys));
      for (size_t i = 0; i < latest.size(); ++i) {
        if (auto it = loaded.find(keys[i].model_id); it != loaded.end()) {
          it->second.latest_versions.push_back(std::move(latest[i]));
        }
      }
    }
  }
  std::vector<RegisteredModel> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    auto it = loaded.find(id);
    if (it == loaded.end()) continue;
    std::sort(it->second.latest_versions.begin(), it->second.latest_versions.end(),
              [](const ModelVersion& a, const ModelVersion& b) {
                return StageRank(a.current_stage) < StageRank(b.current_stage);
              });
    out.push_back(std::move(it->second));
  }
  return out;
}

nlohmann::json TagsJson(const std::vector<Tag>& tags) {
  nlohmann::json j = nlohmann::json::object();
  for (const Tag& t : tags) j[t.key] = t.value;
  return j;
}

nlohmann::json VersionJson(const ModelVersion& v) {
  nlohmann::json j = {
      {"version", v.version}, {"current_stage", std::string(StageName(v.current_stage))}, {"source", v.source}};
  if (!v.run_id.empty()) j["run_id"] = v.run_id;
  if (!v.run_link.empty()) j["run_link"] = v.run_link;
  if (!v.description.empty()) j["description"] = v.description;
  if (!v.tags.empty()) j["tags"] = TagsJson(v.tags);
  if (!v.aliases.empty()) j["aliases"] = v.aliases;
  nlohmann::json lineage = nlohmann::json::object();
  if (!v.lineage.training_data_fingerprint.empty()) {
    lineage["training_data_fingerprint"] = v.lineage.training_data_fingerprint;
  }
  if (!v.lineage.feature_set.empty()) lineage["feature_set"] = v.lineage.feature_set;
  if (!v.lineage.code_version.empty()) lineage["code_version"] = v.lineage.code_version;
  if (!lineage.empty()) j["lineage"] = std::move(lineage);
  return j;
}

}  // namespace gyre::registry::internal
