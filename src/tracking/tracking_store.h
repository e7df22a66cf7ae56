// TrackingStore: experiments, runs, params, metrics, tags and dataset inputs, with MLflow's semantics and
// limits, on a store::Database (SQLite or PostgreSQL: same SQL, same behaviour).
//
// Contract:
// - Input is validated here, not in the HTTP layer: key names (alphanumerics, `_ - . / space`, at most 250
//   characters, no `..` segment, not absolute), value lengths (param 6000, tag 8000), batch limits (1000
//   metrics, 100 params, 100 tags, 1000 items in all). Violations are InvalidArgument naming the field.
// - Params are immutable: logging a key again with another value is InvalidArgument; the same value is OK.
// - Writing to a deleted run, or creating a run in a deleted experiment, is InvalidArgument.
// - A missing experiment or run is NotFound; a duplicate experiment name is AlreadyExists.
// - Every mutation is one transaction: a log-batch is stored whole or not at all, and once a call returned
//   OK its data survives a crash of the process (the database's commit).
// - Searches page with opaque tokens; max_results above 50000 is InvalidArgument.
// Thread-safe: the Database serialises what must be serialised.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/database.h"
#include "tracking/types.h"

namespace gyre::tracking {

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct SearchExperimentsRequest {
  std::string filter;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  std::vector<std::string> order_by;
  std::string page_token;
};

struct CreateRunRequest {
  std::string experiment_id;
  std::string user_id;
  std::string run_name;
  int64_t start_time = 0;  // 0: now
  std::vector<Tag> tags;
};

struct UpdateRunRequest {
  std::string run_id;
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;
};

class TrackingStore {
 public:
  static constexpr int64_t kMaxSearchResults = 50000;
  static constexpr const char* kDefaultExperimentId = "0";

  // Migrates the schema and ensures the "Default" experiment (id 0) exists. `artifact_root_uri` is the
  // base of new experiments' artifact locations (e.g. "mlflow-artifacts:" so clients use the artifact
  // proxy); the Database must outlive the store.
  static Result<std::unique_ptr<TrackingStore>> Open(store::Database* db, std::string artifact_root_uri);

  // Experiments.
  Result<std::string> CreateExperiment(const std::string& name, const std::string& artifact_location,
                                       const std::vector<Tag>& tags);
  Result<Experiment> GetExperiment(const std::string& experiment_id);
  Result<Experiment> GetExperimentByName(const std::string& name);
  Result<Page<Experiment>> SearchExperiments(const SearchExperimentsRequest& request);
  Status DeleteExperiment(const std::string& experiment_id);
  Status RestoreExperiment(const std::string& experiment_id);
  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name);
  Status SetExperimentTag(const std::string& experiment_id, const Tag& tag);

  // Runs.
  Result<Run> CreateRun(const CreateRunRequest& request);
  Result<RunInfo> UpdateRun(const UpdateRunRequest& request);
  Status DeleteRun(const std::string& run_id);
  Status RestoreRun(const std::string& run_id);
  Result<Run> GetRun(const std::string& run_id);
  // A run by its full id or by a unique prefix of it (as `gyre runs list` prints them): NotFound if none
  // matches, InvalidArgument if the prefix is ambiguous or not hexadecimal.
  Result<Run> GetRunByIdOrPrefix(const std::string& id_or_prefix);
  Result<Page<Run>> SearchRuns(const SearchRunsRequest& request);

  Status LogMetric(const std::string& run_id, const Metric& metric);
  Status LogParam(const std::string& run_id, const Param& param);
  Status SetTag(const std::string& run_id, const Tag& tag);
  Status DeleteTag(const std::string& run_id, const std::string& key);
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics, const std::vector<Param>& params,
                  const std::vector<Tag>& tags);
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs);

  // The history of one metric, ordered by step then timestamp. max_results default in MLflow's client
  // is 25000; at most kMaxSearchResults per page.
  Result<Page<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key, int64_t max_results,
                                        const std::string& page_token);

  store::Database& database() { return *db_; }

 private:
  explicit TrackingStore(store::Database* db, std::string artifact_root_uri)
      : db_(db), artifact_root_uri_(std::move(artifact_root_uri)) {}

  Status LoadRunData(store::Connection* conn, std::vector<Run>& runs);
  Result<RunInfo> ActiveRunInfo(store::Connection& conn, const std::string& run_id);

  store::Database* db_;
  std::string artifact_root_uri_;
};

// Validation shared with the registry: MLflow's rules for keys and values.
Status ValidateKey(std::string_view what, const std::string& key);
Status ValidateValueLength(std::string_view what, const std::string& key, const std::string& value, size_t max);

// Opaque page tokens: base64 of {"offset": N}.
std::string EncodeOffsetToken(int64_t offset);
Result<int64_t> DecodeOffsetToken(const std::string& token);

}  // namespace gyre::tracking
