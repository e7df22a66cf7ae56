// The body of POST /v1/score/{deployment} with one event, parsed without building a JSON document.
//
// A login arrives, is scored and answered in tens of microseconds, and building an nlohmann document of
// its ~600 bytes and converting it took a fifth of that. TryParseSingleEvent reads the common shape
// directly into a one-row Table: {"event": {...flat values...}, "request_id": "...", "return_features": b}.
// It answers only when it is sure to produce exactly what the general path (http::ParseJson +
// TableFromRecords) produces; for anything else — "events", an unknown or repeated key, a nested value, a
// string with an escape or a non-ASCII byte, a value whose conversion the general path would do
// differently or reject, malformed JSON — it returns nullopt and the caller takes the general path, which
// also writes the error messages.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/table.h"

namespace gyre::api {

struct SingleEventBody {
  Table event;  // one row of `schema`; keys not present are null
  std::optional<std::string> request_id;
  bool return_features = false;
};

std::optional<SingleEventBody> TryParseSingleEvent(std::string_view body, const Schema& schema);

}  // namespace gyre::api
