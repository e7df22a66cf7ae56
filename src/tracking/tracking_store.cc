#include "tracking/tracking_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "core/base64.h"
#include "core/time.h"
#include "store/migrations.h"
#include "tracking/search_filter.h"
#include "tracking/search_sql.h"

namespace gyre::tracking {
namespace {

using store::Connection;
using store::Placeholders;
using store::QueryResult;
using store::Value;

constexpr size_t kMaxKeyLength = 250;
constexpr size_t kMaxParamValueLength = 6000;
constexpr size_t kMaxTagValueLength = 8000;
constexpr size_t kMaxExperimentNameLength = 500;
constexpr size_t kMaxRunNameLength = 250;           // MLflow's runs.name column
constexpr size_t kMaxUserIdLength = 256;            // MLflow's runs.user_id column
constexpr size_t kMaxArtifactLocationLength = 1000;
constexpr size_t kMaxBatchMetrics = 1000, kMaxBatchParams = 100, kMaxBatchTags = 100, kMaxBatchItems = 1000;
// Ids fetched per IN (...) query: a fixed count keeps the SQL text constant, so it is prepared once.
constexpr size_t kIdChunk = 128;

// Version 1's tables; the two dialects differ only in how the experiment id counts up.
std::string TrackingSchemaV1(std::string_view id_column) {
  std::string sql = R"(
CREATE TABLE experiments (
  @ID_COLUMN@,
  name TEXT NOT NULL UNIQUE,
  artifact_location TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  last_update_time BIGINT NOT NULL);
CREATE TABLE experiment_tags (
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (experiment_id, key));
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY,
  experiment_id BIGINT NOT NULL REFERENCES experiments(experiment_id),
  name TEXT NOT NULL,
  user_id TEXT NOT NULL,
  status TEXT NOT NULL,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  artifact_uri TEXT NOT NULL,
  lifecycle_stage TEXT NOT NULL,
  deleted_time BIGINT);
CREATE INDEX runs_by_experiment ON runs (experiment_id, lifecycle_stage, start_time);
CREATE TABLE params (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE INDEX params_by_key ON params (key, value);
CREATE TABLE tags (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE INDEX tags_by_key ON tags (key, value);
CREATE TABLE metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL,
  step BIGINT NOT NULL, timestamp BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, is_nan BIGINT NOT NULL,
  PRIMARY KEY (run_id, key, step, timestamp, value, is_nan));
CREATE TABLE latest_metrics (
  run_id TEXT NOT NULL REFERENCES runs(run_id), key TEXT NOT NULL,
  step BIGINT NOT NULL, timestamp BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, is_nan BIGINT NOT NULL,
  PRIMARY KEY (run_id, key));
CREATE INDEX latest_metrics_by_key ON latest_metrics (key, value);
CREATE TABLE inputs (
  run_id TEXT NOT NULL REFERENCES runs(run_id),
  name TEXT NOT NULL, digest TEXT NOT NULL, source_type TEXT NOT NULL, source TEXT NOT NULL,
  schema_json TEXT NOT NULL, profile TEXT NOT NULL, tags_json TEXT NOT NULL,
  PRIMARY KEY (run_id, name, digest));
)";
  size_t at = sql.find("@ID_COLUMN@");
  sql.replace(at, std::string_view("@ID_COLUMN@").size(), id_column);
  return sql;
}

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "experiments and runs", TrackingSchemaV1("experiment_id INTEGER PRIMARY KEY AUTOINCREMENT"),
       TrackingSchemaV1("experiment_id BIGSERIAL PRIMARY KEY")},
      // Searches filter and order by a metric within an experiment; with the experiment on each latest
      // value, an index walks "auc > 0.9 ORDER BY auc DESC" in order and stops at the page's end instead of
      // sorting every run (100,000 runs: 600 ms → about 1 ms).
      {2, "latest metrics by experiment",
       "ALTER TABLE latest_metrics ADD COLUMN experiment_id BIGINT;"
       "UPDATE latest_metrics SET experiment_id = (SELECT experiment_id FROM runs WHERE runs.run_id = "
       "latest_metrics.run_id);"
       "CREATE INDEX latest_metrics_by_experiment ON latest_metrics (experiment_id, key, value, run_id);",
       ""},
  };
  return kMigrations;
}

std::string NewRunId() {
  thread_local std::mt19937_64 rng{std::random_device{}() ^
                                   static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  return fmt::format("{:016x}{:016x}", rng(), rng());
}

std::string RandomRunName() {
  static const char* kAdjectives[] = {"amber", "bold", "brisk", "calm",   "clever", "crisp", "deft",   "eager",
                                      "fleet", "keen", "lucid", "nimble", "quiet",  "rapid", "steady", "vivid"};
  static const char* kNouns[] = {"badger", "crane", "falcon", "fox",    "heron", "lynx",  "otter", "owl",
                                 "panda",  "raven", "seal",   "shrike", "stoat", "swift", "tern",  "wren"};
  thread_local std::mt19937 rng{std::random_device{}()};
  return fmt::format("{}-{}-{}", kAdjectives[rng() % 16], kNouns[rng() % 16], rng() % 1000);
}

LifecycleStage ParseStage(const std::string& s) {
  return s == "deleted" ? LifecycleStage::kDeleted : LifecycleStage::kActive;
}

// SQL fragment restricting lifecycle_stage for a view type.
std::string StageClause(const std::string& column, ViewType view) {
  switch (view) {
    case ViewType::kActiveOnly:
      return column + " = 'active'";
    case ViewType::kDeletedOnly:
      return column + " = 'deleted'";
    case ViewType::kAll:
      return "1 = 1";
  }
  return "1 = 1";
}

Status CheckMaxResults(int64_t max_results) {
  if (max_results <= 0 || max_results > TrackingStore::kMaxSearchResults) {
    return Status::InvalidArgument(
        fmt::format("Invalid value {} for parameter 'max_results' supplied: it must be "
                    "between 1 and {}",
                    max_results, TrackingStore::kMaxSearchResults));
  }
  return Status::OK();
}

// Escapes a quote-free identifier for SQL: only [a-z0-9_] reach here.
std::string Alias(const char* prefix, size_t i) { return fmt::format("{}{}", prefix, i); }

// Splits ids into fixed-size chunks, padding the last with its last id (see kIdChunk).
std::vector<std::vector<Value>> IdChunks(const std::vector<std::string>& ids) {
  std::vector<std::vector<Value>> chunks;
  for (size_t i = 0; i < ids.size(); i += kIdChunk) {
    std::vector<Value>& chunk = chunks.emplace_back();
    for (size_t j = i; j < i + kIdChunk; ++j) chunk.emplace_back(ids[std::min(j, ids.size() - 1)]);
  }
  return chunks;
}

Metric MetricFromRow(const QueryResult& r, size_t row, size_t first_col) {
  Metric m;
  m.key = r.Text(row, first_col);
  m.step = r.Int(row, first_col + 1);
  m.timestamp = r.Int(row, first_col + 2);
  m.value = r.Int(row, first_col + 4) ? std::nan("") : r.Double(row, first_col + 3);
  return m;
}

RunInfo RunInfoFromRow(const QueryResult& r, size_t row) {
  RunInfo info;
  info.run_id = r.Text(row, 0);
  info.experiment_id = r.Text(row, 1);
  info.run_name = r.Text(row, 2);
  info.user_id = r.Text(row, 3);
  info.status = ParseRunStatus(r.Text(row, 4)).value_or(RunStatus::kRunning);
  info.start_time = r.Int(row, 5);
  if (!r.Null(row, 6)) info.end_time = r.Int(row, 6);
  info.artifact_uri = r.Text(row, 7);
  info.lifecycle_stage = ParseStage(r.Text(row, 8));
  return info;
}

constexpr const char* kRunColumns =
    "run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage";

Status ValidateMetric(const Metric& m) {
  GYRE_RETURN_IF_ERROR(ValidateKey("metric", m.key));
  return Status::OK();
}

Status ValidateParam(const Param& p) {
  GYRE_RETURN_IF_ERROR(ValidateKey("param", p.key));
  return ValidateValueLength("param", p.key, p.value, kMaxParamValueLength);
}

Status ValidateTag(const Tag& t) {
  GYRE_RETURN_IF_ERROR(ValidateKey("tag", t.key));
  return ValidateValueLength("tag", t.key, t.value, kMaxTagValueLength);
}

Status ValidateExperimentName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("Invalid experiment name: the name must not be empty");
  if (name.size() > kMaxExperimentNameLength) {
    return Status::InvalidArgument(
        fmt::format("Invalid experiment name: longer than {} characters", kMaxExperimentNameLength));
  }
  return Status::OK();
}

// Multi-row statements: a batch of 1000 metrics is a handful of statements, not 2000. Rows go in chunks of
// kRowsPerStatement; the SQL text depends only on the chunk's size, so few distinct statements get prepared.
constexpr size_t kRowsPerStatement = 100;

template <typename Row>
Status InsertRows(Connection& conn, const std::string& head, const std::string& tail, size_t columns,
                  const std::vector<Row>& rows, const std::function<void(const Row&, std::vector<Value>&)>& bind) {
  std::string one = store::PlaceholderList(columns);
  for (size_t begin = 0; begin < rows.size(); begin += kRowsPerStatement) {
    size_t n = std::min(kRowsPerStatement, rows.size() - begin);
    std::string sql = head + " VALUES " + one;
    for (size_t i = 1; i < n; ++i) sql += ", " + one;
    sql += tail;
    std::vector<Value> params;
    params.reserve(n * columns);
    for (size_t i = begin; i < begin + n; ++i) bind(rows[i], params);
    GYRE_RETURN_IF_ERROR(conn.Execute(sql, params));
  }
  return Status::OK();
}

// Whether `a` replaces `b` as a key's latest value: the greatest (step, timestamp, value), as MLflow picks.
bool IsLater(const Metric& a, const Metric& b) {
  if (a.step != b.step) return a.step > b.step;
  if (a.timestamp != b.timestamp) return a.timestamp > b.timestamp;
  return a.value > b.value;
}

// Writes metrics (history + latest) within a transaction.
Status WriteMetrics(Connection& conn, const RunInfo& run, const std::vector<Metric>& metrics) {
  if (metrics.empty()) return Status::OK();
  const std::string& run_id = run.run_id;
  auto bind = [&run_id](const Metric& m, std::vector<Value>& params) {
    bool is_nan = std::isnan(m.value);
    params.emplace_back(run_id);
    params.emplace_back(m.key);
    params.emplace_back(m.step);
    params.emplace_back(m.timestamp);
    params.emplace_back(is_nan ? 0.0 : m.value);
    params.emplace_back(int64_t{is_nan});
  };
  // The same point logged twice is one point (MLflow dedupes exact duplicates).
  GYRE_RETURN_IF_ERROR(InsertRows<Metric>(conn, "INSERT INTO metrics (run_id, key, step, timestamp, value, is_nan)",
                                          " ON CONFLICT DO NOTHING", 6, metrics, bind));
  // One candidate per key (an upsert may not touch a row twice), then keep it only if it is later than
  // what is stored.
  std::map<std::string, const Metric*> latest;
  for (const Metric& m : metrics) {
    auto [it, inserted] = latest.emplace(m.key, &m);
    if (!inserted && IsLater(m, *it->second)) it->second = &m;
  }
  std::vector<Metric> candidates;
  candidates.reserve(latest.size());
  for (const auto& [key, m] : latest) candidates.push_back(*m);
  const int64_t experiment_id = std::stoll(run.experiment_id);
  auto bind_latest = [&](const Metric& m, std::vector<Value>& params) {
    bind(m, params);
    params.emplace_back(experiment_id);
  };
  return InsertRows<Metric>(
      conn, "INSERT INTO latest_metrics (run_id, key, step, timestamp, value, is_nan, experiment_id)",
      " ON CONFLICT (run_id, key) DO UPDATE SET step = excluded.step, timestamp = excluded.timestamp, "
      "value = excluded.value, is_nan = excluded.is_nan "
      "WHERE excluded.step > latest_metrics.step OR (excluded.step = latest_metrics.step AND "
      "(excluded.timestamp > latest_metrics.timestamp OR (excluded.timestamp = latest_metrics.timestamp AND "
      "excluded.value > latest_metrics.value)))",
      7, candidates, bind_latest);
}

Status WriteParams(Connection& conn, const std::string& run_id, const std::vector<Param>& params) {
  if (params.empty()) return Status::OK();
  std::map<std::string, std::string> wanted;  // key → value; a key twice with two values is a change too
  std::vector<std::string> changed;
  for (const Param& p : params) {
    auto [it, inserted] = wanted.emplace(p.key, p.value);
    if (!inserted && it->second != p.value) {
      changed.push_back(fmt::format("'{}' (logged twice in one request with different values)", p.key));
    }
  }
  std::vector<std::string> keys;
  for (const auto& [k, v] : wanted) keys.push_back(k);
  std::map<std::string, std::string> existing;
  for (const auto& chunk : IdChunks(keys)) {
    std::vector<Value> query{run_id};
    query.insert(query.end(), chunk.begin(), chunk.end());
    GYRE_ASSIGN_OR_RETURN(QueryResult r, conn.Query("SELECT key, value FROM params WHERE run_id = ? AND key IN (" +
                                                        Placeholders(kIdChunk) + ")",
                                                    query));
    for (size_t i = 0; i < r.size(); ++i) existing[r.Text(i, 0)] = r.Text(i, 1);
  }
  std::vector<Param> fresh;
  for (const auto& [key, value] : wanted) {
    auto it = existing.find(key);
    if (it == existing.end()) {
      fresh.push_back({key, value});
    } else if (it->second != value) {
      changed.push_back(fmt::format("'{}' (old value '{}', new value '{}')", key, it->second, value));
    }
  }
  if (!changed.empty()) {
    return Status::InvalidArgument(
        fmt::format("Changing param values is not allowed. Params already logged for run ID '{}': {}", run_id,
                    fmt::join(changed, ", ")));
  }
  return InsertRows<Param>(conn, "INSERT INTO params (run_id, key, value)", "", 3, fresh,
                           [&run_id](const Param& p, std::vector<Value>& out) {
                             out.emplace_back(run_id);
                             out.emplace_back(p.key);
                             out.emplace_back(p.value);
                           });
}

Status WriteTags(Connection& conn, const std::string& run_id, const std::vector<Tag>& tags) {
  for (const Tag& t : tags) {
    std::vector<Value> row{run_id, t.key, t.value};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO tags (run_id, key, value) VALUES (?, ?, ?) ON CONFLICT (run_id, key) DO UPDATE SET value = "
        "excluded.value",
        row));
    if (t.key == "mlflow.runName") {  // the run name and its tag are one thing, as in MLflow
      std::vector<Value> name{t.value, run_id};
      GYRE_RETURN_IF_ERROR(conn.Execute("UPDATE runs SET name = ? WHERE run_id = ?", name));
    }
  }
  return Status::OK();
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Validation and tokens

Status ValidateKey(std::string_view what, const std::string& key) {
  if (key.empty()) return Status::InvalidArgument(fmt::format("Invalid {} name: the name must not be empty", what));
  if (key.size() > kMaxKeyLength) {
    return Status::InvalidArgument(
        fmt::format("Invalid {} name '{}...': longer than {} characters", what, key.substr(0, 40), kMaxKeyLength));
  }
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '/' || c == ' ')) {
      return Status::InvalidArgument(fmt::format(
          "Invalid {} name '{}': names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
          "spaces ( ), and slashes (/)",
          what, key));
    }
  }
  if (key.front() == '/' || key == ".." || key.starts_with("../") || key.ends_with("/..") ||
      key.find("/../") != std::string::npos) {
    return Status::InvalidArgument(
        fmt::format("Invalid {} name '{}': names may not be absolute or contain '..' path segments", what, key));
  }
  return Status::OK();
}

Status ValidateValueLength(std::string_view what, const std::string& key, const std::string& value, size_t max) {
  if (value.size() > max) {
    if (key.empty()) {
      return Status::InvalidArgument(fmt::format("{} has {} characters; the limit is {}", what, value.size(), max));
    }
    return Status::InvalidArgument(
        fmt::format("{} '{}' has a value of {} characters; the limit is {}", what, key, value.size(), max));
  }
  return Status::OK();
}

std::string EncodeOffsetToken(int64_t offset) { return Base64Encode(nlohmann::json{{"offset", offset}}.dump()); }

Result<int64_t> DecodeOffsetToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  Result<std::string> raw = Base64Decode(token);
  if (raw.ok()) {
    nlohmann::json j = nlohmann::json::parse(*raw, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && j.contains("offset") && j["offset"].is_number_integer() && j["offset"].get<int64_t>() >= 0) {
      return j["offset"].get<int64_t>();
    }
  }
  return Status::InvalidArgument(fmt::format("Invalid page token '{}'", token));
}

// ---------------------------------------------------------------------------------------------------------
// Open

Result<std::unique_ptr<TrackingStore>> TrackingStore::Open(store::Database* db, std::string artifact_root_uri) {
  GYRE_RETURN_IF_ERROR(store::Migrate(*db, "tracking", Migrations()));
  std::unique_ptr<TrackingStore> store(new TrackingStore(db, std::move(artifact_root_uri)));
  GYRE_RETURN_IF_ERROR(db->Transaction([&](Connection& conn) -> Status {
    GYRE_ASSIGN_OR_RETURN(QueryResult r, conn.Query("SELECT 1 FROM experiments WHERE experiment_id = 0"));
    if (!r.empty()) return Status::OK();
    int64_t now = NowMillis();
    std::vector<Value> row{std::string("Default"), store->artifact_root_uri_ + "/0", now, now};
    return conn.Execute(
        "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
        "last_update_time) VALUES (0, ?, ?, 'active', ?, ?)",
        row);
  }));
  return store;
}

// ---------------------------------------------------------------------------------------------------------
// Experiments

Result<std::string> TrackingStore::CreateExperiment(const std::string& name, const std::string& artifact_location,
                                                    const std::vector<Tag>& tags) {
  GYRE_RETURN_IF_ERROR(ValidateExperimentName(name));
  GYRE_RETURN_IF_ERROR(ValidateValueLength("artifact_location", "", artifact_location, kMaxArtifactLocationLength));
  for (const Tag& t : tags) GYRE_RETURN_IF_ERROR(ValidateTag(t));
  std::string id;
  Status status = db_->Transaction([&](Connection& conn) -> Status {
    int64_t now = NowMillis();
    std::vector<Value> row{name, artifact_location, now, now};
    GYRE_ASSIGN_OR_RETURN(
        QueryResult r, conn.Query("INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, "
                                  "last_update_time) VALUES (?, ?, 'active', ?, ?) RETURNING experiment_id",
                                  row));
    id = r.Text(0, 0);
    if (artifact_location.empty()) {
      std::vector<Value> update{artifact_root_uri_ + "/" + id, r.Int(0, 0)};
      GYRE_RETURN_IF_ERROR(
          conn.Execute("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?", update));
    }
    for (const Tag& t : tags) {
      std::vector<Value> tag{r.Int(0, 0), t.key, t.value};
      GYRE_RETURN_IF_ERROR(conn.Execute(
          "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) "
          "DO UPDATE SET value = excluded.value",
          tag));
    }
    return Status::OK();
  });
  if (status.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists(fmt::format("Experiment(name={}) already exists.", name));
  }
  GYRE_RETURN_IF_ERROR(status);
  return id;
}

namespace {

Result<int64_t> ParseExperimentId(const std::string& id) {
  int64_t v = -1;
  auto [ptr, ec] = std::from_chars(id.data(), id.data() + id.size(), v);
  if (id.empty() || ec != std::errc() || ptr != id.data() + id.size() || v < 0) {
    return Status::InvalidArgument(fmt::format("Invalid experiment ID '{}': expected a non-negative integer", id));
  }
  return v;
}

Result<std::vector<Experiment>> LoadExperiments(store::Database& db, const std::string& where,
                                                const std::vector<Value>& params) {
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        db.Query("SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
                                 "last_update_time FROM experiments WHERE " +
                                     where,
                                 params));
  std::vector<Experiment> out;
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < r.size(); ++i) {
    Experiment e;
    e.experiment_id = r.Text(i, 0);
    e.name = r.Text(i, 1);
    e.artifact_location = r.Text(i, 2);
    e.lifecycle_stage = ParseStage(r.Text(i, 3));
    e.creation_time = r.Int(i, 4);
    e.last_update_time = r.Int(i, 5);
    index[e.experiment_id] = out.size();
    out.push_back(std::move(e));
  }
  if (out.empty()) return out;
  std::vector<std::string> ids;
  for (const auto& e : out) ids.push_back(e.experiment_id);
  for (auto& chunk : IdChunks(ids)) {
    std::vector<Value> int_chunk;
    for (auto& v : chunk) int_chunk.emplace_back(std::stoll(std::get<std::string>(v)));
    GYRE_ASSIGN_OR_RETURN(QueryResult tags,
                          db.Query("SELECT experiment_id, key, value FROM experiment_tags WHERE experiment_id IN (" +
                                       Placeholders(kIdChunk) + ") ORDER BY key",
                                   int_chunk));
    for (size_t i = 0; i < tags.size(); ++i) {
      out[index[tags.Text(i, 0)]].tags.push_back({tags.Text(i, 1), tags.Text(i, 2)});
    }
  }
  return out;
}

}  // namespace

Result<Experiment> TrackingStore::GetExperiment(const std::string& experiment_id) {
  GYRE_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  GYRE_ASSIGN_OR_RETURN(std::vector<Experiment> found, LoadExperiments(*db_, "experiment_id = ?", {id}));
  if (found.empty()) {
    return Status::NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
  }
  return std::move(found[0]);
}

Result<Experiment> TrackingStore::GetExperimentByName(const std::string& name) {
  GYRE_ASSIGN_OR_RETURN(std::vector<Experiment> found, LoadExperiments(*db_, "name = ?", {name}));
  if (found.empty()) return Status::NotFound(fmt::format("Could not find experiment with name '{}'", name));
  return std::move(found[0]);
}

Result<Page<Experiment>> TrackingStore::SearchExperiments(const SearchExperimentsRequest& request) {
  GYRE_RETURN_IF_ERROR(CheckMaxResults(request.max_results));
  GYRE_ASSIGN_OR_RETURN(int64_t offset, DecodeOffsetToken(request.page_token));
  GYRE_ASSIGN_OR_RETURN(std::vector<Comparison> filter, ParseFilter(request.filter));
  std::string where = StageClause("e.lifecycle_stage", request.view_type);
  std::vector<Value> join_params, where_params;
  size_t tag_joins = 0;
  std::string joins;
  for (const Comparison& c : filter) {
    std::string clause;
    if (c.entity == EntityType::kAttribute && c.key == "name") {
      GYRE_ASSIGN_OR_RETURN(clause,
                            StringComparisonSql("e.name", c, where_params, "attribute 'name'", /*allow_in=*/false));
    } else if (c.entity == EntityType::kAttribute && (c.key == "creation_time" || c.key == "last_update_time")) {
      GYRE_ASSIGN_OR_RETURN(clause, NumericComparisonSql("e." + c.key, c, where_params, "attribute '" + c.key + "'"));
    } else if (c.entity == EntityType::kTag) {
      std::string alias = Alias("t", tag_joins++);
      joins += fmt::format(" JOIN experiment_tags {0} ON {0}.experiment_id = e.experiment_id AND {0}.key = ?", alias);
      join_params.emplace_back(c.key);
      GYRE_ASSIGN_OR_RETURN(
          clause, StringComparisonSql(alias + ".value", c, where_params, "tag '" + c.key + "'", /*allow_in=*/false));
    } else {
      return Status::InvalidArgument(fmt::format(
          "Invalid attribute key '{}' for experiment search: use name, creation_time, last_update_time or tags.<key>",
          c.key));
    }
    where += " AND " + clause;
  }
  std::string order;
  GYRE_ASSIGN_OR_RETURN(std::vector<OrderBy> orders, ParseOrderByList(request.order_by));
  for (size_t i = 0; i < orders.size(); ++i) {
    const OrderBy& o = orders[i];
    const std::string& clause = request.order_by[i];
    static const std::set<std::string> kAllowed = {"name", "experiment_id", "creation_time", "last_update_time"};
    if (o.entity != EntityType::kAttribute || !kAllowed.count(o.key)) {
      return Status::InvalidArgument(fmt::format(
          "Invalid order_by clause '{}': experiments can be ordered by name, experiment_id, creation_time or "
          "last_update_time",
          clause));
    }
    order += fmt::format("e.{} {}, ", o.key, o.ascending ? "ASC" : "DESC");
  }
  order += "e.creation_time DESC, e.experiment_id ASC";
  std::vector<Value> params = std::move(join_params);
  for (auto& v : where_params) params.push_back(std::move(v));
  params.emplace_back(request.max_results + 1);
  params.emplace_back(offset);
  GYRE_ASSIGN_OR_RETURN(QueryResult ids, db_->Query("SELECT e.experiment_id FROM experiments e" + joins + " WHERE " +
                                                        where + " ORDER BY " + order + " LIMIT ? OFFSET ?",
                                                    params));
  Page<Experiment> page;
  size_t n = std::min<size_t>(ids.size(), static_cast<size_t>(request.max_results));
  std::vector<std::string> page_ids;
  for (size_t i = 0; i < n; ++i) page_ids.push_back(ids.Text(i, 0));
  std::map<std::string, Experiment> loaded;
  for (const auto& chunk : IdChunks(page_ids)) {
    std::vector<Value> int_chunk;
    for (const auto& v : chunk) int_chunk.emplace_back(std::stoll(std::get<std::string>(v)));
    GYRE_ASSIGN_OR_RETURN(std::vector<Experiment> part,
                          LoadExperiments(*db_, "experiment_id IN (" + Placeholders(kIdChunk) + ")", int_chunk));
    for (auto& e : part) loaded[e.experiment_id] = std::move(e);
  }
  for (const std::string& id : page_ids) page.items.push_back(std::move(loaded[id]));
  if (ids.size() > n) page.next_page_token = EncodeOffsetToken(offset + static_cast<int64_t>(n));
  return page;
}

Status TrackingStore::DeleteExperiment(const std::string& experiment_id) {
  GYRE_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  if (id == 0) return Status::InvalidArgument("Cannot delete the default experiment '0'");
  return db_->Transaction([&](Connection& conn) -> Status {
    int64_t now = NowMillis();
    std::vector<Value> p{now, id};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE experiments SET lifecycle_stage = 'deleted', last_update_time = ? WHERE experiment_id = ?", p));
    if (conn.changes() == 0) return Status::NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
    return conn.Execute(
        "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE experiment_id = ? AND lifecycle_stage = "
        "'active'",
        p);
  });
}

Status TrackingStore::RestoreExperiment(const std::string& experiment_id) {
  GYRE_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  return db_->Transaction([&](Connection& conn) -> Status {
    std::vector<Value> p{NowMillis(), id};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE experiments SET lifecycle_stage = 'active', last_update_time = ? WHERE experiment_id = ?", p));
    if (conn.changes() == 0) return Status::NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
    std::vector<Value> q{id};
    return conn.Execute(
        "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE experiment_id = ? AND lifecycle_stage "
        "= 'deleted'",
        q);
  });
}

Status TrackingStore::RenameExperiment(const std::string& experiment_id, const std::string& new_name) {
  GYRE_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  GYRE_RETURN_IF_ERROR(ValidateExperimentName(new_name));
  Status s = db_->Transaction([&](Connection& conn) -> Status {
    std::vector<Value> p{new_name, NowMillis(), id};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "UPDATE experiments SET name = ?, last_update_time = ? WHERE experiment_id = ? AND lifecycle_stage = 'active'",
        p));
    if (conn.changes() == 0) {
      return Status::NotFound(fmt::format("No active Experiment with id={} exists", experiment_id));
    }
    return Status::OK();
  });
  if (s.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists(fmt::format("Experiment(name={}) already exists.", new_name));
  }
  return s;
}

Status TrackingStore::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  GYRE_ASSIGN_OR_RETURN(int64_t id, ParseExperimentId(experiment_id));
  GYRE_RETURN_IF_ERROR(ValidateTag(tag));
  return db_->Transaction([&](Connection& conn) -> Status {
    std::vector<Value> key{id};
    GYRE_ASSIGN_OR_RETURN(QueryResult e,
                          conn.Query("SELECT lifecycle_stage FROM experiments WHERE experiment_id = ?", key));
    if (e.empty()) return Status::NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
    if (e.Text(0, 0) != "active") {
      return Status::InvalidArgument(fmt::format("The experiment {} must be in the 'active' state", experiment_id));
    }
    std::vector<Value> row{id, tag.key, tag.value};
    return conn.Execute(
        "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?) ON CONFLICT (experiment_id, key) DO "
        "UPDATE SET value = excluded.value",
        row);
  });
}

// ---------------------------------------------------------------------------------------------------------
// Runs

Result<RunInfo> TrackingStore::ActiveRunInfo(Connection& conn, const std::string& run_id) {
  std::vector<Value> key{run_id};
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        conn.Query(std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("Run with id={} not found", run_id));
  RunInfo info = RunInfoFromRow(r, 0);
  if (info.lifecycle_stage != LifecycleStage::kActive) {
    return Status::InvalidArgument(
        fmt::format("The run {} must be in the 'active' state. Current state is deleted.", run_id));
  }
  return info;
}

Result<Run> TrackingStore::CreateRun(const CreateRunRequest& request) {
  std::string experiment_id = request.experiment_id.empty() ? kDefaultExperimentId : request.experiment_id;
  GYRE_ASSIGN_OR_RETURN(int64_t exp_id, ParseExperimentId(experiment_id));
  for (const Tag& t : request.tags) GYRE_RETURN_IF_ERROR(ValidateTag(t));
  std::string run_name = request.run_name;
  std::string user_id = request.user_id;
  for (const Tag& t : request.tags) {
    if (t.key == "mlflow.runName" && run_name.empty()) run_name = t.value;
    if (t.key == "mlflow.user" && user_id.empty()) user_id = t.value;
  }
  if (run_name.empty()) run_name = RandomRunName();
  GYRE_RETURN_IF_ERROR(ValidateValueLength("run name", "", run_name, kMaxRunNameLength));
  GYRE_RETURN_IF_ERROR(ValidateValueLength("user id", "", user_id, kMaxUserIdLength));
  std::vector<Tag> tags = request.tags;
  if (std::none_of(tags.begin(), tags.end(), [](const Tag& t) { return t.key == "mlflow.runName"; })) {
    tags.push_back({"mlflow.runName", run_name});
  }
  Run run;
  run.info.run_id = NewRunId();
  run.info.experiment_id = experiment_id;
  run.info.run_name = run_name;
  run.info.user_id = user_id;
  run.info.start_time = request.start_time > 0 ? request.start_time : NowMillis();
  GYRE_RETURN_IF_ERROR(db_->Transaction([&](Connection& conn) -> Status {
    std::vector<Value> key{exp_id};
    GYRE_ASSIGN_OR_RETURN(
        QueryResult e,
        conn.Query("SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?", key));
    if (e.empty()) return Status::NotFound(fmt::format("No Experiment with id={} exists", experiment_id));
    if (e.Text(0, 0) != "active") {
      return Status::InvalidArgument(
          fmt::format("The experiment {} must be in the 'active' state. Current state is deleted.", experiment_id));
    }
    run.info.artifact_uri = fmt::format("{}/{}/artifacts", e.Text(0, 1), run.info.run_id);
    std::vector<Value> row{
        run.info.run_id,      exp_id, run.info.run_name, run.info.user_id, std::string("RUNNING"), run.info.start_time,
        run.info.artifact_uri};
    GYRE_RETURN_IF_ERROR(conn.Execute(
        "INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, 'active')",
        row));
    return WriteTags(conn, run.info.run_id, tags);
  }));
  std::sort(tags.begin(), tags.end(), [](const Tag& a, const Tag& b) { return a.key < b.key; });
  run.tags = std::move(tags);
  return run;
}

Result<RunInfo> TrackingStore::UpdateRun(const UpdateRunRequest& request) {
  if (request.run_name)
    GYRE_RETURN_IF_ERROR(ValidateValueLength("run name", "", *request.run_name, kMaxRunNameLength));
  RunInfo info;
  GYRE_RETURN_IF_ERROR(db_->Transaction([&](Connection& conn) -> Status {
    GYRE_ASSIGN_OR_RETURN(info, ActiveRunInfo(conn, request.run_id));
    if (request.status) info.status = *request.status;
    if (request.end_time) info.end_time = *request.end_time;
    if (request.run_name && !request.run_name->empty()) info.run_name = *request.run_name;
    std::vector<Value> row{std::string(RunStatusName(info.status)),
                           info.end_time ? Value(*info.end_time) : Value(std::monostate{}), info.run_name,
                           request.run_id};
    GYRE_RETURN_IF_ERROR(conn.Execute("UPDATE runs SET status = ?, end_time = ?, name = ? WHERE run_id = ?", row));
    if (request.run_name && !request.run_name->empty()) {
      return WriteTags(conn, request.run_id, {{"mlflow.runName", info.run_name}});
    }
    return Status::OK();
  }));
  return info;
}

Status TrackingStore::DeleteRun(const std::string& run_id) {
  return db_->Transaction([&](Connection& conn) -> Status {
    std::vector<Value> p{NowMillis(), run_id};
    GYRE_RETURN_IF_ERROR(
        conn.Execute("UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ? WHERE run_id = ?", p));
    if (conn.changes() == 0) return Status::NotFound(fmt::format("Run with id={} not found", run_id));
    return Status::OK();
  });
}

Status TrackingStore::RestoreRun(const std::string& run_id) {
  return db_->Transaction([&](Connection& conn) -> Status {
    std::vector<Value> p{run_id};
    GYRE_RETURN_IF_ERROR(
        conn.Execute("UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_id = ?", p));
    if (conn.changes() == 0) return Status::NotFound(fmt::format("Run with id={} not found", run_id));
    return Status::OK();
  });
}

Status TrackingStore::LoadRunData(Connection* conn, std::vector<Run>& runs) {
  if (runs.empty()) return Status::OK();
  std::map<std::string, size_t> index;
  std::vector<std::string> ids;
  for (size_t i = 0; i < runs.size(); ++i) {
    index[runs[i].info.run_id] = i;
    ids.push_back(runs[i].info.run_id);
  }
  auto query = [&](const std::string& sql, const std::vector<Value>& params) -> Result<QueryResult> {
    return conn ? conn->Query(sql, params) : db_->Query(sql, params);
  };
  const std::string in = store::PlaceholderList(kIdChunk);
  for (const auto& chunk : IdChunks(ids)) {
    GYRE_ASSIGN_OR_RETURN(QueryResult m, query("SELECT run_id, key, step, timestamp, value, is_nan FROM latest_metrics "
                                               "WHERE run_id IN " +
                                                   in + " ORDER BY key",
                                               chunk));
    for (size_t i = 0; i < m.size(); ++i) runs[index[m.Text(i, 0)]].metrics.push_back(MetricFromRow(m, i, 1));
    GYRE_ASSIGN_OR_RETURN(
        QueryResult p, query("SELECT run_id, key, value FROM params WHERE run_id IN " + in + " ORDER BY key", chunk));
    for (size_t i = 0; i < p.size(); ++i) runs[index[p.Text(i, 0)]].params.push_back({p.Text(i, 1), p.Text(i, 2)});
    GYRE_ASSIGN_OR_RETURN(QueryResult t,
                          query("SELECT run_id, key, value FROM tags WHERE run_id IN " + in + " ORDER BY key", chunk));
    for (size_t i = 0; i < t.size(); ++i) runs[index[t.Text(i, 0)]].tags.push_back({t.Text(i, 1), t.Text(i, 2)});
    GYRE_ASSIGN_OR_RETURN(QueryResult d,
                          query("SELECT run_id, name, digest, source_type, source, schema_json, profile, "
                                "tags_json FROM inputs WHERE run_id IN " +
                                    in + " ORDER BY name, digest",
                                chunk));
    for (size_t i = 0; i < d.size(); ++i) {
      DatasetInput input;
      input.dataset = {d.Text(i, 1), d.Text(i, 2), d.Text(i, 3), d.Text(i, 4), d.Text(i, 5), d.Text(i, 6)};
      nlohmann::json tags = nlohmann::json::parse(d.Text(i, 7), nullptr, false);
      if (tags.is_array()) {
        for (const auto& tag : tags) input.tags.push_back({tag.value("key", ""), tag.value("value", "")});
      }
      runs[index[d.Text(i, 0)]].inputs.push_back(std::move(input));
    }
  }
  return Status::OK();
}

Result<Run> TrackingStore::GetRun(const std::string& run_id) {
  std::vector<Value> key{run_id};
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        db_->Query(std::string("SELECT ") + kRunColumns + " FROM runs WHERE run_id = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("Run with id={} not found", run_id));
  std::vector<Run> runs(1);
  runs[0].info = RunInfoFromRow(r, 0);
  GYRE_RETURN_IF_ERROR(LoadRunData(nullptr, runs));
  return std::move(runs[0]);
}

Result<Run> TrackingStore::GetRunByIdOrPrefix(const std::string& id_or_prefix) {
  Result<Run> exact = GetRun(id_or_prefix);
  if (exact.ok() || !exact.status().IsNotFound() || id_or_prefix.size() >= 32) return exact;
  if (id_or_prefix.empty() || id_or_prefix.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return Status::InvalidArgument(fmt::format("'{}' is not a run id or a prefix of one (hexadecimal)", id_or_prefix));
  }
  // Every id with the prefix sorts in [prefix, prefix + 'g'): a range on the primary key, no LIKE escaping.
  std::vector<Value> range{id_or_prefix, id_or_prefix + "g"};
  GYRE_ASSIGN_OR_RETURN(
      QueryResult r,
      db_->Query("SELECT run_id FROM runs WHERE run_id >= ? AND run_id < ? ORDER BY run_id LIMIT 2", range));
  if (r.empty()) return Status::NotFound(fmt::format("No run with id or id prefix '{}'", id_or_prefix));
  if (r.size() > 1) {
    return Status::InvalidArgument(
        fmt::format("Run id prefix '{}' is ambiguous ({}, {}, ...)", id_or_prefix, r.Text(0, 0), r.Text(1, 0)));
  }
  return GetRun(r.Text(0, 0));
}

Result<Page<Run>> TrackingStore::SearchRuns(const SearchRunsRequest& request) {
  GYRE_RETURN_IF_ERROR(CheckMaxResults(request.max_results));
  GYRE_ASSIGN_OR_RETURN(int64_t offset, DecodeOffsetToken(request.page_token));
  GYRE_ASSIGN_OR_RETURN(std::vector<Comparison> filter, ParseFilter(request.filter));
  Page<Run> page;
  if (request.experiment_ids.empty()) return page;

  // Joins carry their own parameters, which precede the WHERE clause's in the SQL text.
  std::string joins;
  std::vector<Value> join_params;
  std::vector<Value> where_params;
  std::string where;
  {
    std::vector<Value> exp_ids;
    for (const std::string& id : request.experiment_ids) {
      GYRE_ASSIGN_OR_RETURN(int64_t v, ParseExperimentId(id));
      where_params.emplace_back(v);
    }
    where = "r.experiment_id IN (" + Placeholders(request.experiment_ids.size()) + ") AND " +
            StageClause("r.lifecycle_stage", request.view_type);
  }
  size_t n_join = 0;
  std::map<std::string, std::string> filtered_metrics;  // metric key → alias of its filter's join
  for (const Comparison& c : filter) {
    std::string clause;
    switch (c.entity) {
      case EntityType::kMetric: {
        std::string a = Alias("m", n_join++);
        // The experiment condition repeats r's so the planner can start from latest_metrics_by_experiment.
        joins += fmt::format(
            " JOIN latest_metrics {0} ON {0}.run_id = r.run_id AND {0}.key = ? AND {0}.experiment_id = r.experiment_id",
            a);
        join_params.emplace_back(c.key);
        filtered_metrics.emplace(c.key, a);
        GYRE_ASSIGN_OR_RETURN(clause, NumericComparisonSql(a + ".value", c, where_params, "metric '" + c.key + "'"));
        clause = fmt::format("{}.is_nan = 0 AND {}", a, clause);
        break;
      }
      case EntityType::kParam:
      case EntityType::kTag: {
        bool is_param = c.entity == EntityType::kParam;
        std::string a = Alias(is_param ? "p" : "t", n_join++);
        joins += fmt::format(" JOIN {1} {0} ON {0}.run_id = r.run_id AND {0}.key = ?", a, is_param ? "params" : "tags");
        join_params.emplace_back(c.key);
        GYRE_ASSIGN_OR_RETURN(
            clause, StringComparisonSql(a + ".value", c, where_params,
                                        fmt::format("{} '{}'", is_param ? "param" : "tag", c.key), /*allow_in=*/false));
        break;
      }
      case EntityType::kAttribute: {
        static const std::map<std::string, std::string> kStringAttrs = {{"status", "r.status"},
                                                                        {"run_name", "r.name"},
                                                                        {"run_id", "r.run_id"},
                                                                        {"user_id", "r.user_id"},
                                                                        {"artifact_uri", "r.artifact_uri"},
                                                                        {"lifecycle_stage", "r.lifecycle_stage"}};
        static const std::map<std::string, std::string> kNumericAttrs = {
            {"start_time", "r.start_time"}, {"end_time", "r.end_time"}, {"created", "r.start_time"}};
        std::string key = c.key == "run name" || c.key == "runName" ? "run_name" : c.key;
        if (auto it = kStringAttrs.find(key); it != kStringAttrs.end()) {
          GYRE_ASSIGN_OR_RETURN(
              clause, StringComparisonSql(it->second, c, where_params, "attribute '" + key + "'", /*allow_in=*/true));
        } else if (auto nit = kNumericAttrs.find(key); nit != kNumericAttrs.end()) {
          GYRE_ASSIGN_OR_RETURN(clause, NumericComparisonSql(nit->second, c, where_params, "attribute '" + key + "'"));
        } else {
          return Status::InvalidArgument(fmt::format(
              "Invalid attribute key '{}' specified. Valid keys are: artifact_uri, end_time, lifecycle_stage, run_id, "
              "run_name, start_time, status, user_id",
              c.key));
        }
        break;
      }
      case EntityType::kDataset: {
        if (c.key != "name" && c.key != "digest") {
          return Status::InvalidArgument(
              fmt::format("Invalid dataset key '{}': datasets can be filtered by name or digest", c.key));
        }
        std::vector<Value> sub;
        GYRE_ASSIGN_OR_RETURN(std::string inner,
                              StringComparisonSql("d." + c.key, c, sub, "dataset '" + c.key + "'", /*allow_in=*/true));
        clause = "EXISTS (SELECT 1 FROM inputs d WHERE d.run_id = r.run_id AND " + inner + ")";
        for (auto& v : sub) where_params.push_back(std::move(v));
        break;
      }
    }
    where += " AND " + clause;
  }

  std::string order;
  GYRE_ASSIGN_OR_RETURN(std::vector<OrderBy> orders, ParseOrderByList(request.order_by));
  for (size_t i = 0; i < orders.size(); ++i) {
    const OrderBy& o = orders[i];
    const std::string& text = request.order_by[i];
    std::string dir = o.ascending ? "ASC" : "DESC";
    std::string expr;
    if (o.entity == EntityType::kAttribute) {
      static const std::map<std::string, std::string> kColumns = {{"start_time", "r.start_time"},
                                                                  {"end_time", "r.end_time"},
                                                                  {"run_name", "r.name"},
                                                                  {"status", "r.status"},
                                                                  {"run_id", "r.run_id"},
                                                                  {"user_id", "r.user_id"},
                                                                  {"artifact_uri", "r.artifact_uri"},
                                                                  {"created", "r.start_time"}};
      auto it = kColumns.find(o.key);
      if (it == kColumns.end()) {
        return Status::InvalidArgument(
            fmt::format("Invalid order_by clause '{}': unknown attribute '{}'", text, o.key));
      }
      expr = it->second;
    } else if (o.entity == EntityType::kDataset) {
      return Status::InvalidArgument(fmt::format("Invalid order_by clause '{}': cannot order by datasets", text));
    } else if (auto f = filtered_metrics.find(o.key); o.entity == EntityType::kMetric && f != filtered_metrics.end()) {
      // Ordering by a metric the filter already requires: every matching run has it and it is not NaN, so
      // order by the filter's own join, which an index can deliver in order without a sort.
      expr = f->second + ".value";
    } else {
      std::string a = Alias("o", n_join++);
      const char* table = o.entity == EntityType::kMetric  ? "latest_metrics"
                          : o.entity == EntityType::kParam ? "params"
                                                           : "tags";
      joins += fmt::format(" LEFT JOIN {1} {0} ON {0}.run_id = r.run_id AND {0}.key = ?", a, table);
      join_params.emplace_back(o.key);
      expr = a + ".value";
      // Runs without the key sort last in either direction, as MLflow does (and NaN after numbers).
      order += fmt::format("CASE WHEN {} IS NULL THEN 1 ELSE 0 END, ", expr);
      if (o.entity == EntityType::kMetric) order += fmt::format("CASE WHEN {}.is_nan = 1 THEN 1 ELSE 0 END, ", a);
    }
    order += fmt::format("{} {}, ", expr, dir);
  }
  order += "r.start_time DESC, r.run_id ASC";

  std::vector<Value> params = std::move(join_params);
  for (auto& v : where_params) params.push_back(std::move(v));
  params.emplace_back(request.max_results + 1);
  params.emplace_back(offset);
  std::string sql = std::string(
                        "SELECT r.run_id, r.experiment_id, r.name, r.user_id, r.status, r.start_time, "
                        "r.end_time, r.artifact_uri, r.lifecycle_stage FROM runs r") +
                    joins + " WHERE " + where + " ORDER BY " + order + " LIMIT ? OFFSET ?";
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query(sql, params));
  size_t n = std::min<size_t>(r.size(), static_cast<size_t>(request.max_results));
  page.items.resize(n);
  for (size_t i = 0; i < n; ++i) page.items[i].info = RunInfoFromRow(r, i);
  GYRE_RETURN_IF_ERROR(LoadRunData(nullptr, page.items));
  if (r.size() > n) page.next_page_token = EncodeOffsetToken(offset + static_cast<int64_t>(n));
  return page;
}

Status TrackingStore::LogMetric(const std::string& run_id, const Metric& metric) {
  return LogBatch(run_id, {metric}, {}, {});
}

Status TrackingStore::LogParam(const std::string& run_id, const Param& param) {
  return LogBatch(run_id, {}, {param}, {});
}

Status TrackingStore::SetTag(const std::string& run_id, const Tag& tag) { return LogBatch(run_id, {}, {}, {tag}); }

Status TrackingStore::DeleteTag(const std::string& run_id, const std::string& key) {
  return db_->Transaction([&](Connection& conn) -> Status {
    GYRE_RETURN_IF_ERROR(ActiveRunInfo(conn, run_id).status());
    std::vector<Value> p{run_id, key};
    GYRE_RETURN_IF_ERROR(conn.Execute("DELETE FROM tags WHERE run_id = ? AND key = ?", p));
    if (conn.changes() == 0) {
      return Status::NotFound(fmt::format("No tag with name: {} in run with id {}", key, run_id));
    }
    return Status::OK();
  });
}

Status TrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                               const std::vector<Param>& params, const std::vector<Tag>& tags) {
  if (metrics.size() > kMaxBatchMetrics || params.size() > kMaxBatchParams || tags.size() > kMaxBatchTags ||
      metrics.size() + params.size() + tags.size() > kMaxBatchItems) {
    return Status::InvalidArgument(fmt::format(
        "A batch logging request can contain at most {} metrics, {} params, {} tags and {} items in all; got {} "
        "metrics, {} params and {} tags",
        kMaxBatchMetrics, kMaxBatchParams, kMaxBatchTags, kMaxBatchItems, metrics.size(), params.size(), tags.size()));
  }
  for (const Metric& m : metrics) GYRE_RETURN_IF_ERROR(ValidateMetric(m));
  for (const Param& p : params) GYRE_RETURN_IF_ERROR(ValidateParam(p));
  for (const Tag& t : tags) GYRE_RETURN_IF_ERROR(ValidateTag(t));
  return db_->Transaction([&](Connection& conn) -> Status {
    GYRE_ASSIGN_OR_RETURN(RunInfo run, ActiveRunInfo(conn, run_id));
    GYRE_RETURN_IF_ERROR(WriteParams(conn, run_id, params));
    GYRE_RETURN_IF_ERROR(WriteMetrics(conn, run, metrics));
    return WriteTags(conn, run_id, tags);
  });
}

Status TrackingStore::LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) {
  for (const DatasetInput& in : inputs) {
    if (in.dataset.name.empty() || in.dataset.digest.empty()) {
      return Status::InvalidArgument("a dataset input needs a name and a digest");
    }
    for (const Tag& t : in.tags) GYRE_RETURN_IF_ERROR(ValidateTag(t));
  }
  return db_->Transaction([&](Connection& conn) -> Status {
    GYRE_RETURN_IF_ERROR(ActiveRunInfo(conn, run_id).status());
    for (const DatasetInput& in : inputs) {
      nlohmann::json tags = nlohmann::json::array();
      for (const Tag& t : in.tags) tags.push_back({{"key", t.key}, {"value", t.value}});
      std::vector<Value> row{run_id,
                             in.dataset.name,
                             in.dataset.digest,
                             in.dataset.source_type,
                             in.dataset.source,
                             in.dataset.schema,
                             in.dataset.profile,
                             tags.dump()};
      GYRE_RETURN_IF_ERROR(conn.Execute(
          "INSERT INTO inputs (run_id, name, digest, source_type, source, schema_json, profile, tags_json) VALUES "
          "(?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, name, digest) DO UPDATE SET tags_json = excluded.tags_json",
          row));
    }
    return Status::OK();
  });
}

Result<Page<Metric>> TrackingStore::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                     int64_t max_results, const std::string& page_token) {
  GYRE_RETURN_IF_ERROR(CheckMaxResults(max_results));
  GYRE_ASSIGN_OR_RETURN(int64_t offset, DecodeOffsetToken(page_token));
  std::vector<Value> run{run_id};
  GYRE_ASSIGN_OR_RETURN(QueryResult exists, db_->Query("SELECT 1 FROM runs WHERE run_id = ?", run));
  if (exists.empty()) return Status::NotFound(fmt::format("Run with id={} not found", run_id));
  std::vector<Value> params{run_id, key, max_results + 1, offset};
  GYRE_ASSIGN_OR_RETURN(
      QueryResult r, db_->Query("SELECT key, step, timestamp, value, is_nan FROM metrics WHERE run_id = ? AND key = ? "
                                "ORDER BY step, timestamp, value LIMIT ? OFFSET ?",
                                params));
  Page<Metric> page;
  size_t n = std::min<size_t>(r.size(), static_cast<size_t>(max_results));
  page.items.reserve(n);
  for (size_t i = 0; i < n; ++i) page.items.push_back(MetricFromRow(r, i, 0));
  if (r.size() > n) page.next_page_token = EncodeOffsetToken(offset + static_cast<int64_t>(n));
  return page;
}

// ---------------------------------------------------------------------------------------------------------
// Enum names

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "RUNNING";
    case RunStatus::kScheduled:
      return "SCHEDULED";
    case RunStatus::kFinished:
      return "FINISHED";
    case RunStatus::kFailed:
      return "FAILED";
    case RunStatus::kKilled:
      return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  if (name == "RUNNING") return RunStatus::kRunning;
  if (name == "SCHEDULED") return RunStatus::kScheduled;
  if (name == "FINISHED") return RunStatus::kFinished;
  if (name == "FAILED") return RunStatus::kFailed;
  if (name == "KILLED") return RunStatus::kKilled;
  return std::nullopt;
}

std::string_view LifecycleStageName(LifecycleStage stage) {
  return stage == LifecycleStage::kDeleted ? "deleted" : "active";
}

std::optional<ViewType> ParseViewType(std::string_view name) {
  if (name == "ACTIVE_ONLY" || name == "1") return ViewType::kActiveOnly;
  if (name == "DELETED_ONLY" || name == "2") return ViewType::kDeletedOnly;
  if (name == "ALL" || name == "3") return ViewType::kAll;
  return std::nullopt;
}

}  // namespace gyre::tracking
