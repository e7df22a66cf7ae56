// Router: maps (method, path) to a handler, and runs the request pipeline around it.
//
//   router.Add("GET", "/health", Health);
//   router.Add("POST", "/v1/score/{deployment}", Score);               // one segment, %-decoded
//   router.Add("GET", "/api/2.0/mlflow-artifacts/artifacts/{path...}", Download);  // the rest, may hold '/'
//   router.SetErrorFormatter("/api/2.0/mlflow", MlflowErrorFormatter);  // that API's error shape
//
// Matching: the path is split on '/', each segment %-decoded (malformed escapes → 400), then matched
// segment by segment. A literal segment beats a {param}, which beats a trailing {rest...}; the router
// backtracks, so GET /models/search can be a literal route beside GET /models/{name}. A trailing slash is
// significant (/health/ is not /health). No route for the path → 404; a route for the path but not the
// method → 405 with an Allow header. HEAD is served by the GET route (the server drops the body) unless a
// HEAD route exists.
//
// Handlers are synchronous and run on the server's I/O threads, concurrently, so they must be
// thread-safe and should not block for long (a blocked handler delays the other connections of its
// thread). They return a Response or a non-OK Status; the Status becomes an error body through the
// formatter for the path (status_mapping.h). A handler that throws is caught here: 500, logged with the
// request id; it never takes the server down.
//
// Registration is not thread-safe and must be finished before Server::Start. Registration errors (a
// malformed pattern, the same method+pattern twice) do not interrupt a table of Add calls: the first is
// kept in status(), and Server::Start refuses to start with it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/metrics.h"
#include "core/status.h"
#include "http/message.h"
#include "http/status_mapping.h"

namespace gyre::http {

using Handler = std::function<Result<Response>(const Request&)>;

// The route a request matched, as registered.
struct RouteRef {
  std::string_view method;
  std::string_view pattern;
};
// Runs after routing and before the handler (authentication and authorisation: api/route_permissions.h).
// Returns nullopt to let the request through, having written the authenticated user's name (or nothing)
// to *user, which the handler then sees as req.user; or the response to send instead of calling the handler.
// Called concurrently on server threads; must not throw.
using Guard = std::function<std::optional<Response>(const Request& req, const RouteRef& route, std::string* user)>;

// Storage one connection reuses from request to request, so steady-state routing does not allocate.
// Request::params and Request::query point into it after Handle().
struct RequestScratch {
  std::vector<std::string_view> raw_segments;
  std::vector<std::string> segments;  // decoded; the first segment_count are current
  size_t segment_count = 0;
  std::vector<size_t> param_segments;  // segment index of each {param} matched so far
  std::vector<PathParam> params;
  std::string rest;  // decoded value of a trailing {rest...}
  std::vector<QueryParam> query;
  size_t query_count = 0;
  std::string user;  // the guard's authenticated user (Request::user points here)
};

class Router {
 public:
  Router();
  ~Router();
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // `method` is matched exactly ("GET", "POST", ...). `pattern` starts with '/'; segments are literals,
  // "{name}", or (last only) "{name...}". Parameter names are unique within a pattern.
  void Add(std::string_view method, std::string_view pattern, Handler handler);

  // Errors for paths equal to `prefix` or under it ("/api/2.0/mlflow" covers "/api/2.0/mlflow/runs/get")
  // are built by `formatter`, including their 404s and 405s. The longest matching prefix wins; elsewhere
  // DefaultErrorFormatter is used.
  void SetErrorFormatter(std::string_view prefix, ErrorFormatter formatter);

  // Installs the guard every matched request passes before its handler (one per router; a later call
  // replaces it). Requests the router answers itself (400, 404, 405) do not reach it. With a guard,
  // every request reaching a handler has auth_enforced set. Not thread-safe: call before Server::Start.
  void SetGuard(Guard guard) { guard_ = std::move(guard); }

  // Every registered route, in registration order (for checks such as "each route has a permission").
  std::vector<RouteRef> Routes() const;

  // OK, or the first registration error.
  const Status& status() const { return status_; }

  // "GET /health", ... in registration order (for an index page or a startup log).
  std::vector<std::string> Describe() const;

  // Each route's handler latency (from routing to the response built: parsing the request's bytes and
  // writing the answer are not in it), in registration order. A HEAD served by a GET route counts as the
  // GET; 400s, 404s and 405s decided by the router count in no route. Thread-safe once registration is done.
  struct RouteLatency {
    std::string_view method, pattern;
    const LatencyHistogram& latency;
  };
  void VisitRouteLatencies(const std::function<void(const RouteLatency&)>& visit) const;

  // The whole pipeline for one parsed request. `req` must have method, target, headers, body,
  // request_id and version set; Handle fills path, query_string, query and params (pointing into
  // *scratch) before calling the handler. Never throws. Thread-safe (const) once registration is done.
  Response Handle(Request& req, RequestScratch* scratch) const;

  // Builds an error response with the formatter responsible for `path` (a raw request path; may be
  // empty when the request could not be parsed far enough to have one).
  Response Error(std::string_view path, const ErrorInfo& info) const;

 private:
  struct Route;
  struct Node;

  Status AddRoute(std::string_view method, std::string_view pattern, Handler handler);
  const Route* Find(const Node* node, size_t index, std::string_view method, RequestScratch* scratch,
                    bool* path_matched) const;
  void CollectMethods(const Node* node, size_t index, const RequestScratch& scratch,
                      std::vector<std::string_view>* methods) const;
  const Route* RouteAt(const Node* node, std::string_view method) const;

  std::unique_ptr<Node> root_;
  std::vector<std::string> descriptions_;
  std::vector<const Route*> routes_;  // registration order; Routes live on the heap, so the pointers stay valid
  std::vector<std::pair<std::string, ErrorFormatter>> formatters_;
  Status status_;
  Guard guard_;
};

}  // namespace gyre::http
