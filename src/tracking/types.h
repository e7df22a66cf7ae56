// The tracking data model, with MLflow's field names and meanings (../shared/reference/mlflow-rest.md):
// experiments hold runs; a run has params (immutable), tags, metrics (a history per key; the latest value
// per key is what a run shows) and dataset inputs. Times are int64 milliseconds since the epoch, as MLflow's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace gyre::tracking {

struct Tag {
  std::string key;
  std::string value;
  bool operator==(const Tag&) const = default;
};
using Param = Tag;

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;  // ms
  int64_t step = 0;
  bool operator==(const Metric&) const = default;
};

enum class LifecycleStage { kActive, kDeleted };
enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<Tag> tags;
};

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;
  std::string profile;
};

struct DatasetInput {
  Dataset dataset;
  std::vector<Tag> tags;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest value per key
  std::vector<Param> params;
  std::vector<Tag> tags;
  std::vector<DatasetInput> inputs;
};

// One page of a search; next_page_token is empty on the last page.
template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

std::string_view RunStatusName(RunStatus status);
std::optional<RunStatus> ParseRunStatus(std::string_view name);
std::string_view LifecycleStageName(LifecycleStage stage);
std::optional<ViewType> ParseViewType(std::string_view name);

}  // namespace gyre::tracking
