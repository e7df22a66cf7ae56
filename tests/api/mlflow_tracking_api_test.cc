// The MLflow tracking compatibility suite: raw HTTP requests shaped like the MLflow 2.12 Python client's,
// asserting the response shapes, error codes and statuses it parses. Runs on SQLite and PostgreSQL.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "tests/api/mlflow_fixture.h"

namespace gyre::api {
namespace {

using nlohmann::json;
using testing::MlflowServerTest;
using testing::Reply;

class MlflowTrackingApiTest : public MlflowServerTest {
 protected:
  std::string CreateExperiment(const std::string& name) {
    Reply r = Post("experiments/create", {{"name", name}});
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json.value("experiment_id", "");
  }
  json CreateRun(const std::string& experiment_id, const std::string& name = "") {
    json body = {{"experiment_id", experiment_id},
                 {"start_time", 1700000000000},
                 {"tags",
                  {{{"key", "mlflow.user"}, {"value", "ann"}},
                   {{"key", "mlflow.source.name"}, {"value", "train.py"}},
                   {{"key", "mlflow.source.type"}, {"value", "LOCAL"}}}}};
    if (!name.empty()) body["run_name"] = name;
    Reply r = Post("runs/create", body);
    EXPECT_EQ(r.status, 200) << r.body;
    return r.json["run"];
  }
};

TEST_P(MlflowTrackingApiTest, StartRunFlowOfTheFluentClient) {
  // mlflow.set_experiment("ato"): get-by-name (404), then create.
  Reply missing = Get("experiments/get-by-name?experiment_name=ato");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json["error_code"], "RESOURCE_DOES_NOT_EXIST");
  EXPECT_TRUE(missing.json["message"].is_string());
  std::string exp_id = CreateExperiment("ato");
  ASSERT_FALSE(exp_id.empty());
  Reply got = Get("experiments/get-by-name?experiment_name=ato");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.json["experiment"]["experiment_id"], exp_id);
  EXPECT_EQ(got.json["experiment"]["name"], "ato");
  EXPECT_EQ(got.json["experiment"]["lifecycle_stage"], "active");
  EXPECT_EQ(got.json["experiment"]["artifact_location"], "mlflow-artifacts:/" + exp_id);
  EXPECT_TRUE(got.json["experiment"]["creation_time"].is_number_integer());

  // mlflow.start_run()
  json run = CreateRun(exp_id);
  const json& info = run["info"];
  std::string run_id = info["run_id"];
  EXPECT_EQ(run_id.size(), 32u);
  EXPECT_EQ(info["run_uuid"], run_id);
  EXPECT_EQ(info["experiment_id"], exp_id);
  EXPECT_EQ(info["user_id"], "ann");
  EXPECT_EQ(info["status"], "RUNNING");
  EXPECT_EQ(info["start_time"], 1700000000000);
  EXPECT_EQ(info["lifecycle_stage"], "active");
  EXPECT_EQ(info["artifact_uri"], "mlflow-artifacts:/" + exp_id + "/" + run_id + "/artifacts");
  EXPECT_FALSE(info["run_name"].get<std::string>().empty());  // generated, as MLflow does
  std::set<std::string> tag_keys;
  for (const auto& t : run["data"]["tags"]) tag_keys.insert(t["key"]);
  EXPECT_TRUE(tag_keys.count("mlflow.runName") && tag_keys.count("mlflow.user"));

  // mlflow.log_params + log_metrics: one log-batch each.
  json params = json::array(), metrics = json::array();
  for (int i = 0; i < 10; ++i) params.push_back({{"key", "p" + std::to_string(i)}, {"value", std::to_string(i)}});
  for (int i = 0; i < 20; ++i) {
    metrics.push_back({{"key", "m" + std::to_string(i)}, {"value", i * 0.5}, {"timestamp", 1700000000100}, {"step", 0}});
  }
  Reply batch = Post("runs/log-batch", {{"run_id", run_id}, {"params", params}, {"metrics", metrics}, {"tags", json::array()}});
  ASSERT_EQ(batch.status, 200) << batch.body;
  EXPECT_EQ(batch.json, json::object());

  // mlflow.end_run()
  Reply updated = Post("runs/update", {{"run_id", run_id}, {"run_uuid", run_id}, {"status", "FINISHED"}, {"end_time", 1700000009000}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  EXPECT_EQ(updated.json["run_info"]["status"], "FINISHED");
  EXPECT_EQ(updated.json["run_info"]["end_time"], 1700000009000);

  Reply fetched = Get("runs/get?run_id=" + run_id + "&run_uuid=" + run_id);
  ASSERT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.json["run"]["data"]["params"].size(), 10u);
  EXPECT_EQ(fetched.json["run"]["data"]["metrics"].size(), 20u);
  EXPECT_EQ(fetched.json["run"]["info"]["status"], "FINISHED");
}

TEST_P(MlflowTrackingApiTest, LogMetricHistoryPagingAndNaN) {
  std::string run_id = CreateRun("0")["info"]["run_id"];
  for (int i = 0; i < 30; ++i) {
    json value = i == 5 ? json("NaN") : json(1.0 / (i + 1));
    Reply r = Post("runs/log-metric", {{"run_id", run_id}, {"run_uuid", run_id}, {"key", "loss"}, {"value", value},
                                       {"timestamp", std::to_string(1700000000000 + i)}, {"step", i}});
    ASSERT_EQ(r.status, 200) << r.body;
  }
  Reply first = Get("metrics/get-history?run_uuid=" + run_id + "&run_id=" + run_id + "&metric_key=loss&max_results=20");
  ASSERT_EQ(first.status, 200) << first.body;
  ASSERT_EQ(first.json["metrics"].size(), 20u);
  EXPECT_EQ(first.json["metrics"][5]["value"], "NaN");
  EXPECT_EQ(first.json["metrics"][0]["timestamp"], 1700000000000);
  EXPECT_EQ(first.json["metrics"][3]["step"], 3);
  ASSERT_TRUE(first.json.contains("next_page_token"));
  Reply second = Get("metrics/get-history?run_id=" + run_id + "&metric_key=loss&max_results=20&page_token=" +
                     first.json["next_page_token"].get<std::string>());
  ASSERT_EQ(second.status, 200);
  EXPECT_EQ(second.json["metrics"].size(), 10u);
  EXPECT_FALSE(second.json.contains("next_page_token"));
  Reply bad_token = Get("metrics/get-history?run_id=" + run_id + "&metric_key=loss&page_token=zzz");
  EXPECT_EQ(bad_token.status, 400);
  EXPECT_EQ(bad_token.json["error_code"], "INVALID_PARAMETER_VALUE");
}

TEST_P(MlflowTrackingApiTest, ParamsAreImmutableOverHttp) {
  std::string run_id = CreateRun("0")["info"]["run_id"];
  EXPECT_EQ(Post("runs/log-parameter", {{"run_id", run_id}, {"key", "lr"}, {"value", "0.1"}}).status, 200);
  EXPECT_EQ(Post("runs/log-parameter", {{"run_id", run_id}, {"key", "lr"}, {"value", "0.1"}}).status, 200);
  Reply changed = Post("runs/log-parameter", {{"run_id", run_id}, {"key", "lr"}, {"value", "0.2"}});
  EXPECT_EQ(changed.status, 400);
  EXPECT_EQ(changed.json["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(changed.json["message"].get<std::string>().find("Changing param values is not allowed"), std::string::npos);
}

TEST_P(MlflowTrackingApiTest, SearchRunsWithFilterOrderAndPages) {
  std::string exp_id = CreateExperiment("search");
  for (int i = 0; i < 25; ++i) {
    std::string run_id = CreateRun(exp_id, "r" + std::to_string(i))["info"]["run_id"];
    Post("runs/log-batch", {{"run_id", run_id},
                            {"metrics", {{{"key", "auc"}, {"value", i / 25.0}, {"timestamp", 1}, {"step", 0}}}},
                            {"params", {{{"key", "model"}, {"value", i % 2 ? "lr" : "xgb"}}}}});
  }
  json request = {{"experiment_ids", {exp_id}},
                  {"filter", "metrics.auc > 0.4 and params.model = 'xgb'"},
                  {"run_view_type", "ACTIVE_ONLY"},
                  {"max_results", 4},
                  {"order_by", {"metrics.auc DESC"}}};
  std::vector<double> seen;
  std::string token;
  do {
    if (!token.empty()) request["page_token"] = token;
    Reply r = Post("runs/search", request);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& run : r.json["runs"]) seen.push_back(run["data"]["metrics"][0]["value"]);
    token = r.json.value("next_page_token", "");
  } while (!token.empty());
  // i even and i/25 > 0.4: 12, 14, ..., 24 → 7 runs, best first.
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_DOUBLE_EQ(seen.front(), 24 / 25.0);
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));

  Reply none = Post("runs/search", {{"experiment_ids", {exp_id}}, {"filter", "params.model = 'svm'"}});
  EXPECT_EQ(none.status, 200);
  EXPECT_FALSE(none.json.contains("runs"));  // empty fields are omitted, as MLflow does
  Reply too_many = Post("runs/search", {{"experiment_ids", {exp_id}}, {"max_results", 50001}});
  EXPECT_EQ(too_many.status, 400);
  Reply bad_filter = Post("runs/search", {{"experiment_ids", {exp_id}}, {"filter", "metrics.auc >"}});
  EXPECT_EQ(bad_filter.status, 400);
  EXPECT_EQ(bad_filter.json["error_code"], "INVALID_PARAMETER_VALUE");
}

TEST_P(MlflowTrackingApiTest, ExperimentsSearchUpdateDeleteRestore) {
  std::string id = CreateExperiment("exp-a");
  CreateExperiment("exp-b");
  Reply dup = Post("experiments/create", {{"name", "exp-a"}});
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(dup.json["error_code"], "RESOURCE_ALREADY_EXISTS");
  Reply search = Post("experiments/search", {{"filter", "name LIKE 'exp-%'"}, {"max_results", 10}, {"order_by", {"name ASC"}}});
  ASSERT_EQ(search.status, 200) << search.body;
  ASSERT_EQ(search.json["experiments"].size(), 2u);
  EXPECT_EQ(search.json["experiments"][0]["name"], "exp-a");
  Reply get_search = Get("experiments/search?max_results=1&view_type=ALL");
  EXPECT_EQ(get_search.status, 200);
  EXPECT_EQ(get_search.json["experiments"].size(), 1u);
  EXPECT_TRUE(get_search.json.contains("next_page_token"));

  EXPECT_EQ(Post("experiments/update", {{"experiment_id", id}, {"new_name", "exp-renamed"}}).status, 200);
  EXPECT_EQ(Post("experiments/set-experiment-tag", {{"experiment_id", id}, {"key", "team"}, {"value", "risk"}}).status, 200);
  Reply got = Get("experiments/get?experiment_id=" + id);
  EXPECT_EQ(got.json["experiment"]["name"], "exp-renamed");
  EXPECT_EQ(got.json["experiment"]["tags"][0]["value"], "risk");
  EXPECT_EQ(Post("experiments/delete", {{"experiment_id", id}}).status, 200);
  EXPECT_EQ(Get("experiments/get?experiment_id=" + id).json["experiment"]["lifecycle_stage"], "deleted");
  EXPECT_EQ(Post("experiments/restore", {{"experiment_id", id}}).status, 200);
  EXPECT_EQ(Get("experiments/get?experiment_id=999999").status, 404);
}

TEST_P(MlflowTrackingApiTest, RunDeleteRestoreAndTags) {
  std::string run_id = CreateRun("0", "tagged")["info"]["run_id"];
  EXPECT_EQ(Post("runs/set-tag", {{"run_id", run_id}, {"key", "note"}, {"value", "hello"}}).status, 200);
  EXPECT_EQ(Post("runs/delete-tag", {{"run_id", run_id}, {"key", "note"}}).status, 200);
  EXPECT_EQ(Post("runs/delete-tag", {{"run_id", run_id}, {"key", "note"}}).status, 404);
  EXPECT_EQ(Post("runs/delete", {{"run_id", run_id}}).status, 200);
  Reply refused = Post("runs/set-tag", {{"run_id", run_id}, {"key", "x"}, {"value", "y"}});
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(Post("runs/restore", {{"run_id", run_id}}).status, 200);
  EXPECT_EQ(Post("runs/log-inputs", {{"run_id", run_id},
                                     {"datasets", {{{"dataset", {{"name", "logins"}, {"digest", "d1"}, {"source_type", "local"}, {"source", "x.csv"}}},
                                                    {"tags", {{{"key", "mlflow.data.context"}, {"value", "train"}}}}}}}})
                .status,
            200);
  Reply got = Get("runs/get?run_id=" + run_id);
  EXPECT_EQ(got.json["run"]["inputs"]["dataset_inputs"][0]["dataset"]["name"], "logins");
}

TEST_P(MlflowTrackingApiTest, BadRequestsGetMlflowErrors) {
  Reply unknown = Get("runs/teleport?run_id=x");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(unknown.json["error_code"], "ENDPOINT_NOT_FOUND");
  Reply method = Get("runs/create");
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.json["error_code"], "BAD_REQUEST");
  Reply malformed = Send("POST", "/api/2.0/mlflow/runs/create", "{\"experiment_id\": ");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.json["error_code"], "INVALID_PARAMETER_VALUE");
  Reply missing = Post("experiments/create", json::object());
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.json["message"], "Missing value for required parameter 'name'.");
  Reply wrong_type = Post("runs/create", {{"experiment_id", "0"}, {"start_time", "soon"}});
  EXPECT_EQ(wrong_type.status, 400);
  EXPECT_NE(wrong_type.json["message"].get<std::string>().find("start_time"), std::string::npos);
  Reply no_run = Get("runs/get?run_id=ffffffffffffffffffffffffffffffff");
  EXPECT_EQ(no_run.status, 404);
  EXPECT_EQ(no_run.json["error_code"], "RESOURCE_DOES_NOT_EXIST");
  Reply batch_limit = Post("runs/log-batch", {{"run_id", "x"}, {"params", json::array()}});
  EXPECT_EQ(batch_limit.status, 404);
  // The UI's prefix serves the same routes.
  Reply ajax = Send("GET", "/ajax-api/2.0/mlflow/experiments/get?experiment_id=0", "");
  EXPECT_EQ(ajax.status, 200);
  EXPECT_EQ(ajax.json["experiment"]["name"], "Default");
}

TEST_P(MlflowTrackingApiTest, ArtifactProxyRoundTripAndListing) {
  json run = CreateRun("0");
  std::string run_id = run["info"]["run_id"];
  std::string base = "/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts";
  Reply put = Send("PUT", base + "/model/model.json", "{\"learner\": {}}", "application/octet-stream");
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_EQ(Send("PUT", base + "/report%20v1.html", "<html/>", "text/html").status, 200);
  Reply got = Send("GET", base + "/model/model.json", "");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, "{\"learner\": {}}");
  Reply listed = Get("artifacts/list?run_id=" + run_id);
  ASSERT_EQ(listed.status, 200) << listed.body;
  EXPECT_EQ(listed.json["root_uri"], run["info"]["artifact_uri"]);
  ASSERT_EQ(listed.json["files"].size(), 2u);
  EXPECT_EQ(listed.json["files"][0]["path"], "model");
  EXPECT_EQ(listed.json["files"][0]["is_dir"], true);
  EXPECT_EQ(listed.json["files"][1]["path"], "report v1.html");
  EXPECT_EQ(listed.json["files"][1]["file_size"], 7);
  Reply sub = Get("artifacts/list?run_id=" + run_id + "&path=model");
  EXPECT_EQ(sub.json["files"][0]["path"], "model/model.json");
  Reply proxy_list = Send("GET", "/api/2.0/mlflow-artifacts/artifacts?path=0/" + run_id + "/artifacts/model", "");
  EXPECT_EQ(proxy_list.json["files"][0]["path"], "model.json");
  EXPECT_EQ(Send("DELETE", base + "/model", "").status, 200);
  EXPECT_EQ(Send("GET", base + "/model/model.json", "").status, 404);
}

TEST_P(MlflowTrackingApiTest, ArtifactPathEscapesAllGet400) {
  for (const char* evil : {"../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd",
                           "%252e%252e/%252e%252e/etc/passwd", "0/..%5c..%5cetc", "a/%2E%2E/%2E%2E/%2E%2E/etc/passwd",
                           "%2Fetc%2Fpasswd", "a/%00/b"}) {
    for (const char* method : {"GET", "PUT", "DELETE"}) {
      Reply r = Send(method, std::string("/api/2.0/mlflow-artifacts/artifacts/") + evil, method == std::string("PUT") ? "x" : "");
      EXPECT_EQ(r.status, 400) << method << " " << evil << " -> " << r.body;
    }
  }
  Reply list = Send("GET", "/api/2.0/mlflow-artifacts/artifacts?path=../..", "");
  EXPECT_EQ(list.status, 400);
}

// Regression (issue 20), as an attacker sent them: a search that crashed the process inside SQLite, searches
// and uploads that earned a 500, fields stored at any size. Each is a 400 naming the limit, and the server
// answers the next request.
TEST_P(MlflowTrackingApiTest, RequestsThatCrashedOrFailedAre400s) {
  CreateRun("0");
  json order_by = json::array();
  for (int i = 0; i <= 20; ++i) order_by.push_back("metrics.m" + std::to_string(i));
  Reply crash = Post("runs/search", {{"experiment_ids", {"0"}}, {"order_by", order_by}});
  EXPECT_EQ(crash.status, 400) << crash.body;
  EXPECT_EQ(crash.json["error_code"], "INVALID_PARAMETER_VALUE");
  std::string filter = "metrics.m0 > 0";
  for (int i = 1; i < 64; ++i) filter += " AND metrics.m" + std::to_string(i) + " > 0";
  Reply joins = Post("runs/search", {{"experiment_ids", {"0"}}, {"filter", filter}});
  EXPECT_EQ(joins.status, 400) << joins.body;
  EXPECT_EQ(joins.body.find("SQL"), std::string::npos) << joins.body;
  Reply pattern = Post("runs/search", {{"experiment_ids", {"0"}}, {"filter", "params.p LIKE '" + std::string(50'000, 'x') + "'"}});
  EXPECT_EQ(pattern.status, 400) << pattern.body;
  Reply name = Post("runs/create", {{"experiment_id", "0"}, {"run_name", std::string(10 << 20, 'n')}});
  EXPECT_TRUE(name.status == 400 || name.status == 413) << name.status << " " << name.body.substr(0, 200);
  Reply long_name = Post("runs/create", {{"experiment_id", "0"}, {"run_name", std::string(251, 'n')}});
  EXPECT_EQ(long_name.status, 400) << long_name.body;

  std::string run_id = CreateRun("0")["info"]["run_id"];
  std::string base = "/api/2.0/mlflow-artifacts/artifacts/0/" + run_id + "/artifacts/";
  EXPECT_EQ(Send("PUT", base + std::string(255, 'f'), "x", "application/octet-stream").status, 200);
  EXPECT_EQ(Send("PUT", base + std::string(256, 'f'), "x", "application/octet-stream").status, 400);
  std::string deep;
  while (deep.size() <= 4096) deep += "d/";
  EXPECT_EQ(Send("PUT", base + deep + "f", "x", "application/octet-stream").status, 400);
  EXPECT_EQ(Get("experiments/get?experiment_id=0").status, 200);  // still serving
}

// mlflow.xgboost.log_model(...): the client posts the MLmodel as JSON; the server appends it to the run's
// mlflow.log-model.history tag, which the UI lists.
TEST_P(MlflowTrackingApiTest, LogModelAppendsToTheRunsModelHistory) {
  json run = CreateRun("0");
  std::string run_id = run["info"]["run_id"];
  auto model = [&](const std::string& path) {
    return json{{"artifact_path", path},
                {"run_id", run_id},
                {"utc_time_created", "2024-05-02 10:11:12.131415"},
                {"flavors",
                 {{"xgboost", {{"data", "model.xgb"}, {"model_format", "xgb"}, {"xgb_version", "1.7.4"}}},
                  {"python_function", {{"loader_module", "mlflow.xgboost"}, {"data", "model.xgb"}}}}},
                {"model_uuid", "3c1d1a6b2b8e4d2c9a0f6f3e2d1c0b9a"},
                {"mlflow_version", "2.12.1"}};
  };
  Reply first = Post("runs/log-model", {{"run_id", run_id}, {"model_json", model("model").dump()}});
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.json, json::object());
  ASSERT_EQ(Post("runs/log-model", {{"run_id", run_id}, {"model_json", model("second").dump()}}).status, 200);
  Reply got = Get("runs/get?run_id=" + run_id);
  ASSERT_EQ(got.status, 200);
  json history;
  for (const auto& t : got.json["run"]["data"]["tags"]) {
    if (t["key"] == "mlflow.log-model.history") history = json::parse(t["value"].get<std::string>());
  }
  ASSERT_TRUE(history.is_array()) << got.body;
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0], model("model"));
  EXPECT_EQ(history[1]["artifact_path"], "second");

  auto expect_error = [&](const json& body, int status, const std::string& code, const std::string& words) {
    Reply r = Post("runs/log-model", body);
    EXPECT_EQ(r.status, status) << body.dump() << " -> " << r.body;
    EXPECT_EQ(r.json["error_code"], code) << r.body;
    EXPECT_NE(r.json.value("message", "").find(words), std::string::npos) << r.body;
  };
  expect_error({{"model_json", model("m").dump()}}, 400, "INVALID_PARAMETER_VALUE", "run_id");
  expect_error({{"run_id", "0123456789abcdef0123456789abcdef"}, {"model_json", model("m").dump()}}, 404,
               "RESOURCE_DOES_NOT_EXIST", "0123456789abcdef0123456789abcdef");
  expect_error({{"run_id", run_id}, {"model_json", "{not json"}}, 400, "INVALID_PARAMETER_VALUE", "not a valid JSON");
  expect_error({{"run_id", run_id}}, 400, "INVALID_PARAMETER_VALUE", "not a valid JSON");
  json partial = model("m");
  partial.erase("flavors");
  partial.erase("utc_time_created");
  expect_error({{"run_id", run_id}, {"model_json", partial.dump()}}, 400, "INVALID_PARAMETER_VALUE",
               "missing mandatory fields: {'flavors', 'utc_time_created'}");
  // The failed calls appended nothing.
  Reply after = Get("runs/get?run_id=" + run_id);
  for (const auto& t : after.json["run"]["data"]["tags"]) {
    if (t["key"] == "mlflow.log-model.history") {
      EXPECT_EQ(json::parse(t["value"].get<std::string>()).size(), 2u);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, MlflowTrackingApiTest, ::testing::ValuesIn(store::testing::Backends()),
                         store::testing::BackendName);

}  // namespace
}  // namespace gyre::api
