// URL pieces of a request-target: splitting path from query, %-decoding, query-string parsing.
//
// Decoding is strict: a '%' not followed by two hex digits is an error (the server answers 400), never
// passed through or guessed at. Path segments are decoded one at a time after splitting on '/', so an
// encoded slash (%2F) stays inside its segment. "%00" is refused in paths: a NUL has no business in a
// name and would truncate it in any C API downstream. In query strings '+' means a space (HTML forms);
// in paths it is a literal '+'.
//
// Pure functions, thread-safe. Errors are InvalidArgument and quote the offending text.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/message.h"

namespace gyre::http {

enum class DecodeMode {
  kPathSegment,  // '+' is literal; %00 refused
  kQuery,        // '+' is a space
};

// Appends the decoding of `in` to *out. On error *out holds a partial result.
Status PercentDecode(std::string_view in, DecodeMode mode, std::string* out);

// Splits an origin-form target "/p/a/t/h?query" into path and query (without '?'). An absolute-form
// target ("http://host:port/p?q", sent to proxies) is reduced to its path and query. A target that is
// neither (does not start with '/') is InvalidArgument.
Status SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// Parses "a=1&b=x%20y&flag" into (name, value) pairs in order; empty pieces ("a=1&&b=2") are skipped.
// Reuses the strings already in *params (their capacity survives from request to request): the first
// *count entries are the result, later entries are stale.
Status ParseQueryString(std::string_view query, std::vector<QueryParam>* params, size_t* count);

// Convenience form for tests and one-off callers.
Result<std::vector<QueryParam>> ParseQueryString(std::string_view query);

}  // namespace gyre::http
