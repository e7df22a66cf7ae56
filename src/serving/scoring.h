// ScoringService: the online decision. For a deployment and raw events (rows of the feature set's source,
// e.g. logins):
//   1. the online features of each event as of its time (strictly before it: what training saw),
//   2. the deployment's current model (hot-swappable, see model_manager.h) → a score per event,
//   3. the decision bands → an action (allow / challenge / block),
//   4. then the events update the online feature state (push), and
//   5. each prediction goes to the deployment's log through a bounded queue that never blocks (drops counted).
// A challenger runs in shadow (scored and logged, not returned) or as a canary (answers `percent` of traffic,
// chosen by a hash of the sticky key's value, so an entity always meets the same model).
//
// Also scores ready-made feature rows (ScoreRows) for the standard protocols (Open Inference Protocol,
// MLflow /invocations) and batch scoring.
//
// Thread-safe; a swap of models during a request is invisible to it (the request keeps the servable it took).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "core/table.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "serving/deployments.h"
#include "serving/model_manager.h"
#include "serving/prediction_log.h"

namespace gyre::serving {

struct ScoreOptions {
  std::string request_id;
  bool return_features = false;
};

struct ScoredEvent {
  float score = 0;
  std::string action;
  std::string event_id;                 // the label key's value when the event has one (e.g. event_id)
  const Servable* model = nullptr;      // the servable that answered (valid while the response lives)
  bool challenger = false;              // answered by the canary
  std::vector<float> features;          // when requested, in the model's signature order
};

struct ScoreResponse {
  std::string request_id;
  std::string deployment;
  std::vector<ScoredEvent> events;
  std::vector<std::shared_ptr<const Servable>> keep_alive;  // the servables `events` point to
  int64_t pushed = 0;
};

// Per-deployment counters (exported on /metrics, printed by the demo).
struct DeploymentStats {
  int64_t requests = 0, events = 0, errors = 0;
  std::map<std::string, int64_t> actions;
  int64_t challenger_answers = 0, shadow_scores = 0;
  int64_t log_written = 0, log_dropped = 0;
  HistogramSnapshot latency;  // time Score() took per request (features, model, log, push), errors included
  struct Loaded {
    std::string model, version;
  };
  std::optional<Loaded> champion, challenger;  // what serves now (nullopt: nothing loaded yet)
};

class ScoringService {
 public:
  // `registry` and `online` must outlive the service; `online` may be null when no deployment reads events.
  // Loads every deployment's models now (an error names the deployment and the model URI).
  static Result<std::unique_ptr<ScoringService>> Open(DeploymentsConfig config, const features::FeatureRegistry* registry,
                                                      features::OnlineStore* online, ModelResolver resolver);
  ~ScoringService();

  // `events` has the deployment's source schema (features::SourceDef::schema).
  Result<ScoreResponse> Score(std::string_view deployment, const Table& events, const ScoreOptions& options);
  // The source schema events of `deployment` must have (for request parsing). NotFound for an unknown name.
  Result<const Schema*> EventSchema(std::string_view deployment) const;

  // Rows of ready-made features (n × the model's feature count) → scores, from the deployment's current model.
  Result<std::shared_ptr<const Servable>> Model(std::string_view deployment) const;

  const DeploymentsConfig& config() const { return config_; }
  // Every deployment has a model loaded.
  bool Ready() const;
  ModelManager& models() { return *models_; }
  const ModelManager& models() const { return *models_; }
  Result<DeploymentStats> Stats(std::string_view deployment) const;
  // Starts polling the registry for alias moves (hot swap); Stop() ends it and drains the logs.
  void Start();
  void Stop();

 private:
  struct Runtime;
  ScoringService() = default;
  Result<Runtime*> Find(std::string_view deployment) const;

  DeploymentsConfig config_;
  const features::FeatureRegistry* registry_ = nullptr;
  features::OnlineStore* online_ = nullptr;
  std::unique_ptr<ModelManager> models_;
  std::vector<std::unique_ptr<Runtime>> runtimes_;
};

}  // namespace gyre::serving
