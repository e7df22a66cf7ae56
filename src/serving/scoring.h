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
// MLflow /invocations, `gyre score --deployment`) through the same decision bands, prediction log, challenger
// (in shadow: a rows request names its model, so the canary answers only /v1/score, where the sticky entity is
// known) and metrics. Every score gyre produces comes through here, so monitoring sees all of them; each
// prediction records the path it came by and the caller who asked.
//
// A deployment opened without feature definitions (`gyre models serve`) scores rows only.
//
// Thread-safe; a swap of models during a request is invisible to it (the request keeps the servable it took).
#pragma once

#include <array>
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

// The doors a score comes through (recorded with each prediction and counted per door on /metrics).
enum class ScorePath : uint8_t { kScore, kInfer, kInvocations, kBatch };
inline constexpr std::array<std::string_view, 4> kScorePathNames = {"v1/score", "oip", "invocations", "batch"};

struct ScoreOptions {
  std::string request_id;
  ScorePath path = ScorePath::kScore;
  std::string caller;  // who asked: the request's user (as claimed until users authenticate), or the OS user
  bool return_features = false;
};

// How a deployment turns a model's outputs into an action, or why it cannot.
struct Decision {
  int output = -1;  // the output column the bands read; -1: no decision (`why_not` says why)
  models::DecisionPolicy policy;
  std::string why_not;
};
struct DeploymentConfig;
// The package's bands with the deployment's overrides, on the output its model kind allows: the probability
// or value of a one-output model, or decision.positive_class of a multiclass model's probabilities.
Decision DecisionFor(const DeploymentConfig& config, const Servable& model);

// Ready-made feature rows, scored.
struct RowsResult {
  std::shared_ptr<const Servable> model;  // the model that answered
  std::vector<float> outputs;             // n × model->num_outputs()
  std::vector<uint8_t> actions;           // per row, index into DecisionPolicy::kActions; empty without a decision
};

// A deployment's model, as a readiness probe sees it.
struct ModelState {
  std::string uri;
  std::shared_ptr<const Servable> loaded;  // null while none has loaded
  Status error;                            // the newest load or resolution failure of `uri`; OK when none
};

struct ScoredEvent {
  float score = 0;
  std::string action;
  std::string event_id;                 // the label key's value when the event has one (e.g. event_id)
  const Servable* model = nullptr;      // the servable that answered (valid while the response lives); null
                                        // for a replay, whose model may be gone: see replayed_*
  bool challenger = false;              // answered by the canary
  // A repeat of an event already scored (same event id): its first decision, not scored, logged or pushed
  // again. It carries no features.
  bool replay = false;
  std::string replayed_model, replayed_version;
  std::vector<float> features;          // when requested, in the model's signature order

  std::string_view model_name() const { return model != nullptr ? std::string_view(model->name()) : replayed_model; }
  std::string_view model_version() const {
    return model != nullptr ? std::string_view(model->version()) : replayed_version;
  }
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
  int64_t requests = 0, events = 0, errors = 0;  // over every path
  std::array<int64_t, kScorePathNames.size()> requests_by_path{}, events_by_path{};
  std::map<std::string, int64_t> actions;
  int64_t challenger_answers = 0, shadow_scores = 0;
  int64_t replays = 0;  // repeated events answered with their first decision (exactly once)
  int64_t log_written = 0, log_dropped = 0;
  HistogramSnapshot latency;  // time Score() took per request (features, model, log, push), errors included
  struct Loaded {
    std::string model, version;
  };
  std::optional<Loaded> champion, challenger;  // what serves now (nullopt: nothing loaded yet)
};

class ScoringService {
 public:
  // `registry` and `online` must outlive the service. Without a registry (a bare model: `gyre models serve`)
  // deployments score rows only. Loads every deployment's models now (an error names the deployment and the
  // model URI).
  static Result<std::unique_ptr<ScoringService>> Open(DeploymentsConfig config, const features::FeatureRegistry* registry,
                                                      features::OnlineStore* online, ModelResolver resolver);
  ~ScoringService();

  // `events` has the deployment's source schema (features::SourceDef::schema). When the source declares an
  // event id and the deployment pushes, an event seen before is answered with its first decision (replay).
  Result<ScoreResponse> Score(std::string_view deployment, const Table& events, const ScoreOptions& options);
  // The source schema events of `deployment` must have (for request parsing). NotFound for an unknown name.
  Result<const Schema*> EventSchema(std::string_view deployment) const;

  // The deployment's current model (what a rows request is parsed against); Unavailable, with this model's
  // own load error, while none has loaded.
  Result<std::shared_ptr<const Servable>> Model(std::string_view deployment) const;
  // `rows`: n × model->num_features() values in `model`'s feature order (NaN = missing), where `model` is what
  // Model() returned when the request was parsed (a swap since then does not mix the two).
  Result<RowsResult> ScoreRows(std::string_view deployment, std::shared_ptr<const Servable> model,
                               std::vector<float> rows, const ScoreOptions& options);
  // The decision `deployment` takes on `model`'s outputs.
  Result<Decision> DecisionOf(std::string_view deployment, const Servable& model) const;
  // NotFound for an unknown deployment.
  Result<ModelState> State(std::string_view deployment) const;

  const DeploymentsConfig& config() const { return config_; }
  // Every deployment has a model loaded.
  bool Ready() const;
  ModelManager& models() { return *models_; }
  const ModelManager& models() const { return *models_; }
  Result<DeploymentStats> Stats(std::string_view deployment) const;
  // Starts polling the registry for alias moves (hot swap); Stop() ends it and drains the logs.
  void Start();
  void Stop();

  struct Plan;  // what one model needs to score a deployment's events (scoring.cc)

 private:
  struct Runtime;
  ScoringService() = default;
  // Scores, pushes and logs events; `record_receipts` stores each decision with its event's id, and answers
  // an event whose id the push finds recorded with the decision stored then (a replay, not logged).
  Result<ScoreResponse> ScoreEvents(Runtime& runtime, const Plan& plan, const Table& events,
                                    std::vector<int64_t> times, const ScoreOptions& options, bool record_receipts);
  Result<Runtime*> Find(std::string_view deployment) const;
  // The deployment's source, its columns and the plans of its models for scoring events (needs registry_).
  Status PlanEvents(Runtime& runtime);
  Status NotLoaded(const Runtime& runtime) const;
  // Why a deployment with no event source (a bare model, or a model without a feature set) takes no events.
  Status EventsRefused(const Runtime& runtime) const;

  DeploymentsConfig config_;
  const features::FeatureRegistry* registry_ = nullptr;
  features::OnlineStore* online_ = nullptr;
  std::unique_ptr<ModelManager> models_;
  std::vector<std::unique_ptr<Runtime>> runtimes_;
};

}  // namespace gyre::serving
