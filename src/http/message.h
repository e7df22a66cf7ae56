// Request and Response: what a route handler receives and returns.
//
// A Request is a read-only view. Every string_view and span in it points into buffers owned by the
// connection and is valid only until the handler returns: copy what must outlive the call. Tests can
// build a Request by hand from their own vectors and strings.
//
// A Response owns everything it holds. Handlers return it by value; the server moves it, never copies.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gyre::http {

struct HeaderField {
  std::string_view name;  // as sent; compare case-insensitively (Request::Header does)
  std::string_view value;
};

struct QueryParam {
  std::string name;  // %-decoded, '+' read as a space
  std::string value;
};

struct PathParam {
  std::string_view name;   // from the route pattern: "deployment" for /v1/score/{deployment}
  std::string_view value;  // %-decoded; a trailing {path...} parameter may contain '/' and ".." segments
};

struct Request {
  std::string_view method;      // "GET"; HEAD requests served by a GET route still say "HEAD"
  std::string_view target;      // the raw request-target: "/v2/models/m%201/ready?x=1"
  std::string_view path;        // the raw path part of target, not decoded: "/v2/models/m%201/ready"
  std::string_view query_string;  // raw, after '?', empty if none
  std::span<const HeaderField> headers;
  std::span<const QueryParam> query;
  std::span<const PathParam> params;
  std::string_view body;        // de-chunked; at most the server's max_body_bytes
  std::string_view request_id;  // the client's X-Request-Id if sane, else one generated per request
  int version = 11;             // 10 for HTTP/1.0, 11 for HTTP/1.1
  // Who sent it, as the router's guard established (Router::SetGuard). `auth_enforced`: this server checks
  // credentials, so claims such as X-Gyre-User must be ignored; `user`: the authenticated user's name, empty
  // on an open route or when nothing checks. Without a guard both stay false/empty.
  bool auth_enforced = false;
  std::string_view user;

  // First header with this name (case-insensitive), or nullopt.
  std::optional<std::string_view> Header(std::string_view name) const;
  // First query parameter with this (decoded) name, or nullopt. "?flag" yields an empty value.
  std::optional<std::string_view> Query(std::string_view name) const;
  // The path parameter with this name; empty if the route has none (a route's parameters are always set).
  std::string_view Param(std::string_view name) const;
};

struct Response {
  int status = 200;
  // Empty means "application/json", the common case, so building one does not allocate.
  std::string content_type;
  std::string body;
  // Extra headers. Content-Length, Date, Connection and X-Request-Id are written by the server; a field
  // containing CR or LF is dropped (and logged) rather than allowed to split the response.
  std::vector<std::pair<std::string, std::string>> headers;

  Response() = default;
  Response(int status_code, std::string body_text, std::string type = {})
      : status(status_code), content_type(std::move(type)), body(std::move(body_text)) {}

  std::string_view ContentType() const {
    return content_type.empty() ? std::string_view("application/json") : std::string_view(content_type);
  }

  // text/plain; charset=utf-8
  static Response Text(int status_code, std::string body_text) {
    return Response(status_code, std::move(body_text), "text/plain; charset=utf-8");
  }
};

// ASCII case-insensitive equality, for header names and tokens.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

}  // namespace gyre::http
