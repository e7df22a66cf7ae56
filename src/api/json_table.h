// JSON ↔ Table for request bodies: events and entity rows arrive as Feast-style columns
// ({"col": [v0, v1]}) or as records ([{"col": v0}, ...]); both become a Table with a given schema, and every
// value that does not fit its column's type is an error naming the field path (df.amount[3], events[0].time).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/status.h"
#include "core/table.h"

namespace gyre::api {

// "string \"abc\"": a JSON value's type and (shortened) text, for messages.
std::string DescribeJson(const nlohmann::json& v);

// Appends one JSON value to a typed column; errors name `where` (e.g. "df.amount[3]").
Status AppendJson(Column& column, const nlohmann::json& v, const std::string& where);

// A table from column-major JSON. Every JSON column must be in `schema`; columns missing are null.
Result<Table> TableFromColumns(const nlohmann::json& object, const std::string& field, const Schema& schema);

// A table from records: an array of objects (or one object), keys must be in `schema`; missing keys are null.
Result<Table> TableFromRecords(const nlohmann::json& records, const std::string& field, const Schema& schema);

}  // namespace gyre::api
