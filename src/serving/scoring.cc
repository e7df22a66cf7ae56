#include "serving/scoring.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cmath>
#include <limits>
#include <cstdio>
#include <algorithm>

#include "core/time.h"

namespace gyre::serving {
namespace {

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t MicrosSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
}

// Adds the entity-key columns of the groups `feature` reads (through derived features too) to `columns`.
void AddKeyColumns(const features::FeatureRegistry& registry, const Schema& events, int feature,
                   std::vector<int>& columns) {
  const features::FeatureDef& f = registry.features()[feature];
  if (f.derived >= 0) {
    for (int input : registry.derived()[f.derived].inputs) AddKeyColumns(registry, events, input, columns);
    return;
  }
  if (f.group < 0) return;
  const features::GroupDef& group = registry.groups()[f.group];
  for (const std::string& key : registry.entities()[group.entity].keys) {
    int c = events.IndexOf(key);
    if (c >= 0 && std::find(columns.begin(), columns.end(), c) == columns.end()) columns.push_back(c);
  }
}

}  // namespace

Decision DecisionFor(const DeploymentConfig& config, const Servable& model) {
  Decision d;
  d.policy = model.descriptor().decision;
  if (config.challenge_threshold) d.policy.challenge_threshold = *config.challenge_threshold;
  if (config.block_threshold) d.policy.block_threshold = *config.block_threshold;
  const std::string who = fmt::format("deployment '{}': model '{}' version {}", config.name, model.name(),
                                      model.version());
  switch (model.output_kind()) {
    case OutputKind::kProbability:
    case OutputKind::kValue:
      if (config.positive_class && *config.positive_class != 1) {
        d.why_not = fmt::format("{} gives one score (of class 1); decision.positive_class {} does not apply", who,
                                *config.positive_class);
      } else {
        d.output = 0;
      }
      break;
    case OutputKind::kClassProbabilities:
      if (!config.positive_class) {
        d.why_not = fmt::format("{} gives {} class probabilities: name the class whose probability the decision "
                                "bands read (decision.positive_class in deployments.yaml)", who, model.num_outputs());
      } else if (*config.positive_class >= model.num_outputs()) {
        d.why_not = fmt::format("{} has {} classes; decision.positive_class {} is not one of them (0-{})", who,
                                model.num_outputs(), *config.positive_class, model.num_outputs() - 1);
      } else {
        d.output = *config.positive_class;
      }
      break;
    case OutputKind::kClass:
      d.why_not = fmt::format("{} gives a class index (multi:softmax), not a probability the decision bands can "
                              "read: train it with multi:softprob and set decision.positive_class", who);
      break;
  }
  return d;
}

// What one servable needs to score a deployment's events: its features as registry indices, and its bands.
struct ScoringService::Plan {
  std::shared_ptr<const Servable> servable;
  std::vector<int> feature_ids;
  std::vector<int> key_columns;  // source columns an event must have: the entity keys of the features read
  Decision decision;
  std::shared_ptr<const features::OnlineRead> read;  // the features' read, compiled for the source's rows
};

struct ScoringService::Runtime {
  const DeploymentConfig* config = nullptr;
  int source = -1;
  int time_column = -1;
  int event_id_column = -1;
  int sticky_column = -1;
  ModelManager::Handle champion = nullptr, challenger = nullptr;
  std::atomic<std::shared_ptr<const Plan>> champion_plan, challenger_plan;
  std::unique_ptr<PredictionLog> log;
  std::atomic<int64_t> errors{0}, challenger_answers{0}, shadow_scores{0}, replays{0};
  std::array<std::atomic<int64_t>, kScorePathNames.size()> requests{}, events{};  // by ScorePath
  std::array<std::atomic<int64_t>, models::DecisionPolicy::kActions.size()> actions{};  // by ActionIndex
  LatencyHistogram latency;
};

namespace {

using Plan = ScoringService::Plan;

// A decision as stored with its event's id, for the replay of a retried event: "g1 <score> <action index>
// <challenger 0|1> <version>\t<model>" (the score in the shortest form that reads back as the same float).
std::string EncodeReceipt(const ScoredEvent& e) {
  int action = 0;
  while (action < static_cast<int>(models::DecisionPolicy::kActions.size()) &&
         models::DecisionPolicy::kActions[action] != e.action) {
    ++action;
  }
  return fmt::format("g1 {} {} {} {}\t{}", e.score, action, e.challenger ? 1 : 0, e.model->version(), e.model->name());
}

bool DecodeReceipt(std::string_view receipt, ScoredEvent* e) {
  if (!receipt.starts_with("g1 ")) return false;
  size_t tab = receipt.find('\t');
  if (tab == std::string_view::npos) return false;
  std::string head(receipt.substr(3, tab - 3));
  char version[256] = {};
  int action = -1, challenger = 0;
  if (std::sscanf(head.c_str(), "%f %d %d %255s", &e->score, &action, &challenger, version) != 4 || action < 0 ||
      action >= static_cast<int>(models::DecisionPolicy::kActions.size())) {
    return false;
  }
  e->action = models::DecisionPolicy::kActions[action];
  e->challenger = challenger != 0;
  e->model = nullptr;
  e->replayed_version = version;
  e->replayed_model = std::string(receipt.substr(tab + 1));
  return true;
}

Result<std::shared_ptr<const Plan>> MakePlan(const features::FeatureRegistry& registry,
                                             const features::OnlineStore* online, const Schema& events,
                                             const DeploymentConfig& config, std::shared_ptr<const Servable> servable) {
  auto plan = std::make_shared<Plan>();
  const models::PackageDescriptor& d = servable->descriptor();
  plan->decision = DecisionFor(config, *servable);  // a model without one still serves rows
  for (const std::string& name : d.feature_names) {
    auto id = registry.FindFeature(name);
    if (!id.ok()) {
      return Status::FailedPrecondition(fmt::format(
          "deployment '{}': model '{}' version {} reads feature '{}', which features.yaml does not define", config.name,
          servable->name(), servable->version(), name));
    }
    if (registry.features()[*id].type == features::ExprType::kString) {
      return Status::FailedPrecondition(fmt::format("deployment '{}': feature '{}' is a string; models read numbers",
                                                    config.name, name));
    }
    plan->feature_ids.push_back(*id);
    AddKeyColumns(registry, events, *id, plan->key_columns);
  }
  std::sort(plan->key_columns.begin(), plan->key_columns.end());
  if (online != nullptr) {
    auto read = online->Prepare(plan->feature_ids, events, "the events");
    if (!read.ok()) {
      return Status::FailedPrecondition(fmt::format("deployment '{}': model '{}' version {}: {}", config.name,
                                                    servable->name(), servable->version(), read.status().message()));
    }
    plan->read = std::move(*read);
  }
  plan->servable = std::move(servable);
  return std::shared_ptr<const Plan>(std::move(plan));
}

// The plan for the handle's current servable, rebuilt once after a swap. A new version whose features do not
// fit keeps the previous plan serving.
std::shared_ptr<const Plan> CurrentPlan(const features::FeatureRegistry& registry, const features::OnlineStore* online,
                                        const Schema& events, const DeploymentConfig& config,
                                        ModelManager::Handle handle, std::atomic<std::shared_ptr<const Plan>>& cache) {
  std::shared_ptr<const Plan> plan = cache.load();
  std::shared_ptr<const Servable> current = handle->load();
  if (current == nullptr || (plan != nullptr && plan->servable == current)) return plan;
  auto rebuilt = MakePlan(registry, online, events, config, std::move(current));
  if (!rebuilt.ok()) return plan;
  cache.store(*rebuilt);
  return *rebuilt;
}

// Feature values of `events` as of their times, as the float32 rows the model reads.
Result<std::vector<float>> FeatureRows(features::OnlineStore& online, const Plan& plan, const Table& events,
                                       std::span<const int64_t> times) {
  std::vector<float> rows(plan.feature_ids.size() * static_cast<size_t>(events.num_rows()));
  GYRE_RETURN_IF_ERROR(online.GetFloats(*plan.read, events, times, rows));
  return rows;
}

}  // namespace

Result<std::unique_ptr<ScoringService>> ScoringService::Open(DeploymentsConfig config,
                                                             const features::FeatureRegistry* registry,
                                                             features::OnlineStore* online, ModelResolver resolver) {
  auto service = std::unique_ptr<ScoringService>(new ScoringService());
  service->config_ = std::move(config);
  service->registry_ = registry;
  service->online_ = online;
  service->models_ = std::make_unique<ModelManager>(std::move(resolver));
  for (const DeploymentConfig& d : service->config_.deployments) {
    auto runtime = std::make_unique<Runtime>();
    runtime->config = &d;
    // A model that cannot be loaded yet (not trained, alias not set) leaves the deployment unready — it answers
    // 503 and is loaded by the next poll — as long as the deployment names its feature set.
    Status added = service->models_->Add(d.model);
    if (!added.ok() && (d.feature_set.empty() || registry == nullptr)) {
      return Status(added.code(), fmt::format("deployment '{}': {}{}", d.name, added.message(),
                                              registry == nullptr ? "" : " (name the deployment's feature_set to "
                                                                         "start without a model)"));
    }
    runtime->champion = service->models_->HandleOf(d.model);
    if (d.challenger) {
      // A challenger that is not loadable yet is skipped until it is.
      (void)service->models_->Add(d.challenger->model);
      runtime->challenger = service->models_->HandleOf(d.challenger->model);
    }
    if (registry != nullptr) GYRE_RETURN_IF_ERROR(service->PlanEvents(*runtime));
    if (!d.log_path.empty()) {
      GYRE_ASSIGN_OR_RETURN(runtime->log, PredictionLog::Open(d.log_path, d.log_queue));
    }
    service->runtimes_.push_back(std::move(runtime));
  }
  return service;
}

Status ScoringService::PlanEvents(Runtime& runtime) {
  const DeploymentConfig& d = *runtime.config;
  const features::FeatureRegistry& registry = *registry_;
  std::shared_ptr<const Servable> champion = runtime.champion->load();
  std::string feature_set = !d.feature_set.empty() ? d.feature_set : champion->descriptor().feature_set;
  // A model imported or logged by MLflow's client knows its inputs but not the events they come from: the
  // deployment then scores feature rows, and events are refused (EventsRefused) until it names a feature set.
  if (feature_set.empty()) return Status::OK();
  auto set = registry.FindFeatureSet(feature_set);
  if (!set.ok()) {
    return Status::FailedPrecondition(fmt::format("deployment '{}': feature set '{}' of model {} is not in "
                                                  "features.yaml ({})", d.name, feature_set, d.model,
                                                  set.status().message()));
  }
  const features::FeatureSetDef& set_def = registry.feature_sets()[*set];
  runtime.source = set_def.source;
  const Schema& schema = registry.sources()[runtime.source].schema;
  runtime.time_column = registry.sources()[runtime.source].timestamp_index;
  if (set_def.label) runtime.event_id_column = schema.IndexOf(set_def.label->key);
  if (champion != nullptr) {
    GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, MakePlan(registry, online_, schema, d, champion));
    runtime.champion_plan.store(plan);
  }
  if (runtime.challenger != nullptr) {
    if (std::shared_ptr<const Servable> challenger = runtime.challenger->load()) {
      GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, MakePlan(registry, online_, schema, d, challenger));
      runtime.challenger_plan.store(plan);
    }
    if (!d.challenger->sticky_key.empty()) {
      runtime.sticky_column = schema.IndexOf(d.challenger->sticky_key);
      if (runtime.sticky_column < 0) {
        return Status::InvalidArgument(fmt::format("deployment '{}': challenger.sticky_key '{}' is not a column of "
                                                   "source '{}' (columns: {})", d.name, d.challenger->sticky_key,
                                                   registry.sources()[runtime.source].name, schema.NameList()));
      }
    }
  }
  return Status::OK();
}

ScoringService::~ScoringService() { Stop(); }

void ScoringService::Start() { models_->StartPolling(config_.poll_interval_us); }

void ScoringService::Stop() {
  if (models_) models_->Stop();
  for (auto& r : runtimes_) {
    if (r->log) r->log->Close();
  }
}

Result<ScoringService::Runtime*> ScoringService::Find(std::string_view deployment) const {
  for (const auto& r : runtimes_) {
    if (r->config->name == deployment) return r.get();
  }
  std::vector<std::string> names;
  for (const auto& r : runtimes_) names.push_back(r->config->name);
  return Status::NotFound(fmt::format("no deployment '{}' (deployments: {})", deployment,
                                      names.empty() ? "none; add deployments.yaml" : fmt::format("{}", fmt::join(names, ", "))));
}

Result<const Schema*> ScoringService::EventSchema(std::string_view deployment) const {
  GYRE_ASSIGN_OR_RETURN(Runtime * r, Find(deployment));
  if (r->source < 0) return EventsRefused(*r);
  return &registry_->sources()[r->source].schema;
}

Status ScoringService::EventsRefused(const Runtime& r) const {
  if (registry_ == nullptr || online_ == nullptr) {
    return Status::FailedPrecondition(fmt::format(
        "deployment '{}' serves a bare model: it scores feature rows (OIP infer, /invocations); events are scored "
        "by a deployment of gyre server, whose features.yaml says how to compute their features", r.config->name));
  }
  return Status::FailedPrecondition(fmt::format(
      "deployment '{}' serves feature rows only (OIP infer, /invocations): its model {} names no feature set; to "
      "score events, give the deployment a feature_set of features.yaml", r.config->name, r.config->model));
}

Result<std::shared_ptr<const Servable>> ScoringService::Model(std::string_view deployment) const {
  GYRE_ASSIGN_OR_RETURN(Runtime * r, Find(deployment));
  std::shared_ptr<const Servable> model = r->champion->load();
  if (model == nullptr) return NotLoaded(*r);
  return model;
}

Status ScoringService::NotLoaded(const Runtime& r) const {
  Status why = models_->Error(r.config->model);
  return Status::Unavailable(fmt::format("deployment '{}' has no model loaded yet ({}){}{}", r.config->name,
                                         r.config->model, why.ok() ? "" : ": ", why.message()));
}

Result<ModelState> ScoringService::State(std::string_view deployment) const {
  GYRE_ASSIGN_OR_RETURN(Runtime * r, Find(deployment));
  return ModelState{r->config->model, r->champion->load(), models_->Error(r->config->model)};
}

Result<Decision> ScoringService::DecisionOf(std::string_view deployment, const Servable& model) const {
  GYRE_ASSIGN_OR_RETURN(Runtime * r, Find(deployment));
  return DecisionFor(*r->config, model);
}

namespace {

// Counts a request, its latency (errors included) and, unless Done() is called, an error.
class RequestScope {
 public:
  RequestScope(std::atomic<int64_t>& requests, std::atomic<int64_t>& errors, LatencyHistogram& latency)
      : errors_(errors), latency_(latency) {
    ++requests;
  }
  ~RequestScope() {
    if (!done_) ++errors_;
    latency_.Observe(MicrosSince(start_));
  }
  void Done() { done_ = true; }

 private:
  std::atomic<int64_t>& errors_;
  LatencyHistogram& latency_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  bool done_ = false;
};

// The value a decision reads from each row's outputs.
void DecisionScores(const std::vector<float>& outputs, int width, int column, int64_t n, std::vector<float>& out) {
  out.resize(n);
  for (int64_t r = 0; r < n; ++r) out[r] = outputs[r * width + column];
}

}  // namespace

Result<ScoreResponse> ScoringService::Score(std::string_view deployment, const Table& events,
                                            const ScoreOptions& options) {
  GYRE_ASSIGN_OR_RETURN(Runtime * rt, Find(deployment));
  const DeploymentConfig& config = *rt->config;
  const size_t path = static_cast<size_t>(options.path);
  RequestScope scope(rt->requests[path], rt->errors, rt->latency);
  if (rt->source < 0) return EventsRefused(*rt);
  const int64_t n = events.num_rows();
  if (n == 0) return Status::InvalidArgument("no events to score");
  const Column& time = events.column(rt->time_column);
  std::vector<int64_t> times(n);
  for (int64_t r = 0; r < n; ++r) {
    if (time.IsNull(r)) {
      return Status::InvalidArgument(fmt::format("event {}: missing '{}' (the event time)", r,
                                                 events.column_name(rt->time_column)));
    }
    times[r] = time.Timestamp(r);
  }

  const Schema& schema = registry_->sources()[rt->source].schema;
  std::shared_ptr<const Plan> plan = CurrentPlan(*registry_, online_, schema, config, rt->champion, rt->champion_plan);
  if (plan == nullptr) return NotLoaded(*rt);
  if (plan->decision.output < 0) return Status::FailedPrecondition(plan->decision.why_not);
  // An event without the keys of the entities its features describe would read (and push) nothing, and be
  // scored as a stranger: refuse it, naming what it lacks.
  for (int64_t r = 0; r < n; ++r) {
    for (int c : plan->key_columns) {
      if (events.column(c).IsValid(r)) continue;
      std::vector<std::string> missing;
      for (int k : plan->key_columns) {
        if (events.column(k).IsNull(r)) missing.push_back(events.column_name(k));
      }
      return Status::InvalidArgument(fmt::format(
          "event {}: missing {} (the entity key{} its features are read by)", r, fmt::join(missing, ", "),
          missing.size() > 1 ? "s" : ""));
    }
  }
  // Exactly once: an event whose id was pushed before (a client's retry after a timeout, a queue's
  // redelivery, a second copy inside this request) gets its first decision back, marked as a replay — not
  // logged or pushed again. The first decision travels as the receipt of the event's id in the online store,
  // written in the same batch as the event's feature state (features/online_store.h); the push that records
  // ids says which rows repeat one, so no id is looked up twice and two concurrent copies log once.
  const bool exactly_once = config.push && online_->has_event_ids(rt->source);
  GYRE_ASSIGN_OR_RETURN(ScoreResponse response,
                        ScoreEvents(*rt, *plan, events, std::move(times), options, exactly_once));
  scope.Done();
  return response;
}

Result<ScoreResponse> ScoringService::ScoreEvents(Runtime& runtime, const Plan& plan, const Table& events,
                                                  std::vector<int64_t> times, const ScoreOptions& options,
                                                  bool record_receipts) {
  Runtime* rt = &runtime;
  const DeploymentConfig& config = *rt->config;
  const size_t path = static_cast<size_t>(options.path);
  const int64_t n = events.num_rows();
  const Schema& schema = registry_->sources()[rt->source].schema;
  GYRE_ASSIGN_OR_RETURN(std::vector<float> rows, FeatureRows(*online_, plan, events, times));
  const int width = plan.servable->num_outputs();
  std::vector<float> outputs(static_cast<size_t>(n) * width), scores;
  plan.servable->Score(rows.data(), n, outputs.data());
  DecisionScores(outputs, width, plan.decision.output, n, scores);

  // The challenger: every event in shadow; the canary's share (sticky by entity) answers instead. A challenger
  // that takes no decision on its outputs is not consulted.
  std::shared_ptr<const Plan> cplan;
  std::vector<float> cscores, crows;
  std::vector<uint8_t> canary(n, 0);
  if (rt->challenger != nullptr) {
    cplan = CurrentPlan(*registry_, online_, schema, config, rt->challenger, rt->challenger_plan);
    if (cplan != nullptr && cplan->decision.output < 0) cplan = nullptr;
  }
  if (cplan != nullptr) {
    if (cplan->feature_ids == plan.feature_ids) {
      crows = rows;
    } else {
      GYRE_ASSIGN_OR_RETURN(crows, FeatureRows(*online_, *cplan, events, times));
    }
    const int cwidth = cplan->servable->num_outputs();
    std::vector<float> coutputs(static_cast<size_t>(n) * cwidth);
    cplan->servable->Score(crows.data(), n, coutputs.data());
    DecisionScores(coutputs, cwidth, cplan->decision.output, n, cscores);
    if (config.challenger->mode == ChallengerMode::kCanary) {
      for (int64_t r = 0; r < n; ++r) {
        uint64_t h;
        if (rt->sticky_column >= 0 && events.column(rt->sticky_column).IsValid(r)) {
          std::string key = events.column(rt->sticky_column).ValueToString(r);
          h = XXH3_64bits(key.data(), key.size());
        } else {
          h = XXH3_64bits(&times[r], sizeof times[r]) ^ static_cast<uint64_t>(r);
        }
        canary[r] = static_cast<double>(h % 10000) < config.challenger->percent * 100;
      }
    }
  }

  ScoreResponse response;
  response.request_id = options.request_id;
  response.deployment = config.name;
  response.keep_alive.push_back(plan.servable);
  if (cplan) response.keep_alive.push_back(cplan->servable);
  response.events.resize(n);
  for (int64_t r = 0; r < n; ++r) {
    ScoredEvent& e = response.events[r];
    const bool from_challenger = canary[r] != 0;
    const Plan& answering = from_challenger ? *cplan : plan;
    e.score = from_challenger ? cscores[r] : scores[r];
    e.action = models::DecisionPolicy::kActions[answering.decision.policy.ActionIndex(e.score)];
    e.model = answering.servable.get();
    e.challenger = from_challenger;
    if (rt->event_id_column >= 0 && events.column(rt->event_id_column).IsValid(r)) {
      e.event_id = events.column(rt->event_id_column).ValueToString(r);
    }
    if (options.return_features) {
      const std::vector<float>& used = from_challenger ? crows : rows;
      const size_t used_d = answering.feature_ids.size();
      e.features.assign(used.begin() + r * used_d, used.begin() + (r + 1) * used_d);
    }
  }

  // The push comes before the log: it is what decides which rows repeat an event already counted.
  std::vector<uint8_t> replay(n, 0);
  int64_t replays = 0;
  if (config.push) {
    std::vector<std::string> receipts;
    if (record_receipts) {
      receipts.reserve(n);
      for (const ScoredEvent& e : response.events) receipts.push_back(EncodeReceipt(e));
    }
    GYRE_ASSIGN_OR_RETURN(features::PushResult pushed, online_->Push(rt->source, events, {}, receipts));
    response.pushed = pushed.rows - pushed.duplicates;
    for (size_t i = 0; i < pushed.duplicate_receipts.size(); ++i) {
      // An id pushed without a decision (POST /push) was counted but never scored: this decision stands.
      ScoredEvent first;
      if (!DecodeReceipt(pushed.duplicate_receipts[i], &first)) continue;
      const int64_t r = pushed.duplicate_rows[i];
      first.event_id = std::move(response.events[r].event_id);
      first.replay = true;
      response.events[r] = std::move(first);
      replay[r] = 1;
      ++replays;
    }
  }

  const int64_t scored_at = NowMicros();
  std::array<int64_t, models::DecisionPolicy::kActions.size()> action_counts{};
  for (int64_t r = 0; r < n; ++r) {
    if (replay[r]) continue;
    const ScoredEvent& e = response.events[r];
    const bool from_challenger = e.challenger;
    const Plan& answering = from_challenger ? *cplan : plan;
    ++action_counts[answering.decision.policy.ActionIndex(e.score)];
    const std::vector<float>& used = from_challenger ? crows : rows;
    const size_t used_d = answering.feature_ids.size();

    PredictionRecord record;
    record.time_us = times[r];
    record.scored_at_us = scored_at;
    record.request_id = options.request_id;
    record.path = kScorePathNames[path];
    record.caller = options.caller;
    record.deployment = config.name;
    record.model = answering.servable->name();
    record.version = answering.servable->version();
    record.action = e.action;
    record.event_id = e.event_id;
    record.score = e.score;
    if (!from_challenger && width > 1) record.outputs.assign(&outputs[r * width], &outputs[(r + 1) * width]);
    record.feature_names = answering.servable->feature_names();
    record.features.assign(used.begin() + r * used_d, used.begin() + (r + 1) * used_d);
    if (cplan) {
      const Plan& other = from_challenger ? plan : *cplan;
      float other_score = from_challenger ? scores[r] : cscores[r];
      record.challenger = PredictionRecord::Challenger{
          other.servable->version(), other.decision.policy.Action(other_score),
          from_challenger ? "champion" : (config.challenger->mode == ChallengerMode::kCanary ? "canary" : "shadow"),
          other_score};
      if (from_challenger) {
        ++rt->challenger_answers;
      } else {
        ++rt->shadow_scores;
      }
    }
    if (rt->log) rt->log->Append(std::move(record));
  }
  rt->events[path] += n - replays;
  rt->replays += replays;
  for (size_t a = 0; a < action_counts.size(); ++a) rt->actions[a] += action_counts[a];
  return response;
}

Result<RowsResult> ScoringService::ScoreRows(std::string_view deployment, std::shared_ptr<const Servable> model,
                                             std::vector<float> rows, const ScoreOptions& options) {
  GYRE_ASSIGN_OR_RETURN(Runtime * rt, Find(deployment));
  const DeploymentConfig& config = *rt->config;
  const size_t path = static_cast<size_t>(options.path);
  RequestScope scope(rt->requests[path], rt->errors, rt->latency);
  const int d = model->num_features();
  if (d == 0 || rows.size() % d != 0) {
    return Status::InvalidArgument(fmt::format("{} values do not make rows of the model's {} features", rows.size(), d));
  }
  const int64_t n = static_cast<int64_t>(rows.size()) / d;
  const int width = model->num_outputs();
  RowsResult result;
  result.outputs.resize(static_cast<size_t>(n) * width);
  model->Score(rows.data(), n, result.outputs.data());
  const Decision decision = DecisionFor(config, *model);
  std::array<int64_t, models::DecisionPolicy::kActions.size()> action_counts{};
  if (decision.output >= 0) {
    result.actions.resize(n);
    for (int64_t r = 0; r < n; ++r) {
      int a = decision.policy.ActionIndex(result.outputs[r * width + decision.output]);
      result.actions[r] = static_cast<uint8_t>(a);
      ++action_counts[a];
    }
  }

  // The challenger in shadow, on the same rows when it reads the same features (by name, in any order).
  std::shared_ptr<const Servable> challenger = rt->challenger != nullptr ? rt->challenger->load() : nullptr;
  std::vector<float> crows, coutputs;
  Decision cdecision;
  if (challenger != nullptr) {
    cdecision = DecisionFor(config, *challenger);
    const auto& names = *model->feature_names();
    const auto& cnames = *challenger->feature_names();
    bool readable = cdecision.output >= 0;
    std::vector<int> from(cnames.size(), -1);
    for (size_t f = 0; readable && f < cnames.size(); ++f) {
      auto it = std::find(names.begin(), names.end(), cnames[f]);
      if (it == names.end()) readable = false;
      else from[f] = static_cast<int>(it - names.begin());
    }
    if (!readable) {
      challenger = nullptr;
    } else {
      crows.resize(static_cast<size_t>(n) * cnames.size());
      for (int64_t r = 0; r < n; ++r) {
        for (size_t f = 0; f < cnames.size(); ++f) crows[r * cnames.size() + f] = rows[r * d + from[f]];
      }
      coutputs.resize(static_cast<size_t>(n) * challenger->num_outputs());
      challenger->Score(crows.data(), n, coutputs.data());
    }
  }

  const int64_t scored_at = NowMicros();
  for (int64_t r = 0; r < n; ++r) {
    PredictionRecord record;
    record.time_us = scored_at;  // rows carry no event time: the time they were scored stands for it
    record.scored_at_us = scored_at;
    record.request_id = options.request_id;
    record.path = kScorePathNames[path];
    record.caller = options.caller;
    record.deployment = config.name;
    record.model = model->name();
    record.version = model->version();
    if (decision.output >= 0) {
      record.score = result.outputs[r * width + decision.output];
      record.action = models::DecisionPolicy::kActions[result.actions[r]];
    } else {
      record.score = width == 1 ? result.outputs[r] : std::numeric_limits<float>::quiet_NaN();
    }
    if (width > 1) record.outputs.assign(&result.outputs[r * width], &result.outputs[(r + 1) * width]);
    record.feature_names = model->feature_names();
    record.features.assign(rows.begin() + r * d, rows.begin() + (r + 1) * d);
    if (challenger != nullptr) {
      float cscore = coutputs[r * challenger->num_outputs() + cdecision.output];
      record.challenger = PredictionRecord::Challenger{challenger->version(), cdecision.policy.Action(cscore),
                                                       "shadow", cscore};
      ++rt->shadow_scores;
    }
    if (rt->log) rt->log->Append(std::move(record));
  }
  rt->events[path] += n;
  for (size_t a = 0; a < action_counts.size(); ++a) rt->actions[a] += action_counts[a];
  result.model = std::move(model);
  scope.Done();
  return result;
}

bool ScoringService::Ready() const {
  for (const auto& r : runtimes_) {
    if (r->champion->load() == nullptr) return false;
  }
  return true;
}

Result<DeploymentStats> ScoringService::Stats(std::string_view deployment) const {
  GYRE_ASSIGN_OR_RETURN(Runtime * rt, Find(deployment));
  DeploymentStats s;
  for (size_t p = 0; p < kScorePathNames.size(); ++p) {
    s.requests_by_path[p] = rt->requests[p].load();
    s.events_by_path[p] = rt->events[p].load();
    s.requests += s.requests_by_path[p];
    s.events += s.events_by_path[p];
  }
  s.errors = rt->errors.load();
  s.challenger_answers = rt->challenger_answers.load();
  s.shadow_scores = rt->shadow_scores.load();
  s.replays = rt->replays.load();
  s.log_written = rt->log ? rt->log->written() : 0;
  s.log_dropped = rt->log ? rt->log->dropped() : 0;
  s.latency = rt->latency.Snapshot();
  for (auto [handle, loaded] : {std::pair{rt->champion, &s.champion}, std::pair{rt->challenger, &s.challenger}}) {
    std::shared_ptr<const Servable> servable = handle != nullptr ? handle->load() : nullptr;
    if (servable != nullptr) *loaded = DeploymentStats::Loaded{servable->name(), servable->version()};
  }
  for (size_t a = 0; a < rt->actions.size(); ++a) {
    s.actions[std::string(models::DecisionPolicy::kActions[a])] = rt->actions[a].load();
  }
  return s;
}

}  // namespace gyre::serving
