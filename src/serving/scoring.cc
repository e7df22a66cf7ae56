#include "serving/scoring.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <fmt/format.h>

#include <array>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/time.h"

namespace gyre::serving {
namespace {

// What one servable needs to score a deployment's events: its features as registry indices, and its bands.
struct Plan {
  std::shared_ptr<const Servable> servable;
  std::vector<int> feature_ids;
  std::shared_ptr<const std::vector<std::string>> names;
  models::DecisionPolicy decision;
  std::shared_ptr<const features::OnlineRead> read;  // the features' read, compiled for the source's rows
};

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

struct ScoringService::Runtime {
  const DeploymentConfig* config = nullptr;
  int source = -1;
  int time_column = -1;
  int event_id_column = -1;
  int sticky_column = -1;
  ModelManager::Handle champion = nullptr, challenger = nullptr;
  std::atomic<std::shared_ptr<const Plan>> champion_plan, challenger_plan;
  std::unique_ptr<PredictionLog> log;
  std::atomic<int64_t> requests{0}, events{0}, errors{0}, challenger_answers{0}, shadow_scores{0};
  std::array<std::atomic<int64_t>, models::DecisionPolicy::kActions.size()> actions{};  // by ActionIndex
  LatencyHistogram latency;
};

namespace {

Result<std::shared_ptr<const Plan>> MakePlan(const features::FeatureRegistry& registry,
                                             const features::OnlineStore* online, const Schema& events,
                                             const DeploymentConfig& config, std::shared_ptr<const Servable> servable) {
  auto plan = std::make_shared<Plan>();
  const models::PackageDescriptor& d = servable->descriptor();
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
  }
  if (online != nullptr) {
    auto read = online->Prepare(plan->feature_ids, events, "the events");
    if (!read.ok()) {
      return Status::FailedPrecondition(fmt::format("deployment '{}': model '{}' version {}: {}", config.name,
                                                    servable->name(), servable->version(), read.status().message()));
    }
    plan->read = std::move(*read);
  }
  plan->names = std::make_shared<const std::vector<std::string>>(d.feature_names);
  plan->decision = d.decision;
  if (config.challenge_threshold) plan->decision.challenge_threshold = *config.challenge_threshold;
  if (config.block_threshold) plan->decision.block_threshold = *config.block_threshold;
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
    if (!added.ok() && d.feature_set.empty()) {
      return Status(added.code(), fmt::format("deployment '{}': {} (name the deployment's feature_set to start "
                                              "without a model)", d.name, added.message()));
    }
    runtime->champion = service->models_->HandleOf(d.model);
    std::shared_ptr<const Servable> champion = added.ok() ? runtime->champion->load() : nullptr;
    std::string feature_set = !d.feature_set.empty() ? d.feature_set : champion->descriptor().feature_set;
    auto set = registry->FindFeatureSet(feature_set);
    if (!set.ok()) {
      return Status::FailedPrecondition(fmt::format("deployment '{}': feature set '{}' of model {} is not in "
                                                    "features.yaml ({})", d.name, feature_set, d.model,
                                                    set.status().message()));
    }
    const features::FeatureSetDef& set_def = registry->feature_sets()[*set];
    runtime->source = set_def.source;
    const Schema& schema = registry->sources()[runtime->source].schema;
    runtime->time_column = registry->sources()[runtime->source].timestamp_index;
    if (set_def.label) runtime->event_id_column = schema.IndexOf(set_def.label->key);
    if (champion != nullptr) {
      GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> plan, MakePlan(*registry, online, schema, d, champion));
      runtime->champion_plan.store(plan);
    }
    if (d.challenger) {
      // A challenger that is not loadable yet is skipped until it is.
      Status c = service->models_->Add(d.challenger->model);
      runtime->challenger = service->models_->HandleOf(d.challenger->model);
      if (c.ok()) {
        GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Plan> cplan, MakePlan(*registry, online, schema, d,
                                                                                runtime->challenger->load()));
        runtime->challenger_plan.store(cplan);
      }
      if (!d.challenger->sticky_key.empty()) {
        runtime->sticky_column = schema.IndexOf(d.challenger->sticky_key);
        if (runtime->sticky_column < 0) {
          return Status::InvalidArgument(fmt::format("deployment '{}': challenger.sticky_key '{}' is not a column of "
                                                     "source '{}' (columns: {})", d.name, d.challenger->sticky_key,
                                                     registry->sources()[runtime->source].name, schema.NameList()));
        }
      }
    }
    GYRE_ASSIGN_OR_RETURN(runtime->log, PredictionLog::Open(d.log_path, d.log_queue));
    service->runtimes_.push_back(std::move(runtime));
  }
  return service;
}

ScoringService::~ScoringService() { Stop(); }

void ScoringService::Start() { models_->StartPolling(config_.poll_interval_us); }

void ScoringService::Stop() {
  if (models_) models_->Stop();
  for (auto& r : runtimes_) r->log->Close();
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
  return &registry_->sources()[r->source].schema;
}

Result<std::shared_ptr<const Servable>> ScoringService::Model(std::string_view deployment) const {
  GYRE_ASSIGN_OR_RETURN(Runtime * r, Find(deployment));
  std::shared_ptr<const Servable> model = r->champion->load();
  if (model == nullptr) {
    return Status::Unavailable(fmt::format("deployment '{}' has no model loaded yet ({}): {}", deployment,
                                           r->config->model, models_->last_error()));
  }
  return model;
}

Result<ScoreResponse> ScoringService::Score(std::string_view deployment, const Table& events,
                                            const ScoreOptions& options) {
  GYRE_ASSIGN_OR_RETURN(Runtime * rt, Find(deployment));
  const DeploymentConfig& config = *rt->config;
  ++rt->requests;
  struct Timer {
    LatencyHistogram& histogram;
    std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
    ~Timer() {
      histogram.Observe(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start)
                            .count());
    }
  } timer{rt->latency};
  if (online_ == nullptr) return Status::FailedPrecondition("online features are not enabled on this server");
  const int64_t n = events.num_rows();
  if (n == 0) return Status::InvalidArgument("no events to score");
  const Column& time = events.column(rt->time_column);
  std::vector<int64_t> times(n);
  for (int64_t r = 0; r < n; ++r) {
    if (time.IsNull(r)) {
      ++rt->errors;
      return Status::InvalidArgument(fmt::format("event {}: missing '{}' (the event time)", r,
                                                 events.column_name(rt->time_column)));
    }
    times[r] = time.Timestamp(r);
  }

  const Schema& schema = registry_->sources()[rt->source].schema;
  std::shared_ptr<const Plan> plan = CurrentPlan(*registry_, online_, schema, config, rt->champion, rt->champion_plan);
  if (plan == nullptr) {
    ++rt->errors;
    return Status::Unavailable(fmt::format("deployment '{}' has no model loaded yet ({}): {}", config.name, config.model,
                                           models_->last_error()));
  }
  GYRE_ASSIGN_OR_RETURN(std::vector<float> rows, FeatureRows(*online_, *plan, events, times));
  std::vector<float> scores(n);
  plan->servable->Score(rows.data(), n, scores.data());

  // The challenger: every event in shadow; the canary's share (sticky by entity) answers instead.
  std::shared_ptr<const Plan> cplan;
  std::vector<float> cscores, crows;
  std::vector<uint8_t> canary(n, 0);
  if (rt->challenger != nullptr) {
    cplan = CurrentPlan(*registry_, online_, schema, config, rt->challenger, rt->challenger_plan);
  }
  if (cplan != nullptr) {
    if (cplan->feature_ids == plan->feature_ids) {
      crows = rows;
    } else {
      GYRE_ASSIGN_OR_RETURN(crows, FeatureRows(*online_, *cplan, events, times));
    }
    cscores.resize(n);
    cplan->servable->Score(crows.data(), n, cscores.data());
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
  response.keep_alive.push_back(plan->servable);
  if (cplan) response.keep_alive.push_back(cplan->servable);
  response.events.resize(n);
  const int64_t scored_at = NowMicros();
  std::array<int64_t, models::DecisionPolicy::kActions.size()> action_counts{};
  for (int64_t r = 0; r < n; ++r) {
    ScoredEvent& e = response.events[r];
    const bool from_challenger = canary[r] != 0;
    const Plan& answering = from_challenger ? *cplan : *plan;
    e.score = from_challenger ? cscores[r] : scores[r];
    const int action = answering.decision.ActionIndex(e.score);
    e.action = models::DecisionPolicy::kActions[action];
    e.model = answering.servable.get();
    e.challenger = from_challenger;
    if (rt->event_id_column >= 0 && events.column(rt->event_id_column).IsValid(r)) {
      e.event_id = events.column(rt->event_id_column).ValueToString(r);
    }
    const std::vector<float>& used = from_challenger ? crows : rows;
    const size_t used_d = answering.feature_ids.size();
    if (options.return_features) e.features.assign(used.begin() + r * used_d, used.begin() + (r + 1) * used_d);
    ++action_counts[action];

    PredictionRecord record;
    record.time_us = times[r];
    record.scored_at_us = scored_at;
    record.request_id = options.request_id;
    record.deployment = config.name;
    record.model = answering.servable->name();
    record.version = answering.servable->version();
    record.action = e.action;
    record.event_id = e.event_id;
    record.score = e.score;
    record.feature_names = answering.names;
    record.features.assign(used.begin() + r * used_d, used.begin() + (r + 1) * used_d);
    if (cplan) {
      const Plan& other = from_challenger ? *plan : *cplan;
      float other_score = from_challenger ? scores[r] : cscores[r];
      record.challenger = PredictionRecord::Challenger{
          other.servable->version(), other.decision.Action(other_score),
          from_challenger ? "champion" : (config.challenger->mode == ChallengerMode::kCanary ? "canary" : "shadow"),
          other_score};
      if (from_challenger) {
        ++rt->challenger_answers;
      } else {
        ++rt->shadow_scores;
      }
    }
    rt->log->Append(std::move(record));
  }
  if (config.push) {
    GYRE_ASSIGN_OR_RETURN(features::PushResult pushed, online_->Push(rt->source, events));
    response.pushed = pushed.rows;
  }
  rt->events += n;
  for (size_t a = 0; a < action_counts.size(); ++a) rt->actions[a] += action_counts[a];
  return response;
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
  s.requests = rt->requests.load();
  s.events = rt->events.load();
  s.errors = rt->errors.load();
  s.challenger_answers = rt->challenger_answers.load();
  s.shadow_scores = rt->shadow_scores.load();
  s.log_written = rt->log->written();
  s.log_dropped = rt->log->dropped();
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
