// The feature routes' bodies: POST /push ({"push_source_name", "to", "df": {"col": [...]}}) and POST
// /get-online-features ({"entities": {"key": [...]}, "event_timestamps": [...]}), read the way the routes
// read them (http::JsonView, then api::TableFromColumns / AppendJson against a source's schema). Every
// body becomes a table or a 400 naming the field; never a crash.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>
#include <vector>

#include "api/json_table.h"
#include "fuzz_util.h"
#include "http/json.h"

namespace {

const gyre::Schema& LoginSchema() {
  static const gyre::Schema schema({{"event_id", gyre::ColumnType::kInt64},
                                    {"time", gyre::ColumnType::kTimestamp},
                                    {"user_id", gyre::ColumnType::kString},
                                    {"ip", gyre::ColumnType::kString},
                                    {"asn", gyre::ColumnType::kInt64},
                                    {"lat", gyre::ColumnType::kFloat64},
                                    {"success", gyre::ColumnType::kBool}});
  return schema;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gyre;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<nlohmann::json> parsed = http::ParseJson(text);
  if (!parsed.ok()) return 0;
  nlohmann::json& body = *parsed;
  http::JsonView root(body);
  // /push
  if (auto source = root.Get("push_source_name"); source.ok()) (void)source->String();
  if (auto to = root.Find("to")) (void)to->String();
  if (body.contains("df")) {
    Result<Table> rows = api::TableFromColumns(body["df"], "df", LoginSchema());
    if (rows.ok()) fuzz::Check(rows->num_columns() == LoginSchema().size(), "a pushed table lost its schema");
  }
  // /get-online-features
  if (auto list = root.Find("features")) (void)list->StringArray();
  if (auto full = root.Find("full_feature_names")) (void)full->Bool();
  if (body.contains("entities")) {
    const nlohmann::json& entities = body["entities"];
    std::vector<ColumnSchema> columns;
    if (entities.is_object()) {
      for (const auto& [name, values] : entities.items()) {
        int c = LoginSchema().IndexOf(name);
        columns.push_back({name, c >= 0 ? LoginSchema().column(c).type : ColumnType::kString});
      }
    }
    (void)api::TableFromColumns(entities, "entities", Schema(columns));
  }
  if (body.is_object() && body.contains("event_timestamps") && body["event_timestamps"].is_array()) {
    Column times(ColumnType::kTimestamp);
    const nlohmann::json& ts = body["event_timestamps"];
    for (size_t r = 0; r < ts.size(); ++r) (void)api::AppendJson(times, ts[r], "event_timestamps");
  }
  return 0;
}
