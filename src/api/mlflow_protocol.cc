#include "api/mlflow_protocol.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>

#include "core/base64.h"
#include "http/json.h"

namespace gyre::api {
namespace {

Status Missing(const std::string& key) {
  return Status::InvalidArgument(fmt::format("Missing value for required parameter '{}'.", key));
}

Status WrongType(const std::string& key, std::string_view expected, const nlohmann::json& got) {
  return Status::InvalidArgument(fmt::format("Invalid value {} for parameter '{}' supplied: expected {}",
                                             got.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), key,
                                             expected));
}

Result<std::optional<int64_t>> IntFrom(const nlohmann::json& v, const std::string& key) {
  if (v.is_null()) return std::optional<int64_t>();
  if (v.is_number_integer()) return std::optional<int64_t>(v.get<int64_t>());
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) == d && std::abs(d) < 9.2e18) return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    int64_t x;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size()) return std::optional<int64_t>(x);
  }
  return WrongType(key, "an integer", v);
}

Result<std::optional<double>> DoubleFrom(const nlohmann::json& v, const std::string& key) {
  if (v.is_null()) return std::optional<double>();
  if (v.is_number()) return std::optional<double>(v.get<double>());
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN" || s == "nan") return std::optional<double>(std::numeric_limits<double>::quiet_NaN());
    if (s == "Infinity" || s == "inf") return std::optional<double>(std::numeric_limits<double>::infinity());
    if (s == "-Infinity" || s == "-inf") return std::optional<double>(-std::numeric_limits<double>::infinity());
    double x;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (!s.empty() && ec == std::errc() && ptr == s.data() + s.size()) return std::optional<double>(x);
  }
  return WrongType(key, "a number", v);
}

}  // namespace

Result<MlflowFields> MlflowFields::From(const http::Request& request) {
  // GET carries fields in the query string; so may a DELETE or POST whose body is empty.
  if (request.method == "GET" || request.method == "HEAD" || (request.body.empty() && !request.query.empty())) {
    nlohmann::json j = nlohmann::json::object();
    for (const http::QueryParam& q : request.query) {
      auto it = j.find(q.name);
      if (it == j.end()) {
        j[q.name] = q.value;
      } else {
        if (!it->is_array()) *it = nlohmann::json::array({*it});
        it->push_back(q.value);
      }
    }
    return MlflowFields(std::move(j));
  }
  if (request.body.empty()) return MlflowFields(nlohmann::json::object());
  GYRE_ASSIGN_OR_RETURN(nlohmann::json body, http::ParseJson(request.body));
  if (!body.is_object()) return Status::InvalidArgument("request body: expected a JSON object");
  return MlflowFields(std::move(body));
}

Result<std::optional<std::string>> MlflowFields::OptionalString(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return std::optional<std::string>();
  if (it->is_string()) return std::optional<std::string>(it->get<std::string>());
  if (it->is_number_integer()) return std::optional<std::string>(std::to_string(it->get<int64_t>()));
  return WrongType(key, "a string", *it);
}

Result<std::string> MlflowFields::RequiredString(const std::string& key) const {
  GYRE_ASSIGN_OR_RETURN(std::optional<std::string> v, OptionalString(key));
  if (!v || v->empty()) return Missing(key);
  return *v;
}

Result<std::optional<int64_t>> MlflowFields::OptionalInt(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end()) return std::optional<int64_t>();
  return IntFrom(*it, key);
}

Result<int64_t> MlflowFields::RequiredInt(const std::string& key) const {
  GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> v, OptionalInt(key));
  if (!v) return Missing(key);
  return *v;
}

Result<std::optional<double>> MlflowFields::OptionalDouble(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end()) return std::optional<double>();
  return DoubleFrom(*it, key);
}

Result<std::optional<bool>> MlflowFields::OptionalBool(const std::string& key) const {
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return std::optional<bool>();
  if (it->is_boolean()) return std::optional<bool>(it->get<bool>());
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    if (s == "true" || s == "True") return std::optional<bool>(true);
    if (s == "false" || s == "False") return std::optional<bool>(false);
  }
  return WrongType(key, "true or false", *it);
}

Result<std::vector<std::string>> MlflowFields::StringList(const std::string& key) const {
  std::vector<std::string> out;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return out;
  if (it->is_string()) return std::vector<std::string>{it->get<std::string>()};
  if (!it->is_array()) return WrongType(key, "a list of strings", *it);
  for (const auto& v : *it) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else if (v.is_number_integer()) {
      out.push_back(std::to_string(v.get<int64_t>()));
    } else {
      return WrongType(key, "a list of strings", *it);
    }
  }
  return out;
}

Result<std::vector<tracking::Tag>> MlflowFields::Tags(const std::string& key) const {
  std::vector<tracking::Tag> out;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return out;
  if (!it->is_array()) return WrongType(key, "a list of {key, value} objects", *it);
  for (size_t i = 0; i < it->size(); ++i) {
    const auto& t = (*it)[i];
    std::string where = fmt::format("{}[{}]", key, i);
    if (!t.is_object()) return WrongType(where, "an object with key and value", t);
    auto k = t.find("key");
    auto v = t.find("value");
    if (k == t.end() || !k->is_string() || k->get_ref<const std::string&>().empty()) return Missing(where + ".key");
    if (v != t.end() && !v->is_null() && !v->is_string()) return WrongType(where + ".value", "a string", *v);
    out.push_back({k->get<std::string>(), v == t.end() || v->is_null() ? "" : v->get<std::string>()});
  }
  return out;
}

Result<tracking::Metric> MetricFromJson(const nlohmann::json& j, const std::string& object_path) {
  if (!j.is_object()) return WrongType(object_path, "an object", j);
  const std::string where = object_path.empty() ? "" : object_path + ".";
  tracking::Metric m;
  auto key = j.find("key");
  if (key == j.end() || !key->is_string() || key->get_ref<const std::string&>().empty()) return Missing(where + "key");
  m.key = key->get<std::string>();
  auto value = j.find("value");
  if (value == j.end()) return Missing(where + "value");
  GYRE_ASSIGN_OR_RETURN(std::optional<double> v, DoubleFrom(*value, where + "value"));
  if (!v) return Missing(where + "value");
  m.value = *v;
  auto ts = j.find("timestamp");
  if (ts == j.end()) return Missing(where + "timestamp");
  GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> t, IntFrom(*ts, where + "timestamp"));
  if (!t) return Missing(where + "timestamp");
  m.timestamp = *t;
  if (auto step = j.find("step"); step != j.end()) {
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> s, IntFrom(*step, where + "step"));
    m.step = s.value_or(0);
  }
  return m;
}

Result<std::vector<tracking::Metric>> MlflowFields::Metrics(const std::string& key) const {
  std::vector<tracking::Metric> out;
  auto it = json_.find(key);
  if (it == json_.end() || it->is_null()) return out;
  if (!it->is_array()) return WrongType(key, "a list of metrics", *it);
  out.reserve(it->size());
  for (size_t i = 0; i < it->size(); ++i) {
    GYRE_ASSIGN_OR_RETURN(tracking::Metric m, MetricFromJson((*it)[i], fmt::format("{}[{}]", key, i)));
    out.push_back(std::move(m));
  }
  return out;
}

std::string ActorOf(const http::Request& request) {
  // With authentication on, the actor is who the credentials proved, never what a header claims.
  if (request.auth_enforced) return std::string(request.user);
  std::optional<std::string_view> auth = request.Header("Authorization");
  if (auth && auth->size() > 6 && http::EqualsIgnoreCase(auth->substr(0, 6), "Basic ")) {
    Result<std::string> decoded = Base64Decode(auth->substr(6));
    if (decoded.ok()) return decoded->substr(0, decoded->find(':'));
  }
  if (std::optional<std::string_view> user = request.Header("X-Gyre-User")) return std::string(*user);
  return "";
}

nlohmann::json DoubleToJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

nlohmann::json ToJson(const tracking::Tag& tag) { return {{"key", tag.key}, {"value", tag.value}}; }

nlohmann::json TagsToJson(const std::vector<tracking::Tag>& tags) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& t : tags) out.push_back(ToJson(t));
  return out;
}

nlohmann::json ToJson(const tracking::Metric& m) {
  return {{"key", m.key}, {"value", DoubleToJson(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}};
}

nlohmann::json ToJson(const tracking::Experiment& e) {
  nlohmann::json j = {
      {"experiment_id", e.experiment_id},         {"name", e.name},
      {"artifact_location", e.artifact_location}, {"lifecycle_stage", tracking::LifecycleStageName(e.lifecycle_stage)},
      {"last_update_time", e.last_update_time},   {"creation_time", e.creation_time}};
  if (!e.tags.empty()) j["tags"] = TagsToJson(e.tags);
  return j;
}

nlohmann::json ToJson(const tracking::RunInfo& info) {
  nlohmann::json j = {{"run_id", info.run_id},
                      {"run_uuid", info.run_id},
                      {"run_name", info.run_name},
                      {"experiment_id", info.experiment_id},
                      {"user_id", info.user_id},
                      {"status", tracking::RunStatusName(info.status)},
                      {"start_time", info.start_time},
                      {"artifact_uri", info.artifact_uri},
                      {"lifecycle_stage", tracking::LifecycleStageName(info.lifecycle_stage)}};
  if (info.end_time) j["end_time"] = *info.end_time;
  return j;
}

nlohmann::json ToJson(const tracking::Run& run) {
  nlohmann::json data = nlohmann::json::object();
  if (!run.metrics.empty()) {
    data["metrics"] = nlohmann::json::array();
    for (const auto& m : run.metrics) data["metrics"].push_back(ToJson(m));
  }
  if (!run.params.empty()) data["params"] = TagsToJson(run.params);
  if (!run.tags.empty()) data["tags"] = TagsToJson(run.tags);
  nlohmann::json inputs = nlohmann::json::object();
  if (!run.inputs.empty()) {
    inputs["dataset_inputs"] = nlohmann::json::array();
    for (const auto& in : run.inputs) {
      nlohmann::json d = {{"name", in.dataset.name},
                          {"digest", in.dataset.digest},
                          {"source_type", in.dataset.source_type},
                          {"source", in.dataset.source}};
      if (!in.dataset.schema.empty()) d["schema"] = in.dataset.schema;
      if (!in.dataset.profile.empty()) d["profile"] = in.dataset.profile;
      nlohmann::json entry = {{"dataset", d}};
      if (!in.tags.empty()) entry["tags"] = TagsToJson(in.tags);
      inputs["dataset_inputs"].push_back(entry);
    }
  }
  return {{"info", ToJson(run.info)}, {"data", data}, {"inputs", inputs}};
}

std::string_view MlflowErrorCode(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kInvalidArgument:
      return "INVALID_PARAMETER_VALUE";
    case StatusCode::kNotFound:
      return "RESOURCE_DOES_NOT_EXIST";
    case StatusCode::kAlreadyExists:
      return "RESOURCE_ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition:
      return "INVALID_STATE";
    case StatusCode::kPermissionDenied:
      return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted:
      return "REQUEST_LIMIT_EXCEEDED";
    case StatusCode::kUnavailable:
      return "TEMPORARILY_UNAVAILABLE";
    case StatusCode::kDeadlineExceeded:
      return "DEADLINE_EXCEEDED";
    case StatusCode::kUnimplemented:
      return "NOT_IMPLEMENTED";
    case StatusCode::kUnsupportedMediaType:
      return "INVALID_PARAMETER_VALUE";
    case StatusCode::kIOError:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

http::Response MlflowErrorFormatter(const http::ErrorInfo& info) {
  std::string_view code;
  int status = info.http_status;
  if (info.source == http::ErrorSource::kRouting) {
    code = info.http_status == 404 ? "ENDPOINT_NOT_FOUND" : "BAD_REQUEST";
  } else if (info.source == http::ErrorSource::kProtocol) {
    code = "BAD_REQUEST";
  } else {
    code = MlflowErrorCode(info.status.code());
    // MLflow answers these with 400, where gyre's default mapping says 409.
    if (info.status.code() == StatusCode::kAlreadyExists || info.status.code() == StatusCode::kFailedPrecondition) {
      status = 400;
    }
  }
  std::string message = info.status.message();
  if (status >= 500) message += fmt::format(" (request id {})", info.request_id);
  return http::JsonResponse({{"error_code", code}, {"message", message}}, status);
}

}  // namespace gyre::api
