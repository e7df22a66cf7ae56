#include "http/router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <exception>

#include "http/url.h"

namespace gyre::http {

struct Router::Route {
  std::string method;
  std::string pattern;
  std::vector<std::string> param_names;  // in path order; a trailing {rest...} is last
  Handler handler;
  mutable LatencyHistogram latency;  // observed by const Handle
};

struct Router::Node {
  std::map<std::string, std::unique_ptr<Node>, std::less<>> literals;
  std::unique_ptr<Node> param;  // {name}: any one non-empty segment
  std::unique_ptr<Node> rest;   // {name...}: everything after the slash; always a leaf
  std::vector<std::unique_ptr<Route>> routes;  // one per method
};

namespace {

bool ValidParamName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

// Segments of a path after the leading '/': "/" → [""], "/a/b" → ["a", "b"], "/a/" → ["a", ""].
template <typename Fn>
void ForEachSegment(std::string_view path, Fn&& fn) {
  std::string_view rest = path.substr(1);
  while (true) {
    size_t slash = rest.find('/');
    fn(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
}

}  // namespace

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;

void Router::Add(std::string_view method, std::string_view pattern, Handler handler) {
  Status s = AddRoute(method, pattern, std::move(handler));
  if (!s.ok() && status_.ok()) status_ = std::move(s);
}

Status Router::AddRoute(std::string_view method, std::string_view pattern, Handler handler) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("route {} {}: {}", method, pattern, why));
  };
  if (method.empty()) return bad("empty method");
  if (pattern.empty() || pattern.front() != '/') return bad("pattern must start with '/'");
  if (!handler) return bad("empty handler");

  Node* node = root_.get();
  std::vector<std::string> names;
  bool after_rest = false;
  Status error;
  ForEachSegment(pattern, [&](std::string_view segment) {
    if (!error.ok()) return;
    if (after_rest) {
      error = bad("a {name...} parameter must be the last segment");
      return;
    }
    if (!segment.empty() && segment.front() == '{') {
      if (segment.back() != '}') {
        error = bad(fmt::format("segment '{}' opens '{{' without closing it", segment));
        return;
      }
      std::string_view name = segment.substr(1, segment.size() - 2);
      bool is_rest = name.size() > 3 && name.substr(name.size() - 3) == "...";
      if (is_rest) name.remove_suffix(3);
      if (!ValidParamName(name)) {
        error = bad(fmt::format("parameter name '{}' must be letters, digits or '_'", name));
        return;
      }
      for (const std::string& existing : names) {
        if (existing == name) {
          error = bad(fmt::format("parameter '{}' appears twice", name));
          return;
        }
      }
      names.emplace_back(name);
      std::unique_ptr<Node>& child = is_rest ? node->rest : node->param;
      if (!child) child = std::make_unique<Node>();
      node = child.get();
      after_rest = is_rest;
      return;
    }
    if (segment.find_first_of("{}") != std::string_view::npos) {
      error = bad(fmt::format("segment '{}' mixes text and a parameter", segment));
      return;
    }
    auto it = node->literals.find(segment);
    if (it == node->literals.end()) {
      it = node->literals.emplace(std::string(segment), std::make_unique<Node>()).first;
    }
    node = it->second.get();
  });
  GYRE_RETURN_IF_ERROR(error);
  for (const auto& route : node->routes) {
    if (route->method == method) {
      return Status::AlreadyExists(fmt::format("route {} {} registered twice (first as {})", method, pattern,
                                               route->pattern));
    }
  }
  auto route = std::make_unique<Route>();
  route->method = method;
  route->pattern = pattern;
  route->param_names = std::move(names);
  route->handler = std::move(handler);
  routes_.push_back(route.get());
  node->routes.push_back(std::move(route));
  descriptions_.push_back(fmt::format("{} {}", method, pattern));
  return Status::OK();
}

std::vector<std::string> Router::Describe() const { return descriptions_; }

void Router::VisitRouteLatencies(const std::function<void(const RouteLatency&)>& visit) const {
  for (const Route* route : routes_) visit(RouteLatency{route->method, route->pattern, route->latency});
}

void Router::SetErrorFormatter(std::string_view prefix, ErrorFormatter formatter) {
  for (auto& [existing, f] : formatters_) {
    if (existing == prefix) {
      f = std::move(formatter);
      return;
    }
  }
  formatters_.emplace_back(std::string(prefix), std::move(formatter));
}

const Router::Route* Router::RouteAt(const Node* node, std::string_view method) const {
  for (const auto& route : node->routes) {
    if (route->method == method) return route.get();
  }
  if (method == "HEAD") {
    for (const auto& route : node->routes) {
      if (route->method == "GET") return route.get();
    }
  }
  return nullptr;
}

const Router::Route* Router::Find(const Node* node, size_t index, std::string_view method,
                                  RequestScratch* scratch, bool* path_matched) const {
  if (index == scratch->segment_count) {
    if (node->routes.empty()) return nullptr;
    *path_matched = true;
    return RouteAt(node, method);
  }
  const std::string& segment = scratch->segments[index];
  if (auto it = node->literals.find(segment); it != node->literals.end()) {
    if (const Route* r = Find(it->second.get(), index + 1, method, scratch, path_matched)) return r;
  }
  if (node->param && !segment.empty()) {
    scratch->param_segments.push_back(index);
    if (const Route* r = Find(node->param.get(), index + 1, method, scratch, path_matched)) return r;
    scratch->param_segments.pop_back();
  }
  if (node->rest && !node->rest->routes.empty()) {
    *path_matched = true;
    if (const Route* r = RouteAt(node->rest.get(), method)) {
      // The raw remainder runs from this segment to the end of the path; decode it whole.
      std::string_view first = scratch->raw_segments[index];
      std::string_view last = scratch->raw_segments[scratch->segment_count - 1];
      std::string_view raw(first.data(), static_cast<size_t>(last.data() + last.size() - first.data()));
      scratch->rest.clear();
      // Every segment already decoded cleanly, so decoding the whole cannot fail.
      (void)PercentDecode(raw, DecodeMode::kPathSegment, &scratch->rest);
      return r;
    }
  }
  return nullptr;
}

void Router::CollectMethods(const Node* node, size_t index, const RequestScratch& scratch,
                            std::vector<std::string_view>* methods) const {
  auto add = [&](const Node* n) {
    for (const auto& r : n->routes) {
      bool seen = false;
      for (std::string_view m : *methods) seen |= m == r->method;
      if (!seen) methods->push_back(r->method);
    }
  };
  if (index == scratch.segment_count) {
    add(node);
    return;
  }
  const std::string& segment = scratch.segments[index];
  if (auto it = node->literals.find(segment); it != node->literals.end()) {
    CollectMethods(it->second.get(), index + 1, scratch, methods);
  }
  if (node->param && !segment.empty()) CollectMethods(node->param.get(), index + 1, scratch, methods);
  if (node->rest) add(node->rest.get());
}

Response Router::Error(std::string_view path, const ErrorInfo& info) const {
  const ErrorFormatter* best = nullptr;
  size_t best_length = 0;
  for (const auto& [prefix, formatter] : formatters_) {
    if (prefix.size() < best_length || path.substr(0, prefix.size()) != prefix) continue;
    bool boundary = path.size() == prefix.size() || prefix.empty() || prefix.back() == '/' ||
                    path[prefix.size()] == '/';
    if (!boundary) continue;
    best = &formatter;
    best_length = prefix.size();
  }
  if (best != nullptr) {
    try {
      return (*best)(info);
    } catch (const std::exception& e) {
      spdlog::error("error formatter for {} threw: {}", path, e.what());
    } catch (...) {
      spdlog::error("error formatter for {} threw a non-exception", path);
    }
  }
  return DefaultErrorFormatter(info);
}

std::vector<RouteRef> Router::Routes() const {
  std::vector<RouteRef> out;
  out.reserve(routes_.size());
  for (const Route* r : routes_) out.push_back(RouteRef{r->method, r->pattern});
  return out;
}

Response Router::Handle(Request& req, RequestScratch* scratch) const {
  auto fail = [&](int http_status, const Status& status, ErrorSource source) {
    return Error(req.path, ErrorInfo{http_status, status, req.request_id, source});
  };

  Status s = SplitTarget(req.target, &req.path, &req.query_string);
  if (!s.ok()) return fail(400, s, ErrorSource::kProtocol);

  scratch->raw_segments.clear();
  scratch->segment_count = 0;
  ForEachSegment(req.path, [&](std::string_view raw) {
    if (!s.ok()) return;
    if (scratch->segment_count == scratch->segments.size()) scratch->segments.emplace_back();
    std::string& decoded = scratch->segments[scratch->segment_count++];
    decoded.clear();
    scratch->raw_segments.push_back(raw);
    s = PercentDecode(raw, DecodeMode::kPathSegment, &decoded);
  });
  if (!s.ok()) return fail(400, s.WithContext(fmt::format("path '{}'", req.path.substr(0, 200))),
                           ErrorSource::kProtocol);

  s = ParseQueryString(req.query_string, &scratch->query, &scratch->query_count);
  if (!s.ok()) return fail(400, s, ErrorSource::kProtocol);
  req.query = std::span<const QueryParam>(scratch->query.data(), scratch->query_count);

  bool path_matched = false;
  scratch->param_segments.clear();
  const Route* route = Find(root_.get(), 0, req.method, scratch, &path_matched);
  if (route == nullptr) {
    if (!path_matched) {
      return fail(404, Status::NotFound(fmt::format("no route for {} {}", req.method, req.path)),
                  ErrorSource::kRouting);
    }
    // Several routes may match the path (a literal and a parameter); Allow lists all their methods.
    std::vector<std::string_view> methods;
    CollectMethods(root_.get(), 0, *scratch, &methods);
    std::string allow;
    bool has_get = false, has_head = false;
    for (std::string_view m : methods) {
      if (!allow.empty()) allow += ", ";
      allow += m;
      has_get |= m == "GET";
      has_head |= m == "HEAD";
    }
    if (has_get && !has_head) allow += ", HEAD";
    Response response = fail(
        405,
        Status(StatusCode::kInvalidArgument,
               fmt::format("method {} is not allowed for {} (allowed: {})", req.method, req.path, allow)),
        ErrorSource::kRouting);
    response.headers.emplace_back("Allow", std::move(allow));
    return response;
  }

  scratch->params.clear();
  for (size_t i = 0; i < route->param_names.size(); ++i) {
    std::string_view value = i < scratch->param_segments.size()
                                 ? std::string_view(scratch->segments[scratch->param_segments[i]])
                                 : std::string_view(scratch->rest);
    scratch->params.push_back(PathParam{route->param_names[i], value});
  }
  req.params = scratch->params;

  // Observed when the response is built, on every way out.
  struct Timer {
    LatencyHistogram& latency;
    std::chrono::steady_clock::time_point started;
    ~Timer() {
      latency.Observe(
          std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started).count());
    }
  } timer{route->latency, std::chrono::steady_clock::now()};
  try {
    if (guard_) {
      scratch->user.clear();
      if (std::optional<Response> denied = guard_(req, RouteRef{route->method, route->pattern}, &scratch->user)) {
        return std::move(*denied);
      }
      req.auth_enforced = true;
      req.user = scratch->user;
    }
    Result<Response> result = route->handler(req);
    if (result.ok()) return std::move(result).value();
    return fail(HttpStatusFor(result.status().code()), result.status(), ErrorSource::kHandler);
  } catch (const std::exception& e) {
    spdlog::error("{} {} (request id {}): handler threw: {}", req.method, req.path, req.request_id, e.what());
  } catch (...) {
    spdlog::error("{} {} (request id {}): handler threw a non-exception", req.method, req.path,
                  req.request_id);
  }
  return fail(500, Status::Internal("internal error while handling the request"), ErrorSource::kHandler);
}

}  // namespace gyre::http
