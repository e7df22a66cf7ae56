#include "api/json_table.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "core/time.h"
#include "core/value_parse.h"
#include "http/json.h"

namespace gyre::api {

using nlohmann::json;

std::string DescribeJson(const json& v) {
  std::string text = v.dump();
  if (text.size() > 40) text = text.substr(0, 37) + "...";
  return fmt::format("{} {}", http::JsonTypeName(v), text);
}

Status AppendJson(Column& column, const json& v, const std::string& where) {
  if (v.is_null()) {
    column.AppendNull();
    return Status::OK();
  }
  auto bad = [&](std::string_view expected) {
    return Status::InvalidArgument(fmt::format("field '{}': expected {}, got {}", where, expected, DescribeJson(v)));
  };
  switch (column.type()) {
    case ColumnType::kString:
      if (v.is_string()) {
        column.AppendString(v.get_ref<const std::string&>());
      } else if (v.is_number_integer() || v.is_boolean()) {
        column.AppendString(v.dump());
      } else if (v.is_number()) {
        column.AppendString(fmt::format("{}", v.get<double>()));
      } else {
        return bad("a string");
      }
      return Status::OK();
    case ColumnType::kInt64:
      if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
        return bad("an integer within 64 bits");
      } else if (v.is_number_integer()) {
        column.AppendInt64(v.get<int64_t>());
      } else if (v.is_number_float()) {
        // A whole number written as a float (7.0, 1e3) is that integer; converting one outside int64's range
        // would be undefined behaviour (found by score_body_fuzz: "asn": 64500e22).
        const double d = v.get<double>();
        if (!(d >= -0x1p63 && d < 0x1p63) || d != std::trunc(d)) return bad("an integer");
        column.AppendInt64(static_cast<int64_t>(d));
      } else if (v.is_string()) {
        int64_t parsed = 0;
        if (!ParseInt64(v.get_ref<const std::string&>(), &parsed)) return bad("an integer");
        column.AppendInt64(parsed);
      } else {
        return bad("an integer");
      }
      return Status::OK();
    case ColumnType::kFloat64:
      if (v.is_number()) {
        column.AppendFloat64(v.get<double>());
      } else if (v.is_string()) {
        double parsed = 0;
        if (!ParseFloat64(v.get_ref<const std::string&>(), &parsed)) return bad("a number");
        column.AppendFloat64(parsed);
      } else {
        return bad("a number");
      }
      return Status::OK();
    case ColumnType::kBool:
      if (v.is_boolean()) {
        column.AppendBool(v.get<bool>());
      } else if (v.is_string() && (v == "true" || v == "false")) {
        column.AppendBool(v == "true");
      } else {
        return bad("true or false");
      }
      return Status::OK();
    case ColumnType::kTimestamp: {
      std::string text = v.is_string() ? v.get<std::string>() : v.is_number_integer() ? v.dump() : "";
      Result<TimestampMicros> ts = ParseTimestamp(text);
      if (text.empty() || !ts.ok()) return bad("a timestamp (ISO-8601 or epoch seconds/ms/µs)");
      column.AppendTimestamp(*ts);
      return Status::OK();
    }
  }
  return bad("a value");
}

Result<Table> TableFromColumns(const json& object, const std::string& field, const Schema& schema) {
  if (!object.is_object() || object.empty()) {
    return Status::InvalidArgument(fmt::format("field '{}': expected an object of columns (name: [values]), got {}",
                                               field, DescribeJson(object)));
  }
  int64_t rows = -1;
  for (const auto& [name, values] : object.items()) {
    if (!values.is_array()) {
      return Status::InvalidArgument(fmt::format("field '{}.{}': expected an array of values, got {}", field, name,
                                                 DescribeJson(values)));
    }
    if (schema.IndexOf(name) < 0) {
      return Status::InvalidArgument(fmt::format("field '{}.{}': unknown column (columns: {})", field, name,
                                                 schema.NameList()));
    }
    if (rows >= 0 && static_cast<int64_t>(values.size()) != rows) {
      return Status::InvalidArgument(fmt::format("field '{}.{}': {} values, but other columns have {}", field, name,
                                                 values.size(), rows));
    }
    rows = static_cast<int64_t>(values.size());
  }
  TableBuilder builder(schema);
  for (int c = 0; c < schema.size(); ++c) {
    Column& column = builder.column(c);
    const std::string& name = schema.column(c).name;
    auto it = object.find(name);
    for (int64_t r = 0; r < rows; ++r) {
      if (it == object.end()) {
        column.AppendNull();
      } else {
        GYRE_RETURN_IF_ERROR(AppendJson(column, (*it)[r], fmt::format("{}.{}[{}]", field, name, r)));
      }
    }
  }
  return builder.Finish();
}

Result<Table> TableFromRecords(const json& records, const std::string& field, const Schema& schema) {
  const bool one = records.is_object();
  if (!one && (!records.is_array() || records.empty())) {
    return Status::InvalidArgument(
        fmt::format("field '{}': expected an object or a non-empty array of objects, got {}", field, DescribeJson(records)));
  }
  const size_t n = one ? 1 : records.size();
  for (size_t r = 0; r < n; ++r) {
    const json& record = one ? records : records[r];
    std::string where = one ? field : fmt::format("{}[{}]", field, r);
    if (!record.is_object()) {
      return Status::InvalidArgument(fmt::format("field '{}': expected an object, got {}", where, DescribeJson(record)));
    }
    for (const auto& [name, value] : record.items()) {
      if (schema.IndexOf(name) < 0) {
        return Status::InvalidArgument(
            fmt::format("field '{}.{}': unknown column (columns: {})", where, name, schema.NameList()));
      }
    }
  }
  TableBuilder builder(schema);
  for (int c = 0; c < schema.size(); ++c) {
    Column& column = builder.column(c);
    const std::string& name = schema.column(c).name;
    for (size_t r = 0; r < n; ++r) {
      const json& record = one ? records : records[r];
      auto it = record.find(name);
      if (it == record.end()) {
        column.AppendNull();
      } else {
        GYRE_RETURN_IF_ERROR(AppendJson(column, *it, one ? fmt::format("{}.{}", field, name)
                                                         : fmt::format("{}[{}].{}", field, r, name)));
      }
    }
  }
  return builder.Finish();
}

}  // namespace gyre::api
