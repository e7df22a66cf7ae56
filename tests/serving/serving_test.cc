// Serving end to end: a workspace whose models were trained by gyre's trainer (real libxgboost) and registered,
// served by services::WorkspaceServices as `gyre server` serves it (RocksDB online state, deployments.yaml), through a real
// http::Server and keep-alive http::Clients.
//
// Covered: /v1/score returns the features the backfill computes for the same event and the score the runtime
// gives them; decision bands; the prediction log; OIP v2 metadata / infer (one tensor, one input per feature,
// errors); MLflow /invocations (split, records, instances, CSV, 415); a challenger in shadow and as a sticky
// canary; an alias move under load with zero failed requests; bad input → 4xx, never 5xx.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "api/routes.h"
#include "services/workspace_services.h"
#include "core/csv_reader.h"
#include "core/files.h"
#include "core/time.h"
#include "core/workspace.h"
#include "features/backfill.h"
#include "http/client.h"
#include "http/server.h"
#include "tests/core/prometheus_check.h"
#include "train/trainer.h"

namespace gyre {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

const char* kFeatures = R"(entities:
  user: {keys: [user_id]}
sources:
  events: {path: events.csv, timestamp: time, allowed_lateness: 1h, event_id: event_id}
groups:
  user_events:
    entity: user
    source: events
    features:
      user_failures: {agg: count, filter: "not success", windows: [1h]}
      user_events: {agg: count, windows: [24h]}
      user_amount: {agg: sum, of: amount, windows: [24h]}
derived:
  amount_now: {source: events, expr: "amount"}
feature_sets:
  risk:
    source: events
    features: [user_failures_1h, user_events_24h, user_amount_24h, amount_now]
    label: {path: labels.csv, key: event_id, column: label, default: 0}
)";

const char* kStart = "2026-03-01";
constexpr int kDays = 8;

struct Event {
  int64_t id;
  TimestampMicros time;
  std::string user;
  bool success;
  double amount;
};

// kDays of history (written to events.csv and used for training) and then live events to score.
std::vector<Event> MakeEvents(int days, int per_day, uint64_t seed, TimestampMicros start, int64_t first_id) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<Event> events;
  for (int day = 0; day < days; ++day) {
    for (int i = 0; i < per_day; ++i) {
      events.push_back({first_id++, start + day * kMicrosPerDay + static_cast<TimestampMicros>(u(rng) * kMicrosPerDay),
                        "u" + std::to_string(static_cast<int>(u(rng) * 100)), u(rng) < 0.85, std::floor(u(rng) * 1000)});
    }
  }
  std::sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
  return events;
}

json EventJson(const Event& e) {
  return {{"event_id", e.id}, {"time", FormatTimestamp(e.time)}, {"user_id", e.user}, {"success", e.success},
          {"amount", e.amount}};
}

struct Reply {
  int status = 0;
  json body;
  std::string text;
};

class ServingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "gyre_serving_XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = new fs::path(pattern);
    const fs::path& dir = *dir_;
    std::ofstream(dir / "gyre.yaml") << "name: serving-test\nstore:\n  online: rocksdb\n";
    std::ofstream(dir / "features.yaml") << kFeatures;
    TimestampMicros start = *ParseTimestamp(kStart);
    std::vector<Event> history = MakeEvents(kDays, 800, 5, start, 1);
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<double> u(0, 1);
    std::ofstream events(dir / "events.csv"), labels(dir / "labels.csv");
    events << "event_id,time,user_id,success,amount\n";
    labels << "event_id,label,labeled_at\n";
    for (const Event& e : history) {
      events << e.id << "," << FormatTimestamp(e.time) << "," << e.user << "," << (e.success ? "true" : "false") << ","
             << e.amount << "\n";
      bool fraud = u(rng) < (e.amount > 800 && !e.success ? 0.7 : e.amount > 800 ? 0.2 : 0.01);
      if (fraud) labels << e.id << ",1," << FormatTimestamp(e.time + kMicrosPerHour) << "\n";
    }
    events.close();
    labels.close();
    // Two versions of model `risk`: depth 2 and depth 4; champion → version 1.
    auto ws = Workspace::Open(dir.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    auto app = services::WorkspaceServices::Open(*ws, {.serve = false});
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    auto reg = features::FeatureRegistry::LoadForWorkspace(dir.string(), "");
    ASSERT_TRUE(reg.ok()) << reg.status().ToString();
    for (const char* depth : {"2", "4"}) {
      std::string yaml = fmt::format(
          "name: risk\nfeature_set: risk\nlabels: {{labeled_at: labeled_at}}\n"
          "model: {{type: xgboost, params: {{max_depth: {}}}, num_boost_round: 30, early_stopping_rounds: 0}}\n",
          depth);
      auto config = train::ParseExperiment(yaml, "risk.yaml");
      ASSERT_TRUE(config.ok()) << config.status().ToString();
      train::TrainOptions options;
      options.workspace_root = dir.string();
      options.register_name = "risk";
      options.threads = 2;
      auto trained = train::RunExperiment(*config, *reg, (*app)->tracking(), (*app)->artifacts(), &(*app)->registry(),
                                          options);
      ASSERT_TRUE(trained.ok()) << trained.status().ToString();
    }
    ASSERT_TRUE((*app)->registry().SetRegisteredModelAlias("risk", "champion", "1", "test").ok());
    ASSERT_TRUE((*app)->registry().SetRegisteredModelAlias("risk", "challenger", "2", "test").ok());
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
  }

  // Opens the workspace as `gyre server` does, with `deployments` as deployments.yaml, in a fresh online state
  // (or, with `keep_state`, the one the previous server left: a restart).
  void Serve(const std::string& deployments, bool keep_state = false) {
    std::error_code ec;
    if (!keep_state) {
      fs::remove_all(*dir_ / ".gyre" / "online", ec);
      fs::remove_all(*dir_ / ".gyre" / "predictions", ec);
    }
    std::ofstream(*dir_ / "deployments.yaml") << deployments;
    auto ws = Workspace::Open(dir_->string());
    ASSERT_TRUE(ws.ok());
    auto app = services::WorkspaceServices::Open(*ws);
    ASSERT_TRUE(app.ok()) << app.status().ToString();
    app_ = std::move(*app);
    ASSERT_NE(app_->scoring(), nullptr);
    http::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    auto server = http::Server::Create(options);
    ASSERT_TRUE(server.ok());
    server_ = std::move(*server);
    api::AddRoutes(*server_, *app_);
    ASSERT_TRUE(server_->Start().ok());
    client_ = Connect();
  }

  std::unique_ptr<http::Client> Connect() {
    auto client = http::Client::Connect("127.0.0.1", server_->port());
    EXPECT_TRUE(client.ok());
    return client.ok() ? std::move(*client) : nullptr;
  }

  void TearDown() override {
    client_.reset();
    if (server_) {
      EXPECT_TRUE(server_->Shutdown().ok());
    }
    server_.reset();
    app_.reset();
    std::error_code ec;
    fs::remove(*dir_ / "deployments.yaml", ec);
  }

  Reply Send(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& content_type = "application/json", http::Client* client = nullptr) {
    auto response = (client ? client : client_.get())->Request(method, path, body, content_type);
    EXPECT_TRUE(response.ok()) << path << ": " << response.status().ToString();
    if (!response.ok()) return {};
    return {response->status, json::parse(response->body, nullptr, false), response->body};
  }
  Reply Post(const std::string& path, const json& body) { return Send("POST", path, body.dump()); }
  // A request naming its user, as the MLflow client and gyre's own clients do (X-Gyre-User).
  Reply PostAs(const std::string& user, const std::string& path, const std::string& body,
               const std::string& content_type = "application/json") {
    const std::pair<std::string, std::string> header{"X-Gyre-User", user};
    auto response = client_->Request("POST", path, body, content_type, std::span(&header, 1));
    EXPECT_TRUE(response.ok()) << path << ": " << response.status().ToString();
    if (!response.ok()) return {};
    return {response->status, json::parse(response->body, nullptr, false), response->body};
  }

  void ExpectError(const Reply& reply, int status, const std::string& needle) {
    EXPECT_EQ(reply.status, status) << reply.text;
    std::string error = reply.body.is_object() ? reply.body.value("error", reply.body.value("message", "")) : "";
    EXPECT_THAT(error, HasSubstr(needle)) << reply.text;
  }

  static fs::path* dir_;
  std::unique_ptr<services::WorkspaceServices> app_;
  std::unique_ptr<http::Server> server_;
  std::unique_ptr<http::Client> client_;
};

fs::path* ServingTest::dir_ = nullptr;

const char* kDeployment = R"(poll_interval: 50ms
deployments:
  risk:
    model: models:/risk@champion
    decision: {challenge_threshold: 0.1, block_threshold: 0.5}
)";

// Live events after the history, replayed through /v1/score: each answer carries the features the backfill
// computes for the same event (history + earlier live events) and the score the runtime gives them.
TEST_F(ServingTest, ScoresWithTheFeaturesTheBackfillComputes) {
  // Replay the history first so the online state is what training saw.
  Serve(kDeployment);
  std::vector<Event> history = MakeEvents(kDays, 800, 5, *ParseTimestamp(kStart), 1);
  for (size_t i = 0; i < history.size(); i += 500) {
    json df = {{"event_id", json::array()}, {"time", json::array()}, {"user_id", json::array()},
               {"success", json::array()}, {"amount", json::array()}};
    for (size_t j = i; j < std::min(history.size(), i + 500); ++j) {
      json e = EventJson(history[j]);
      for (auto& [k, v] : e.items()) df[k].push_back(v);
    }
    ASSERT_EQ(Post("/push", {{"push_source_name", "events"}, {"df", df}}).status, 200);
  }
  std::vector<Event> live = MakeEvents(1, 60, 77, *ParseTimestamp(kStart) + kDays * kMicrosPerDay, 100000);
  std::map<int64_t, json> answers;
  for (const Event& e : live) {
    Reply r = Post("/v1/score/risk", {{"event", EventJson(e)}, {"return_features", true}});
    ASSERT_EQ(r.status, 200) << r.text;
    EXPECT_EQ(r.body["deployment"], "risk");
    EXPECT_EQ(r.body["model"], "risk");
    EXPECT_EQ(r.body["version"], "1");
    EXPECT_EQ(r.body["event_id"], std::to_string(e.id));
    double score = r.body["score"];
    std::string action = r.body["action"];
    EXPECT_EQ(action, score >= 0.5 ? "block" : score >= 0.1 ? "challenge" : "allow");
    answers[e.id] = r.body;
  }
  // The same live events through the backfill, as a spine over events.csv + live.
  {
    std::ofstream spine(*dir_ / "spine.csv");
    spine << "event_id,time,user_id,success,amount\n";
    for (const Event& e : live) {
      spine << e.id << "," << FormatTimestamp(e.time) << "," << e.user << "," << (e.success ? "true" : "false") << ","
            << e.amount << "\n";
    }
  }
  // Backfill needs the live events in the source too: copy events.csv + live into a second workspace file.
  auto reg = features::FeatureRegistry::LoadForWorkspace(dir_->string(), "");
  ASSERT_TRUE(reg.ok());
  std::vector<Table> sources(reg->sources().size());
  {
    std::string all = *ReadFileToString((*dir_ / "events.csv").string());
    std::ifstream spine_in(*dir_ / "spine.csv");
    std::string line;
    std::getline(spine_in, line);  // header
    while (std::getline(spine_in, line)) all += line + "\n";
    CsvReadOptions options;
    options.columns = reg->sources()[0].declared;
    options.infer_undeclared = true;
    auto read = ReadCsvString(all, options);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    sources[0] = std::move(read->table);
  }
  auto spine = ReadCsv((*dir_ / "spine.csv").string());
  ASSERT_TRUE(spine.ok());
  std::vector<int> feature_ids;
  for (const char* f : {"user_failures_1h", "user_events_24h", "user_amount_24h", "amount_now"}) {
    feature_ids.push_back(*reg->FindFeature(f));
  }
  auto offline = features::BackfillTables(*reg, feature_ids, spine->table, "time", sources, {"event_id"}, 1);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  auto model = app_->scoring()->Model("risk");
  ASSERT_TRUE(model.ok());
  ASSERT_EQ(offline->num_rows(), static_cast<int64_t>(live.size()));
  for (int64_t r = 0; r < offline->num_rows(); ++r) {
    const json& answer = answers[offline->column(0).Int64(r)];
    float row[4];
    for (int f = 0; f < 4; ++f) {
      const Column& c = offline->column(1 + f);
      const json& served = answer["features"][offline->column_name(1 + f)];
      if (c.IsNull(r)) {
        EXPECT_TRUE(served.is_null()) << answer.dump();
        row[f] = std::nanf("");
      } else {
        row[f] = static_cast<float>(c.Float64(r));
        EXPECT_EQ(served.get<float>(), row[f]) << offline->column_name(1 + f) << " of event " << offline->column(0).Int64(r);
      }
    }
    EXPECT_EQ(answer["score"].get<float>(), (*model)->ScoreOne(row));
  }
  // Every scored event reaches the prediction log.
  auto stats = app_->scoring()->Stats("risk");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, static_cast<int64_t>(live.size()));
  (void)server_->Shutdown();
  app_->scoring()->Stop();
  std::string log = *ReadFileToString((*dir_ / ".gyre" / "predictions" / "risk.jsonl").string());
  std::istringstream lines(log);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    json record = json::parse(line);
    EXPECT_EQ(record["deployment"], "risk");
    EXPECT_TRUE(record["features"].contains("amount_now"));
    ++n;
  }
  EXPECT_EQ(n, static_cast<int>(live.size()));
}

TEST_F(ServingTest, OpenInferenceProtocol) {
  Serve(kDeployment);
  Reply health = Send("GET", "/v2/health/ready");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body["ready"], true);
  EXPECT_EQ(health.body["models"]["risk"]["version"], "1") << health.text;
  Reply meta = Send("GET", "/v2/models/risk");
  ASSERT_EQ(meta.status, 200) << meta.text;
  EXPECT_EQ(meta.body["versions"], json({"1"}));
  EXPECT_EQ(meta.body["inputs"][0]["shape"], json({-1, 4}));
  EXPECT_EQ(Send("GET", "/v2/models/risk/versions/1/ready").body["ready"], true);

  auto model = app_->scoring()->Model("risk");
  ASSERT_TRUE(model.ok());
  float rows[8] = {0, 5, 4000, 950, 2, 1, 100, 10};
  float expected[2] = {(*model)->ScoreOne(rows), (*model)->ScoreOne(rows + 4)};
  Reply infer = Post("/v2/models/risk/infer",
                     {{"id", "r1"},
                      {"inputs", {{{"name", "features"}, {"shape", {2, 4}}, {"datatype", "FP32"},
                                   {"data", {{0, 5, 4000, 950}, {2, 1, 100, 10}}}}}},
                      {"outputs", {{{"name", "score"}}, {{"name", "action"}}}}});
  ASSERT_EQ(infer.status, 200) << infer.text;
  EXPECT_EQ(infer.body["id"], "r1");
  EXPECT_EQ(infer.body["model_version"], "1");
  EXPECT_EQ(infer.body["outputs"][0]["shape"], json({2, 1}));
  EXPECT_EQ(infer.body["outputs"][0]["data"][0].get<float>(), expected[0]);
  EXPECT_EQ(infer.body["outputs"][0]["data"][1].get<float>(), expected[1]);
  EXPECT_EQ(infer.body["outputs"][1]["datatype"], "BYTES");

  // One input per feature (INT64 and FP64 mixed), by name.
  Reply named = Post("/v2/models/risk/versions/1/infer",
                     {{"inputs",
                       {{{"name", "user_failures_1h"}, {"shape", {1}}, {"datatype", "INT64"}, {"data", {0}}},
                        {{"name", "user_events_24h"}, {"shape", {1, 1}}, {"datatype", "INT32"}, {"data", {5}}},
                        {{"name", "user_amount_24h"}, {"shape", {1}}, {"datatype", "FP64"}, {"data", {4000.0}}},
                        {{"name", "amount_now"}, {"shape", {1}}, {"datatype", "FP32"}, {"data", {950}}}}}});
  ASSERT_EQ(named.status, 200) << named.text;
  EXPECT_EQ(named.body["outputs"][0]["data"][0].get<float>(), expected[0]);

  ExpectError(Post("/v2/models/nope/infer", {{"inputs", json::array()}}), 404, "model 'nope' is not served");
  ExpectError(Post("/v2/models/risk/versions/9/infer", {{"inputs", json::array()}}), 404, "version 9 is not loaded");
  ExpectError(Post("/v2/models/risk/infer", {{"inputs", {{{"name", "x"}, {"shape", {1, 3}}, {"datatype", "FP32"},
                                                          {"data", {1, 2, 3}}}}}}),
              400, "expected shape [n, 4]");
  ExpectError(Post("/v2/models/risk/infer", {{"inputs", {{{"name", "x"}, {"shape", {1, 4}}, {"datatype", "FP32"},
                                                          {"data", {1, 2, 3}}}}}}),
              400, "3 values, but shape [1, 4] holds 4");
  ExpectError(Post("/v2/models/risk/infer", {{"inputs", {{{"name", "x"}, {"shape", {1, 4}}, {"datatype", "BYTES"},
                                                          {"data", {"a", "b", "c", "d"}}}}}}),
              400, "datatype 'BYTES' is not supported");
  ExpectError(Post("/v2/models/risk/infer", {{"inputs", {{{"name", "x"}, {"shape", {1, 4}}, {"datatype", "INT32"},
                                                          {"data", {1, 2.5, 3, 4}}}}}}),
              400, "needs integers");
  ExpectError(Send("POST", "/v2/models/risk/infer", "{\"inputs\": ["), 400, "request body");
}

TEST_F(ServingTest, MlflowInvocations) {
  Serve(kDeployment);
  auto model = app_->scoring()->Model("risk");
  ASSERT_TRUE(model.ok());
  float row[4] = {0, 5, 4000, 950};
  float expected = (*model)->ScoreOne(row);
  // Columns in another order than the model's, plus one it ignores.
  Reply split = Post("/invocations", {{"dataframe_split",
                                       {{"columns", {"amount_now", "user_failures_1h", "extra", "user_events_24h",
                                                     "user_amount_24h"}},
                                        {"data", {{950, 0, "x", 5, 4000}}}}}});
  ASSERT_EQ(split.status, 200) << split.text;
  EXPECT_EQ(split.body["predictions"][0].get<float>(), expected);
  Reply records = Post("/invocations", {{"dataframe_records", {{{"user_failures_1h", 0}, {"user_events_24h", 5},
                                                                {"user_amount_24h", 4000}, {"amount_now", 950}}}}});
  ASSERT_EQ(records.status, 200) << records.text;
  EXPECT_EQ(records.body["predictions"][0].get<float>(), expected);
  Reply instances = Post("/invocations", {{"instances", {{0, 5, 4000, 950}}}});
  EXPECT_EQ(instances.body["predictions"][0].get<float>(), expected);
  Reply csv = Send("POST", "/invocations", "amount_now,user_failures_1h,user_events_24h,user_amount_24h\n950,0,5,4000\n",
                   "text/csv");
  ASSERT_EQ(csv.status, 200) << csv.text;
  EXPECT_EQ(csv.body["predictions"][0].get<float>(), expected);

  Reply media = Send("POST", "/invocations", "{}", "application/json; format=pandas-split");
  EXPECT_EQ(media.status, 415) << media.text;
  EXPECT_EQ(media.body["error_code"], "UNSUPPORTED_MEDIA_TYPE");
  Reply missing = Post("/invocations", {{"dataframe_split", {{"columns", {"amount_now"}}, {"data", {{1}}}}}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_THAT(missing.body.value("message", ""), HasSubstr("missing column 'user_failures_1h'"));
  EXPECT_EQ(Post("/invocations", {{"instances", {{1, 2}}}}).status, 400);
  EXPECT_EQ(Post("/invocations", {{"instances", {{0, 5, 4000, 950}}}, {"inputs", {{0, 5, 4000, 950}}}}).status, 400);
}

// Every door a score comes through — /v1/score, OIP infer, /invocations — reaches the deployment's prediction
// log with its path and its caller, and is counted per path on /metrics.
TEST_F(ServingTest, EveryPathIsLoggedAndCountedWithItsCaller) {
  Serve(kDeployment);
  TimestampMicros t = *ParseTimestamp(kStart) + kDays * kMicrosPerDay;
  Reply scored = PostAs("ann", "/v1/score/risk", json{{"event", EventJson({900001, t, "u3", true, 10})}}.dump());
  ASSERT_EQ(scored.status, 200) << scored.text;
  Reply inferred = PostAs("bob", "/v2/models/risk/infer",
                          json{{"inputs", {{{"name", "features"}, {"shape", {1, 4}}, {"datatype", "FP32"},
                                            {"data", {0, 5, 4000, 950}}}}}}.dump());
  ASSERT_EQ(inferred.status, 200) << inferred.text;
  Reply invoked = PostAs("cy", "/invocations", json{{"instances", {{0, 5, 4000, 950}, {1, 1, 10, 10}}}}.dump());
  ASSERT_EQ(invoked.status, 200) << invoked.text;

  auto stats = app_->scoring()->Stats("risk");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->requests_by_path[static_cast<size_t>(serving::ScorePath::kScore)], 1);
  EXPECT_EQ(stats->requests_by_path[static_cast<size_t>(serving::ScorePath::kInfer)], 1);
  EXPECT_EQ(stats->requests_by_path[static_cast<size_t>(serving::ScorePath::kInvocations)], 1);
  EXPECT_EQ(stats->events_by_path[static_cast<size_t>(serving::ScorePath::kInvocations)], 2);
  EXPECT_EQ(stats->events, 4);
  auto metrics = client_->Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_THAT(metrics->body, HasSubstr("gyre_score_events_total{deployment=\"risk\",path=\"invocations\"} 2"));
  EXPECT_THAT(metrics->body, HasSubstr("gyre_score_requests_total{deployment=\"risk\",path=\"oip\"} 1"));

  (void)server_->Shutdown();
  app_->scoring()->Stop();
  std::ifstream log(*dir_ / ".gyre" / "predictions" / "risk.jsonl");
  std::vector<json> records;
  for (std::string line; std::getline(log, line);) records.push_back(json::parse(line));
  ASSERT_EQ(records.size(), 4u);
  std::multiset<std::pair<std::string, std::string>> seen;
  for (const json& r : records) seen.emplace(r["path"].get<std::string>(), r["caller"].get<std::string>());
  EXPECT_EQ(seen, (std::multiset<std::pair<std::string, std::string>>{
                      {"v1/score", "ann"}, {"oip", "bob"}, {"invocations", "cy"}, {"invocations", "cy"}}));
  for (const json& r : records) {
    EXPECT_EQ(r["deployment"], "risk");
    EXPECT_EQ(r["features"].size(), 4u) << r.dump();
    EXPECT_TRUE(r["action"] == "allow" || r["action"] == "challenge" || r["action"] == "block") << r.dump();
  }
}

// An event without the keys of the entities its features describe would be scored as a stranger.
TEST_F(ServingTest, EventWithoutItsEntityKeysIsRefused) {
  Serve(kDeployment);
  ExpectError(Post("/v1/score/risk", {{"event", {{"event_id", 5}, {"time", "2026-03-09T00:00:00Z"}}}}), 400,
              "event 0: missing user_id");
  ExpectError(Post("/v1/score/risk", {{"event", {{"event_id", 5}, {"time", "2026-03-09T00:00:00Z"}, {"user_id", nullptr},
                                                 {"amount", 3}}}}),
              400, "missing user_id (the entity key");
  auto stats = app_->scoring()->Stats("risk");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->events, 0);
  EXPECT_EQ(stats->errors, 2);
}

// A CSV column left empty in every row is a missing value, not a column of strings.
TEST_F(ServingTest, InvocationsCsvColumnEmptyInEveryRowIsMissing) {
  Serve(kDeployment);
  auto model = app_->scoring()->Model("risk");
  ASSERT_TRUE(model.ok());
  Reply csv = Send("POST", "/invocations",
                   "user_failures_1h,user_events_24h,user_amount_24h,amount_now\n0,5,4000,\n1,2,30,\n2,9,100,\n",
                   "text/csv");
  ASSERT_EQ(csv.status, 200) << csv.text;
  float rows[3][4] = {{0, 5, 4000, NAN}, {1, 2, 30, NAN}, {2, 9, 100, NAN}};
  for (int r = 0; r < 3; ++r) EXPECT_EQ(csv.body["predictions"][r].get<float>(), (*model)->ScoreOne(rows[r]));
}

// Two deployments whose models cannot load: each reports its own error (never the other's), per-model readiness
// tells the truth, and the one that loads serves.
TEST_F(ServingTest, EachDeploymentReportsItsOwnModelState) {
  Serve(R"(poll_interval: 50ms
deployments:
  risk:
    model: models:/risk@champion
  first:
    model: models:/risk@nosuch_one
    feature_set: risk
  second:
    model: models:/risk@nosuch_two
    feature_set: risk
)");
  Reply first = Send("GET", "/v2/models/first/ready");
  EXPECT_EQ(first.status, 503) << first.text;
  EXPECT_THAT(first.body.value("error", ""), HasSubstr("nosuch_one"));
  EXPECT_THAT(first.body.value("error", ""), ::testing::Not(HasSubstr("nosuch_two")));
  Reply second = Post("/v1/score/second", {{"event", EventJson({1, *ParseTimestamp(kStart), "u1", true, 1})}});
  EXPECT_EQ(second.status, 503) << second.text;
  EXPECT_THAT(second.text, HasSubstr("nosuch_two"));
  EXPECT_THAT(second.text, ::testing::Not(HasSubstr("nosuch_one")));
  EXPECT_EQ(Send("GET", "/v2/models/risk/ready").status, 200);
  ExpectError(Send("GET", "/v2/models/nope/ready"), 404, "model 'nope' is not served");
  Reply health = Send("GET", "/v2/health/ready");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.body["models"]["risk"]["ready"], true) << health.text;
  EXPECT_EQ(health.body["models"]["first"]["ready"], false) << health.text;
  EXPECT_THAT(health.body["models"]["second"].value("error", ""), HasSubstr("nosuch_two"));
}

// Exactly once: a retried event (a client timeout, a redelivery) — again, twice in one request, and after a
// restart — gets its first decision back marked as a replay, logs no second prediction and changes no feature.
TEST_F(ServingTest, RetriedEventGetsItsFirstDecisionAndCountsOnce) {
  Serve(kDeployment);
  TimestampMicros t = *ParseTimestamp(kStart) + kDays * kMicrosPerDay;
  const Event failed{800001, t, "u7", false, 500};
  Reply first = Post("/v1/score/risk", {{"event", EventJson(failed)}});
  ASSERT_EQ(first.status, 200) << first.text;
  EXPECT_FALSE(first.body.contains("replay"));
  Reply retry = Post("/v1/score/risk", {{"event", EventJson(failed)}, {"return_features", true}});
  ASSERT_EQ(retry.status, 200) << retry.text;
  EXPECT_EQ(retry.body["replay"], true);
  for (const char* key : {"score", "action", "model", "version", "event_id"}) EXPECT_EQ(retry.body[key], first.body[key]) << key;
  EXPECT_FALSE(retry.body.contains("features"));  // not recomputed: the first answer's features are history

  // Two copies of one event in one request: the second is a replay of the first.
  const Event twice{800002, t + kMicrosPerSecond, "u7", true, 20};
  Reply batch = Post("/v1/score/risk", {{"events", {EventJson(twice), EventJson(twice)}}});
  ASSERT_EQ(batch.status, 200) << batch.text;
  EXPECT_FALSE(batch.body["results"][0].contains("replay"));
  EXPECT_EQ(batch.body["results"][1]["replay"], true);
  EXPECT_EQ(batch.body["results"][1]["score"], batch.body["results"][0]["score"]);

  // The user's history holds each event once: one failure, two events.
  const Event later{800003, t + 2 * kMicrosPerSecond, "u7", true, 1};
  Reply after = Post("/v1/score/risk", {{"event", EventJson(later)}, {"return_features", true}});
  ASSERT_EQ(after.status, 200) << after.text;
  EXPECT_EQ(after.body["features"]["user_failures_1h"], 1) << after.text;
  EXPECT_EQ(after.body["features"]["user_events_24h"], 2) << after.text;
  auto stats = app_->scoring()->Stats("risk");
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->replays, 2);
  EXPECT_EQ(stats->events, 3);

  // A restart: the retry is still recognised, with its first decision.
  ASSERT_TRUE(server_->Shutdown().ok());
  client_.reset();
  server_.reset();
  app_.reset();
  Serve(kDeployment, /*keep_state=*/true);
  Reply restarted = Post("/v1/score/risk", {{"event", EventJson(failed)}});
  ASSERT_EQ(restarted.status, 200) << restarted.text;
  EXPECT_EQ(restarted.body["replay"], true);
  EXPECT_EQ(restarted.body["score"], first.body["score"]);
  EXPECT_EQ(restarted.body["action"], first.body["action"]);
  const Event last{800004, t + 3 * kMicrosPerSecond, "u7", true, 1};
  Reply counted = Post("/v1/score/risk", {{"event", EventJson(last)}, {"return_features", true}});
  ASSERT_EQ(counted.status, 200) << counted.text;
  EXPECT_EQ(counted.body["features"]["user_failures_1h"], 1) << counted.text;
  EXPECT_EQ(counted.body["features"]["user_events_24h"], 3) << counted.text;

  (void)server_->Shutdown();
  app_->scoring()->Stop();
  std::ifstream log(*dir_ / ".gyre" / "predictions" / "risk.jsonl");
  std::multiset<std::string> logged;
  for (std::string line; std::getline(log, line);) logged.insert(json::parse(line)["event_id"].get<std::string>());
  EXPECT_EQ(logged, (std::multiset<std::string>{"800001", "800002", "800003", "800004"}));  // one line per event
}

TEST_F(ServingTest, BadScoreRequestsAre4xx) {
  Serve(kDeployment);
  ExpectError(Post("/v1/score/nope", {{"event", EventJson({1, 0, "u", true, 1})}}), 404, "no deployment 'nope'");
  ExpectError(Send("POST", "/v1/score/risk", "{\"event\": "), 400, "request body");
  ExpectError(Post("/v1/score/risk", {{"event", {{"user_id", "u1"}, {"amount", 3}}}}), 400, "missing 'time'");
  ExpectError(Post("/v1/score/risk", {{"event", {{"time", "yesterday"}, {"user_id", "u1"}}}}), 400, "event.time");
  ExpectError(Post("/v1/score/risk", {{"event", {{"time", "2026-03-09T00:00:00Z"}, {"colour", "red"}}}}), 400,
              "unknown column");
  ExpectError(Post("/v1/score/risk", {{"events", json::array()}}), 400, "events");
  ExpectError(Post("/v1/score/risk", {{"evnt", json::object()}}), 400, "unknown field 'evnt'");
  ExpectError(Post("/v1/score/risk", {{"event", {{"time", "2026-03-09T00:00:00Z"}, {"amount", "lots"}}}}), 400,
              "event.amount");
}

TEST_F(ServingTest, ShadowAndStickyCanary) {
  Serve(R"(deployments:
  shadowed:
    model: models:/risk@champion
    challenger: {model: models:/risk@challenger, mode: shadow}
  canaried:
    model: models:/risk@champion
    push: false
    challenger: {model: models:/risk@challenger, mode: canary, percent: 50, sticky_key: user_id}
)");
  TimestampMicros t = *ParseTimestamp(kStart) + kDays * kMicrosPerDay;
  std::map<std::string, std::set<std::string>> versions_by_user;
  int challenger_answers = 0;
  for (int i = 0; i < 200; ++i) {
    Event e{500000 + i, t + i * kMicrosPerSecond, "u" + std::to_string(i % 20), true, 10.0 * i};
    Reply shadow = Post("/v1/score/shadowed", {{"event", EventJson(e)}});
    ASSERT_EQ(shadow.status, 200) << shadow.text;
    EXPECT_EQ(shadow.body["version"], "1");  // the shadow never answers
    Reply canary = Post("/v1/score/canaried", {{"event", EventJson(e)}});
    ASSERT_EQ(canary.status, 200) << canary.text;
    versions_by_user[e.user].insert(canary.body["version"]);
    challenger_answers += canary.body["version"] == "2";
  }
  for (const auto& [user, versions] : versions_by_user) EXPECT_EQ(versions.size(), 1u) << user;  // sticky
  EXPECT_GT(challenger_answers, 20);
  EXPECT_LT(challenger_answers, 180);
  auto shadow_stats = app_->scoring()->Stats("shadowed");
  EXPECT_EQ(shadow_stats->shadow_scores, 200);
  (void)server_->Shutdown();
  app_->scoring()->Stop();
  std::string log = *ReadFileToString((*dir_ / ".gyre" / "predictions" / "shadowed.jsonl").string());
  json first = json::parse(log.substr(0, log.find('\n')));
  EXPECT_EQ(first["challenger"]["version"], "2");
  EXPECT_EQ(first["challenger"]["mode"], "shadow");
}

// Runs `promtool check metrics` (Debian package prometheus, installed by scripts/bootstrap.sh) on `text`;
// returns its output, or a message saying it could not run.
std::string PromtoolProblems(const std::string& text, const fs::path& dir) {
  fs::path file = dir / "metrics.txt";
  std::ofstream(file) << text;
  std::string command = "promtool check metrics < '" + file.string() + "' 2>&1; echo \"exit=$?\"";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return "cannot run promtool";
  std::string out;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) out += buffer;
  pclose(pipe);
  if (out.find("exit=127") != std::string::npos) return "promtool is not installed (run scripts/bootstrap.sh): " + out;
  return out == "exit=0\n" ? "" : out;  // promtool prints nothing for clean text
}

// GET /metrics after real traffic: valid Prometheus text (promtool and the rules it does not check) whose
// values are what was served: requests, events, actions, errors, latency count, shadow scores, the loaded
// versions, HTTP responses by class, and the online pushes.
TEST_F(ServingTest, MetricsCountWhatWasServed) {
  Serve(R"(deployments:
  shadowed:
    model: models:/risk@champion
    challenger: {model: models:/risk@challenger, mode: shadow}
)");
  TimestampMicros t = *ParseTimestamp(kStart) + kDays * kMicrosPerDay;
  const int kEvents = 40;
  std::map<std::string, int> actions;
  for (int i = 0; i < kEvents; ++i) {
    Event e{700000 + i, t + i * kMicrosPerSecond, "u" + std::to_string(i % 7), i % 3 != 0, 100.0 * i};
    Reply r = Post("/v1/score/shadowed", {{"event", EventJson(e)}});
    ASSERT_EQ(r.status, 200) << r.text;
    ++actions[r.body["action"].get<std::string>()];
  }
  // Refused at the deployment (missing time, a bad value), and before any deployment (unknown name, a 404).
  EXPECT_EQ(Post("/v1/score/shadowed", {{"event", {{"user_id", "u1"}}}}).status, 400);
  EXPECT_EQ(Post("/v1/score/shadowed", {{"event", {{"time", "2026-03-09T00:00:00Z"}, {"amount", "x"}}}}).status, 400);
  EXPECT_EQ(Post("/v1/score/nope", {{"event", EventJson({1, t, "u", true, 1})}}).status, 404);

  auto response = client_->Request("GET", "/metrics");
  ASSERT_TRUE(response.ok()) << response.status().ToString();
  ASSERT_EQ(response->status, 200) << response->body;
  EXPECT_EQ(response->content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::vector<testing::PromSample> samples;
  std::vector<std::string> problems = testing::CheckPromText(response->body, &samples);
  EXPECT_TRUE(problems.empty()) << ::testing::PrintToString(problems) << "\n" << response->body;
  EXPECT_EQ(PromtoolProblems(response->body, *dir_), "") << response->body;

  auto value = [&](const std::string& name, const std::map<std::string, std::string>& labels) -> double {
    for (const auto& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    ADD_FAILURE() << "no sample " << name << " " << ::testing::PrintToString(labels) << " in\n" << response->body;
    return -1;
  };
  const std::map<std::string, std::string> d = {{"deployment", "shadowed"}};
  // The parse errors are counted by the route before the deployment (errors counts what reached it).
  const std::map<std::string, std::string> by_path = {{"deployment", "shadowed"}, {"path", "v1/score"}};
  const double requests = value("gyre_score_requests_total", by_path);
  EXPECT_GE(requests, kEvents);
  EXPECT_LE(requests, kEvents + 2);
  EXPECT_EQ(value("gyre_score_events_total", by_path), kEvents);
  EXPECT_EQ(value("gyre_score_requests_total", {{"deployment", "shadowed"}, {"path", "oip"}}), 0);
  EXPECT_EQ(value("gyre_score_errors_total", d), requests - kEvents);
  for (const char* action : {"allow", "challenge", "block"}) {  // every action has a series, 0 included
    EXPECT_EQ(value("gyre_score_actions_total", {{"deployment", "shadowed"}, {"action", action}}), actions[action])
        << action;
  }
  EXPECT_EQ(value("gyre_score_shadow_scores_total", d), kEvents);
  EXPECT_EQ(value("gyre_score_challenger_answers_total", d), 0);
  EXPECT_EQ(value("gyre_prediction_log_dropped_total", d), 0);
  EXPECT_EQ(value("gyre_score_duration_seconds_count", d), requests);
  EXPECT_GT(value("gyre_score_duration_seconds_sum", d), 0);
  EXPECT_EQ(value("gyre_deployment_model_info",
                  {{"deployment", "shadowed"}, {"role", "champion"}, {"model", "risk"}, {"version", "1"}}),
            1);
  EXPECT_EQ(value("gyre_deployment_model_info",
                  {{"deployment", "shadowed"}, {"role", "challenger"}, {"model", "risk"}, {"version", "2"}}),
            1);
  EXPECT_EQ(value("gyre_online_pushed_events_total", {}), kEvents);
  EXPECT_EQ(value("gyre_online_definition_resets_total", {}), 0);
  // HTTP: every answer so far (scores, 400s, the 404), but not this scrape's own.
  EXPECT_EQ(value("gyre_http_responses_total", {{"code", "2xx"}}), kEvents);
  EXPECT_EQ(value("gyre_http_responses_total", {{"code", "4xx"}}), 3);
  EXPECT_EQ(value("gyre_http_responses_total", {{"code", "5xx"}}), 0);
  EXPECT_EQ(value("gyre_http_requests_total", {}), kEvents + 3);
  EXPECT_EQ(value("gyre_http_open_connections", {}), 1);
  // Per route: every answer of the score route (the 400s and the unknown deployment's 404 included); the
  // scrape itself is timed once it is answered, so /metrics has no series yet.
  const std::map<std::string, std::string> score_route = {{"method", "POST"}, {"route", "/v1/score/{deployment}"}};
  EXPECT_EQ(value("gyre_http_request_duration_seconds_count", score_route), kEvents + 3);
  EXPECT_GT(value("gyre_http_request_duration_seconds_sum", score_route), 0);
  for (const auto& s : samples) {
    EXPECT_FALSE(s.name.starts_with("gyre_http_request_duration") && s.labels.count("route") &&
                 s.labels.at("route") == "/metrics")
        << s.name;
  }
}

// The alias moves back and forth while four clients score as fast as they can: no request fails, and both
// versions answer.
TEST_F(ServingTest, AliasMoveUnderLoadFailsNoRequest) {
  Serve(kDeployment);
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, failed{0}, v1{0}, v2{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      auto client = Connect();
      TimestampMicros t = *ParseTimestamp(kStart) + kDays * kMicrosPerDay;
      for (int i = 0; !stop; ++i) {
        Event e{1000000 + c * 1000000 + i, t + i * 1000, "u" + std::to_string(i % 50), i % 3 != 0, 1.0 * i};
        Reply r = Send("POST", "/v1/score/risk", json({{"event", EventJson(e)}}).dump(), "application/json", client.get());
        if (r.status == 200) {
          ++ok;
          (r.body["version"] == "1" ? v1 : v2)++;
        } else {
          ++failed;
        }
      }
    });
  }
  registry::RegistryStore& registry = app_->registry();
  // Each move waits until the poller has swapped (however busy the machine), so every move is seen under load.
  for (int swap = 0; swap < 6; ++swap) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const int64_t before = app_->scoring()->models().swaps();
    ASSERT_TRUE(registry.SetRegisteredModelAlias("risk", "champion", swap % 2 == 0 ? "2" : "1", "test").ok());
    for (int wait = 0; wait < 2000 && app_->scoring()->models().swaps() == before; ++wait) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  stop = true;
  for (auto& t : clients) t.join();
  ASSERT_TRUE(registry.SetRegisteredModelAlias("risk", "champion", "1", "test").ok());
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 100);
  EXPECT_GT(v1.load(), 0);
  EXPECT_GT(v2.load(), 0);
  EXPECT_GE(app_->scoring()->models().swaps(), 6);
}

}  // namespace
}  // namespace gyre
