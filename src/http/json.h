// JSON for handlers: parse a request body with an error that says where, build a JSON response, and read
// typed fields with errors that name the field.
//
//   GYRE_ASSIGN_OR_RETURN(nlohmann::json body, ParseJson(req.body));
//   JsonView root(body);
//   GYRE_ASSIGN_OR_RETURN(JsonView inputs, root.Get("inputs"));
//   GYRE_ASSIGN_OR_RETURN(JsonView first, inputs.At(0));
//   GYRE_ASSIGN_OR_RETURN(JsonView shape_field, first.Get("shape"));
//   GYRE_ASSIGN_OR_RETURN(std::vector<int64_t> shape, shape_field.IntArray());
//   // on a bad value: "field 'inputs[0].shape': expected an array of integers, element 1 is a string"
//
// Every error is InvalidArgument (→ 400). Nothing here throws: nlohmann exceptions are caught inside.
// A JsonView borrows the json it points at, which must outlive it. Thread-compatible (const use only).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "http/message.h"

namespace gyre::http {

// Documents nested deeper than this are refused before parsing, so no later recursive walk (dump,
// a handler's traversal) can exhaust the stack on hostile input.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text` as one JSON document. Errors read "<what>:<line>:<column>: <reason> (byte offset N)",
// with line and column 1-based and the byte offset 0-based.
Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what = "request body");

// Serialises `value` (invalid UTF-8 in strings is replaced, not thrown on) as an application/json body.
Response JsonResponse(const nlohmann::json& value, int status = 200);

// "null", "a boolean", "a number", "a string", "an array", "an object".
std::string_view JsonTypeName(const nlohmann::json& value);

// A position in a parsed document plus the dotted path that leads to it, for error messages.
class JsonView {
 public:
  // The document root; errors at the root are prefixed with `root_name`.
  explicit JsonView(const nlohmann::json& value, std::string root_name = "request body")
      : value_(&value), path_(std::move(root_name)), is_root_(true) {}

  const nlohmann::json& json() const { return *value_; }
  // "inputs[0].shape"; the root's name at the root.
  const std::string& path() const { return path_; }
  bool IsNull() const { return value_->is_null(); }

  // Member `key` of an object. Missing (or null) → "field 'a.key': is required"; not an object → error.
  Result<JsonView> Get(std::string_view key) const;
  // Member `key` if present and not null; nullopt otherwise, and also when this is not an object
  // (call ExpectObject first where that matters).
  std::optional<JsonView> Find(std::string_view key) const;
  // Element `index` of an array.
  Result<JsonView> At(size_t index) const;
  // All elements of an array, in order.
  Result<std::vector<JsonView>> Elements() const;

  Status ExpectObject() const;
  Status ExpectArray() const;

  Result<std::string> String() const;
  Result<int64_t> Int() const;      // integers only: 3.5 and "3" are errors
  Result<double> Number() const;    // any JSON number
  Result<bool> Bool() const;
  Result<std::vector<int64_t>> IntArray() const;
  Result<std::vector<double>> NumberArray() const;
  Result<std::vector<std::string>> StringArray() const;

  // InvalidArgument "field '<path>': <message>" (or "<root name>: <message>" at the root).
  Status Error(std::string_view message) const;

 private:
  JsonView(const nlohmann::json& value, std::string path, bool is_root)
      : value_(&value), path_(std::move(path)), is_root_(is_root) {}
  std::string ChildPath(std::string_view key) const;

  const nlohmann::json* value_;
  std::string path_;
  bool is_root_;
};

}  // namespace gyre::http
