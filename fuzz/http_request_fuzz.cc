// http's request parser (the Beast parser writing into the connection's reused RequestData) and the
// target/query decoding every request goes through: bytes as they arrive on one keep-alive connection,
// possibly several pipelined requests, split into reads where the first byte says. Every request either
// completes with its spans inside the header arena, or stops with an error code; never a crash, never a
// span past the arena (the bug of issue 20).
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "http/request_parser.h"
#include "http/url.h"

namespace {

using gyre::fuzz::Check;
using gyre::http::internal::RequestData;
using gyre::http::internal::RequestParser;

void CheckSpan(const RequestData& d, RequestData::Span s) {
  Check(static_cast<size_t>(s.offset) + s.size <= d.head.size(), "a span lies outside the header arena");
}

void Decode(std::string_view target) {
  std::string_view path, query;
  if (!gyre::http::SplitTarget(target, &path, &query).ok()) return;
  std::string out;
  (void)gyre::http::PercentDecode(path, gyre::http::DecodeMode::kPathSegment, &out);
  static thread_local std::vector<gyre::http::QueryParam> params;
  size_t count = 0;
  if (gyre::http::ParseQueryString(query, &params, &count).ok()) {
    Check(count <= params.size(), "query parameter count past the vector");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t chunk = 1 + data[0] % 64;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  RequestData request;
  std::optional<RequestParser> parser;
  boost::beast::flat_buffer in;
  size_t fed = 0;
  int requests = 0;
  while (requests < 64) {
    if (!parser) {
      if (in.size() == 0 && fed == input.size()) break;
      request.Reset();
      Check(request.View(request.target).empty(), "Reset kept the previous target");
      parser.emplace(&request);
      parser->eager(true);
      parser->header_limit(2048);
      parser->body_limit(4096);
    }
    if (in.size() == 0 || fed < input.size()) {
      size_t n = std::min(chunk, input.size() - fed);
      if (n == 0 && in.size() == 0) break;
      auto buf = in.prepare(n);
      std::copy_n(input.data() + fed, n, static_cast<char*>(buf.data()));
      in.commit(n);
      fed += n;
    }
    boost::beast::error_code ec;
    size_t used = parser->Put(in.data(), ec);  // as the server calls it
    in.consume(used);
    if (ec == boost::beast::http::error::need_more) {
      if (fed == input.size()) break;  // the connection would wait for more
      continue;
    }
    // The server's error path: what it reads to pick the error shape.
    CheckSpan(request, request.method);
    CheckSpan(request, request.target);
    (void)request.View(request.target);
    if (ec) break;  // answered with 400/413/431/501, connection closed
    if (!parser->is_done()) {
      if (used == 0 && fed == input.size()) break;
      continue;
    }
    request.Views();
    for (const auto& [name, value] : request.field_spans) {
      CheckSpan(request, name);
      CheckSpan(request, value);
    }
    Decode(request.View(request.target));
    parser.reset();
    ++requests;
  }
  return 0;
}
