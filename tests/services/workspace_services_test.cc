// services: where a model version's source may live (LocalModelFolder), and one model served outside any
// deployments.yaml (OpenModelServing, what `gyre models serve` runs) — a multiclass model trained here by
// libxgboost, scored through OIP v2 and MLflow /invocations over a real server and client, and in batch, every
// class probability equal (float ==) to libxgboost's own predictions.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <xgboost/c_api.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "api/routes.h"
#include "core/table.h"
#include "http/client.h"
#include "http/server.h"
#include "core/workspace.h"
#include "models/model_package.h"
#include "registry/registry_store.h"
#include "serving/batch.h"
#include "services/workspace_services.h"

namespace gyre {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

#define XGB_OK(call) ASSERT_EQ((call), 0) << XGBGetLastError()

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gyre_services_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(ServicesTest, ModelSourcesThatServeAndThoseRefusedWithAReason) {
  auto artifacts = tracking::ArtifactStore::Open((dir_ / "artifacts").string());
  ASSERT_TRUE(artifacts.ok());
  fs::create_directories(dir_ / "artifacts" / "1" / "run" / "artifacts" / "model");
  fs::create_directories(dir_ / "elsewhere" / "model");
  const std::string elsewhere = (dir_ / "elsewhere" / "model").string();

  auto proxied = services::LocalModelFolder("mlflow-artifacts:/1/run/artifacts/model", *artifacts);
  ASSERT_TRUE(proxied.ok()) << proxied.status().ToString();
  EXPECT_TRUE(fs::equivalent(*proxied, dir_ / "artifacts" / "1" / "run" / "artifacts" / "model"));
  EXPECT_EQ(*services::LocalModelFolder("file://" + elsewhere, *artifacts), elsewhere);
  EXPECT_EQ(*services::LocalModelFolder(elsewhere, *artifacts), elsewhere);

  auto relative = services::LocalModelFolder("models/m", *artifacts);
  EXPECT_THAT(relative.status().message(), HasSubstr("must be absolute"));
  auto remote = services::LocalModelFolder("s3://bucket/m", *artifacts);
  EXPECT_THAT(remote.status().message(), HasSubstr("gyre models import"));
  auto missing = services::LocalModelFolder("file://" + elsewhere + "-not-there", *artifacts);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("no such folder"));
  EXPECT_FALSE(services::LocalModelFolder("file://relative/path", *artifacts).ok());
}

// A registered version's files are frozen: the artifact proxy refuses to overwrite or delete them (or a folder
// holding them) — over a real server, as a client that may log runs would try — and writes next to them pass.
TEST_F(ServicesTest, ARegisteredVersionsArtifactsCannotBeChangedThroughTheProxy) {
  auto ws = Workspace::Init((dir_ / "ws_frozen").string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  auto services = services::WorkspaceServices::Open(*ws, {.serve = false});
  ASSERT_TRUE(services.ok()) << services.status().ToString();
  ASSERT_TRUE((*services)->artifacts().Put("0/r1/artifacts/model/model.json", "{}").ok());
  ASSERT_TRUE((*services)->registry().CreateRegisteredModel("ato", {}, "", "test").ok());
  registry::CreateModelVersionRequest version;
  version.name = "ato";
  version.source = "mlflow-artifacts:/0/r1/artifacts/model";
  ASSERT_TRUE((*services)->registry().CreateModelVersion(version, "test").ok());

  services::WorkspaceServices& app = **services;
  EXPECT_EQ(app.registry().CheckArtifactWritable("0/r1/artifacts/model/model.json").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(app.registry().CheckArtifactWritable("0/r1/artifacts/model").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(app.registry().CheckArtifactWritable("0/r1").code(), StatusCode::kFailedPrecondition) << "a folder holding it";
  EXPECT_TRUE(app.registry().CheckArtifactWritable("0/r1/artifacts/model2/model.json").ok()) << "a name sharing a prefix";
  EXPECT_TRUE(app.registry().CheckArtifactWritable("0/r1/artifacts/plot.png").ok());
  EXPECT_TRUE(app.registry().CheckArtifactWritable("0/r2/artifacts/model/model.json").ok());

  http::ServerOptions options;
  options.port = 0;
  auto server = http::Server::Create(options);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  api::AddRoutes(**server, app);
  ASSERT_TRUE((*server)->Start().ok());
  auto client = http::Client::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  const std::string proxy = "/api/2.0/mlflow-artifacts/artifacts/";
  auto tampered = (*client)->Request("PUT", proxy + "0/r1/artifacts/model/model.json", R"({"thresholds": 0})");
  ASSERT_TRUE(tampered.ok());
  EXPECT_EQ(tampered->status, 400) << tampered->body;  // MLflow's answer to a state that forbids the change
  EXPECT_THAT(tampered->body, HasSubstr("INVALID_STATE"));
  EXPECT_THAT(tampered->body, HasSubstr("registered model version ato version 1"));
  auto removed = (*client)->Request("DELETE", proxy + "0/r1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->status, 400) << removed->body;
  auto beside = (*client)->Request("PUT", proxy + "0/r1/artifacts/plot.png", "png");
  ASSERT_TRUE(beside.ok());
  EXPECT_EQ(beside->status, 200) << beside->body;
  auto kept = app.artifacts().Get("0/r1/artifacts/model/model.json");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(*kept, "{}");
  // The refused attempts are not in the log of audited requests; the write beside them is.
  auto audited = app.auth().ListRequests({});
  ASSERT_TRUE(audited.ok());
  ASSERT_EQ(audited->size(), 1u);
  EXPECT_EQ((*audited)[0].method, "PUT");
  EXPECT_TRUE((*server)->Shutdown().ok());
}

TEST_F(ServicesTest, AServedModelIsNamedAfterItsRegisteredNameFileOrFolder) {
  EXPECT_EQ(*services::ModelServingName("models:/ato@champion"), "ato");
  EXPECT_EQ(*services::ModelServingName("models:/fraud/3"), "fraud");
  EXPECT_FALSE(services::ModelServingName("models:/").ok());
  std::ofstream(dir_ / "flowers.ubj") << "x";
  EXPECT_EQ(*services::ModelServingName((dir_ / "flowers.ubj").string()), "flowers");
  fs::create_directories(dir_ / "mlflow_model");
  EXPECT_EQ(*services::ModelServingName((dir_ / "mlflow_model").string() + "/"), "mlflow_model");
}

// A 3-class multi:softprob model on 4 features with NaNs, trained by libxgboost, in a gyre package folder.
class MulticlassTest : public ServicesTest {
 protected:
  static constexpr int kFeatures = 4, kClasses = 3;

  void SetUp() override {
    ServicesTest::SetUp();
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    std::uniform_real_distribution<float> unit;
    const int rows = 600;
    std::vector<float> x(rows * kFeatures), y(rows);
    for (int r = 0; r < rows; ++r) {
      float s = 0;
      for (int f = 0; f < kFeatures; ++f) {
        float v = normal(rng);
        x[r * kFeatures + f] = unit(rng) < 0.1f ? NAN : v;
        if (!std::isnan(x[r * kFeatures + f])) s += v * (f + 1);
      }
      y[r] = static_cast<float>(std::abs(static_cast<int>(s)) % kClasses);
    }
    DMatrixHandle train;
    XGB_OK(XGDMatrixCreateFromMat(x.data(), rows, kFeatures, NAN, &train));
    XGB_OK(XGDMatrixSetFloatInfo(train, "label", y.data(), rows));
    XGB_OK(XGBoosterCreate(&train, 1, &booster_));
    XGB_OK(XGBoosterSetParam(booster_, "objective", "multi:softprob"));
    XGB_OK(XGBoosterSetParam(booster_, "num_class", "3"));
    XGB_OK(XGBoosterSetParam(booster_, "max_depth", "4"));
    XGB_OK(XGBoosterSetParam(booster_, "nthread", "1"));
    for (int i = 0; i < 12; ++i) XGB_OK(XGBoosterUpdateOneIter(booster_, i, train));
    XGDMatrixFree(train);
    package_ = dir_ / "flowers";
    fs::create_directories(package_);
    XGB_OK(XGBoosterSaveModel(booster_, (package_ / "model.json").c_str()));
    models::PackageDescriptor d;
    d.flavor = "xgboost";
    d.model_file = "model.json";
    d.objective = "multi:softprob";
    d.feature_names = {"petal_length", "petal_width", "sepal_length", "sepal_width"};
    d.feature_types.assign(kFeatures, "float32");
    std::ofstream(package_ / models::kDescriptorFile) << models::SerializeDescriptor(d);
    // Rows to score, NaNs included.
    test_ = {0.5f, -1.0f, NAN, 2.0f, -0.3f, 0.2f, 1.1f, NAN, NAN, NAN, NAN, NAN, 3.0f, 2.0f, -2.0f, 0.1f};
  }
  void TearDown() override {
    XGBoosterFree(booster_);
    ServicesTest::TearDown();
  }
  // libxgboost's probabilities for test_ (rows × classes).
  std::vector<float> Expected() {
    DMatrixHandle m;
    EXPECT_EQ(XGDMatrixCreateFromMat(test_.data(), test_.size() / kFeatures, kFeatures, NAN, &m), 0);
    bst_ulong length = 0;
    const float* out = nullptr;
    EXPECT_EQ(XGBoosterPredict(booster_, m, 0, 0, 0, &length, &out), 0);
    std::vector<float> expected(out, out + length);
    XGDMatrixFree(m);
    return expected;
  }

  BoosterHandle booster_ = nullptr;
  fs::path package_;
  std::vector<float> test_;
};

TEST_F(MulticlassTest, ServedOverOipAndInvocationsWithEveryClassProbability) {
  auto scoring = services::OpenModelServing(package_.string(), "flowers", (dir_ / "log.jsonl").string(), nullptr);
  ASSERT_TRUE(scoring.ok()) << scoring.status().ToString();
  http::ServerOptions options;
  options.port = 0;
  options.threads = 2;
  auto server = http::Server::Create(options);
  ASSERT_TRUE(server.ok());
  api::AddModelServingRoutes(**server, **scoring);
  ASSERT_TRUE((*server)->Start().ok());
  auto client = http::Client::Connect("127.0.0.1", (*server)->port());
  ASSERT_TRUE(client.ok());
  const std::vector<float> expected = Expected();
  const int n = static_cast<int>(test_.size() / kFeatures);
  ASSERT_EQ(expected.size(), static_cast<size_t>(n * kClasses));

  json data = json::array();
  for (float v : test_) data.push_back(std::isnan(v) ? json(nullptr) : json(v));
  auto infer = (*client)->Request("POST", "/v2/models/flowers/infer",
                                  json{{"inputs", {{{"name", "x"}, {"shape", {n, kFeatures}}, {"datatype", "FP32"},
                                                    {"data", data}}}},
                                       {"outputs", {{{"name", "score"}}, {{"name", "class"}}}}}
                                      .dump());
  ASSERT_TRUE(infer.ok());
  ASSERT_EQ(infer->status, 200) << infer->body;
  json body = json::parse(infer->body);
  EXPECT_EQ(body["outputs"][0]["shape"], json({n, kClasses}));
  for (int i = 0; i < n * kClasses; ++i) EXPECT_EQ(body["outputs"][0]["data"][i].get<float>(), expected[i]) << i;
  for (int r = 0; r < n; ++r) {
    const float* p = &expected[r * kClasses];
    EXPECT_EQ(body["outputs"][1]["data"][r].get<int>(), std::max_element(p, p + kClasses) - p) << r;
  }
  // No decision without a positive class: the action output says why.
  auto action = (*client)->Request("POST", "/v2/models/flowers/infer",
                                   json{{"inputs", {{{"name", "x"}, {"shape", {1, kFeatures}}, {"datatype", "FP32"},
                                                     {"data", {1, 2, 3, 4}}}}},
                                        {"outputs", {{{"name", "action"}}}}}
                                       .dump());
  ASSERT_TRUE(action.ok());
  EXPECT_EQ(action->status, 400);
  EXPECT_THAT(action->body, HasSubstr("decision.positive_class"));

  json instances = json::array();
  for (int r = 0; r < n; ++r) {
    json row = json::array();
    for (int f = 0; f < kFeatures; ++f) row.push_back(data[r * kFeatures + f]);
    instances.push_back(row);
  }
  auto invoked = (*client)->Request("POST", "/invocations", json{{"instances", instances}}.dump());
  ASSERT_TRUE(invoked.ok());
  ASSERT_EQ(invoked->status, 200) << invoked->body;
  json predictions = json::parse(invoked->body)["predictions"];
  ASSERT_EQ(predictions.size(), static_cast<size_t>(n));
  for (int r = 0; r < n; ++r) {
    ASSERT_EQ(predictions[r].size(), static_cast<size_t>(kClasses));
    for (int k = 0; k < kClasses; ++k) EXPECT_EQ(predictions[r][k].get<float>(), expected[r * kClasses + k]);
  }
  auto ready = (*client)->Request("GET", "/v2/models/flowers/ready");
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, 200);
  // Events need feature definitions: a bare model refuses them, saying what it scores instead.
  auto event = (*client)->Request("POST", "/v1/score/flowers", R"({"event": {"time": "2026-01-01T00:00:00Z"}})");
  ASSERT_TRUE(event.ok());
  EXPECT_EQ(event->status, 409) << event->body;
  EXPECT_THAT(event->body, HasSubstr("serves a bare model"));

  ASSERT_TRUE((*server)->Shutdown().ok());
  (*scoring)->Stop();
  std::ifstream log(dir_ / "log.jsonl");
  int lines = 0;
  for (std::string line; std::getline(log, line); ++lines) {
    json record = json::parse(line);
    EXPECT_EQ(record["outputs"].size(), static_cast<size_t>(kClasses)) << line;
    EXPECT_TRUE(record["score"].is_null()) << line;  // no decision, so no score it read
  }
  EXPECT_EQ(lines, 2 * n);  // infer and invocations; the refused requests logged nothing
}

// `gyre models serve FILE`: the bare file becomes a package in a temporary folder, which is gone once the
// model is loaded; the model serves all the same.
TEST_F(MulticlassTest, ABareFileServesAndLeavesNoTemporaryPackage) {
  const fs::path tmp = dir_ / "tmp";
  fs::create_directories(tmp);
  const char* old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir != nullptr ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.c_str(), 1);
  auto scoring = services::OpenModelServing((package_ / "model.json").string(), "flowers", "", nullptr);
  if (old_tmpdir != nullptr) ::setenv("TMPDIR", saved.c_str(), 1); else ::unsetenv("TMPDIR");
  ASSERT_TRUE(scoring.ok()) << scoring.status().ToString();
  EXPECT_TRUE(fs::is_empty(tmp));
  auto rows = (*scoring)->ScoreRows("flowers", *(*scoring)->Model("flowers"), test_, {});
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->outputs, Expected());
  (*scoring)->Stop();
}

// A registered model that names no feature set (imported, or logged by MLflow's client) deployed in a
// workspace that has features.yaml: the server starts, the deployment scores feature rows, and events are
// refused with what to do — and without features.yaml at all, deployments still serve rows.
TEST_F(MulticlassTest, ADeploymentWhoseModelNamesNoFeatureSetServesRows) {
  for (bool with_features : {true, false}) {
    SCOPED_TRACE(with_features ? "features.yaml" : "no features.yaml");
    const fs::path root = dir_ / (with_features ? "ws_features" : "ws_bare");
    auto ws = Workspace::Init(root.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    {
      auto services = services::WorkspaceServices::Open(*ws, {.serve = false});
      ASSERT_TRUE(services.ok()) << services.status().ToString();
      ASSERT_TRUE((*services)->registry().CreateRegisteredModel("flowers", {}, "", "test").ok());
      registry::CreateModelVersionRequest version;
      version.name = "flowers";
      version.source = package_.string();
      ASSERT_TRUE((*services)->registry().CreateModelVersion(version, "test").ok());
    }
    if (with_features) {
      std::ofstream(root / "features.yaml") << R"(entities:
  user: {keys: [user]}
sources:
  logins:
    timestamp: time
    columns: {time: timestamp, user: string, amount: float64}
groups:
  user_logins:
    entity: user
    source: logins
    features:
      spend: {agg: sum, of: amount, windows: [1h]}
)";
    }
    std::ofstream(root / "deployments.yaml") << "deployments:\n  flowers:\n    model: models:/flowers/1\n";
    auto services = services::WorkspaceServices::Open(*ws, {.serve = true});
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    serving::ScoringService* scoring = (*services)->scoring();
    ASSERT_NE(scoring, nullptr);
    auto rows = scoring->ScoreRows("flowers", *scoring->Model("flowers"), test_, {});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(rows->outputs, Expected());
    auto schema = scoring->EventSchema("flowers");
    EXPECT_EQ(schema.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(schema.status().message(),
                HasSubstr(with_features ? "give the deployment a feature_set" : "serves a bare model"));
    scoring->Stop();
  }
}

TEST_F(MulticlassTest, BatchScoresEveryClassAndDecidesOnThePositiveClass) {
  auto model = serving::Servable::Load(package_.string(), "flowers", "1");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ((*model)->num_outputs(), kClasses);
  const int n = static_cast<int>(test_.size() / kFeatures);
  TableBuilder builder(Schema({{"petal_length", ColumnType::kFloat64}, {"petal_width", ColumnType::kFloat64},
                               {"sepal_length", ColumnType::kFloat64}, {"sepal_width", ColumnType::kFloat64}}));
  for (int r = 0; r < n; ++r) {
    for (int f = 0; f < kFeatures; ++f) {
      float v = test_[r * kFeatures + f];
      if (std::isnan(v)) {
        builder.column(f).AppendNull();
      } else {
        builder.column(f).AppendFloat64(v);
      }
    }
  }
  auto table = builder.Finish();
  ASSERT_TRUE(table.ok());
  serving::DeploymentConfig deployment;
  deployment.name = "flowers";
  deployment.positive_class = 2;
  deployment.block_threshold = 0.6;
  deployment.challenge_threshold = 0.3;
  serving::BatchOptions options;
  options.threads = 1;
  options.decision = serving::DecisionFor(deployment, **model);
  ASSERT_EQ(options.decision.output, 2) << options.decision.why_not;
  auto scored = serving::ScoreTable(**model, *table, options);
  ASSERT_TRUE(scored.ok()) << scored.status().ToString();
  EXPECT_EQ(scored->schema().NameList(), "score_0, score_1, score_2, class, action");
  const std::vector<float> expected = Expected();
  for (int r = 0; r < n; ++r) {
    for (int k = 0; k < kClasses; ++k) {
      EXPECT_EQ(static_cast<float>(scored->column(k).Float64(r)), expected[r * kClasses + k]);
    }
    float p2 = expected[r * kClasses + 2];
    EXPECT_EQ(scored->column(4).String(r), p2 >= 0.6 ? "block" : p2 >= 0.3 ? "challenge" : "allow");
  }
  deployment.positive_class = 3;
  EXPECT_THAT(serving::DecisionFor(deployment, **model).why_not, HasSubstr("has 3 classes"));
}

}  // namespace
}  // namespace gyre
