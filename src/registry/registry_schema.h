// Internal to the registry module: its schema migrations and the SQL helpers shared by the store's
// files (models and versions in registry_store.cc, searches in registry_search.cc, the audit log in
// registry_audit.cc). Not part of the module's interface.
//
// Tables: registered_models (a surrogate model_id, so a rename touches one row and audit entries keep
// pointing at the model; next_version, so numbers are never reused), registered_model_tags,
// model_versions (MLflow's columns plus gyre's lineage), model_version_tags, registered_model_aliases,
// and registry_audit (append-only; its model_id deliberately has no foreign key: entries outlive models).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "registry/types.h"
#include "store/database.h"
#include "store/migrations.h"

namespace gyre::registry::internal {

const std::vector<store::Migration>& Migrations();

using gyre::NowMillis;  // core/time.h

// Runs queries on a transaction's connection when there is one, else on the database (autocommit). Reads
// made inside a transaction must use its connection: an in-memory SQLite database has one connection only.
class Reader {
 public:
  explicit Reader(store::Database& db) : db_(&db) {}
  explicit Reader(store::Connection& conn, store::Dialect dialect) : conn_(&conn), dialect_(dialect) {}

  Result<store::QueryResult> Query(std::string_view sql, std::span<const store::Value> params = {}) {
    return conn_ ? conn_->Query(sql, params) : db_->Query(sql, params);
  }
  // " FOR UPDATE" where that locks the rows read (PostgreSQL inside a transaction); SQLite's write
  // transaction already holds the database lock.
  std::string_view ForUpdate() const {
    return conn_ != nullptr && dialect_ == store::Dialect::kPostgres ? " FOR UPDATE" : "";
  }

 private:
  store::Database* db_ = nullptr;
  store::Connection* conn_ = nullptr;
  store::Dialect dialect_ = store::Dialect::kSqlite;
};

struct ModelRow {
  int64_t model_id = 0;
  std::string name;
  std::string description;
  int64_t next_version = 1;
};

// The model's row, locked for the rest of the transaction when `reader` runs on one (ForUpdate()).
// NotFound "Registered Model with name=X not found".
Result<ModelRow> FindModel(Reader& reader, const std::string& name);

// Full registered models (tags, aliases, latest versions per stage), in the order of `ids`; ids that no
// longer exist are left out.
Result<std::vector<RegisteredModel>> LoadModels(Reader& reader, const std::vector<int64_t>& ids);

// `SELECT <version columns> FROM model_versions v JOIN registered_models m ...`: append a WHERE clause.
extern const char* const kVersionSelect;
struct VersionKey {
  int64_t model_id;
  int64_t version;
};
// Reads the rows of a kVersionSelect query and fills their tags and aliases; `keys`, if given, receives
// each version's key.
Result<std::vector<ModelVersion>> VersionsFromQuery(Reader& reader, const store::QueryResult& rows,
                                                    std::vector<VersionKey>* keys = nullptr);

// One version by key, NotFound "Model Version (name=X, version=N) not found".
Result<ModelVersion> LoadVersion(Reader& reader, const std::string& name, int64_t model_id, int64_t version);

// Fixed-size IN (...) lists: constant SQL text, so each statement is prepared once per connection.
inline constexpr size_t kIdChunk = 128;
std::vector<std::vector<store::Value>> IdChunks(const std::vector<int64_t>& ids);

// Appends one audit entry on `conn` (inside the mutation's transaction). A null before/after is stored
// as empty text.
Status AppendAudit(store::Connection& conn, std::string_view action, std::string_view actor, int64_t model_id,
                   const std::string& model_name, std::optional<int64_t> version, std::optional<std::string> alias,
                   const nlohmann::json& before, const nlohmann::json& after);

// Audit-log snapshots of a version and of a tag set.
nlohmann::json VersionJson(const ModelVersion& v);
nlohmann::json TagsJson(const std::vector<Tag>& tags);

}  // namespace gyre::registry::internal
