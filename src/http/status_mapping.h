// Status → HTTP: the one place where a gyre StatusCode becomes an HTTP status and a client-facing error
// code, and where error bodies get their shape.
//
// gyre's default error body carries both a stable machine-readable code and a human message:
//   {"error": "field 'inputs[0].shape': expected an array of integers", "error_code": "INVALID_ARGUMENT"}
// ("error" is what Open Inference Protocol clients read; "error_code" is what scripts switch on). A route
// group that speaks another protocol (MLflow's {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": ...})
// installs its own ErrorFormatter on the Router (router.h); it still gets the HTTP status from here.
//
// Everything here is a pure function of its arguments: thread-safe, no allocation beyond the result.
#pragma once

#include <functional>
#include <string_view>

#include "core/status.h"
#include "http/message.h"

namespace gyre::http {

// InvalidArgument→400, NotFound→404, AlreadyExists→409, FailedPrecondition→409, PermissionDenied→403,
// ResourceExhausted→429 (a handler's limit such as a full queue; the server's own body limit answers 413
// directly), Unavailable→503, DeadlineExceeded→504, Unimplemented→501, IOError/Internal→500.
int HttpStatusFor(StatusCode code);

// The "error_code" of gyre's default body: the canonical upper-snake name ("INVALID_ARGUMENT",
// "NOT_FOUND", ...). IOError and Internal both read "INTERNAL": the client can do nothing different.
std::string_view ErrorCodeFor(StatusCode code);

// Why an error response is being built, for formatters that must tell the cases apart (MLflow answers an
// unknown endpoint with ENDPOINT_NOT_FOUND but a missing run with RESOURCE_DOES_NOT_EXIST).
enum class ErrorSource {
  kHandler,   // a route handler returned a non-OK Status (or threw: then status is Internal)
  kRouting,   // no route for the path (404) or not for this method (405)
  kProtocol,  // the request itself was unacceptable: malformed (400), too large (413/431), too slow (408)
};

struct ErrorInfo {
  int http_status;              // already decided: HttpStatusFor(status.code()) or a protocol status
  const Status& status;         // the message is shown to the client as-is
  std::string_view request_id;  // for the client to quote in a bug report
  ErrorSource source;
};

// Builds the response for an error. Must not throw. Called on server threads, concurrently.
using ErrorFormatter = std::function<Response(const ErrorInfo&)>;

// {"error": message, "error_code": ErrorCodeFor(code)} with info.http_status; for a 500 the message also
// names the request id so a log line can be found from a client report.
Response DefaultErrorFormatter(const ErrorInfo& info);

}  // namespace gyre::http
