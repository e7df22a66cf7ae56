#include "http/status_mapping.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace gyre::http {

int HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kAlreadyExists: return 409;
    case StatusCode::kFailedPrecondition: return 409;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kResourceExhausted: return 429;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kDeadlineExceeded: return 504;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kUnsupportedMediaType: return 415;
    case StatusCode::kIOError: return 500;
    case StatusCode::kCorruption: return 500;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

std::string_view ErrorCodeFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kUnsupportedMediaType: return "UNSUPPORTED_MEDIA_TYPE";
    case StatusCode::kIOError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return "INTERNAL";
  }
  return "INTERNAL";
}

Response DefaultErrorFormatter(const ErrorInfo& info) {
  nlohmann::json body;
  if (info.http_status == 500) {
    body["error"] = fmt::format("{} (request id {})", info.status.message(), info.request_id);
  } else {
    body["error"] = info.status.message();
  }
  body["error_code"] = ErrorCodeFor(info.status.code());
  // Messages quote client input, which may be invalid UTF-8; replace rather than throw.
  return Response(info.http_status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace gyre::http
