#include "demo/demo.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "services/workspace_services.h"
#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "core/profile.h"
#include "core/time.h"
#include "core/workspace.h"
#include "datagen/ato.h"
#include "datagen/ato_config.h"
#include "demo/embedded_files.h"
#include "features/backfill.h"
#include "features/consistency.h"
#include "http/client.h"
#include "http/server.h"
#include "models/model_import.h"
#include "serving/batch.h"
#include "train/publish.h"
#include "train/trainer.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace gyre::demo {
namespace {

// Stage headers, progress and timing, so every stage reads the same way.
class Stages {
 public:
  Stages(std::FILE* out, int total) : out_(out), total_(total), interactive_(::isatty(::fileno(out)) == 1) {}

  void Begin(const std::string& title) {
    ++index_;
    last_percent_ = -1;
    started_ = std::chrono::steady_clock::now();
    fmt::print(out_, "\n[{}/{}] {}\n", index_, total_, title);
    std::fflush(out_);
  }
  double Seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count(); }
  void End() {
    fmt::print(out_, "      done in {:.2f}s\n", Seconds());
    std::fflush(out_);
  }
  // A progress bar redrawn in place, only when it moves a visible step; logs and pipes get none.
  void Progress(double fraction) {
    int percent = static_cast<int>(fraction * 100);
    if (!interactive_ || percent == last_percent_) return;
    last_percent_ = percent;
    fmt::print(out_, "\r      [{:<30}] {:3d}%", std::string(percent * 30 / 100, '#'), percent);
    if (percent >= 100) fmt::print(out_, "\n");
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  int total_;
  bool interactive_;
  int index_ = 0;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point started_;
};

// Logs each demo stage as an MLflow run through the in-process server's REST API, exactly as an external
// MLflow client would: the demo exercises the same path users do.
class Tracker {
 public:
  static Result<Tracker> Start(const std::string& host, int port, const std::string& experiment) {
    GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client, http::Client::Connect(host, port));
    Tracker t(std::move(client));
    GYRE_ASSIGN_OR_RETURN(json found, t.Call("GET", "experiments/get-by-name?experiment_name=" + experiment, {}, true));
    if (found.contains("experiment")) {
      t.experiment_id_ = found["experiment"]["experiment_id"];
    } else {
      GYRE_ASSIGN_OR_RETURN(json created, t.Call("POST", "experiments/create", {{"name", experiment}}));
      t.experiment_id_ = created["experiment_id"];
    }
    return t;
  }

  Status BeginRun(const std::string& name) {
    GYRE_ASSIGN_OR_RETURN(json run, Call("POST", "runs/create",
                                         {{"experiment_id", experiment_id_},
                                          {"run_name", name},
                                          {"start_time", NowMillis()},
                                          {"tags",
                                           {{{"key", "mlflow.user"}, {"value", "gyre-demo"}},
                                            {{"key", "mlflow.source.name"}, {"value", "gyre demo"}},
                                            {{"key", "gyre.stage"}, {"value", name}}}}}));
    run_id_ = run["run"]["info"]["run_id"];
    return Status::OK();
  }

  Status Log(const std::map<std::string, double>& metrics, const std::map<std::string, std::string>& params) {
    json m = json::array(), p = json::array();
    int64_t now = NowMillis();
    for (const auto& [k, v] : metrics) m.push_back({{"key", k}, {"value", v}, {"timestamp", now}, {"step", 0}});
    for (const auto& [k, v] : params) p.push_back({{"key", k}, {"value", v}});
    return Call("POST", "runs/log-batch", {{"run_id", run_id_}, {"metrics", m}, {"params", p}}).status();
  }

  Status EndRun(bool ok) {
    return Call("POST", "runs/update",
                {{"run_id", run_id_}, {"status", ok ? "FINISHED" : "FAILED"}, {"end_time", NowMillis()}})
        .status();
  }

  // "datagen FINISHED, profile-logins FINISHED": the runs of this experiment, oldest first.
  Result<std::string> Summary() {
    GYRE_ASSIGN_OR_RETURN(
        json found,
        Call("POST", "runs/search",
             {{"experiment_ids", {experiment_id_}}, {"order_by", {"attributes.start_time ASC"}}, {"max_results", 20}}));
    std::string text;
    for (const auto& run : found.value("runs", json::array())) {
      text += fmt::format("{}{} {}", text.empty() ? "" : ", ", run["info"]["run_name"].get<std::string>(),
                          run["info"]["status"].get<std::string>());
    }
    return text;
  }

 private:
  explicit Tracker(std::unique_ptr<http::Client> client) : client_(std::move(client)) {}

  Result<json> Call(const std::string& method, const std::string& endpoint, const json& body, bool allow_404 = false) {
    GYRE_ASSIGN_OR_RETURN(http::ClientResponse r,
                          client_->Request(method, "/api/2.0/mlflow/" + endpoint, body.is_null() ? "" : body.dump()));
    json parsed = json::parse(r.body, nullptr, false);
    if (r.status == 200 || (allow_404 && r.status == 404)) return parsed;
    return Status::Internal(fmt::format("tracking call {} answered {}: {}", endpoint, r.status, r.body));
  }

  std::unique_ptr<http::Client> client_;
  std::string experiment_id_;
  std::string run_id_;
};

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

void PrintDataSummary(std::FILE* out, const datagen::AtoSummary& s) {
  fmt::print(out, "      {:<22} {:>12}\n", "file", "rows");
  for (const datagen::AtoFileSummary* f :
       {&s.logins, &s.account_events, &s.promo_redemptions, &s.labels, &s.campaigns, &s.ground_truth}) {
    fmt::print(out, "      {:<22} {:>12}\n", fs::path(f->path).filename().string(), Thousands(f->rows));
  }
  fmt::print(out, "      users: {} initial + {} new-market; {} events ({} events/s)\n", Thousands(s.initial_users),
             Thousands(s.new_market_users), Thousands(s.events), Thousands(static_cast<int64_t>(s.events_per_second)));
  fmt::print(out, "      fraud: {} events ({:.2f}%), never labeled: {}\n", Thousands(s.fraud_events),
             100.0 * s.fraud_rate, Thousands(s.fraud_never_labeled));
  for (const auto& [type, n] : s.fraud_events_by_type) {
    fmt::print(out, "        {:<26} {:>9} events in {} campaigns\n", type, Thousands(n),
               s.campaigns_by_type.count(type) ? s.campaigns_by_type.at(type) : 0);
  }
  for (const auto& [source, d] : s.label_delays) {
    fmt::print(out, "      labels from {:<16} {:>9}  delay median {:.1f}h (min {:.1f}h, max {:.1f}h)\n", source,
               Thousands(d.count), d.median_hours, d.min_hours, d.max_hours);
  }
  fmt::print(out, "      drift planted from day {} ({})\n", s.drift_day, FormatTimestamp(s.drift_time));
}

// Runs one stage as a tracked run; the run ends FAILED when the stage fails.
Status TrackedStage(Tracker& tracker, const std::string& run_name, const std::function<Status()>& body) {
  GYRE_RETURN_IF_ERROR(tracker.BeginRun(run_name));
  Status status = body();
  Status ended = tracker.EndRun(status.ok());
  return status.ok() ? ended : status;
}

struct TrainingSummary {
  std::string experiment, run_id, metric, version;
  double selection = 0;
};

void PrintFoldTable(std::FILE* out, const train::TrainResult& r) {
  const train::TrialResult& best = r.trials[r.best_trial];
  fmt::print(out, "      {:<5} {:<23} {:>8} {:>9} {:>8} {:>9} {:>11} {:>9}\n", "fold", "test window", "rows", "positive",
             "roc_auc", "avg_prec", "recall@1%fpr", "log_loss");
  for (const train::FoldResult& f : best.folds) {
    auto pick = [&](std::string_view prefix) {
      for (const auto& [k, v] : f.metrics) {
        if (k.starts_with(prefix)) return v;
      }
      return std::nan("");
    };
    fmt::print(out, "      {:<5} {:<23} {:>8} {:>9} {:>8.4f} {:>9.4f} {:>11.4f} {:>9.4f}\n", f.fold.index + 1,
               FormatTimestamp(f.fold.test_start).substr(0, 10) + " .. " + FormatTimestamp(f.fold.test_end).substr(5, 5),
               Thousands(f.test_rows), Thousands(f.test_positives), pick("roc_auc"), pick("average_precision"),
               pick("recall_at_fpr"), pick("log_loss"));
  }
}

// Trains the example's two experiments on the training set of stage 5, registers the better one as `ato` and
// points the alias `champion` at it. `quick` (tiny test runs): no backtest, the final models only.
Result<TrainingSummary> TrainAndRegister(const Workspace& ws, services::WorkspaceServices& app, const std::string& training_set,
                                         bool quick, std::FILE* out) {
  const features::FeatureRegistry& registry = *app.features();
  std::vector<std::pair<train::ExperimentConfig, train::TrainResult>> done;
  for (const char* file : {"experiments/ato_xgboost.yaml", "experiments/ato_logistic.yaml"}) {
    GYRE_ASSIGN_OR_RETURN(train::ExperimentConfig config,
                          train::LoadExperiment((fs::path(ws.root()) / file).string()));
    config.training_set = training_set;  // computed in the features stage: no second backfill
    if (quick) {
      config.start.reset();
      config.end.reset();
      config.backtest.folds = 0;
      config.search = {};
      config.labels.maturity = 0;
      config.model.early_stopping_rounds = 0;  // too few positives for a validation slice
    }
    train::TrainOptions options;
    options.workspace_root = ws.root();
    options.threads = 2;
    GYRE_ASSIGN_OR_RETURN(train::TrainResult result,
                          train::RunExperiment(config, registry, app.tracking(), app.artifacts(), &app.registry(), options));
    const train::TrialResult& best = result.trials[result.best_trial];
    fmt::print(out, "      {} ({}): {} trial(s) x {} fold(s), {:.1f} s; {} mean {:.4f}", config.name,
               train::ModelTypeName(config.model.type), result.trials.size(), best.folds.size(), result.seconds,
               config.metric, best.selection);
    fmt::print(out, "\n");
    if (!best.folds.empty()) PrintFoldTable(out, result);
    done.emplace_back(std::move(config), std::move(result));
  }
  // The better mean selection metric wins (trees when there was no backtest to compare on).
  size_t winner = 0;
  for (size_t i = 1; i < done.size(); ++i) {
    double a = done[i].second.trials[done[i].second.best_trial].selection;
    double b = done[winner].second.trials[done[winner].second.best_trial].selection;
    if (!std::isnan(a) && (std::isnan(b) || (train::LowerIsBetter(done[i].first.metric) ? a < b : a > b))) winner = i;
  }
  const auto& [config, result] = done[winner];
  GYRE_ASSIGN_OR_RETURN(registry::ModelVersion version,
                        train::RegisterTrainedModel(app.registry(), "ato", config, result, "demo"));
  GYRE_RETURN_IF_ERROR(app.registry().SetRegisteredModelAlias("ato", "champion", version.version, "demo"));
  fmt::print(out, "      registered {} as models:/ato/{} → alias champion (decision: challenge ≥ {:.3f}, block ≥ {:.3f})\n",
             config.name, version.version, result.decision.challenge_threshold, result.decision.block_threshold);
  for (const std::string& note : result.decision_notes) fmt::print(out, "      {}\n", note);
  fmt::print(out, "      report {}\n", result.report_path);
  return TrainingSummary{config.name, result.run_id, config.metric, version.version,
                         result.trials[result.best_trial].selection};
}

struct ServingSummary {
  int64_t batch_rows = 0, replayed = 0, failed = 0;
  double batch_rows_per_second = 0, p50_us = 0, p99_us = 0;
};

double Percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Batch-scores the training set's last day with the champion, brings the online state up to the last hour of
// the data (every event before it pushed, as a live system would have), then sends each login of that hour to
// POST /v1/score/ato one at a time and reports latencies and actions.
// Any model in: the champion's XGBoost file imported as a model trained in Python would be (`gyre models
// import FILE --name ato-imported --features ...`), then the last day scored by both: the scores must match.
Status ImportAndCompare(services::WorkspaceServices& app, const serving::Servable& champion, const Table& day,
                        std::FILE* out) {
  GYRE_ASSIGN_OR_RETURN(serving::ResolvedModel resolved, app.ModelResolver()("models:/ato@champion"));
  const std::string file = (fs::path(resolved.package_dir) / champion.descriptor().model_file).string();
  models::ImportOptions import;
  import.feature_names = champion.descriptor().feature_names;  // a bare XGBoost file may not carry its names
  GYRE_ASSIGN_OR_RETURN(models::ImportedModel imported, models::ImportModel(file, import));
  train::ImportPublishOptions publish;
  publish.name = "ato-imported";
  GYRE_ASSIGN_OR_RETURN(train::PublishedImport published,
                        train::PublishImportedModel(std::move(imported), publish, app.tracking(), app.artifacts(),
                                                    app.registry()));
  const std::string uri = fmt::format("models:/ato-imported/{}", published.version.version);
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const serving::Servable> copy, app.LoadModel(uri));
  GYRE_ASSIGN_OR_RETURN(Table ours, serving::ScoreTable(champion, day, {}));
  GYRE_ASSIGN_OR_RETURN(Table theirs, serving::ScoreTable(*copy, day, {}));
  const Column& a = **ours.ColumnByName("score");
  const Column& b = **theirs.ColumnByName("score");
  int64_t same = 0;
  for (int64_t r = 0; r < ours.num_rows(); ++r) same += a.Float64(r) == b.Float64(r);
  fmt::print(out, "      imported the champion's {} as {} (a model trained elsewhere comes in the same way): "
             "{} of {} scores of the last day identical\n", fs::path(file).filename().string(), uri,
             Thousands(same), Thousands(ours.num_rows()));
  if (same != ours.num_rows()) return Status::Internal(fmt::format("{} scores {} rows differently", uri,
                                                                   ours.num_rows() - same));
  return Status::OK();
}

Result<ServingSummary> ServeAndReplay(const Workspace& ws, services::WorkspaceServices& app, const std::string& host, int port,
                                      const std::string& training_set, std::FILE* out) {
  ServingSummary summary;
  GYRE_RETURN_IF_ERROR(app.EnableServing());
  serving::ScoringService* scoring = app.scoring();
  if (scoring == nullptr) return Status::FailedPrecondition("deployments.yaml defines no deployment");
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const serving::Servable> model, scoring->Model("ato"));
  fmt::print(out, "      serving models:/ato/{} ({}, {} features) at POST {}:{}/v1/score/ato\n", model->version(),
             model->descriptor().flavor, model->num_features(), host, port);

  // Batch: the last day of the training set, scored as the deployment scores (its bands), logged as batch.
  GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(training_set));
  const Column& time = **read.table.ColumnByName("time");
  TimestampMicros last = time.Timestamp(read.table.num_rows() - 1);
  GYRE_ASSIGN_OR_RETURN(Table day, serving::RowsInTimeRange(read.table, "time", last - kMicrosPerDay, std::nullopt));
  serving::BatchOptions batch;
  batch.keep_columns = {"event_id"};
  batch.threads = 2;
  GYRE_ASSIGN_OR_RETURN(batch.decision, scoring->DecisionOf("ato", *model));
  serving::BatchStats stats;
  GYRE_ASSIGN_OR_RETURN(Table scored, serving::ScoreTable(*model, day, batch, &stats));
  summary.batch_rows = stats.rows;
  summary.batch_rows_per_second = stats.score_seconds > 0 ? stats.rows / stats.score_seconds : 0;
  std::string actions;
  for (const auto& [a, n] : stats.actions) actions += fmt::format("{}{} {}", actions.empty() ? "" : ", ", a, Thousands(n));
  fmt::print(out, "      batch: {} logins of the last day scored in {:.3f} s ({:.2f} M rows/s, 2 threads): {}\n",
             Thousands(stats.rows), stats.score_seconds, summary.batch_rows_per_second / 1e6, actions);
  GYRE_RETURN_IF_ERROR(ImportAndCompare(app, *model, day, out));

  // Online: every event before the last hour pushed, then the last hour's logins scored one by one.
  const features::FeatureRegistry& registry = *app.features();
  features::OnlineStore& online = *app.online_features();
  TimestampMicros replay_start = last - kMicrosPerHour;
  int logins = *registry.FindSource("logins");
  Table replay;
  auto pushed_started = std::chrono::steady_clock::now();
  int64_t pushed = 0;
  for (size_t s = 0; s < registry.sources().size(); ++s) {
    const features::SourceDef& def = registry.sources()[s];
    if (def.path.empty()) continue;
    GYRE_ASSIGN_OR_RETURN(Table events, features::ReadSource(def));
    GYRE_ASSIGN_OR_RETURN(Table before, serving::RowsInTimeRange(events, def.timestamp_column, std::nullopt, replay_start));
    for (int64_t offset = 0; offset < before.num_rows(); offset += 20000) {
      GYRE_ASSIGN_OR_RETURN(features::PushResult r, online.Push(static_cast<int>(s),
                                                                before.Slice(offset, std::min<int64_t>(20000, before.num_rows() - offset))));
      pushed += r.rows;
    }
    if (static_cast<int>(s) == logins) {
      GYRE_ASSIGN_OR_RETURN(replay, serving::RowsInTimeRange(events, def.timestamp_column, replay_start, std::nullopt));
    }
  }
  fmt::print(out, "      online state: {} earlier events pushed in {:.1f} s\n", Thousands(pushed),
             std::chrono::duration<double>(std::chrono::steady_clock::now() - pushed_started).count());

  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Client> client, http::Client::Connect(host, port));
  std::vector<double> latencies;
  std::map<std::string, int64_t> by_action;
  std::string body, first_answer;
  for (int64_t r = 0; r < replay.num_rows(); ++r) {
    json event = json::object();
    for (int c = 0; c < replay.num_columns(); ++c) {
      const Column& col = replay.column(c);
      if (col.IsNull(r)) continue;
      switch (col.type()) {
        case ColumnType::kInt64: event[replay.column_name(c)] = col.Int64(r); break;
        case ColumnType::kFloat64: event[replay.column_name(c)] = col.Float64(r); break;
        case ColumnType::kBool: event[replay.column_name(c)] = col.Bool(r); break;
        case ColumnType::kString: event[replay.column_name(c)] = std::string(col.String(r)); break;
        case ColumnType::kTimestamp: event[replay.column_name(c)] = FormatTimestamp(col.Timestamp(r)); break;
      }
    }
    body = json{{"event", event}}.dump();
    auto sent = std::chrono::steady_clock::now();
    GYRE_ASSIGN_OR_RETURN(http::ClientResponse response, client->Request("POST", "/v1/score/ato", body));
    latencies.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - sent).count());
    if (response.status != 200) {
      ++summary.failed;
      continue;
    }
    json answer = json::parse(response.body, nullptr, false);
    ++by_action[answer.value("action", "?")];
    first_answer = std::move(response.body);
  }
  summary.replayed = replay.num_rows();
  summary.p50_us = Percentile(latencies, 0.50);
  summary.p99_us = Percentile(latencies, 0.99);
  actions.clear();
  for (const auto& [a, n] : by_action) actions += fmt::format("{}{} {}", actions.empty() ? "" : ", ", a, Thousands(n));
  fmt::print(out, "      replayed {} logins of the last hour through HTTP: p50 {:.0f} µs, p90 {:.0f} µs, p99 {:.0f} µs, "
             "max {:.0f} µs; {} failed\n", Thousands(summary.replayed), summary.p50_us, Percentile(latencies, 0.90),
             summary.p99_us, Percentile(latencies, 1.0), summary.failed);
  fmt::print(out, "      actions: {}\n", actions.empty() ? "none" : actions);
  if (!first_answer.empty()) {
    // Exactly once: the last login sent again, as a client retries after a timeout or a queue redelivers.
    GYRE_ASSIGN_OR_RETURN(serving::DeploymentStats before, scoring->Stats("ato"));
    GYRE_ASSIGN_OR_RETURN(http::ClientResponse retry, client->Request("POST", "/v1/score/ato", body));
    GYRE_ASSIGN_OR_RETURN(serving::DeploymentStats after, scoring->Stats("ato"));
    json first = json::parse(first_answer, nullptr, false), again = json::parse(retry.body, nullptr, false);
    if (retry.status != 200 || !again.value("replay", false) || again.value("action", "") != first.value("action", "")) {
      return Status::Internal(fmt::format("a retried event was not answered as a replay of its first decision: {} {}",
                                          retry.status, retry.body));
    }
    fmt::print(out, "      the last login sent again (a client's retry): answered '{}' as at first, marked replay; "
               "scored events {} → {}, replays {} → {} (its features count it once)\n",
               again.value("action", ""), Thousands(before.events), Thousands(after.events), before.replays,
               after.replays);
  }
  GYRE_ASSIGN_OR_RETURN(serving::DeploymentStats deployment, scoring->Stats("ato"));
  fmt::print(out, "      prediction log: {} queued, {} dropped → {}\n", Thousands(deployment.events),
             deployment.log_dropped, scoring->config().deployments[0].log_path);
  GYRE_ASSIGN_OR_RETURN(http::ClientResponse metrics, client->Request("GET", "/metrics"));
  if (metrics.status != 200) return Status::Internal(fmt::format("GET /metrics answered {}", metrics.status));
  int series = 0;
  std::string shown;
  for (std::string_view rest = metrics.body; !rest.empty();) {
    std::string_view line = rest.substr(0, rest.find('\n'));
    rest.remove_prefix(std::min(rest.size(), line.size() + 1));
    if (line.empty() || line[0] == '#') continue;
    ++series;
    for (std::string_view name : {"gyre_score_requests_total",
                                  "gyre_score_duration_seconds_bucket{deployment=\"ato\",le=\"0.001\"}",
                                  "gyre_prediction_log_dropped_total", "gyre_deployment_model_info",
                                  "gyre_http_request_duration_seconds_count{method=\"POST\",route=\"/v1/score",
                                  "gyre_online_folds_total"}) {
      if (line.starts_with(name)) shown += fmt::format("        {}\n", line);
    }
  }
  fmt::print(out, "      GET /metrics (Prometheus text): {} series, among them\n{}", series, shown);
  if (summary.failed > 0) return Status::Internal(fmt::format("{} scoring requests failed", summary.failed));
  return summary;
}

}  // namespace

Result<int> LayOutAtoExample(const std::string& dir) {
  int written = 0;
  for (const EmbeddedFile& file : AtoExampleFiles()) {
    fs::path path = fs::path(dir) / std::string(file.path);
    std::error_code ec;
    if (fs::exists(path, ec)) continue;
    fs::create_directories(path.parent_path(), ec);
    std::ofstream out(path, std::ios::binary);
    out.write(file.content.data(), static_cast<std::streamsize>(file.content.size()));
    out.close();
    if (!out) return Status::IOError(fmt::format("{}: cannot write", path.string()));
    ++written;
  }
  return written;
}

Status RunDemo(const DemoOptions& options) {
  std::FILE* out = options.out;
  Stages stages(out, 7);
  auto started = std::chrono::steady_clock::now();

  stages.Begin("Workspace: lay out the examples/ato project");
  std::error_code ec;
  bool fresh = !fs::exists(options.workspace, ec) || fs::is_empty(options.workspace, ec);
  if (!fresh && !fs::exists(fs::path(options.workspace) / Workspace::kConfigFile, ec)) {
    return Status::FailedPrecondition(
        fmt::format("{}: not empty and not a gyre workspace; pass --workspace with a new folder", options.workspace));
  }
  GYRE_ASSIGN_OR_RETURN(int written, LayOutAtoExample(options.workspace));
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(options.workspace));
  fmt::print(out, "      workspace '{}' at {} ({} example files written{})\n", ws.config().name, ws.root(), written,
             fresh ? "" : ", existing files kept");
  stages.End();

  stages.Begin("Tracking: start the gyre server in-process (MLflow REST API, registry, artifacts)");
  // Features are enabled once the data they read exists (stage 5).
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, services::WorkspaceServices::Open(ws, {.serve = false}));
  http::ServerOptions server_options = http::ServerOptions::FromConfig(ws.config().server);
  server_options.port = 0;  // a free port: the demo must not collide with a running server
  server_options.threads = 2;
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server, http::Server::Create(server_options));
  if (options.add_routes) options.add_routes(*server, *app);
  GYRE_RETURN_IF_ERROR(server->Start());
  GYRE_ASSIGN_OR_RETURN(Tracker tracker, Tracker::Start(server->host(), server->port(), "ato-demo"));
  fmt::print(out, "      serving {} (metadata: {}); each stage below is logged as a run of experiment 'ato-demo'\n",
             server->url(), app->database().description());
  stages.End();

  datagen::AtoSummary data;
  std::string data_dir;
  stages.Begin("Data: generate synthetic logins, account changes, promo redemptions and late labels");
  GYRE_RETURN_IF_ERROR(TrackedStage(tracker, "datagen", [&]() -> Status {
    GYRE_ASSIGN_OR_RETURN(datagen::AtoOptions data_options,
                          datagen::LoadAtoOptions((fs::path(ws.root()) / "datagen.yaml").string()));
    if (options.users > 0) data_options.users = options.users;
    if (options.days > 0) {
      data_options.days = options.days;
      if (data_options.drift_day > options.days) data_options.drift_day = -1;
    }
    if (data_options.out_dir.empty()) data_options.out_dir = (fs::path(ws.root()) / "data").string();
    data_dir = data_options.out_dir;
    fmt::print(out, "      seed {}, {} users, {} days from {}\n", data_options.seed, Thousands(data_options.users),
               data_options.days, FormatTimestamp(data_options.start).substr(0, 10));
    GYRE_ASSIGN_OR_RETURN(data, datagen::GenerateAto(data_options, [&](double f) { stages.Progress(f); }));
    stages.Progress(1.0);
    PrintDataSummary(out, data);
    return tracker.Log({{"events", static_cast<double>(data.events)},
                        {"fraud_events", static_cast<double>(data.fraud_events)},
                        {"fraud_rate", data.fraud_rate},
                        {"events_per_second", data.events_per_second},
                        {"labels", static_cast<double>(data.labels.rows)},
                        {"fraud_never_labeled", static_cast<double>(data.fraud_never_labeled)}},
                       {{"seed", std::to_string(data_options.seed)},
                        {"users", std::to_string(data_options.users)},
                        {"days", std::to_string(data_options.days)},
                        {"drift_day", std::to_string(data.drift_day)},
                        {"start", FormatTimestamp(data_options.start)}});
  }));
  stages.End();

  stages.Begin("Profile: the analyst's first look at logins.csv");
  GYRE_RETURN_IF_ERROR(TrackedStage(tracker, "profile-logins", [&]() -> Status {
    GYRE_ASSIGN_OR_RETURN(TableProfile profile, ProfileCsv(data.logins.path));
    fmt::print(out, "      {} rows, {} columns\n", Thousands(profile.rows), profile.columns.size());
    fmt::print(out, "      {:<14} {:<10} {:>8} {:>10}  {}\n", "column", "type", "nulls", "distinct", "top value");
    std::map<std::string, double> metrics = {{"rows", static_cast<double>(profile.rows)}};
    for (const ColumnProfile& c : profile.columns) {
      std::string top =
          c.top.empty() ? "" : fmt::format("{} ({})", ProfileValueToString(c.top[0].value), Thousands(c.top[0].count));
      fmt::print(out, "      {:<14} {:<10} {:>7.1f}% {:>10}  {}\n", c.name, ColumnTypeName(c.type), 100 * c.null_rate,
                 Thousands(c.distinct), top.substr(0, 48));
      metrics["distinct." + c.name] = static_cast<double>(c.distinct);
    }
    return tracker.Log(metrics, {{"source", data.logins.path}});
  }));
  stages.End();

  stages.Begin("Features: point-in-time training set, and the online path checked against it");
  GYRE_RETURN_IF_ERROR(TrackedStage(tracker, "features", [&]() -> Status {
    GYRE_RETURN_IF_ERROR(app->EnableFeatures());
    const features::FeatureRegistry& registry = *app->features();
    features::BackfillOptions backfill;
    backfill.feature_set = "ato_login";
    features::BackfillStats stats;
    GYRE_ASSIGN_OR_RETURN(Table training, features::Backfill(registry, backfill, &stats));
    std::string training_path = (fs::path(data_dir) / "training_ato_login.csv").string();
    GYRE_RETURN_IF_ERROR(WriteCsv(training, training_path, 2));
    const features::FeatureSetDef& set = registry.feature_sets()[*registry.FindFeatureSet("ato_login")];
    double label_rate = stats.rows > 0 ? static_cast<double>(stats.positive_labels) / stats.rows : 0;
    fmt::print(out, "      {} features defined; set 'ato_login': {} features over every login\n",
               registry.features().size(), set.features.size());
    fmt::print(out, "      training set {}: {} rows x {} columns ({} features + keys + label)\n", training_path,
               Thousands(training.num_rows()), training.num_columns(), set.features.size());
    fmt::print(out, "      label rate {:.2f}% ({} positive; {} rows labeled by the time the data ends)\n",
               100 * label_rate, Thousands(stats.positive_labels), Thousands(stats.labeled_rows));
    double events_per_second = stats.compute_seconds > 0 ? stats.events / stats.compute_seconds : 0;
    fmt::print(out, "      backfill {:.2f} s ({} group-events/s over {} entity keys)\n", stats.compute_seconds,
               Thousands(static_cast<int64_t>(events_per_second)), Thousands(stats.keys));

    // The same features computed event by event through the online store must equal the backfill.
    features::CheckOptions check;
    check.feature_set = "ato_login";
    check.online_store = "memory";
    check.limit = options.check_events;
    GYRE_ASSIGN_OR_RETURN(features::CheckReport report, features::CheckConsistency(registry, check));
    fmt::print(out, "      online path replayed {} events ({} scored logins x {} features): {} mismatches\n",
               Thousands(report.events), Thousands(report.reads), set.features.size(), report.total_mismatches);
    if (report.total_mismatches > 0) {
      return Status::Internal("online and offline features disagree: " + report.first_mismatch);
    }
    return tracker.Log({{"training_rows", static_cast<double>(training.num_rows())},
                        {"features", static_cast<double>(set.features.size())},
                        {"label_rate", label_rate},
                        {"backfill_seconds", stats.compute_seconds},
                        {"backfill_events_per_second", events_per_second},
                        {"online_offline_mismatches", static_cast<double>(report.total_mismatches)},
                        {"online_checked_values", static_cast<double>(report.reads * set.features.size())}},
                       {{"feature_set", "ato_login"}, {"training_set", training_path}});
  }));
  stages.End();

  stages.Begin("Training: walk-forward backtests of XGBoost and logistic regression; the best becomes ato@champion");
  GYRE_RETURN_IF_ERROR(TrackedStage(tracker, "training", [&]() -> Status {
    GYRE_ASSIGN_OR_RETURN(TrainingSummary summary,
                          TrainAndRegister(ws, *app, (fs::path(data_dir) / "training_ato_login.csv").string(),
                                           options.days > 0 && options.days < 16, out));
    std::map<std::string, double> metrics = {{"champion_version", std::stod(summary.version)}};
    if (std::isfinite(summary.selection)) metrics["champion_" + summary.metric] = summary.selection;
    return tracker.Log(metrics,
                       {{"champion_experiment", summary.experiment}, {"champion_run", summary.run_id}});
  }));
  stages.End();

  stages.Begin("Serving: batch-score the last day, import the champion's file, serve ato@champion, replay the last hour "
               "through /v1/score/ato and retry one");
  GYRE_RETURN_IF_ERROR(TrackedStage(tracker, "serving", [&]() -> Status {
    GYRE_ASSIGN_OR_RETURN(ServingSummary summary,
                          ServeAndReplay(ws, *app, server->host(), server->port(),
                                         (fs::path(data_dir) / "training_ato_login.csv").string(), out));
    return tracker.Log({{"batch_rows", static_cast<double>(summary.batch_rows)},
                        {"batch_rows_per_second", summary.batch_rows_per_second},
                        {"replayed_events", static_cast<double>(summary.replayed)},
                        {"latency_p50_us", summary.p50_us},
                        {"latency_p99_us", summary.p99_us},
                        {"failed_requests", static_cast<double>(summary.failed)}},
                       {{"deployment", "ato"}});
  }));
  stages.End();

  GYRE_ASSIGN_OR_RETURN(std::string runs, tracker.Summary());
  GYRE_RETURN_IF_ERROR(server->Shutdown());
  double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print(out, "\nDemo finished in {:.1f}s. Outputs:\n", total);
  fmt::print(out, "  workspace      {}\n", ws.root());
  fmt::print(out, "  events, labels {}/\n", data_dir);
  fmt::print(out, "  ground truth   {}, {}\n", data.campaigns.path, data.manifest_path);
  fmt::print(out, "  tracked runs   experiment 'ato-demo' in {}: {}\n", app->database().description(), runs);
  fmt::print(out, "Next:\n");
  fmt::print(out, "  gyre runs list -w {}\n", ws.root());
  fmt::print(out, "  gyre features list -w {}\n", ws.root());
  fmt::print(out, "  gyre features check -w {} --set ato_login\n", ws.root());
  fmt::print(out, "  gyre features rebuild -w {} --group user_logins   # after editing the group (server stopped)\n",
             ws.root());
  fmt::print(out, "  gyre train {}/experiments/ato_xgboost.yaml -w {} --register ato\n", ws.root(), ws.root());
  fmt::print(out, "  gyre models show models:/ato@champion -w {}\n", ws.root());
  fmt::print(out, "  gyre models import model.json --name my-model --alias champion -w {}   # an XGBoost file or MLflow "
             "model folder\n", ws.root());
  fmt::print(out, "  gyre models serve models:/ato-imported/1 -w {} --port 5001   # OIP v2 and /invocations\n",
             ws.root());
  fmt::print(out, "  gyre score -w {} --input {}/training_ato_login.csv --keep event_id -o scores.csv\n", ws.root(),
             data_dir);
  fmt::print(out, "  gyre audit -w {} --model ato   # who registered, staged and aliased which version\n", ws.root());
  fmt::print(out, "  gyre server -w {}   # then: MLFLOW_TRACKING_URI=http://127.0.0.1:{} mlflow ...\n", ws.root(),
             ws.config().server.port);
  fmt::print(out, "    # off loopback: gyre users add NAME --role scientist, server.tls.cert/key in gyre.yaml (HTTPS), and\n"
                  "    # online.durability: sync so no acknowledged event is lost to a crash (README: The server)\n");
  return Status::OK();
}

}  // namespace gyre::demo
