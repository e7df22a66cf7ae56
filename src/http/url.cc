#include "http/url.h"

#include <fmt/format.h>

#include "core/base64.h"

namespace gyre::http {
namespace {

// Messages quote at most this much client input, so an error body stays small.
std::string_view Clip(std::string_view s) { return s.substr(0, 200); }

}  // namespace

Status PercentDecode(std::string_view in, DecodeMode mode, std::string* out) {
  out->reserve(out->size() + in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      int hi = i + 1 < in.size() ? HexDigitValue(in[i + 1]) : -1;
      int lo = i + 2 < in.size() ? HexDigitValue(in[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Status::InvalidArgument(
            fmt::format("malformed %-escape '{}' at offset {} in '{}'", Clip(in.substr(i, 3)), i, Clip(in)));
      }
      char decoded = static_cast<char>(hi * 16 + lo);
      if (decoded == '\0' && mode == DecodeMode::kPathSegment) {
        return Status::InvalidArgument(fmt::format("%00 is not allowed in a path ('{}')", Clip(in)));
      }
      out->push_back(decoded);
      i += 2;
    } else if (c == '+' && mode == DecodeMode::kQuery) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return Status::OK();
}

Status SplitTarget(std::string_view target, std::string_view* path, std::string_view* query) {
  std::string_view rest = target;
  // A fragment is never sent by a conforming client; drop it rather than route on it.
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  if (!rest.empty() && rest.front() != '/') {
    // Absolute form: scheme "://" authority, then the path (possibly empty, which means "/").
    size_t scheme_end = rest.find("://");
    if (scheme_end == std::string_view::npos || scheme_end == 0) {
      return Status::InvalidArgument(fmt::format("request target '{}' is not a path", Clip(target)));
    }
    size_t path_start = rest.find_first_of("/?", scheme_end + 3);
    rest = path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
    if (rest.empty() || rest.front() == '?') {
      *path = "/";
      *query = rest.empty() ? std::string_view() : rest.substr(1);
      return Status::OK();
    }
  }
  if (rest.empty()) return Status::InvalidArgument("empty request target");
  size_t q = rest.find('?');
  *path = rest.substr(0, q);
  *query = q == std::string_view::npos ? std::string_view() : rest.substr(q + 1);
  return Status::OK();
}

Status ParseQueryString(std::string_view query, std::vector<QueryParam>* params, size_t* count) {
  *count = 0;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (piece.empty()) continue;
    size_t eq = piece.find('=');
    std::string_view raw_name = piece.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : piece.substr(eq + 1);
    if (*count == params->size()) params->emplace_back();
    QueryParam& param = (*params)[*count];
    param.name.clear();
    param.value.clear();
    Status s = PercentDecode(raw_name, DecodeMode::kQuery, &param.name);
    if (!s.ok()) return s.WithContext("query parameter name");
    s = PercentDecode(raw_value, DecodeMode::kQuery, &param.value);
    if (!s.ok()) return s.WithContext(fmt::format("query parameter '{}'", Clip(param.name)));
    ++*count;
  }
  return Status::OK();
}

Result<std::vector<QueryParam>> ParseQueryString(std::string_view query) {
  std::vector<QueryParam> params;
  size_t count = 0;
  GYRE_RETURN_IF_ERROR(ParseQueryString(query, &params, &count));
  params.resize(count);
  return params;
}

}  // namespace gyre::http
