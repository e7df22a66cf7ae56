// The request bodies of the scoring routes that feed a model's rows directly: the Open Inference
// Protocol's infer ({"inputs": [tensors]}) and MLflow's /invocations (dataframe_split, dataframe_records,
// instances, inputs; or CSV), read into rows of model inputs in feature order (NaN = missing). Pure
// functions of the body and the model's feature names, so they are tested and fuzzed without a model.
#include "api/inference_body.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "api/json_table.h"
#include "core/csv_reader.h"
#include "core/model_input.h"
#include "core/value_parse.h"

namespace gyre::api {
namespace {

using nlohmann::json;

constexpr float kMissing = std::numeric_limits<float>::quiet_NaN();

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

}  // namespace

Result<InferRows> InferInputs(const http::JsonView& root, int d, const std::vector<std::string>& names,
                              std::string_view model_name) {
  GYRE_ASSIGN_OR_RETURN(http::JsonView inputs_view, root.Get("inputs"));
  GYRE_ASSIGN_OR_RETURN(std::vector<http::JsonView> inputs, inputs_view.Elements());
  if (inputs.empty()) return inputs_view.Error("expected at least one input");
  static const std::vector<std::string> kTypes = {"BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16",
                                                  "INT32", "INT64", "FP32", "FP64"};
  InferRows out;
  std::vector<float>& rows = out.rows;
  int64_t& n = out.n;
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
      // [2^31, 2^31, 2^31] must not overflow the product (undefined behaviour); no body holds 2^31 values.
      if (s != 0 && count > (int64_t{1} << 31) / s) {
        return shape_view.Error(fmt::format("shape [{}] holds more than 2^31 values", fmt::join(shape, ", ")));
      }
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
                                         "as shape [n, {}])", name, model_name, d, d));
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
    out.rows.resize(static_cast<size_t>(n) * d);
    for (int64_t r = 0; r < n; ++r) {
      for (int f = 0; f < d; ++f) out.rows[r * d + f] = by_feature[f][r];
    }
  }
  return out;
}

namespace {

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
Result<std::vector<int>> ColumnOrder(const std::vector<std::string>& columns, const std::vector<std::string>& names,
                                     const std::string& where) {
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

Result<std::vector<float>> RowsFromRecords(const json& records, const std::vector<std::string>& names,
                                           const std::string& field) {
  if (!records.is_array()) {
    return Status::InvalidArgument(fmt::format("field '{}': expected an array of objects, got {}", field, DescribeJson(records)));
  }
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

}  // namespace

Result<std::vector<float>> InvocationRows(const http::Request& request, const std::vector<std::string>& names) {
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
  if (http::EqualsIgnoreCase(media, "text/csv")) {
    CsvReadOptions options;
    options.display_name = "request body";
    GYRE_ASSIGN_OR_RETURN(CsvReadResult csv, ReadCsvString(request.body, options));
    std::vector<std::string> columns;
    for (int c = 0; c < csv.table.num_columns(); ++c) columns.push_back(csv.table.column_name(c));
    GYRE_ASSIGN_OR_RETURN(std::vector<int> column_of, ColumnOrder(columns, names, "request body (CSV)"));
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
    GYRE_ASSIGN_OR_RETURN(std::vector<int> column_of, ColumnOrder(columns, names, "field 'dataframe_split.columns'"));
    return RowsFromArrays(payload["data"], column_of, columns.size(), "dataframe_split.data");
  }
  if (format == "dataframe_records") return RowsFromRecords(payload, names, format);
  // instances / inputs: records, or rows of values in the model's feature order.
  if (payload.is_array() && !payload.empty() && payload[0].is_object()) return RowsFromRecords(payload, names, format);
  std::vector<int> identity(names.size());
  for (size_t f = 0; f < names.size(); ++f) identity[f] = static_cast<int>(f);
  return RowsFromArrays(payload, identity, names.size(), format);
}

}  // namespace gyre::api
