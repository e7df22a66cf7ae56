// Status and Result<T>: gyre's one error type.
//
// Every call that touches disk, network or user input returns a Status (or a Result<T>, which holds either
// a value or a non-OK Status). Nothing below the CLI and HTTP boundaries throws; third-party exceptions are
// caught where the library is called and turned into a Status there.
//
// Codes are chosen by what the caller should do next (fix the input, create the thing, retry later), and
// they map to exit codes and HTTP statuses in one place each (cli/, http/status_mapping). Messages name
// where the problem is: "logins.csv:12:4: column 'time': cannot parse 'yesterday' as a timestamp".
// Use the Located()/Field() helpers so every module spells locations the same way.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace gyre {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // the input is wrong; retrying the same input will fail again (HTTP 400)
  kNotFound,            // the named thing does not exist (404)
  kAlreadyExists,       // creating something that exists (409)
  kFailedPrecondition,  // the system is not in a state for this (409/412), e.g. model not loaded
  kPermissionDenied,    // (403)
  kResourceExhausted,   // a limit was hit: body too large, queue full (413/429)
  kUnavailable,         // transient: retry later (503)
  kDeadlineExceeded,    // timed out (504)
  kUnimplemented,       // valid request for something gyre does not do (501)
  kUnsupportedMediaType,  // a body in a format the endpoint does not take (415)
  kIOError,             // the operating system refused a read or write (500)
  kCorruption,          // stored bytes cannot be decoded: a damaged file or state (500)
  kInternal,            // a bug in gyre (500)
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }
  static Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
  static Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
  static Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
  static Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
  static Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
  static Status ResourceExhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
  static Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
  static Status DeadlineExceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }
  static Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
  static Status UnsupportedMediaType(std::string m) { return {StatusCode::kUnsupportedMediaType, std::move(m)}; }
  static Status IOError(std::string m) { return {StatusCode::kIOError, std::move(m)}; }
  static Status Corruption(std::string m) { return {StatusCode::kCorruption, std::move(m)}; }
  static Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  bool IsInvalidArgument() const { return code_ == StatusCode::kInvalidArgument; }
  bool IsNotFound() const { return code_ == StatusCode::kNotFound; }

  // "InvalidArgument: <message>", or "OK".
  std::string ToString() const;

  // Returns a copy whose message is "<context>: <message>", keeping the code. Used to add the outer
  // location (a file name, a request path) to an error raised deeper down.
  Status WithContext(std::string_view context) const;

  bool operator==(const Status& other) const = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Location prefixes, spelled once: "file:line:column: message", "file:line: message", "field 'x': message".
// line and column are 1-based; pass 0 to leave them out.
std::string Located(std::string_view file, int line, int column, std::string_view message);
std::string Field(std::string_view field, std::string_view message);

// Result<T> holds a T or a non-OK Status. Accessing value() of an error is a bug (asserts in debug).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : data_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : data_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(data_).ok() && "Result constructed from an OK Status");
  }

  bool ok() const { return data_.index() == 0; }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<1>(data_);
  }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  T value_or(T fallback) const& { return ok() ? value() : std::move(fallback); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace gyre

#define GYRE_CONCAT_INNER_(a, b) a##b
#define GYRE_CONCAT_(a, b) GYRE_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) is not OK.
#define GYRE_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    ::gyre::Status gyre_status_ = (expr);           \
    if (!gyre_status_.ok()) return gyre_status_;    \
  } while (0)

// `GYRE_ASSIGN_OR_RETURN(auto table, ReadCsv(path));` declares/assigns from a Result or returns its error.
#define GYRE_ASSIGN_OR_RETURN(lhs, expr) \
  GYRE_ASSIGN_OR_RETURN_IMPL_(GYRE_CONCAT_(gyre_result_, __LINE__), lhs, expr)
#define GYRE_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                                \
  if (!result.ok()) return result.status();            \
  lhs = std::move(result).value()
