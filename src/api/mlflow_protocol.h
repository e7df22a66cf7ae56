// The MLflow REST 2.0 wire format, shared by the tracking and registry routes: reading request fields the
// way MLflow's server does (query string for GET, JSON body otherwise; int64 as numbers or numeric strings,
// as protobuf's JSON mapping allows), writing messages with MLflow's field names, and MLflow's error shape
// {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": "..."} with its HTTP statuses.
// Facts: ../shared/reference/mlflow-rest.md. Pure functions; thread-safe.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "http/message.h"
#include "http/router.h"
#include "http/status_mapping.h"
#include "tracking/types.h"

namespace gyre::auth {
class AuthStore;
}

namespace gyre::api {

inline constexpr const char* kMlflowApiPrefix = "/api/2.0/mlflow";
inline constexpr const char* kMlflowAjaxPrefix = "/ajax-api/2.0/mlflow";  // the MLflow UI's prefix
inline constexpr const char* kMlflowArtifactsPrefix = "/api/2.0/mlflow-artifacts";

// Request fields as one JSON object: the body of a POST/PATCH/DELETE, or the query string of a GET or of
// a request with an empty body (every value a string; a key that repeats becomes an array).
class MlflowFields {
 public:
  static Result<MlflowFields> From(const http::Request& request);

  // A string field. Required: missing → INVALID_PARAMETER_VALUE "Missing value for required parameter 'x'".
  Result<std::string> RequiredString(const std::string& key) const;
  Result<std::optional<std::string>> OptionalString(const std::string& key) const;
  // int64 from a JSON number or a numeric string.
  Result<std::optional<int64_t>> OptionalInt(const std::string& key) const;
  Result<int64_t> RequiredInt(const std::string& key) const;
  Result<std::optional<double>> OptionalDouble(const std::string& key) const;  // also "NaN", "Infinity"
  Result<std::optional<bool>> OptionalBool(const std::string& key) const;
  // A repeated string field; a single value counts as a list of one.
  Result<std::vector<std::string>> StringList(const std::string& key) const;
  // [{"key": ..., "value": ...}, ...]
  Result<std::vector<tracking::Tag>> Tags(const std::string& key) const;
  Result<std::vector<tracking::Metric>> Metrics(const std::string& key) const;

  const nlohmann::json& json() const { return json_; }

 private:
  explicit MlflowFields(nlohmann::json json) : json_(std::move(json)) {}
  nlohmann::json json_;
};

// Metric from its JSON object (value may be a number or "NaN"/"Infinity"/"-Infinity"; step defaults to 0).
// `object_path` prefixes field names in errors ("metrics[3]"); "" for a top-level body.
Result<tracking::Metric> MetricFromJson(const nlohmann::json& j, const std::string& object_path);

// Who the caller acts for. With authentication on (api/route_permissions.h), the authenticated user and
// nothing else. Off: the user of HTTP Basic credentials (what the MLflow client sends with
// MLFLOW_TRACKING_USERNAME), else an X-Gyre-User header, else "" — as claimed, unchecked. Recorded in the
// registry's audit log and as the prediction log's caller.
std::string ActorOf(const http::Request& request);

// Messages.
nlohmann::json ToJson(const tracking::Tag& tag);
nlohmann::json ToJson(const tracking::Metric& metric);
nlohmann::json ToJson(const tracking::Experiment& experiment);
nlohmann::json ToJson(const tracking::RunInfo& info);
nlohmann::json ToJson(const tracking::Run& run);
nlohmann::json TagsToJson(const std::vector<tracking::Tag>& tags);
// A double as protobuf's JSON mapping writes it: a number, or "NaN" / "Infinity" / "-Infinity".
nlohmann::json DoubleToJson(double v);

// The ErrorFormatter for MLflow's route prefixes: MLflow's body and statuses (RESOURCE_ALREADY_EXISTS is
// 400 in MLflow, not 409; an unknown endpoint is ENDPOINT_NOT_FOUND).
http::Response MlflowErrorFormatter(const http::ErrorInfo& info);

// Route tables of member-function handlers, shared by the tracking and registry route groups.
template <typename Routes>
using RouteMethod = Result<http::Response> (Routes::*)(const http::Request&);

template <typename Routes>
struct MlflowRoute {
  const char* method;
  const char* path;  // after the MLflow prefix, e.g. "runs/create"
  RouteMethod<Routes> handler;
  // A change worth a line in the log of audited requests (auth::AuthStore::RecordRequest): experiments and
  // runs created, renamed, deleted... — not the metrics, params and tags logged into a run, which are data.
  bool audited = false;
};

// `handler`, then, when it answered 2xx, a record of who made the change (ActorOf), `method` and `route`, the
// request's target, status and id in `audit`'s log. A record that cannot be written is logged as an error
// (the change is made by then; the caller still gets its answer). Defined with the routes that use it
// (mlflow_tracking_routes.cc), so the fuzz targets that link this file's parsers need no auth store.
http::Handler AuditedHandler(http::Handler handler, auth::AuthStore* audit, std::string method, std::string route);

// A handler that calls `method` on the shared route object.
template <typename Routes>
http::Handler BindRoute(std::shared_ptr<Routes> routes, RouteMethod<Routes> method) {
  return [routes = std::move(routes), method](const http::Request& req) { return (*routes.*method)(req); };
}

// Adds every route under both MLflow prefixes (the API's and the UI's ajax-api), with MLflow's errors; the
// table's audited routes record their changes in `audit` when it is given.
template <typename Routes, size_t N>
void AddMlflowRoutes(http::Router& router, const std::shared_ptr<Routes>& routes,
                     const MlflowRoute<Routes> (&table)[N], auth::AuthStore* audit = nullptr) {
  for (const char* prefix : {kMlflowApiPrefix, kMlflowAjaxPrefix}) {
    router.SetErrorFormatter(prefix, MlflowErrorFormatter);
    for (const MlflowRoute<Routes>& r : table) {
      std::string pattern = std::string(prefix) + "/" + r.path;
      http::Handler handler = BindRoute(routes, r.handler);
      if (audit != nullptr && r.audited) handler = AuditedHandler(std::move(handler), audit, r.method, pattern);
      router.Add(r.method, pattern, std::move(handler));
    }
  }
}

// MLflow's error code for a Status ("INVALID_PARAMETER_VALUE", "RESOURCE_DOES_NOT_EXIST", ...).
std::string_view MlflowErrorCode(StatusCode code);

}  // namespace gyre::api
