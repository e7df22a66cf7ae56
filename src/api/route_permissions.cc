#include "api/route_permissions.h"

#include <fmt/format.h>

#include <map>
#include <string>

#include "api/mlflow_protocol.h"

namespace gyre::api {

namespace {

using auth::Permission;

constexpr RoutePermission kTable[] = {
    // The server's index (gyre server) and the health, readiness and metrics routes scrapers and load
    // balancers call without credentials.
    {"GET", "/", Permission::kRead},
    {"GET", "/health", Permission::kOpen},  // http::Server's own
    {"GET", "/metrics", Permission::kOpen},
    {"GET", "/ping", Permission::kOpen},
    {"GET", "/version", Permission::kOpen},
    {"GET", "/v2", Permission::kOpen},
    {"GET", "/v2/health/live", Permission::kOpen},
    {"GET", "/v2/health/ready", Permission::kOpen},
    {"GET", "/v2/models/{model}/ready", Permission::kOpen},
    {"GET", "/v2/models/{model}/versions/{version}/ready", Permission::kOpen},

    // MLflow tracking (api/mlflow_tracking_routes.cc).
    {"POST", "/api/2.0/mlflow/experiments/create", Permission::kTrack},
    {"GET", "/api/2.0/mlflow/experiments/get", Permission::kRead},
    {"GET", "/api/2.0/mlflow/experiments/get-by-name", Permission::kRead},
    {"POST", "/api/2.0/mlflow/experiments/search", Permission::kRead},
    {"GET", "/api/2.0/mlflow/experiments/search", Permission::kRead},
    {"POST", "/api/2.0/mlflow/experiments/delete", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/experiments/restore", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/experiments/update", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/experiments/set-experiment-tag", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/create", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/update", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/delete", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/restore", Permission::kTrack},
    {"GET", "/api/2.0/mlflow/runs/get", Permission::kRead},
    {"POST", "/api/2.0/mlflow/runs/log-metric", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/log-parameter", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/set-tag", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/delete-tag", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/log-batch", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/log-inputs", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/log-model", Permission::kTrack},
    {"POST", "/api/2.0/mlflow/runs/search", Permission::kRead},
    {"GET", "/api/2.0/mlflow/metrics/get-history", Permission::kRead},
    {"GET", "/api/2.0/mlflow/artifacts/list", Permission::kRead},
    // The artifact proxy.
    {"GET", "/api/2.0/mlflow-artifacts/artifacts", Permission::kRead},
    {"GET", "/api/2.0/mlflow-artifacts/artifacts/{path...}", Permission::kRead},
    {"PUT", "/api/2.0/mlflow-artifacts/artifacts/{path...}", Permission::kTrack},
    {"DELETE", "/api/2.0/mlflow-artifacts/artifacts/{path...}", Permission::kTrack},

    // MLflow model registry (api/mlflow_registry_routes.cc) and gyre's audit log.
    {"POST", "/api/2.0/mlflow/registered-models/create", Permission::kRegister},
    {"GET", "/api/2.0/mlflow/registered-models/get", Permission::kRead},
    {"GET", "/api/2.0/mlflow/registered-models/search", Permission::kRead},
    {"POST", "/api/2.0/mlflow/registered-models/search", Permission::kRead},
    {"POST", "/api/2.0/mlflow/registered-models/rename", Permission::kRegister},
    {"PATCH", "/api/2.0/mlflow/registered-models/update", Permission::kRegister},
    {"DELETE", "/api/2.0/mlflow/registered-models/delete", Permission::kDeleteModels},
    {"POST", "/api/2.0/mlflow/registered-models/get-latest-versions", Permission::kRead},
    {"GET", "/api/2.0/mlflow/registered-models/get-latest-versions", Permission::kRead},
    {"POST", "/api/2.0/mlflow/registered-models/set-tag", Permission::kRegister},
    {"DELETE", "/api/2.0/mlflow/registered-models/delete-tag", Permission::kRegister},
    {"POST", "/api/2.0/mlflow/registered-models/alias", Permission::kPromote},
    {"DELETE", "/api/2.0/mlflow/registered-models/alias", Permission::kPromote},
    {"GET", "/api/2.0/mlflow/registered-models/alias", Permission::kRead},
    {"POST", "/api/2.0/mlflow/model-versions/create", Permission::kRegister},
    {"GET", "/api/2.0/mlflow/model-versions/get", Permission::kRead},
    {"GET", "/api/2.0/mlflow/model-versions/search", Permission::kRead},
    {"POST", "/api/2.0/mlflow/model-versions/search", Permission::kRead},
    {"PATCH", "/api/2.0/mlflow/model-versions/update", Permission::kRegister},
    {"DELETE", "/api/2.0/mlflow/model-versions/delete", Permission::kDeleteModels},
    {"POST", "/api/2.0/mlflow/model-versions/transition-stage", Permission::kPromote},
    {"GET", "/api/2.0/mlflow/model-versions/get-download-uri", Permission::kRead},
    {"POST", "/api/2.0/mlflow/model-versions/set-tag", Permission::kRegister},
    {"DELETE", "/api/2.0/mlflow/model-versions/delete-tag", Permission::kRegister},
    {"GET", "/api/v1/audit", Permission::kRead},
    {"GET", "/api/v1/models/resolve", Permission::kRead},

    // Online features (api/feature_routes.cc).
    {"POST", "/get-online-features", Permission::kRead},
    {"POST", "/push", Permission::kFeatures},

    // Scoring (api/serving_routes.cc): every score is written to the prediction log.
    {"POST", "/v1/score/{deployment}", Permission::kScore},
    {"POST", "/invocations", Permission::kScore},
    {"GET", "/v2/models/{model}", Permission::kRead},
    {"GET", "/v2/models/{model}/versions/{version}", Permission::kRead},
    {"POST", "/v2/models/{model}/infer", Permission::kScore},
    {"POST", "/v2/models/{model}/versions/{version}/infer", Permission::kScore},
};

// The MLflow UI's prefix reads as the API's.
std::string Canonical(std::string_view pattern) {
  std::string_view ajax = kMlflowAjaxPrefix;
  if (pattern.starts_with(ajax) && (pattern.size() == ajax.size() || pattern[ajax.size()] == '/')) {
    return std::string(kMlflowApiPrefix) + std::string(pattern.substr(ajax.size()));
  }
  return std::string(pattern);
}

// Resolved once per route when the guard is installed, so a request costs one map lookup.
using PermissionIndex = std::map<std::pair<std::string, std::string>, Permission>;

http::Response Unauthenticated(const http::Router& router, const http::Request& req, std::string message) {
  Status status = Status::PermissionDenied(std::move(message));
  http::Response r = router.Error(req.path, http::ErrorInfo{401, status, req.request_id, http::ErrorSource::kHandler});
  r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"gyre\", Basic realm=\"gyre\", charset=\"UTF-8\"");
  return r;
}

}  // namespace

std::span<const RoutePermission> RoutePermissions() { return kTable; }

std::optional<Permission> PermissionFor(std::string_view method, std::string_view pattern) {
  std::string canonical = Canonical(pattern);
  for (const RoutePermission& p : kTable) {
    if (p.method == method && p.pattern == canonical) return p.permission;
  }
  return std::nullopt;
}

Status RequireAuth(http::Router& router, auth::AuthStore& store) {
  auto index = std::make_shared<PermissionIndex>();
  std::string missing;
  for (const http::RouteRef& route : router.Routes()) {
    std::optional<Permission> p = PermissionFor(route.method, route.pattern);
    if (!p) {
      missing += fmt::format("{}{} {}", missing.empty() ? "" : ", ", route.method, route.pattern);
      continue;
    }
    (*index)[{std::string(route.method), std::string(route.pattern)}] = *p;
  }
  if (!missing.empty()) {
    return Status::FailedPrecondition(
        fmt::format("routes without an entry in api/route_permissions.cc (who may call them?): {}", missing));
  }
  const http::Router* r = &router;
  router.SetGuard([index, r, &store](const http::Request& req, const http::RouteRef& route,
                                     std::string* user) -> std::optional<http::Response> {
    auto it = index->find({std::string(route.method), std::string(route.pattern)});
    if (it == index->end()) {
      // Added after RequireAuth: nobody may call it until the table names who may.
      return r->Error(req.path, http::ErrorInfo{403,
                                                Status::PermissionDenied(fmt::format(
                                                    "{} {} has no permission entry", route.method, route.pattern)),
                                                req.request_id, http::ErrorSource::kHandler});
    }
    Permission needed = it->second;
    if (needed == Permission::kOpen) return std::nullopt;
    auth::Credentials credentials = auth::ParseAuthorization(req.Header("Authorization"));
    if (credentials.kind == auth::Credentials::Kind::kNone) {
      return Unauthenticated(*r, req,
                             "authentication required: send an API token as 'Authorization: Bearer <token>' "
                             "(MLFLOW_TRACKING_TOKEN) or HTTP Basic with your user name and a token as the "
                             "password (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)");
    }
    Result<auth::Identity> identity = store.Authenticate(credentials);
    if (!identity.ok()) {
      if (identity.status().code() != StatusCode::kPermissionDenied) {
        // The database could not be asked: not the client's fault, and not a verdict on its token.
        return r->Error(req.path, http::ErrorInfo{503, identity.status(), req.request_id,
                                                  http::ErrorSource::kHandler});
      }
      return Unauthenticated(*r, req, fmt::format("authentication failed: {}", identity.status().message()));
    }
    if (!auth::RoleAllows(identity->role, needed)) {
      return r->Error(req.path,
                      http::ErrorInfo{403,
                                      Status::PermissionDenied(fmt::format(
                                          "user '{}' ({}) lacks the '{}' permission that {} {} needs",
                                          identity->user, auth::RoleName(identity->role),
                                          auth::PermissionName(needed), req.method, route.pattern)),
                                      req.request_id, http::ErrorSource::kHandler});
    }
    *user = identity->user;
    return std::nullopt;
  });
  return Status::OK();
}

}  // namespace gyre::api
