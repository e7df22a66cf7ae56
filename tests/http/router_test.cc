#include "http/router.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <stdexcept>
#include <string>
#include <thread>

#include "http/json.h"

namespace gyre::http {
namespace {

// Runs one request through the router as the server would.
class RouterTest : public ::testing::Test {
 protected:
  Response Call(std::string_view method, std::string_view target, std::string_view body = {}) {
    Request req;
    req.method = method;
    req.target = target;
    req.body = body;
    req.request_id = "req-1";
    return router_.Handle(req, &scratch_);
  }
  static nlohmann::json Body(const Response& r) { return nlohmann::json::parse(r.body); }
  static std::string AllowOf(const Response& r) {
    for (const auto& [name, value] : r.headers) {
      if (name == "Allow") return value;
    }
    return "<none>";
  }

  // Echoes what the handler saw.
  static Result<Response> Echo(const Request& req) {
    nlohmann::json j;
    j["method"] = req.method;
    j["path"] = req.path;
    for (const PathParam& p : req.params) j["params"][std::string(p.name)] = p.value;
    for (const QueryParam& q : req.query) j["query"][q.name] = q.value;
    return JsonResponse(j);
  }

  Router router_;
  RequestScratch scratch_;
};

TEST_F(RouterTest, MatchesLiteralsAndParameters) {
  router_.Add("POST", "/v2/models/{name}/versions/{version}/infer", Echo);
  router_.Add("GET", "/v2/models/{name}", Echo);
  ASSERT_TRUE(router_.status().ok());

  Response r = Call("POST", "/v2/models/fraud%20v2/versions/3/infer");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["params"]["name"], "fraud v2");
  EXPECT_EQ(Body(r)["params"]["version"], "3");
  EXPECT_EQ(Body(r)["path"], "/v2/models/fraud%20v2/versions/3/infer");

  r = Call("GET", "/v2/models/a%2Fb");  // an encoded slash stays inside its segment
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["params"]["name"], "a/b");
}

TEST_F(RouterTest, TrailingWildcardTakesTheRest) {
  router_.Add("GET", "/api/2.0/mlflow-artifacts/artifacts/{path...}", Echo);
  Response r = Call("GET", "/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model%20dir/MLmodel?x=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["params"]["path"], "1/abc/artifacts/model dir/MLmodel");
  EXPECT_EQ(Body(r)["query"]["x"], "1");
  r = Call("GET", "/api/2.0/mlflow-artifacts/artifacts/");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["params"]["path"], "");
  EXPECT_EQ(Call("GET", "/api/2.0/mlflow-artifacts/artifacts").status, 404);
}

TEST_F(RouterTest, LiteralBeatsParameterWithBacktracking) {
  router_.Add("GET", "/models/search", [](const Request&) -> Result<Response> { return Response(200, "\"search\""); });
  router_.Add("GET", "/models/{name}", [](const Request& r) -> Result<Response> {
    return Response(200, "\"" + std::string(r.Param("name")) + "\"");
  });
  router_.Add("GET", "/models/{name}/latest", Echo);
  router_.Add("POST", "/models/search/run", Echo);
  EXPECT_EQ(Call("GET", "/models/search").body, "\"search\"");
  EXPECT_EQ(Call("GET", "/models/other").body, "\"other\"");
  // "search" matches the literal first, which has no /latest; the router backtracks to {name}.
  Response r = Call("GET", "/models/search/latest");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["params"]["name"], "search");
  EXPECT_EQ(Call("GET", "/models/").status, 404);  // {name} needs a non-empty segment
}

TEST_F(RouterTest, UnknownPathIs404WithDefaultErrorShape) {
  router_.Add("GET", "/health", Echo);
  Response r = Call("GET", "/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error_code"], "NOT_FOUND");
  EXPECT_EQ(Body(r)["error"], "no route for GET /nope");
  EXPECT_EQ(Call("GET", "/health/").status, 404);
}

TEST_F(RouterTest, WrongMethodIs405WithAllow) {
  router_.Add("GET", "/models/{name}", Echo);
  router_.Add("DELETE", "/models/{name}", Echo);
  router_.Add("POST", "/models/search", Echo);
  Response r = Call("PUT", "/models/x");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(AllowOf(r), "GET, DELETE, HEAD");
  // Both the literal and the parameter route match this path: Allow lists all their methods.
  r = Call("PATCH", "/models/search");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(AllowOf(r), "POST, GET, DELETE, HEAD");
}

TEST_F(RouterTest, HeadUsesGetRoute) {
  router_.Add("GET", "/x", Echo);
  Response r = Call("HEAD", "/x");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Body(r)["method"], "HEAD");
}

TEST_F(RouterTest, MalformedEscapesAre400) {
  router_.Add("GET", "/m/{name}", Echo);
  Response r = Call("GET", "/m/a%zz");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "INVALID_ARGUMENT");
  EXPECT_NE(Body(r)["error"].get<std::string>().find("path '/m/a%zz'"), std::string::npos) << r.body;
  r = Call("GET", "/m/a?q=%4");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(Body(r)["error"].get<std::string>().find("query parameter 'q'"), std::string::npos) << r.body;
  EXPECT_EQ(Call("GET", "/m/a%00b").status, 400);
}

TEST_F(RouterTest, HandlerStatusMapsToHttpStatus) {
  struct Case {
    Status status;
    int http;
    const char* code;
  };
  std::vector<Case> cases = {
      {Status::InvalidArgument("bad"), 400, "INVALID_ARGUMENT"},
      {Status::NotFound("no model 'm'"), 404, "NOT_FOUND"},
      {Status::AlreadyExists("dup"), 409, "ALREADY_EXISTS"},
      {Status::FailedPrecondition("not loaded"), 409, "FAILED_PRECONDITION"},
      {Status::PermissionDenied("no"), 403, "PERMISSION_DENIED"},
      {Status::ResourceExhausted("queue full"), 429, "RESOURCE_EXHAUSTED"},
      {Status::Unavailable("later"), 503, "UNAVAILABLE"},
      {Status::DeadlineExceeded("slow"), 504, "DEADLINE_EXCEEDED"},
      {Status::Unimplemented("nope"), 501, "UNIMPLEMENTED"},
      {Status::IOError("disk"), 500, "INTERNAL"},
      {Status::Internal("bug"), 500, "INTERNAL"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    Status s = cases[i].status;
    router_.Add("GET", "/case/" + std::to_string(i), [s](const Request&) -> Result<Response> { return s; });
  }
  for (size_t i = 0; i < cases.size(); ++i) {
    Response r = Call("GET", "/case/" + std::to_string(i));
    EXPECT_EQ(r.status, cases[i].http) << cases[i].code;
    EXPECT_EQ(Body(r)["error_code"], cases[i].code);
    if (r.status != 500) {
      EXPECT_EQ(Body(r)["error"], cases[i].status.message());
    }
  }
}

TEST_F(RouterTest, HandlerExceptionIs500WithRequestId) {
  router_.Add("GET", "/boom", [](const Request&) -> Result<Response> { throw std::runtime_error("kaput"); });
  router_.Add("GET", "/boom2", [](const Request&) -> Result<Response> { throw 42; });
  Response r = Call("GET", "/boom");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(Body(r)["error_code"], "INTERNAL");
  EXPECT_NE(Body(r)["error"].get<std::string>().find("req-1"), std::string::npos) << r.body;
  // The exception text is logged, not shown to the client.
  EXPECT_EQ(r.body.find("kaput"), std::string::npos);
  EXPECT_EQ(Call("GET", "/boom2").status, 500);
}

// Every answer a route's handler gives is timed in that route, errors and exceptions included; what the
// router refuses itself (404, 405, 400) is in no route.
TEST_F(RouterTest, EachRouteTimesItsAnswers) {
  router_.Add("GET", "/a/{id}", [](const Request&) -> Result<Response> {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return Response::Text(200, "ok");
  });
  router_.Add("POST", "/a/{id}", [](const Request&) -> Result<Response> { return Status::NotFound("no such a"); });
  router_.Add("GET", "/boom", [](const Request&) -> Result<Response> { throw std::runtime_error("boom"); });
  router_.Add("GET", "/never", Echo);
  ASSERT_TRUE(router_.status().ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("GET", "/a/" + std::to_string(i)).status, 200);
  EXPECT_EQ(Call("HEAD", "/a/1").status, 200);  // served by the GET route
  EXPECT_EQ(Call("POST", "/a/1").status, 404);  // the handler's 404
  EXPECT_EQ(Call("GET", "/boom").status, 500);
  EXPECT_EQ(Call("GET", "/nothing-here").status, 404);
  EXPECT_EQ(Call("DELETE", "/a/1").status, 405);
  EXPECT_EQ(Call("GET", "/a/%zz").status, 400);

  std::map<std::string, HistogramSnapshot> seen;
  router_.VisitRouteLatencies([&](const Router::RouteLatency& r) {
    seen[std::string(r.method) + " " + std::string(r.pattern)] = r.latency.Snapshot();
  });
  ASSERT_EQ(seen.size(), 4U);
  EXPECT_EQ(seen["GET /a/{id}"].count(), 4U);
  EXPECT_GE(seen["GET /a/{id}"].sum, 4 * 0.002);
  EXPECT_EQ(seen["GET /a/{id}"].cumulative[0], 0U) << "none under 100 µs: each slept 2 ms";
  EXPECT_EQ(seen["POST /a/{id}"].count(), 1U);
  EXPECT_EQ(seen["GET /boom"].count(), 1U);
  EXPECT_EQ(seen["GET /never"].count(), 0U);
}

TEST_F(RouterTest, RouteGroupsPickTheirErrorFormatter) {
  router_.SetErrorFormatter("/api/2.0/mlflow", [](const ErrorInfo& info) {
    nlohmann::json j = {{"error_code", info.source == ErrorSource::kRouting ? "ENDPOINT_NOT_FOUND"
                                                                              : "INVALID_PARAMETER_VALUE"},
                        {"message", info.status.message()}};
    return JsonResponse(j, info.http_status);
  });
  router_.Add("GET", "/api/2.0/mlflow/runs/get",
              [](const Request&) -> Result<Response> { return Status::InvalidArgument("run_id is required"); });
  Response r = Call("GET", "/api/2.0/mlflow/runs/get");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Body(r)["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_EQ(Body(r)["message"], "run_id is required");
  r = Call("GET", "/api/2.0/mlflow/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(Body(r)["error_code"], "ENDPOINT_NOT_FOUND");
  // A prefix only covers whole segments.
  r = Call("GET", "/api/2.0/mlflowx");
  EXPECT_EQ(Body(r)["error_code"], "NOT_FOUND");
}

TEST_F(RouterTest, RegistrationErrorsAreKept) {
  router_.Add("GET", "/ok", Echo);
  EXPECT_TRUE(router_.status().ok());
  router_.Add("GET", "no-slash", Echo);
  router_.Add("GET", "/also/{bad", Echo);
  EXPECT_TRUE(router_.status().IsInvalidArgument());
  EXPECT_NE(router_.status().message().find("no-slash"), std::string::npos) << router_.status().message();

  Router r2;
  r2.Add("GET", "/a/{x}", Echo);
  r2.Add("GET", "/a/{y}", Echo);
  EXPECT_EQ(r2.status().code(), StatusCode::kAlreadyExists);
  Router r3;
  r3.Add("GET", "/a/{rest...}/b", Echo);
  EXPECT_FALSE(r3.status().ok());
  Router r4;
  r4.Add("GET", "/a/{x}/{x}", Echo);
  EXPECT_FALSE(r4.status().ok());
  Router r5;
  r5.Add("GET", "/a/b{x}", Echo);
  EXPECT_FALSE(r5.status().ok());
}

TEST_F(RouterTest, RequestAccessors) {
  HeaderField headers[] = {{"Content-Type", "application/json"}, {"X-Thing", "1"}};
  QueryParam query[] = {{"a", "1"}, {"flag", ""}};
  Request req;
  req.headers = headers;
  req.query = query;
  EXPECT_EQ(req.Header("content-type").value_or("?"), "application/json");
  EXPECT_FALSE(req.Header("missing").has_value());
  EXPECT_EQ(req.Query("flag").value_or("?"), "");
  EXPECT_FALSE(req.Query("b").has_value());
}

}  // namespace
}  // namespace gyre::http
