#include "api/feature_routes.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <iterator>

#include "core/time.h"
#include "core/value_parse.h"
#include "api/json_table.h"
#include "http/json.h"

namespace gyre::api {
namespace {

using nlohmann::json;

// The type a request column should have: the type of a source column of that name, else from the JSON.
ColumnType TypeFor(const features::FeatureRegistry& registry, const std::string& name, const json& values) {
  for (const features::SourceDef& source : registry.sources()) {
    int c = source.schema.IndexOf(name);
    if (c >= 0) return source.schema.column(c).type;
  }
  for (const json& v : values) {
    if (v.is_boolean()) return ColumnType::kBool;
    if (v.is_number()) return ColumnType::kFloat64;
    if (!v.is_null()) break;
  }
  return ColumnType::kString;
}

// One feature value as JSON: null, a number (integral values keep a ".0", as JSON serializers write doubles),
// true/false, or a string.
void AppendValue(fmt::memory_buffer& out, const features::FeatureValue& v, features::ExprType type) {
  if (v.null) {
    fmt::format_to(std::back_inserter(out), "null");
    return;
  }
  switch (type) {
    case features::ExprType::kString:
      fmt::format_to(std::back_inserter(out), "{}", json(v.text).dump());
      return;
    case features::ExprType::kBool:
      fmt::format_to(std::back_inserter(out), "{}", v.number != 0 ? "true" : "false");
      return;
    case features::ExprType::kTimestamp:
      fmt::format_to(std::back_inserter(out), "\"{}\"", FormatTimestamp(static_cast<int64_t>(v.number)));
      return;
    case features::ExprType::kNumber:
      break;
  }
  if (!std::isfinite(v.number)) {
    fmt::format_to(std::back_inserter(out), "null");
    return;
  }
  size_t start = out.size();
  fmt::format_to(std::back_inserter(out), "{}", v.number);
  std::string_view text(out.data() + start, out.size() - start);
  if (text.find_first_of(".e") == std::string_view::npos) fmt::format_to(std::back_inserter(out), ".0");
}

Status NoFeatures() {
  return Status::NotFound("this workspace has no feature definitions (features.yaml); online features are off");
}

}  // namespace

void AddFeatureRoutes(http::Router& router, std::function<features::OnlineStore*()> get_online) {
  // Feast's `feast serve` shape: {"features": [...] | "feature_service": "set", "entities": {"col": [...]}}.
  // gyre extensions: "event_timestamps": [...] (one per row, default now) to read as of a time.
  router.Add("POST", "/get-online-features", [get_online](const http::Request& request) -> Result<http::Response> {
    features::OnlineStore* online = get_online();
    if (online == nullptr) return NoFeatures();
    const features::FeatureRegistry& registry = online->registry();
    GYRE_ASSIGN_OR_RETURN(json body, http::ParseJson(request.body));
    http::JsonView root(body);
    std::vector<int> wanted;
    std::vector<std::string> names;
    if (std::optional<http::JsonView> service = root.Find("feature_service")) {
      GYRE_ASSIGN_OR_RETURN(std::string set_name, service->String());
      Result<int> set = registry.FindFeatureSet(set_name);
      if (!set.ok()) return service->Error(set.status().message());
      wanted = registry.feature_sets()[*set].features;
    } else {
      GYRE_ASSIGN_OR_RETURN(http::JsonView list, root.Get("features"));
      GYRE_ASSIGN_OR_RETURN(std::vector<std::string> refs, list.StringArray());
      for (size_t i = 0; i < refs.size(); ++i) {
        Result<int> f = registry.FindFeature(refs[i]);
        if (!f.ok()) return Status::InvalidArgument(fmt::format("field 'features[{}]': {}", i, f.status().message()));
        wanted.push_back(*f);
      }
    }
    if (wanted.empty()) return root.Error("no features asked for");
    bool full_names = false;
    if (std::optional<http::JsonView> full = root.Find("full_feature_names")) {
      GYRE_ASSIGN_OR_RETURN(full_names, full->Bool());
    }
    if (!body.contains("entities")) return root.Error("missing field 'entities'");
    const json& entities = body["entities"];
    std::vector<ColumnSchema> columns;
    if (entities.is_object()) {
      for (const auto& [name, values] : entities.items()) columns.push_back({name, TypeFor(registry, name, values)});
    }
    GYRE_ASSIGN_OR_RETURN(Table rows, TableFromColumns(entities, "entities", Schema(columns)));
    std::vector<int64_t> times(static_cast<size_t>(rows.num_rows()), NowMillis() * 1000);
    if (body.contains("event_timestamps")) {
      const json& ts = body["event_timestamps"];
      if (!ts.is_array() || static_cast<int64_t>(ts.size()) != rows.num_rows()) {
        return Status::InvalidArgument(fmt::format("field 'event_timestamps': expected an array of {} timestamps",
                                                   rows.num_rows()));
      }
      Column parsed(ColumnType::kTimestamp);
      for (size_t r = 0; r < ts.size(); ++r) {
        GYRE_RETURN_IF_ERROR(AppendJson(parsed, ts[r], fmt::format("event_timestamps[{}]", r)));
        if (parsed.IsNull(static_cast<int64_t>(r))) {
          return Status::InvalidArgument(fmt::format("field 'event_timestamps[{}]': expected a timestamp, got null", r));
        }
        times[r] = parsed.Timestamp(static_cast<int64_t>(r));
      }
    }
    GYRE_ASSIGN_OR_RETURN(features::OnlineValues values, online->Get(wanted, rows, times));

    // Written straight into the body: building the response as a json tree cost more than the lookup itself.
    fmt::memory_buffer out;
    std::string stamps = "[";
    for (int64_t r = 0; r < rows.num_rows(); ++r) {
      stamps += r == 0 ? "\"" : ",\"";
      stamps += FormatTimestamp(times[r]);
      stamps += '"';
    }
    stamps += ']';
    auto append = [&out](std::string_view text) { out.append(text.data(), text.data() + text.size()); };
    append("{\"metadata\":{\"feature_names\":[");
    // Feast lists the entity columns first, as results of their own.
    for (int c = 0; c < rows.num_columns(); ++c) {
      if (c > 0) append(",");
      append(json(rows.column_name(c)).dump());
    }
    for (size_t i = 0; i < wanted.size(); ++i) {
      const features::FeatureDef& def = registry.features()[wanted[i]];
      std::string group = def.group >= 0 ? registry.groups()[def.group].name : "derived";
      if (rows.num_columns() > 0 || i > 0) append(",");
      append(json(full_names ? group + "__" + def.name : def.name).dump());
    }
    append("]},\"results\":[");
    for (int c = 0; c < rows.num_columns(); ++c) {
      const Column& col = rows.column(c);
      append(c == 0 ? "{\"values\":[" : ",{\"values\":[");
      for (int64_t r = 0; r < rows.num_rows(); ++r) {
        if (r > 0) append(",");
        append(col.IsNull(r) ? std::string("null") : json(col.ValueToString(r)).dump());
      }
      append("],\"statuses\":[");
      for (int64_t r = 0; r < rows.num_rows(); ++r) append(r == 0 ? "\"PRESENT\"" : ",\"PRESENT\"");
      append("],\"event_timestamps\":");
      append(stamps);
      append("}");
    }
    for (size_t i = 0; i < wanted.size(); ++i) {
      const features::FeatureDef& def = registry.features()[wanted[i]];
      append(rows.num_columns() == 0 && i == 0 ? "{\"values\":[" : ",{\"values\":[");
      for (int64_t r = 0; r < rows.num_rows(); ++r) {
        if (r > 0) append(",");
        AppendValue(out, values.values[i][r], def.type);
      }
      append("],\"statuses\":[");
      for (int64_t r = 0; r < rows.num_rows(); ++r) {
        const features::FeatureValue& v = values.values[i][r];
        features::ReadStatus status = values.statuses[i][r];
        append(r == 0 ? "\"" : ",\"");
        append(status == features::ReadStatus::kPresent && v.null ? "NULL_VALUE" : features::ReadStatusName(status));
        append("\"");
      }
      append("],\"event_timestamps\":");
      append(stamps);
      append("}");
    }
    append("]}");
    return http::Response(200, fmt::to_string(out));
  });

  // Feast's push: {"push_source_name": "logins", "df": {"col": [...]}, "to": "online"}.
  router.Add("POST", "/push", [get_online](const http::Request& request) -> Result<http::Response> {
    features::OnlineStore* online = get_online();
    if (online == nullptr) return NoFeatures();
    const features::FeatureRegistry& registry = online->registry();
    GYRE_ASSIGN_OR_RETURN(json body, http::ParseJson(request.body));
    http::JsonView root(body);
    GYRE_ASSIGN_OR_RETURN(http::JsonView source_field, root.Get("push_source_name"));
    GYRE_ASSIGN_OR_RETURN(std::string source_name, source_field.String());
    Result<int> source = registry.FindSource(source_name);
    if (!source.ok()) return source_field.Error(source.status().message());
    if (std::optional<http::JsonView> to = root.Find("to")) {
      GYRE_ASSIGN_OR_RETURN(std::string target, to->String());
      if (target != "online") {
        return to->Error("only \"online\" is supported: offline data is the source's file, which gyre reads as is");
      }
    }
    if (!body.contains("df")) return root.Error("missing field 'df'");
    GYRE_ASSIGN_OR_RETURN(Table rows, TableFromColumns(body["df"], "df", registry.sources()[*source].schema));
    const features::SourceDef& def = registry.sources()[*source];
    const Column& ts = rows.column(def.timestamp_index);
    for (int64_t r = 0; r < rows.num_rows(); ++r) {
      if (ts.IsNull(r)) {
        return Status::InvalidArgument(fmt::format("field 'df.{}[{}]': the event time is missing", def.timestamp_column, r));
      }
    }
    GYRE_ASSIGN_OR_RETURN(features::PushResult pushed, online->Push(*source, rows));
    // A client retrying after a timeout learns which rows were already counted (the source's event ids).
    return http::JsonResponse({{"rows", pushed.rows},
                               {"late", pushed.late},
                               {"too_late", pushed.too_late},
                               {"duplicates", pushed.duplicates},
                               {"duplicate_rows", pushed.duplicate_rows}});
  });
}

}  // namespace gyre::api
