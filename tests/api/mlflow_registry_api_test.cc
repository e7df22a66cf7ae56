// The MLflow registry compatibility suite: the requests MLflow 2.12's client sends for
// create_registered_model, create_model_version (then polling get until READY), set_registered_model_alias,
// get_model_version_by_alias, transition_model_version_stage, search and delete; plus gyre's audit and
// model-URI routes. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include "api/mlflow_registry_routes.h"
#include "tests/api/mlflow_fixture.h"

namespace gyre::api {
namespace {

using nlohmann::json;
using testing::MlflowServerTest;
using testing::Reply;

class MlflowRegistryApiTest : public MlflowServerTest {
 protected:
  void SetUp() override {
    MlflowServerTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
  }
  void AddRoutes(http::Router& router) override {
    MlflowServerTest::AddRoutes(router);
    auto registry = registry::RegistryStore::Open(db_.get());
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::move(registry).value();
    AddMlflowRegistryRoutes(router, registry_.get());
  }
  Reply Patch(const std::string& endpoint, const json& body) {
    return Send("PATCH", std::string(kMlflowApiPrefix) + "/" + endpoint, body.dump());
  }
  Reply Delete(const std::string& endpoint, const json& body) {
    return Send("DELETE", std::string(kMlflowApiPrefix) + "/" + endpoint, body.dump());
  }
  std::unique_ptr<registry::RegistryStore> registry_;
};

TEST_P(MlflowRegistryApiTest, RegisterPromoteAndResolveLikeTheClient) {
  Reply created = Post("registered-models/create", {{"name", "ato"}, {"description", "takeover"}});
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_EQ(created.json["registered_model"]["name"], "ato");
  EXPECT_TRUE(created.json["registered_model"]["creation_timestamp"].is_number_integer());
  Reply dup = Post("registered-models/create", {{"name", "ato"}});
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(dup.json["error_code"], "RESOURCE_ALREADY_EXISTS");

  for (int i = 1; i <= 2; ++i) {
    Reply v = Post("model-versions/create", {{"name", "ato"},
                                             {"source", "mlflow-artifacts:/0/run" + std::to_string(i) + "/artifacts/model"},
                                             {"run_id", "run" + std::to_string(i)},
                                             {"tags", {{{"key", "k"}, {"value", "v"}}}}});
    ASSERT_EQ(v.status, 200) << v.body;
    EXPECT_EQ(v.json["model_version"]["version"], std::to_string(i));  // a string on the wire
    EXPECT_EQ(v.json["model_version"]["status"], "READY");
    EXPECT_EQ(v.json["model_version"]["current_stage"], "None");
    // The client polls get until READY.
    Reply polled = Get("model-versions/get?name=ato&version=" + std::to_string(i));
    EXPECT_EQ(polled.json["model_version"]["status"], "READY");
  }

  ASSERT_EQ(Post("registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "1"}}).status, 200);
  ASSERT_EQ(Post("registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "2"}}).status, 200);
  Reply by_alias = Get("registered-models/alias?name=ato&alias=champion");
  ASSERT_EQ(by_alias.status, 200) << by_alias.body;
  EXPECT_EQ(by_alias.json["model_version"]["version"], "2");
  EXPECT_EQ(by_alias.json["model_version"]["aliases"], json({"champion"}));
  Reply bad_alias = Post("registered-models/alias", {{"name", "ato"}, {"alias", "v3"}, {"version", "1"}});
  EXPECT_EQ(bad_alias.status, 400);

  Reply staged = Post("model-versions/transition-stage",
                      {{"name", "ato"}, {"version", "2"}, {"stage", "production"}, {"archive_existing_versions", true}});
  ASSERT_EQ(staged.status, 200) << staged.body;
  EXPECT_EQ(staged.json["model_version"]["current_stage"], "Production");
  Reply latest = Post("registered-models/get-latest-versions", {{"name", "ato"}, {"stages", {"Production"}}});
  ASSERT_EQ(latest.json["model_versions"].size(), 1u);
  EXPECT_EQ(latest.json["model_versions"][0]["version"], "2");

  Reply model = Get("registered-models/get?name=ato");
  EXPECT_EQ(model.json["registered_model"]["aliases"], json::parse(R"([{"alias":"champion","version":"2"}])"));
  EXPECT_EQ(model.json["registered_model"]["description"], "takeover");

  Reply search = Get("model-versions/search?filter=name%3D%27ato%27&max_results=10");
  ASSERT_EQ(search.status, 200) << search.body;
  EXPECT_EQ(search.json["model_versions"].size(), 2u);
  Reply models = Get("registered-models/search?filter=name%20LIKE%20%27at%25%27");
  EXPECT_EQ(models.json["registered_models"].size(), 1u);
  Reply uri = Get("model-versions/get-download-uri?name=ato&version=1");
  EXPECT_EQ(uri.json["artifact_uri"], "mlflow-artifacts:/0/run1/artifacts/model");

  Reply resolved = Send("GET", "/api/v1/models/resolve?uri=models:/ato@champion", "");
  ASSERT_EQ(resolved.status, 200) << resolved.body;
  EXPECT_EQ(resolved.json["model_version"]["version"], "2");
  EXPECT_EQ(Send("GET", "/api/v1/models/resolve?uri=models:/ato/Production", "").json["model_version"]["version"], "2");
  EXPECT_EQ(Send("GET", "/api/v1/models/resolve?uri=models:/ato@nobody", "").status, 404);
}

TEST_P(MlflowRegistryApiTest, UpdateRenameTagsAndDelete) {
  ASSERT_EQ(Post("registered-models/create", {{"name", "m"}}).status, 200);
  ASSERT_EQ(Post("model-versions/create", {{"name", "m"}, {"source", "s3://b/s"}}).status, 200);
  EXPECT_EQ(Patch("registered-models/update", {{"name", "m"}, {"description", "d"}}).json["registered_model"]["description"], "d");
  EXPECT_EQ(Patch("model-versions/update", {{"name", "m"}, {"version", "1"}, {"description", "vd"}}).json["model_version"]["description"], "vd");
  EXPECT_EQ(Post("registered-models/set-tag", {{"name", "m"}, {"key", "team"}, {"value", "risk"}}).status, 200);
  EXPECT_EQ(Post("model-versions/set-tag", {{"name", "m"}, {"version", "1"}, {"key", "ok"}, {"value", "yes"}}).status, 200);
  EXPECT_EQ(Delete("model-versions/delete-tag", {{"name", "m"}, {"version", "1"}, {"key", "ok"}}).status, 200);
  EXPECT_EQ(Delete("registered-models/delete-tag", {{"name", "m"}, {"key", "team"}}).status, 200);
  Reply renamed = Post("registered-models/rename", {{"name", "m"}, {"new_name", "m2"}});
  ASSERT_EQ(renamed.status, 200) << renamed.body;
  EXPECT_EQ(Get("model-versions/get?name=m2&version=1").status, 200);
  EXPECT_EQ(Get("registered-models/get?name=m").status, 404);
  EXPECT_EQ(Delete("model-versions/delete", {{"name", "m2"}, {"version", "1"}}).status, 200);
  Reply gone = Get("model-versions/get?name=m2&version=1");
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.json["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_EQ(Delete("registered-models/delete", {{"name", "m2"}}).status, 200);
  // DELETE with the fields in the query string, as some clients send it.
  ASSERT_EQ(Post("registered-models/create", {{"name", "q"}}).status, 200);
  EXPECT_EQ(Send("DELETE", std::string(kMlflowApiPrefix) + "/registered-models/delete?name=q", "").status, 200);
}

TEST_P(MlflowRegistryApiTest, AuditTrailNamesWhoDidWhat) {
  auto as = [&](const std::string& user, const std::string& method, const std::string& endpoint, const json& body) {
    std::string request = method + " " + std::string(kMlflowApiPrefix) + "/" + endpoint +
                          " HTTP/1.1\r\nHost: x\r\nX-Gyre-User: " + user +
                          "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.dump().size()) +
                          "\r\n\r\n" + body.dump();
    client_.Send(request);
    auto r = client_.Read();
    EXPECT_TRUE(r && r->status == 200) << endpoint << " " << (r ? r->body : "");
  };
  as("ann", "POST", "registered-models/create", {{"name", "ato"}});
  as("ann", "POST", "model-versions/create", {{"name", "ato"}, {"source", "s3://b/s1"}});
  as("ann", "POST", "model-versions/create", {{"name", "ato"}, {"source", "s3://b/s2"}});
  as("bob", "POST", "registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "1"}});
  as("bob", "POST", "registered-models/alias", {{"name", "ato"}, {"alias", "champion"}, {"version", "2"}});
  Reply audit = Send("GET", "/api/v1/audit?model=ato", "");
  ASSERT_EQ(audit.status, 200) << audit.body;
  const json& entries = audit.json["entries"];
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[0]["action"], "alias.set");  // newest first
  EXPECT_EQ(entries[0]["actor"], "bob");
  EXPECT_EQ(entries[0]["alias"], "champion");
  EXPECT_EQ(entries[0]["before"]["version"], "1");
  EXPECT_EQ(entries[0]["after"]["version"], "2");
  EXPECT_EQ(entries[4]["action"], "model.create");
  EXPECT_EQ(entries[4]["actor"], "ann");
  Reply only_alias = Send("GET", "/api/v1/audit?model=ato&action=alias.set&max_results=1", "");
  EXPECT_EQ(only_alias.json["entries"].size(), 1u);
  EXPECT_TRUE(only_alias.json.contains("next_page_token"));
}

TEST_P(MlflowRegistryApiTest, BadInputIs4xxWithMlflowShape) {
  EXPECT_EQ(Post("model-versions/create", {{"name", "nope"}, {"source", "s3://b/s"}}).status, 404);
  Reply no_source = Post("model-versions/create", {{"name", "x"}});
  EXPECT_EQ(no_source.status, 400);
  EXPECT_EQ(no_source.json["message"], "Missing value for required parameter 'source'.");
  ASSERT_EQ(Post("registered-models/create", {{"name", "x"}}).status, 200);
  EXPECT_EQ(Get("model-versions/get?name=x&version=abc").status, 400);
  EXPECT_EQ(Post("model-versions/transition-stage", {{"name", "x"}, {"version", "1"}, {"stage", "Staging"}}).status, 404);
  ASSERT_EQ(Post("model-versions/create", {{"name", "x"}, {"source", "s3://b/s"}}).status, 200);
  Reply bad_stage = Post("model-versions/transition-stage", {{"name", "x"}, {"version", "1"}, {"stage", "Prod"}});
  EXPECT_EQ(bad_stage.status, 400);
  EXPECT_EQ(bad_stage.json["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(Get("registered-models/search?max_results=100000").status, 400);
  EXPECT_EQ(Send("GET", "/api/v1/models/resolve?uri=runs:/abc", "").status, 400);
}

INSTANTIATE_TEST_SUITE_P(Backends, MlflowRegistryApiTest, ::testing::ValuesIn(store::testing::Backends()),
                         store::testing::BackendName);

}  // namespace
}  // namespace gyre::api
