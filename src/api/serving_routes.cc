#include "api/serving_routes.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "api/json_table.h"
#include "api/mlflow_protocol.h"
#include "api/score_body.h"
#include "core/csv_reader.h"
#include "core/json_text.h"
#include "core/model_input.h"
#include "core/value_parse.h"
#include "http/json.h"

namespace gyre::api {
namespace {

using nlohmann::json;
using serving::ScoringService;
using serving::Servable;

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

Status NotServing() { return Status::Unavailable("no deployments are being served (add deployments.yaml)"); }

void AppendString(fmt::memory_buffer& out, std::string_view s) { AppendJsonString(out, s); }

void AppendFloat(fmt::memory_buffer& out, float v) {
  if (std::isnan(v)) {
    fmt::format_to(std::back_inserter(out), "null");
  } else {
    fmt::format_to(std::back_inserter(out), "{}", v);
  }
}

json ModelStateJson(const serving::ModelState& state) {
  json out = {{"ready", state.loaded != nullptr}, {"uri", state.uri}};
  if (state.loaded != nullptr) out["version"] = state.loaded->version();
  if (!state.error.ok()) out["error"] = state.error.message();
  return out;
}

// ---- /v1/score -----------------------------------------------------------------------------------------

struct ScoreBody {
  Table events;
  bool single = true;  // "event" (answered flat) rather than "events" (answered as "results")
  serving::ScoreOptions options;
};

// The general path: any valid body, and the error message for every invalid one.
Result<ScoreBody> ParseScoreBody(const http::Request& request, const Schema& schema) {
  GYRE_ASSIGN_OR_RETURN(json body, http::ParseJson(request.body));
  http::JsonView root(body);
  GYRE_RETURN_IF_ERROR(root.ExpectObject());
  for (const auto& [key, value] : body.items()) {
    if (key != "event" && key != "events" && key != "return_features" && key != "request_id") {
      return root.Error(fmt::format("unknown field '{}' (expected: event or events, return_features, request_id)", key));
    }
  }
  ScoreBody parsed;
  parsed.single = body.contains("event");
  if (parsed.single == body.contains("events")) {
    return root.Error("expected exactly one of 'event' (an object) or 'events' (an array)");
  }
  if (auto f = root.Find("return_features")) {
    GYRE_ASSIGN_OR_RETURN(parsed.options.return_features, f->Bool());
  }
  if (auto id = root.Find("request_id")) {
    GYRE_ASSIGN_OR_RETURN(parsed.options.request_id, id->String());
  } else {
    parsed.options.request_id = std::string(request.request_id);
  }
  if (parsed.single && !body["event"].is_object()) {
    return Status::InvalidArgument(fmt::format("field 'event': expected an object, got {}", DescribeJson(body["event"])));
  }
  GYRE_ASSIGN_OR_RETURN(parsed.events, TableFromRecords(parsed.single ? body["event"] : body["events"],
                                                        parsed.single ? "event" : "events", schema));
  return parsed;
}

Result<http::Response> Score(ScoringService& scoring, const http::Request& request) {
  std::string_view deployment = request.Param("deployment");
  GYRE_ASSIGN_OR_RETURN(const Schema* schema, scoring.EventSchema(deployment));
  ScoreBody parsed;
  if (std::optional<SingleEventBody> fast = TryParseSingleEvent(request.body, *schema)) {
    parsed.events = std::move(fast->event);
    parsed.options.return_features = fast->return_features;
    parsed.options.request_id = fast->request_id ? std::move(*fast->request_id) : std::string(request.request_id);
  } else {
    GYRE_ASSIGN_OR_RETURN(parsed, ParseScoreBody(request, *schema));
  }
  const bool single = parsed.single;
  parsed.options.path = serving::ScorePath::kScore;
  parsed.options.caller = ActorOf(request);
  const serving::ScoreOptions& options = parsed.options;
  const Table& events = parsed.events;
  GYRE_ASSIGN_OR_RETURN(serving::ScoreResponse scored, scoring.Score(deployment, events, options));

  fmt::memory_buffer out;
  auto append = [&](std::string_view s) { out.append(s.data(), s.data() + s.size()); };
  auto result = [&](const serving::ScoredEvent& e) {
    append("\"score\":");
    AppendFloat(out, e.score);
    append(",\"action\":");
    AppendString(out, e.action);
    append(",\"model\":");
    AppendString(out, e.model_name());
    append(",\"version\":");
    AppendString(out, e.model_version());
    if (e.challenger) append(",\"challenger\":true");
    if (e.replay) append(",\"replay\":true");
    if (!e.event_id.empty()) {
      append(",\"event_id\":");
      AppendString(out, e.event_id);
    }
    if (options.return_features && e.model != nullptr) {
      append(",\"features\":{");
      const auto& names = e.model->descriptor().feature_names;
      for (size_t f = 0; f < e.features.size(); ++f) {
        if (f > 0) append(",");
        AppendString(out, names[f]);
        append(":");
        AppendFloat(out, e.features[f]);
      }
      append("}");
    }
  };
  append("{\"request_id\":");
  AppendString(out, scored.request_id);
  append(",\"deployment\":");
  AppendString(out, scored.deployment);
  append(",");
  if (single) {
    result(scored.events[0]);
  } else {
    append("\"results\":[");
    for (size_t i = 0; i < scored.events.size(); ++i) {
      if (i > 0) append(",");
      append("{");
      result(scored.events[i]);
      append("}");
    }
    append("]");
  }
  append("}");
  return http::Response(200, fmt::to_string(out));
}

// ---- Open Inference Protocol v2 ------------------------------------------------------------------------

Result<std::shared_ptr<const Servable>> OipModel(ScoringService& scoring, const http::Request& request) {
  std::string_view name = request.Param("model");
  auto model = scoring.Model(name);
  if (!model.ok()) {
    if (model.status().code() != StatusCode::kNotFound) return model.status();
    return Status::NotFound(fmt::format("model '{}' is not served ({})", name, model.status().message()));
  }
  std::string_view version = request.Param("version");
  if (!version.empty() && version != (*model)->version()) {
    return Status::NotFound(fmt::format("model '{}' version {} is not loaded (serving version {})", name, version,
                                        (*model)->version()));
  }
  return model;
}

// The outputs a model answers through OIP: its raw outputs as "score" (one column, or one per class), the
// predicted class of a multiclass model, and the action when the deployment takes a decision on it.
struct OipOutputs {
  bool score = false, class_index = false, action = false;
};

OipOutputs AvailableOutputs(const Servable& model, const serving::Decision& decision) {
  return {true, model.output_kind() == serving::OutputKind::kClassProbabilities, decision.output >= 0};
}

json ModelMetadata(const Servable& model, std::string_view name, const serving::Decision& decision) {
  OipOutputs available = AvailableOutputs(model, decision);
  json outputs = json::array();
  outputs.push_back({{"name", "score"}, {"datatype", "FP32"}, {"shape", {-1, model.num_outputs()}}});
  if (available.class_index) outputs.push_back({{"name", "class"}, {"datatype", "INT64"}, {"shape", {-1, 1}}});
  if (available.action) outputs.push_back({{"name", "action"}, {"datatype", "BYTES"}, {"shape", {-1, 1}}});
  json parameters = {{"feature_names", model.descriptor().feature_names},
                     {"registered_model", model.name()},
                     {"objective", model.descriptor().objective},
                     {"output_kind", serving::OutputKindName(model.output_kind())}};
  if (!available.action) parameters["decision"] = decision.why_not;
  return {{"name", name},
          {"versions", {model.version()}},
          {"platform", model.descriptor().flavor == "xgboost" ? "xgboost_json" : "gyre_logistic_regression"},
          {"inputs", {{{"name", "features"}, {"datatype", "FP32"}, {"shape", {-1, model.num_features()}}}}},
          {"outputs", outputs},
          {"parameters", parameters}};
}

// Appends a tensor's data (flat or nested, row-major) as floats; `datatype` decides what a value may be.
Status FlattenTensor(const json& data, const std::string& datatype, const std::string& where, std::vector<float>* out) {
  if (data.is_array()) {
    for (size_t i = 0; i < data.size(); ++i) {
      const json& v = data[i];
      if (v.is_array()) {
        GYRE_RETURN_IF_ERROR(FlattenTensor(v, datatype, fmt::format("{}[{}]", where, i), out));
        continue;
      }
      if (v.is_null()) {
        out->push_back(kMissing);
      } else if (datatype == "BOOL") {
        if (!v.is_boolean()) {
          return Status::InvalidArgument(fmt::format("field '{}[{}]': datatype BOOL needs true or false, got {}", where, i,
                                                     DescribeJson(v)));
        }
        out->push_back(v.get<bool>() ? 1.0f : 0.0f);
      } else if (v.is_number()) {
        if ((datatype.starts_with("INT") || datatype.starts_with("UINT")) && !v.is_number_integer()) {
          return Status::InvalidArgument(fmt::format("field '{}[{}]': datatype {} needs integers, got {}", where, i,
                                                     datatype, DescribeJson(v)));
        }
        if (datatype.starts_with("UINT") && v.is_number_integer() && v.get<int64_t>() < 0 && !v.is_number_unsigned()) {
          return Status::InvalidArgument(fmt::format("field '{}[{}]': datatype {} needs non-negative integers, got {}",
                                                     where, i, datatype, DescribeJson(v)));
        }
        out->push_back(static_cast<float>(v.get<double>()));
      } else {
        return Status::InvalidArgument(
            fmt::format("field '{}[{}]': expected a number, got {}", where, i, DescribeJson(v)));
      }
    }
    return Status::OK();
  }
  return Status::InvalidArgument(fmt::format("field '{}': expected an array, got {}", where, DescribeJson(data)));
}

Result<http::Response> Infer(ScoringService& scoring, const http::Request& request) {
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Servable> model, OipModel(scoring, request));
  GYRE_ASSIGN_OR_RETURN(json body, http::ParseJson(request.body));
  http::JsonView root(body);
  GYRE_RETURN_IF_ERROR(root.ExpectObject());
  GYRE_ASSIGN_OR_RETURN(http::JsonView inputs_view, root.Get("inputs"));
  GYRE_ASSIGN_OR_RETURN(std::vector<http::JsonView> inputs, inputs_view.Elements());
  if (inputs.empty()) return inputs_view.Error("expected at least one input");
  const int d = model->num_features();
  const auto& names = model->descriptor().feature_names;
  static const std::vector<std::string> kTypes = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                                  "INT32", "INT64", "FP32", "FP64"};
  std::vector<float> rows;
  int64_t n = -1;
  // Either one [n, d] tensor of every feature, or one [n] / [n, 1] tensor per feature, named by feature.
  std::vector<std::vector<float>> by_feature(d);
  std::vector<bool> seen(d, false);
  for (size_t i = 0; i < inputs.size(); ++i) {
    const http::JsonView& in = inputs[i];
    GYRE_RETURN_IF_ERROR(in.ExpectObject());
    GYRE_ASSIGN_OR_RETURN(http::JsonView name_view, in.Get("name"));
    GYRE_ASSIGN_OR_RETURN(std::string name, name_view.String());
    GYRE_ASSIGN_OR_RETURN(http::JsonView type_view, in.Get("datatype"));
    GYRE_ASSIGN_OR_RETURN(std::string datatype, type_view.String());
    if (std::find(kTypes.begin(), kTypes.end(), datatype) == kTypes.end()) {
      return type_view.Error(fmt::format("datatype '{}' is not supported (supported: {})", datatype, fmt::join(kTypes, ", ")));
    }
    GYRE_ASSIGN_OR_RETURN(http::JsonView shape_view, in.Get("shape"));
    GYRE_ASSIGN_OR_RETURN(std::vector<int64_t> shape, shape_view.IntArray());
    int64_t count = 1;
    for (int64_t s : shape) {
      if (s < 0 || s > (int64_t{1} << 31)) return shape_view.Error(fmt::format("dimension {} is out of range", s));
      count *= s;
    }
    GYRE_ASSIGN_OR_RETURN(http::JsonView data_view, in.Get("data"));
    std::vector<float> values;
    GYRE_RETURN_IF_ERROR(FlattenTensor(data_view.json(), datatype, data_view.path(), &values));
    if (static_cast<int64_t>(values.size()) != count) {
      return data_view.Error(fmt::format("{} values, but shape [{}] holds {}", values.size(), fmt::join(shape, ", "), count));
    }
    auto feature = std::find(names.begin(), names.end(), name);
    if (feature != names.end()) {
      if (shape.empty() || shape.size() > 2 || (shape.size() == 2 && shape[1] != 1)) {
        return shape_view.Error(fmt::format("input '{}' is one feature: expected shape [n] or [n, 1]", name));
      }
      int f = static_cast<int>(feature - names.begin());
      by_feature[f] = std::move(values);
      seen[f] = true;
      if (n >= 0 && shape[0] != n) return shape_view.Error(fmt::format("{} rows, but other inputs have {}", shape[0], n));
      n = shape[0];
      continue;
    }
    if (inputs.size() != 1) {
      return name_view.Error(fmt::format("'{}' is not a feature of model '{}' (a single input may hold all {} features "
                                         "as shape [n, {}])", name, model->name(), d, d));
    }
    if (shape.empty() || shape.size() > 2 || shape.back() != d) {
      return shape_view.Error(fmt::format("expected shape [n, {}] (the model reads {} features), got [{}]", d, d,
                                          fmt::join(shape, ", ")));
    }
    n = shape.size() == 2 ? shape[0] : 1;
    rows = std::move(values);
  }
  if (rows.empty() && n >= 0) {
    for (int f = 0; f < d; ++f) {
      if (!seen[f]) return inputs_view.Error(fmt::format("missing input for feature '{}'", names[f]));
    }
    rows.resize(static_cast<size_t>(n) * d);
    for (int64_t r = 0; r < n; ++r) {
      for (int f = 0; f < d; ++f) rows[r * d + f] = by_feature[f][r];
    }
  }
  GYRE_ASSIGN_OR_RETURN(serving::Decision decision, scoring.DecisionOf(request.Param("model"), *model));
  const OipOutputs available = AvailableOutputs(*model, decision);
  OipOutputs wanted{true, false, false};
  if (auto outputs = root.Find("outputs")) {
    GYRE_ASSIGN_OR_RETURN(std::vector<http::JsonView> requested, outputs->Elements());
    wanted.score = false;
    for (const http::JsonView& o : requested) {
      GYRE_ASSIGN_OR_RETURN(http::JsonView o_name, o.Get("name"));
      GYRE_ASSIGN_OR_RETURN(std::string name, o_name.String());
      if (name == "score") {
        wanted.score = true;
      } else if (name == "class" && available.class_index) {
        wanted.class_index = true;
      } else if (name == "action" && available.action) {
        wanted.action = true;
      } else if (name == "action") {
        return o_name.Error(fmt::format("output 'action' is not available: {}", decision.why_not));
      } else {
        return o_name.Error(fmt::format("unknown output '{}' (outputs: score{}{})", name,
                                        available.class_index ? ", class" : "", available.action ? ", action" : ""));
      }
    }
  }
  std::string id_text;
  const bool has_id = root.Find("id").has_value();
  if (auto id = root.Find("id")) {
    GYRE_ASSIGN_OR_RETURN(id_text, id->String());
  }
  serving::ScoreOptions options;
  options.request_id = has_id ? id_text : std::string(request.request_id);
  options.path = serving::ScorePath::kInfer;
  options.caller = ActorOf(request);
  GYRE_ASSIGN_OR_RETURN(serving::RowsResult scored,
                        scoring.ScoreRows(request.Param("model"), model, std::move(rows), options));
  const int width = model->num_outputs();

  fmt::memory_buffer out;
  auto append = [&](std::string_view s) { out.append(s.data(), s.data() + s.size()); };
  auto tensor = [&](std::string_view name, std::string_view datatype, int columns, auto&& value) {
    if (out.size() > 0 && out[out.size() - 1] != '[') append(",");
    fmt::format_to(std::back_inserter(out), "{{\"name\":\"{}\",\"datatype\":\"{}\",\"shape\":[{},{}],\"data\":[", name,
                   datatype, n, columns);
    for (int64_t i = 0; i < n * columns; ++i) {
      if (i > 0) append(",");
      value(i);
    }
    append("]}");
  };
  append("{\"model_name\":");
  AppendString(out, request.Param("model"));
  append(",\"model_version\":");
  AppendString(out, model->version());
  if (has_id) {
    append(",\"id\":");
    AppendString(out, id_text);
  }
  append(",\"outputs\":[");
  if (wanted.score) tensor("score", "FP32", width, [&](int64_t i) { AppendFloat(out, scored.outputs[i]); });
  if (wanted.class_index) {
    tensor("class", "INT64", 1, [&](int64_t r) {
      const float* p = &scored.outputs[r * width];
      fmt::format_to(std::back_inserter(out), "{}", std::max_element(p, p + width) - p);
    });
  }
  if (wanted.action) {
    tensor("action", "BYTES", 1, [&](int64_t r) {
      AppendString(out, models::DecisionPolicy::kActions[scored.actions[r]]);
    });
  }
  append("]}");
  return http::Response(200, fmt::to_string(out));
}

// ---- MLflow /invocations -------------------------------------------------------------------------------

http::Response MlflowScoringError(const http::ErrorInfo& info) {
  json body = {{"error_code", info.http_status == 415 ? "UNSUPPORTED_MEDIA_TYPE"
                              : info.http_status == 404 ? "RESOURCE_DOES_NOT_EXIST"
                              : info.http_status >= 500 ? "INTERNAL_ERROR"
                                                        : "BAD_REQUEST"},
               {"message", info.status.message()}};
  return http::Response(info.http_status, body.dump(-1, ' ', false, json::error_handler_t::replace));
}

Result<float> CellValue(const json& v, const std::string& where) {
  if (v.is_null()) return kMissing;
  if (v.is_boolean()) return v.get<bool>() ? 1.0f : 0.0f;
  if (v.is_number()) return static_cast<float>(v.get<double>());
  if (v.is_string()) {
    double parsed = 0;
    if (ParseFloat64(v.get_ref<const std::string&>(), &parsed)) return static_cast<float>(parsed);
  }
  return Status::InvalidArgument(fmt::format("field '{}': expected a number, got {}", where, DescribeJson(v)));
}

// Maps the request's column names to the model's feature order; every feature must be present.
Result<std::vector<int>> ColumnOrder(const std::vector<std::string>& columns, const Servable& model,
                                     const std::string& where) {
  const auto& names = model.descriptor().feature_names;
  std::vector<int> column_of(names.size(), -1);
  for (size_t c = 0; c < columns.size(); ++c) {
    auto it = std::find(names.begin(), names.end(), columns[c]);
    if (it != names.end()) column_of[it - names.begin()] = static_cast<int>(c);
  }
  for (size_t f = 0; f < names.size(); ++f) {
    if (column_of[f] < 0) {
      return Status::InvalidArgument(fmt::format("{}: missing column '{}' (the model reads: {})", where, names[f],
                                                 fmt::join(names, ", ")));
    }
  }
  return column_of;
}

Result<std::vector<float>> RowsFromRecords(const json& records, const Servable& model, const std::string& field) {
  if (!records.is_array()) {
    return Status::InvalidArgument(fmt::format("field '{}': expected an array of objects, got {}", field, DescribeJson(records)));
  }
  const auto& names = model.descriptor().feature_names;
  std::vector<float> rows;
  rows.reserve(records.size() * names.size());
  for (size_t r = 0; r < records.size(); ++r) {
    const json& rec = records[r];
    if (!rec.is_object()) {
      return Status::InvalidArgument(fmt::format("field '{}[{}]': expected an object, got {}", field, r, DescribeJson(rec)));
    }
    for (const std::string& name : names) {
      auto it = rec.find(name);
      if (it == rec.end()) {
        return Status::InvalidArgument(fmt::format("field '{}[{}]': missing column '{}'", field, r, name));
      }
      GYRE_ASSIGN_OR_RETURN(float v, CellValue(*it, fmt::format("{}[{}].{}", field, r, name)));
      rows.push_back(v);
    }
  }
  return rows;
}

Result<std::vector<float>> RowsFromArrays(const json& data, const std::vector<int>& column_of, size_t width,
                                          const std::string& field) {
  if (!data.is_array()) {
    return Status::InvalidArgument(fmt::format("field '{}': expected an array of rows, got {}", field, DescribeJson(data)));
  }
  std::vector<float> rows;
  rows.reserve(data.size() * column_of.size());
  for (size_t r = 0; r < data.size(); ++r) {
    const json& row = data[r];
    if (!row.is_array() || row.size() != width) {
      return Status::InvalidArgument(fmt::format("field '{}[{}]': expected an array of {} values, got {}", field, r,
                                                 width, DescribeJson(row)));
    }
    for (int c : column_of) {
      GYRE_ASSIGN_OR_RETURN(float v, CellValue(row[c], fmt::format("{}[{}][{}]", field, r, c)));
      rows.push_back(v);
    }
  }
  return rows;
}

Result<std::vector<float>> InvocationRows(const http::Request& request, const Servable& model) {
  std::string_view type = request.Header("Content-Type").value_or("application/json");
  std::string_view media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (size_t semi = type.find(';'); semi != std::string_view::npos) {
    std::string_view params = type.substr(semi + 1);
    while (!params.empty() && params.front() == ' ') params.remove_prefix(1);
    if (!params.starts_with("charset=")) {
      return Status::UnsupportedMediaType(fmt::format("content type parameter '{}' is not supported (only charset)", params));
    }
  }
  const auto& names = model.descriptor().feature_names;
  if (http::EqualsIgnoreCase(media, "text/csv")) {
    CsvReadOptions options;
    options.display_name = "request body";
    GYRE_ASSIGN_OR_RETURN(CsvReadResult csv, ReadCsvString(request.body, options));
    std::vector<std::string> columns;
    for (int c = 0; c < csv.table.num_columns(); ++c) columns.push_back(csv.table.column_name(c));
    GYRE_ASSIGN_OR_RETURN(std::vector<int> column_of, ColumnOrder(columns, model, "request body (CSV)"));
    std::vector<float> rows(static_cast<size_t>(csv.table.num_rows()) * names.size());
    for (size_t f = 0; f < names.size(); ++f) {
      const Column& col = csv.table.column(column_of[f]);
      if (col.null_count() == csv.table.num_rows()) {  // every cell empty: missing values, whatever type was guessed
        for (int64_t r = 0; r < csv.table.num_rows(); ++r) rows[r * names.size() + f] = kMissing;
        continue;
      }
      if (col.type() == ColumnType::kString || col.type() == ColumnType::kTimestamp) {
        return Status::InvalidArgument(fmt::format("request body (CSV): column '{}' holds {} values; expected numbers",
                                                   names[f], ColumnTypeName(col.type())));
      }
      for (int64_t r = 0; r < csv.table.num_rows(); ++r) {
        rows[r * names.size() + f] = ModelInput(col, r);
      }
    }
    return rows;
  }
  if (!http::EqualsIgnoreCase(media, "application/json")) {
    return Status::UnsupportedMediaType(fmt::format("content type '{}' is not supported (application/json or text/csv)", media));
  }
  GYRE_ASSIGN_OR_RETURN(json body, http::ParseJson(request.body));
  if (!body.is_object()) return Status::InvalidArgument("request body: expected a JSON object");
  static const std::vector<std::string> kFormats = {"dataframe_split", "dataframe_records", "instances", "inputs"};
  std::string format;
  for (const auto& [key, value] : body.items()) {
    if (std::find(kFormats.begin(), kFormats.end(), key) != kFormats.end()) {
      if (!format.empty()) {
        return Status::InvalidArgument(fmt::format("request body holds both '{}' and '{}'; send exactly one of: {}",
                                                   format, key, fmt::join(kFormats, ", ")));
      }
      format = key;
    } else if (key != "params") {
      return Status::InvalidArgument(fmt::format("request body: unknown field '{}' (expected one of: {}; and params)",
                                                 key, fmt::join(kFormats, ", ")));
    }
  }
  if (format.empty()) {
    return Status::InvalidArgument(fmt::format("request body: expected one of: {}", fmt::join(kFormats, ", ")));
  }
  const json& payload = body[format];
  if (format == "dataframe_split") {
    if (!payload.is_object() || !payload.contains("columns") || !payload.contains("data")) {
      return Status::InvalidArgument("field 'dataframe_split': expected {\"columns\": [...], \"data\": [[...]]}");
    }
    std::vector<std::string> columns;
    for (const json& c : payload["columns"]) {
      if (!c.is_string()) return Status::InvalidArgument("field 'dataframe_split.columns': expected strings");
      columns.push_back(c.get<std::string>());
    }
    GYRE_ASSIGN_OR_RETURN(std::vector<int> column_of, ColumnOrder(columns, model, "field 'dataframe_split.columns'"));
    return RowsFromArrays(payload["data"], column_of, columns.size(), "dataframe_split.data");
  }
  if (format == "dataframe_records") return RowsFromRecords(payload, model, format);
  // instances / inputs: records, or rows of values in the model's feature order.
  if (payload.is_array() && !payload.empty() && payload[0].is_object()) return RowsFromRecords(payload, model, format);
  std::vector<int> identity(names.size());
  for (size_t f = 0; f < names.size(); ++f) identity[f] = static_cast<int>(f);
  return RowsFromArrays(payload, identity, names.size(), format);
}

Result<http::Response> Invocations(ScoringService& scoring, const http::Request& request) {
  std::string deployment;
  if (auto q = request.Query("deployment")) {
    deployment = std::string(*q);
  } else if (scoring.config().deployments.size() == 1) {
    deployment = scoring.config().deployments[0].name;
  } else {
    std::vector<std::string> names;
    for (const auto& d : scoring.config().deployments) names.push_back(d.name);
    return Status::InvalidArgument(fmt::format("several deployments are served; name one with ?deployment= ({})",
                                               fmt::join(names, ", ")));
  }
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Servable> model, scoring.Model(deployment));
  GYRE_ASSIGN_OR_RETURN(std::vector<float> rows, InvocationRows(request, *model));
  serving::ScoreOptions options;
  options.request_id = std::string(request.request_id);
  options.path = serving::ScorePath::kInvocations;
  options.caller = ActorOf(request);
  GYRE_ASSIGN_OR_RETURN(serving::RowsResult scored, scoring.ScoreRows(deployment, model, std::move(rows), options));
  // MLflow's shape: one value per row, or one list per row for a model with several outputs (class
  // probabilities), as the model's own predict() returns them.
  const int width = model->num_outputs();
  const int64_t n = static_cast<int64_t>(scored.outputs.size()) / width;
  fmt::memory_buffer out;
  fmt::format_to(std::back_inserter(out), "{{\"predictions\":[");
  for (int64_t r = 0; r < n; ++r) {
    if (r > 0) out.push_back(',');
    if (width > 1) out.push_back('[');
    for (int k = 0; k < width; ++k) {
      if (k > 0) out.push_back(',');
      AppendFloat(out, scored.outputs[r * width + k]);
    }
    if (width > 1) out.push_back(']');
  }
  fmt::format_to(std::back_inserter(out), "]}}");
  return http::Response(200, fmt::to_string(out));
}

}  // namespace

void AddServingRoutes(http::Router& router, std::function<serving::ScoringService*()> get_scoring) {
  auto with = [get_scoring](Result<http::Response> (*handler)(ScoringService&, const http::Request&)) {
    return [get_scoring, handler](const http::Request& request) -> Result<http::Response> {
      ScoringService* scoring = get_scoring();
      if (scoring == nullptr) return NotServing();
      return handler(*scoring, request);
    };
  };
  router.Add("POST", "/v1/score/{deployment}", with(&Score));

  router.Add("GET", "/v2", [](const http::Request&) -> Result<http::Response> {
    return http::JsonResponse({{"name", "gyre"}, {"version", "0.1"}, {"extensions", json::array()}});
  });
  router.Add("GET", "/v2/health/live", [](const http::Request&) -> Result<http::Response> {
    return http::JsonResponse({{"live", true}});
  });
  // Ready when every deployment has a model loaded; the body says, per deployment, what serves or why not.
  router.Add("GET", "/v2/health/ready", [get_scoring](const http::Request&) -> Result<http::Response> {
    ScoringService* scoring = get_scoring();
    json models = json::object();
    bool ready = scoring != nullptr;
    if (scoring != nullptr) {
      for (const serving::DeploymentConfig& d : scoring->config().deployments) {
        GYRE_ASSIGN_OR_RETURN(serving::ModelState state, scoring->State(d.name));
        models[d.name] = ModelStateJson(state);
        ready = ready && state.loaded != nullptr;
      }
    }
    return http::JsonResponse({{"ready", ready}, {"models", models}}, ready ? 200 : 503);
  });
  auto metadata = with([](ScoringService& scoring, const http::Request& request) -> Result<http::Response> {
    GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Servable> model, OipModel(scoring, request));
    GYRE_ASSIGN_OR_RETURN(serving::Decision decision, scoring.DecisionOf(request.Param("model"), *model));
    return http::JsonResponse(ModelMetadata(*model, request.Param("model"), decision));
  });
  router.Add("GET", "/v2/models/{model}", metadata);
  router.Add("GET", "/v2/models/{model}/versions/{version}", metadata);
  // 200 when loaded, 503 (with this model's own load error) while not, 404 for a model that is not served.
  auto ready = with([](ScoringService& scoring, const http::Request& request) -> Result<http::Response> {
    std::string_view name = request.Param("model");
    auto state = scoring.State(name);
    if (!state.ok()) return Status::NotFound(fmt::format("model '{}' is not served ({})", name, state.status().message()));
    json body = ModelStateJson(*state);
    body["name"] = name;
    std::string_view version = request.Param("version");
    if (!version.empty() && state->loaded != nullptr && state->loaded->version() != version) {
      return Status::NotFound(fmt::format("model '{}' version {} is not loaded (serving version {})", name, version,
                                          state->loaded->version()));
    }
    return http::JsonResponse(body, state->loaded != nullptr ? 200 : 503);
  });
  router.Add("GET", "/v2/models/{model}/ready", ready);
  router.Add("GET", "/v2/models/{model}/versions/{version}/ready", ready);
  router.Add("POST", "/v2/models/{model}/infer", with(&Infer));
  router.Add("POST", "/v2/models/{model}/versions/{version}/infer", with(&Infer));

  router.Add("POST", "/invocations", with(&Invocations));
  router.Add("GET", "/ping", [get_scoring](const http::Request&) -> Result<http::Response> {
    if (get_scoring() == nullptr) return NotServing();
    return http::Response(200, "\n", "application/json");
  });
  router.Add("GET", "/version", [](const http::Request&) -> Result<http::Response> {
    return http::Response::Text(200, "gyre 0.1\n");
  });
  router.SetErrorFormatter("/invocations", MlflowScoringError);
}

}  // namespace gyre::api
