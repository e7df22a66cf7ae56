#include "http/json.h"

#include <fmt/format.h>

#include <algorithm>

namespace gyre::http {
namespace {

// Line and column (1-based) of the 0-based byte `offset` in `text`.
void LineColumn(std::string_view text, size_t offset, int* line, int* column) {
  offset = std::min(offset, text.size());
  std::string_view before = text.substr(0, offset);
  *line = 1 + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  size_t last_newline = before.rfind('\n');
  *column = static_cast<int>(last_newline == std::string_view::npos ? offset + 1 : offset - last_newline);
}

Status ParseErrorAt(std::string_view what, std::string_view text, size_t offset, std::string_view reason) {
  int line = 0, column = 0;
  LineColumn(text, offset, &line, &column);
  return Status::InvalidArgument(
      gyre::Located(what, line, column, fmt::format("{} (byte offset {})", reason, offset)));
}

// Refuses documents nested deeper than kMaxJsonDepth. Brackets inside strings do not count.
Status CheckDepth(std::string_view text, std::string_view what) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) {
        return ParseErrorAt(what, text, i, fmt::format("nested deeper than {} levels", kMaxJsonDepth));
      }
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return Status::OK();
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("{}: expected a JSON document, got an empty body", what));
  }
  GYRE_RETURN_IF_ERROR(CheckDepth(text, what));
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::parse_error& e) {
    // what() reads "[json.exception.parse_error.101] parse error at line 1, column 5: <reason>"; keep the
    // reason and spell the location gyre's way. e.byte is 1-based.
    std::string_view message = e.what();
    size_t at = message.find("parse error");
    size_t colon = at == std::string_view::npos ? at : message.find(": ", at);
    std::string_view reason = colon == std::string_view::npos ? message : message.substr(colon + 2);
    size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    return ParseErrorAt(what, text, offset, reason);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(fmt::format("{}: {}", what, e.what()));
  }
}

Response JsonResponse(const nlohmann::json& value, int status) {
  return Response(status, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string_view JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::string: return "a string";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    case nlohmann::json::value_t::binary: return "binary data";
    case nlohmann::json::value_t::discarded: return "nothing";
  }
  return "an unknown value";
}

Status JsonView::Error(std::string_view message) const {
  if (is_root_) return Status::InvalidArgument(fmt::format("{}: {}", path_, message));
  return Status::InvalidArgument(Field(path_, message));
}

std::string JsonView::ChildPath(std::string_view key) const {
  if (is_root_) return std::string(key);
  return fmt::format("{}.{}", path_, key);
}

Status JsonView::ExpectObject() const {
  if (value_->is_object()) return Status::OK();
  return Error(fmt::format("expected an object, got {}", JsonTypeName(*value_)));
}

Status JsonView::ExpectArray() const {
  if (value_->is_array()) return Status::OK();
  return Error(fmt::format("expected an array, got {}", JsonTypeName(*value_)));
}

Result<JsonView> JsonView::Get(std::string_view key) const {
  GYRE_RETURN_IF_ERROR(ExpectObject());
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) {
    return Status::InvalidArgument(Field(ChildPath(key), "is required"));
  }
  return JsonView(*it, ChildPath(key), false);
}

std::optional<JsonView> JsonView::Find(std::string_view key) const {
  if (!value_->is_object()) return std::nullopt;
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonView(*it, ChildPath(key), false);
}

Result<JsonView> JsonView::At(size_t index) const {
  GYRE_RETURN_IF_ERROR(ExpectArray());
  std::string path = is_root_ ? fmt::format("[{}]", index) : fmt::format("{}[{}]", path_, index);
  if (index >= value_->size()) {
    return Status::InvalidArgument(Field(path, fmt::format("is required (the array has {} elements)",
                                                           value_->size())));
  }
  return JsonView((*value_)[index], std::move(path), false);
}

Result<std::vector<JsonView>> JsonView::Elements() const {
  GYRE_RETURN_IF_ERROR(ExpectArray());
  std::vector<JsonView> out;
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) {
    out.push_back(JsonView((*value_)[i], is_root_ ? fmt::format("[{}]", i) : fmt::format("{}[{}]", path_, i),
                           false));
  }
  return out;
}

Result<std::string> JsonView::String() const {
  if (!value_->is_string()) return Error(fmt::format("expected a string, got {}", JsonTypeName(*value_)));
  return value_->get_ref<const std::string&>();
}

Result<int64_t> JsonView::Int() const {
  if (value_->is_number_integer() && !value_->is_number_unsigned()) return value_->get<int64_t>();
  if (value_->is_number_unsigned()) {
    uint64_t u = value_->get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) return static_cast<int64_t>(u);
    return Error(fmt::format("integer {} is out of range", u));
  }
  if (value_->is_number_float()) {
    return Error(fmt::format("expected an integer, got {}", value_->dump()));
  }
  return Error(fmt::format("expected an integer, got {}", JsonTypeName(*value_)));
}

Result<double> JsonView::Number() const {
  if (value_->is_number()) return value_->get<double>();
  return Error(fmt::format("expected a number, got {}", JsonTypeName(*value_)));
}

Result<bool> JsonView::Bool() const {
  if (value_->is_boolean()) return value_->get<bool>();
  return Error(fmt::format("expected a boolean, got {}", JsonTypeName(*value_)));
}

Result<std::vector<int64_t>> JsonView::IntArray() const {
  if (!value_->is_array()) {
    return Error(fmt::format("expected an array of integers, got {}", JsonTypeName(*value_)));
  }
  std::vector<int64_t> out;
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) {
    const nlohmann::json& v = (*value_)[i];
    bool fits = v.is_number_integer() &&
                (!v.is_number_unsigned() || v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX));
    if (!fits) {
      std::string got = v.is_number() ? v.dump() : std::string(JsonTypeName(v));
      return Error(fmt::format("expected an array of integers, element {} is {}", i, got));
    }
    out.push_back(v.get<int64_t>());
  }
  return out;
}

Result<std::vector<double>> JsonView::NumberArray() const {
  if (!value_->is_array()) {
    return Error(fmt::format("expected an array of numbers, got {}", JsonTypeName(*value_)));
  }
  std::vector<double> out;
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) {
    const nlohmann::json& v = (*value_)[i];
    if (!v.is_number()) {
      return Error(fmt::format("expected an array of numbers, element {} is {}", i, JsonTypeName(v)));
    }
    out.push_back(v.get<double>());
  }
  return out;
}

Result<std::vector<std::string>> JsonView::StringArray() const {
  if (!value_->is_array()) {
    return Error(fmt::format("expected an array of strings, got {}", JsonTypeName(*value_)));
  }
  std::vector<std::string> out;
  out.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) {
    const nlohmann::json& v = (*value_)[i];
    if (!v.is_string()) {
      return Error(fmt::format("expected an array of strings, element {} is {}", i, JsonTypeName(v)));
    }
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace gyre::http
