// Authentication and roles over a real server: the MLflow tracking and registry routes behind
// api::RequireAuth, users and tokens in the same database (each backend), requests sent over a socket the
// way the MLflow client sends them (MLFLOW_TRACKING_TOKEN → Bearer; MLFLOW_TRACKING_USERNAME/PASSWORD → Basic).
#include <gtest/gtest.h>

#include "api/mlflow_registry_routes.h"
#include "api/route_permissions.h"
#include "auth/auth_store.h"
#include "core/base64.h"
#include "registry/registry_store.h"
#include "tests/api/mlflow_fixture.h"

namespace gyre::api::testing {
namespace {

class AuthApiTest : public MlflowServerTest {
 protected:
  void AddRoutes(http::Router& router) override {
    auth::AuthStore::Options options;
    options.kdf = auth::kFastKdf;
    auto auth = auth::AuthStore::Open(db_.get(), options);
    ASSERT_TRUE(auth.ok()) << auth.status().ToString();
    auth_ = std::move(auth).value();
    TrackingRouteOptions tracking_options;
    tracking_options.audit = auth_.get();
    AddMlflowTrackingRoutes(router, tracking_.get(), artifacts_.get(), tracking_options);
    auto registry = registry::RegistryStore::Open(db_.get());
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
    AddMlflowRegistryRoutes(router, registry_.get());
    router.Add("GET", "/v2/health/live", [](const http::Request&) -> Result<http::Response> {
      return http::Response(200, "{}");
    });
    for (auto [name, role] : {std::pair{"ann", auth::Role::kAnalyst}, std::pair{"sam", auth::Role::kScientist},
                              std::pair{"eve", auth::Role::kMlEngineer}}) {
      auto user = auth_->AddUser(name, role);
      ASSERT_TRUE(user.ok()) << user.status().ToString();
      tokens_[name] = user->token;
    }
    Status s = RequireAuth(router, *auth_);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  Reply Call(const std::string& method, const std::string& endpoint, const nlohmann::json& body,
             const std::vector<std::string>& headers) {
    std::string target = endpoint.starts_with("/") ? endpoint : std::string(kMlflowApiPrefix) + "/" + endpoint;
    Reply reply = Send(method, target, method == "GET" ? "" : body.dump(), "application/json", headers);
    www_authenticate_ = reply.www_authenticate;
    return reply;
  }
  std::string Bearer(const std::string& user) { return "Authorization: Bearer " + tokens_[user]; }
  static std::string Basic(const std::string& user, const std::string& password) {
    return "Authorization: Basic " + Base64Encode(user + ":" + password);
  }

  // A registered model "ato" with version 1, registered by the scientist.
  void RegisterModel() {
    ASSERT_EQ(Call("POST", "registered-models/create", {{"name", "ato"}}, {Bearer("sam")}).status, 200);
    Reply v = Call("POST", "model-versions/create", {{"name", "ato"}, {"source", "mlflow-artifacts:/0/r/artifacts/m"}},
                   {Bearer("sam")});
    ASSERT_EQ(v.status, 200) << v.body;
  }

  std::unique_ptr<registry::RegistryStore> registry_;
  std::unique_ptr<auth::AuthStore> auth_;
  std::map<std::string, std::string> tokens_;
  std::string www_authenticate_;
};

TEST_P(AuthApiTest, AnonymousRequestsAre401WithAChallenge) {
  Reply r = Call("POST", "runs/create", {{"experiment_id", "0"}}, {});
  EXPECT_EQ(r.status, 401) << r.body;
  EXPECT_NE(www_authenticate_.find("Bearer"), std::string::npos);
  EXPECT_NE(www_authenticate_.find("Basic"), std::string::npos);
  EXPECT_NE(r.json.value("message", "").find("MLFLOW_TRACKING_TOKEN"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "experiments/get?experiment_id=0", {}, {}).status, 401);
  // Health stays open.
  EXPECT_EQ(Call("GET", "/v2/health/live", {}, {}).status, 200);
}

TEST_P(AuthApiTest, ScientistLogsARunWithABearerToken) {
  Reply run = Call("POST", "runs/create", {{"experiment_id", "0"}, {"start_time", 1}}, {Bearer("sam")});
  ASSERT_EQ(run.status, 200) << run.body;
  std::string run_id = run.json["run"]["info"]["run_id"];
  Reply metric = Call("POST", "runs/log-metric",
                      {{"run_id", run_id}, {"key", "auc"}, {"value", 0.9}, {"timestamp", 1}, {"step", 0}},
                      {Bearer("sam")});
  EXPECT_EQ(metric.status, 200) << metric.body;
  // The analyst reads it, but may not write.
  EXPECT_EQ(Call("GET", "runs/get?run_id=" + run_id, {}, {Bearer("ann")}).status, 200);
  Reply denied = Call("POST", "runs/log-metric",
                      {{"run_id", run_id}, {"key", "auc"}, {"value", 1}, {"timestamp", 1}, {"step", 0}},
                      {Bearer("ann")});
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_NE(denied.json.value("message", "").find("'track'"), std::string::npos) << denied.body;
}

TEST_P(AuthApiTest, BasicChecksThePassword) {
  EXPECT_EQ(Call("POST", "runs/create", {{"experiment_id", "0"}}, {Basic("sam", "wrong")}).status, 401);
  EXPECT_EQ(Call("POST", "runs/create", {{"experiment_id", "0"}}, {Basic("eve", tokens_["sam"])}).status, 401);
  EXPECT_EQ(Call("POST", "runs/create", {{"experiment_id", "0"}}, {Basic("sam", tokens_["sam"])}).status, 200);
  EXPECT_EQ(Call("POST", "runs/create", {{"experiment_id", "0"}}, {"Authorization: Bearer gyre_nope"}).status, 401);
}

TEST_P(AuthApiTest, AnalystMovingAnAliasIs403) {
  RegisterModel();
  Reply r = Call("POST", "registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "1"}},
                 {Bearer("ann")});
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_NE(r.json.value("message", "").find("'promote'"), std::string::npos) << r.body;
  // Nor may the scientist; the ML engineer may.
  EXPECT_EQ(Call("POST", "registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "1"}},
                 {Bearer("sam")})
                .status,
            403);
  EXPECT_EQ(Call("POST", "registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "1"}},
                 {Bearer("eve")})
                .status,
            200);
  EXPECT_EQ(Call("DELETE", "registered-models/delete", {{"name", "ato"}}, {Bearer("sam")}).status, 403);
}

TEST_P(AuthApiTest, AuditNamesTheAuthenticatedUserNotTheClaimedOne) {
  RegisterModel();
  Reply r = Call("POST", "registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "1"}},
                 {Bearer("eve"), "X-Gyre-User: mallory"});
  ASSERT_EQ(r.status, 200) << r.body;
  registry::AuditQuery q;
  q.action = "alias.set";
  auto page = registry_->QueryAudit(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->items.size(), 1u);
  EXPECT_EQ(page->items[0].actor, "eve");
  // The version was created by the scientist, whatever the header said.
  auto all = registry_->QueryAudit({});
  ASSERT_TRUE(all.ok());
  for (const registry::AuditEntry& e : all->items) EXPECT_NE(e.actor, "mallory");
}

// Changes outside the registry (experiments, runs, artifacts) are in the log of audited requests, under the
// authenticated user; refused or failed requests and data logged into a run are not.
TEST_P(AuthApiTest, TrackingChangesAreAuditedUnderTheAuthenticatedUser) {
  Reply run = Call("POST", "runs/create", {{"experiment_id", "0"}}, {Bearer("sam"), "X-Gyre-User: mallory"});
  ASSERT_EQ(run.status, 200) << run.body;
  const std::string run_id = run.json["run"]["info"]["run_id"];
  ASSERT_EQ(Call("POST", "runs/log-metric", {{"run_id", run_id}, {"key", "auc"}, {"value", 0.9}, {"timestamp", 1}},
                 {Bearer("sam")}).status, 200);
  EXPECT_EQ(Call("POST", "runs/delete", {{"run_id", run_id}}, {Bearer("ann")}).status, 403);
  EXPECT_EQ(Call("POST", "runs/delete", {{"run_id", "0123456789abcdef0123456789abcdef"}}, {Bearer("sam")}).status, 404);
  ASSERT_EQ(Call("POST", "runs/delete", {{"run_id", run_id}}, {Bearer("eve")}).status, 200);
  Reply put = Send("PUT", "/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts/model.json", "{}",
                   "application/json", {Bearer("sam")});
  ASSERT_EQ(put.status, 200) << put.body;

  auto logged = auth_->ListRequests({});
  ASSERT_TRUE(logged.ok()) << logged.status().ToString();
  ASSERT_EQ(logged->size(), 3u) << "runs/create, runs/delete, the artifact PUT; not the metric, 403 or 404";
  const auth::AuditedRequest& put_record = (*logged)[0];  // newest first
  EXPECT_EQ(put_record.actor, "sam");
  EXPECT_EQ(put_record.method, "PUT");
  EXPECT_EQ(put_record.route, "/api/2.0/mlflow-artifacts/artifacts/{path...}");
  EXPECT_NE(put_record.target.find(run_id + "/artifacts/model.json"), std::string::npos) << put_record.target;
  EXPECT_EQ((*logged)[1].actor, "eve");
  EXPECT_EQ((*logged)[1].route, std::string(kMlflowApiPrefix) + "/runs/delete");
  EXPECT_EQ((*logged)[1].status, 200);
  EXPECT_EQ((*logged)[2].actor, "sam") << "not the claimed X-Gyre-User";
  EXPECT_EQ((*logged)[2].route, std::string(kMlflowApiPrefix) + "/runs/create");
  auth::RequestAuditQuery by_eve;
  by_eve.actor = "eve";
  auto eve = auth_->ListRequests(by_eve);
  ASSERT_TRUE(eve.ok());
  EXPECT_EQ(eve->size(), 1u);
}

TEST_P(AuthApiTest, XGyreUserAloneIsNoCredential) {
  Reply r = Call("POST", "registered-models/create", {{"name", "x"}}, {"X-Gyre-User: admin"});
  EXPECT_EQ(r.status, 401) << r.body;
}

TEST_P(AuthApiTest, ARevokedTokenIs401) {
  ASSERT_EQ(Call("POST", "runs/create", {{"experiment_id", "0"}}, {Bearer("sam")}).status, 200);
  auto tokens = auth_->ListTokens("sam");
  ASSERT_TRUE(tokens.ok());
  ASSERT_TRUE(auth_->RevokeToken(tokens->at(0).id).ok());
  EXPECT_EQ(Call("POST", "runs/create", {{"experiment_id", "0"}}, {Bearer("sam")}).status, 401);
}

INSTANTIATE_TEST_SUITE_P(Backends, AuthApiTest, ::testing::ValuesIn(store::testing::Backends()),
                         store::testing::BackendName);

}  // namespace
}  // namespace gyre::api::testing
