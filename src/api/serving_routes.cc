#include "api/serving_routes.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "api/inference_body.h"
#include "api/json_table.h"
#include "api/mlflow_protocol.h"
#include "api/score_body.h"
#include "core/json_text.h"
#include "http/json.h"

namespace gyre::api {
namespace {

using nlohmann::json;
using serving::ScoringService;
using serving::Servable;


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

Result<http::Response> Infer(ScoringService& scoring, const http::Request& request) {
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const Servable> model, OipModel(scoring, request));
  GYRE_ASSIGN_OR_RETURN(json body, http::ParseJson(request.body));
  http::JsonView root(body);
  GYRE_RETURN_IF_ERROR(root.ExpectObject());
  GYRE_ASSIGN_OR_RETURN(InferRows parsed, InferInputs(root, model->num_features(), model->descriptor().feature_names,
                                                      model->name()));
  std::vector<float> rows = std::move(parsed.rows);
  const int64_t n = parsed.n;
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
  GYRE_ASSIGN_OR_RETURN(std::vector<float> rows, InvocationRows(request, model->descriptor().feature_names));
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
