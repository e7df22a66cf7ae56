#include "api/mlflow_tracking_routes.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <mutex>

#include "api/mlflow_protocol.h"
#include "auth/auth_store.h"
#include "core/time.h"
#include "http/json.h"

namespace gyre::api {
namespace {

using http::Request;
using http::Response;
using tracking::ArtifactStore;
using tracking::TrackingStore;

Response Json(const nlohmann::json& j) { return http::JsonResponse(j); }
Response Empty() { return http::JsonResponse(nlohmann::json::object()); }

Result<tracking::ViewType> ViewTypeField(const MlflowFields& f, const std::string& key) {
  GYRE_ASSIGN_OR_RETURN(std::optional<std::string> v, f.OptionalString(key));
  if (!v) return tracking::ViewType::kActiveOnly;
  std::optional<tracking::ViewType> view = tracking::ParseViewType(*v);
  if (!view) {
    return Status::InvalidArgument(
        fmt::format("Invalid value '{}' for parameter '{}': expected ACTIVE_ONLY, DELETED_ONLY or ALL", *v, key));
  }
  return *view;
}

// run_id, or the legacy run_uuid the client still sends beside it.
Result<std::string> RunIdField(const MlflowFields& f) {
  GYRE_ASSIGN_OR_RETURN(std::optional<std::string> id, f.OptionalString("run_id"));
  if (!id || id->empty()) {
    GYRE_ASSIGN_OR_RETURN(id, f.OptionalString("run_uuid"));
  }
  if (!id || id->empty()) return Status::InvalidArgument("Missing value for required parameter 'run_id'.");
  return *id;
}

class TrackingRoutes {
 public:
  TrackingRoutes(TrackingStore* store, ArtifactStore* artifacts,
                 std::function<Status(std::string_view)> check_artifact_writable)
      : store_(store), artifacts_(artifacts), check_artifact_writable_(std::move(check_artifact_writable)) {}

  // Experiments ----------------------------------------------------------------------------------------
  Result<Response> CreateExperiment(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> location, f.OptionalString("artifact_location"));
    GYRE_ASSIGN_OR_RETURN(std::vector<tracking::Tag> tags, f.Tags("tags"));
    GYRE_ASSIGN_OR_RETURN(std::string id, store_->CreateExperiment(name, location.value_or(""), tags));
    return Json({{"experiment_id", id}});
  }

  Result<Response> GetExperiment(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
    GYRE_ASSIGN_OR_RETURN(tracking::Experiment e, store_->GetExperiment(id));
    return Json({{"experiment", ToJson(e)}});
  }

  Result<Response> GetExperimentByName(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("experiment_name"));
    GYRE_ASSIGN_OR_RETURN(tracking::Experiment e, store_->GetExperimentByName(name));
    return Json({{"experiment", ToJson(e)}});
  }

  Result<Response> SearchExperiments(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    tracking::SearchExperimentsRequest search;
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> max, f.OptionalInt("max_results"));
    search.max_results = max.value_or(1000);
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> filter, f.OptionalString("filter"));
    search.filter = filter.value_or("");
    GYRE_ASSIGN_OR_RETURN(search.order_by, f.StringList("order_by"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> token, f.OptionalString("page_token"));
    search.page_token = token.value_or("");
    GYRE_ASSIGN_OR_RETURN(search.view_type, ViewTypeField(f, "view_type"));
    GYRE_ASSIGN_OR_RETURN(tracking::Page<tracking::Experiment> page, store_->SearchExperiments(search));
    nlohmann::json out = nlohmann::json::object();
    out["experiments"] = nlohmann::json::array();
    for (const auto& e : page.items) out["experiments"].push_back(ToJson(e));
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Json(out);
  }

  Result<Response> DeleteExperiment(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
    GYRE_RETURN_IF_ERROR(store_->DeleteExperiment(id));
    return Empty();
  }

  Result<Response> RestoreExperiment(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
    GYRE_RETURN_IF_ERROR(store_->RestoreExperiment(id));
    return Empty();
  }

  Result<Response> UpdateExperiment(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> name, f.OptionalString("new_name"));
    if (name) GYRE_RETURN_IF_ERROR(store_->RenameExperiment(id, *name));
    return Empty();
  }

  Result<Response> SetExperimentTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> value, f.OptionalString("value"));
    GYRE_RETURN_IF_ERROR(store_->SetExperimentTag(id, {key, value.value_or("")}));
    return Empty();
  }

  // Runs -----------------------------------------------------------------------------------------------
  Result<Response> CreateRun(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    tracking::CreateRunRequest create;
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> exp, f.OptionalString("experiment_id"));
    create.experiment_id = exp.value_or("");
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> user, f.OptionalString("user_id"));
    create.user_id = user.value_or("");
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> name, f.OptionalString("run_name"));
    create.run_name = name.value_or("");
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> start, f.OptionalInt("start_time"));
    create.start_time = start.value_or(0);
    GYRE_ASSIGN_OR_RETURN(create.tags, f.Tags("tags"));
    GYRE_ASSIGN_OR_RETURN(tracking::Run run, store_->CreateRun(create));
    return Json({{"run", ToJson(run)}});
  }

  Result<Response> UpdateRun(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    tracking::UpdateRunRequest update;
    GYRE_ASSIGN_OR_RETURN(update.run_id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> status, f.OptionalString("status"));
    if (status) {
      update.status = tracking::ParseRunStatus(*status);
      if (!update.status) {
        return Status::InvalidArgument(fmt::format(
            "Invalid value '{}' for parameter 'status': expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED",
            *status));
      }
    }
    GYRE_ASSIGN_OR_RETURN(update.end_time, f.OptionalInt("end_time"));
    GYRE_ASSIGN_OR_RETURN(update.run_name, f.OptionalString("run_name"));
    GYRE_ASSIGN_OR_RETURN(tracking::RunInfo info, store_->UpdateRun(update));
    return Json({{"run_info", ToJson(info)}});
  }

  Result<Response> DeleteRun(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_RETURN_IF_ERROR(store_->DeleteRun(id));
    return Empty();
  }

  Result<Response> RestoreRun(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_RETURN_IF_ERROR(store_->RestoreRun(id));
    return Empty();
  }

  Result<Response> GetRun(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(tracking::Run run, store_->GetRun(id));
    return Json({{"run", ToJson(run)}});
  }

  Result<Response> LogMetric(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(tracking::Metric m, MetricFromJson(f.json(), ""));
    GYRE_RETURN_IF_ERROR(store_->LogMetric(id, m));
    return Empty();
  }

  Result<Response> LogParam(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> value, f.OptionalString("value"));
    GYRE_RETURN_IF_ERROR(store_->LogParam(id, {key, value.value_or("")}));
    return Empty();
  }

  Result<Response> SetTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> value, f.OptionalString("value"));
    GYRE_RETURN_IF_ERROR(store_->SetTag(id, {key, value.value_or("")}));
    return Empty();
  }

  Result<Response> DeleteTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
    GYRE_RETURN_IF_ERROR(store_->DeleteTag(id, key));
    return Empty();
  }

  Result<Response> LogBatch(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::vector<tracking::Metric> metrics, f.Metrics("metrics"));
    GYRE_ASSIGN_OR_RETURN(std::vector<tracking::Param> params, f.Tags("params"));
    GYRE_ASSIGN_OR_RETURN(std::vector<tracking::Tag> tags, f.Tags("tags"));
    GYRE_RETURN_IF_ERROR(store_->LogBatch(id, metrics, params, tags));
    return Empty();
  }

  Result<Response> LogInputs(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    std::vector<tracking::DatasetInput> inputs;
    const nlohmann::json& j = f.json();
    if (auto it = j.find("datasets"); it != j.end() && !it->is_null()) {
      if (!it->is_array()) return Status::InvalidArgument("Invalid value for parameter 'datasets': expected a list");
      for (size_t i = 0; i < it->size(); ++i) {
        const nlohmann::json& entry = (*it)[i];
        const nlohmann::json& d = entry.is_object() ? entry.value("dataset", nlohmann::json::object()) : entry;
        if (!d.is_object()) return Status::InvalidArgument(fmt::format("datasets[{}].dataset: expected an object", i));
        tracking::DatasetInput in;
        auto text = [&](const char* k) { return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : ""; };
        in.dataset = {text("name"),   text("digest"), text("source_type"),
                      text("source"), text("schema"), text("profile")};
        if (entry.is_object() && entry.contains("tags") && entry["tags"].is_array()) {
          for (const auto& t : entry["tags"]) {
            if (t.is_object()) in.tags.push_back({t.value("key", ""), t.value("value", "")});
          }
        }
        inputs.push_back(std::move(in));
      }
    }
    GYRE_RETURN_IF_ERROR(store_->LogInputs(id, inputs));
    return Empty();
  }

  Result<Response> SearchRuns(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    tracking::SearchRunsRequest search;
    GYRE_ASSIGN_OR_RETURN(search.experiment_ids, f.StringList("experiment_ids"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> filter, f.OptionalString("filter"));
    search.filter = filter.value_or("");
    GYRE_ASSIGN_OR_RETURN(search.view_type, ViewTypeField(f, "run_view_type"));
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> max, f.OptionalInt("max_results"));
    search.max_results = max.value_or(1000);
    GYRE_ASSIGN_OR_RETURN(search.order_by, f.StringList("order_by"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> token, f.OptionalString("page_token"));
    search.page_token = token.value_or("");
    GYRE_ASSIGN_OR_RETURN(tracking::Page<tracking::Run> page, store_->SearchRuns(search));
    nlohmann::json out = nlohmann::json::object();
    if (!page.items.empty()) {
      out["runs"] = nlohmann::json::array();
      for (const auto& r : page.items) out["runs"].push_back(ToJson(r));
    }
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Json(out);
  }

  Result<Response> GetMetricHistory(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("metric_key"));
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> max, f.OptionalInt("max_results"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> token, f.OptionalString("page_token"));
    GYRE_ASSIGN_OR_RETURN(tracking::Page<tracking::Metric> page,
                          store_->GetMetricHistory(id, key, max.value_or(25000), token.value_or("")));
    nlohmann::json out = nlohmann::json::object();
    out["metrics"] = nlohmann::json::array();
    for (const auto& m : page.items) out["metrics"].push_back(ToJson(m));
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Json(out);
  }

  // mlflow.<flavor>.log_model(): the model's MLmodel as JSON, appended to the run's mlflow.log-model.history
  // tag (a JSON list), which the MLflow UI reads to show a run's logged models. MLflow's own checks: valid
  // JSON, with artifact_path, flavors, utc_time_created and run_id; the run must be active (SetTag's rule).
  Result<Response> LogModel(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> text, f.OptionalString("model_json"));
    nlohmann::json model = nlohmann::json::parse(text.value_or(""), nullptr, /*allow_exceptions=*/false);
    if (model.is_discarded() || !model.is_object()) {
      return Status::InvalidArgument(
          fmt::format("Malformed model info. \n {} \n is not a valid JSON.", text.value_or("")));
    }
    std::string missing;
    for (const char* key : {"artifact_path", "flavors", "run_id", "utc_time_created"}) {
      if (!model.contains(key)) missing += fmt::format("{}'{}'", missing.empty() ? "" : ", ", key);
    }
    if (!missing.empty()) {
      return Status::InvalidArgument(fmt::format("Model json is missing mandatory fields: {{{}}}", missing));
    }
    // Read, append, write: one at a time in this process, so two models logged together both stay listed.
    std::lock_guard<std::mutex> lock(log_model_mutex_);
    GYRE_ASSIGN_OR_RETURN(tracking::Run run, store_->GetRun(id));
    nlohmann::json history = nlohmann::json::array();
    for (const tracking::Tag& tag : run.tags) {
      if (tag.key != kLoggedModelsTag) continue;
      history = nlohmann::json::parse(tag.value, nullptr, /*allow_exceptions=*/false);
      if (history.is_discarded() || !history.is_array()) history = nlohmann::json::array();
    }
    history.push_back(std::move(model));
    GYRE_RETURN_IF_ERROR(store_->SetTag(id, {kLoggedModelsTag, history.dump()}));
    return Empty();
  }

  // Artifacts ------------------------------------------------------------------------------------------
  Result<Response> ListRunArtifacts(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string id, RunIdField(f));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> path, f.OptionalString("path"));
    GYRE_ASSIGN_OR_RETURN(tracking::Run run, store_->GetRun(id));
    GYRE_ASSIGN_OR_RETURN(std::string root, tracking::ArtifactPathOf(run.info.artifact_uri));
    std::string rel = path.value_or("");
    while (rel.ends_with("/")) rel.pop_back();
    GYRE_ASSIGN_OR_RETURN(std::vector<tracking::ArtifactFile> files,
                          artifacts_->List(rel.empty() ? root : root + "/" + rel));
    nlohmann::json out = {{"root_uri", run.info.artifact_uri}};
    if (!files.empty()) {
      out["files"] = nlohmann::json::array();
      for (const auto& file : files) {
        nlohmann::json entry = {{"path", rel.empty() ? file.path : rel + "/" + file.path}, {"is_dir", file.is_dir}};
        if (!file.is_dir) entry["file_size"] = file.file_size;
        out["files"].push_back(entry);
      }
    }
    return Json(out);
  }

  Result<Response> DownloadArtifact(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(std::string bytes, artifacts_->Get(req.Param("path")));
    return Response(200, std::move(bytes), "application/octet-stream");
  }

  Result<Response> UploadArtifact(const Request& req) {
    GYRE_RETURN_IF_ERROR(CheckWritable(req.Param("path")));
    GYRE_RETURN_IF_ERROR(artifacts_->Put(req.Param("path"), req.body));
    return Empty();
  }

  Result<Response> DeleteArtifact(const Request& req) {
    GYRE_RETURN_IF_ERROR(CheckWritable(req.Param("path")));
    GYRE_RETURN_IF_ERROR(artifacts_->Delete(req.Param("path")));
    return Empty();
  }

  Result<Response> ListArtifacts(const Request& req) {
    std::string path(req.Query("path").value_or(""));
    while (path.ends_with("/")) path.pop_back();
    GYRE_ASSIGN_OR_RETURN(std::vector<tracking::ArtifactFile> files, artifacts_->List(path));
    nlohmann::json out = nlohmann::json::object();
    if (!files.empty()) {
      out["files"] = nlohmann::json::array();
      for (const auto& file : files) {
        nlohmann::json entry = {{"path", file.path}, {"is_dir", file.is_dir}};
        if (!file.is_dir) entry["file_size"] = file.file_size;
        out["files"].push_back(entry);
      }
    }
    return Json(out);
  }

 private:
  Status CheckWritable(std::string_view path) const {
    return check_artifact_writable_ ? check_artifact_writable_(path) : Status::OK();
  }

  static constexpr const char* kLoggedModelsTag = "mlflow.log-model.history";
  TrackingStore* store_;
  ArtifactStore* artifacts_;
  std::function<Status(std::string_view)> check_artifact_writable_;
  std::mutex log_model_mutex_;
};

}  // namespace

http::Handler AuditedHandler(http::Handler handler, auth::AuthStore* audit, std::string method, std::string route) {
  return [handler = std::move(handler), audit, method = std::move(method),
          route = std::move(route)](const http::Request& req) -> Result<http::Response> {
    Result<http::Response> response = handler(req);
    if (!response.ok() || response->status < 200 || response->status >= 300) return response;
    auth::AuditedRequest record{NowMillis(), ActorOf(req), method, route, std::string(req.target), response->status,
                                std::string(req.request_id)};
    Status recorded = audit->RecordRequest(record);
    if (!recorded.ok()) {
      spdlog::error("audit log: {} {} by '{}' answered {} but could not be recorded: {}", method, record.target,
                    record.actor, record.status, recorded.message());
    }
    return response;
  };
}

void AddMlflowTrackingRoutes(http::Router& router, TrackingStore* store, ArtifactStore* artifacts,
                             TrackingRouteOptions options) {
  auth::AuthStore* audit = options.audit;
  auto routes = std::make_shared<TrackingRoutes>(store, artifacts, std::move(options.check_artifact_writable));
  static const MlflowRoute<TrackingRoutes> kRoutes[] = {
      {"POST", "experiments/create", &TrackingRoutes::CreateExperiment, true},
      {"GET", "experiments/get", &TrackingRoutes::GetExperiment},
      {"GET", "experiments/get-by-name", &TrackingRoutes::GetExperimentByName},
      {"POST", "experiments/search", &TrackingRoutes::SearchExperiments},
      {"GET", "experiments/search", &TrackingRoutes::SearchExperiments},
      {"POST", "experiments/delete", &TrackingRoutes::DeleteExperiment, true},
      {"POST", "experiments/restore", &TrackingRoutes::RestoreExperiment, true},
      {"POST", "experiments/update", &TrackingRoutes::UpdateExperiment, true},
      {"POST", "experiments/set-experiment-tag", &TrackingRoutes::SetExperimentTag},
      {"POST", "runs/create", &TrackingRoutes::CreateRun, true},
      {"POST", "runs/update", &TrackingRoutes::UpdateRun, true},
      {"POST", "runs/delete", &TrackingRoutes::DeleteRun, true},
      {"POST", "runs/restore", &TrackingRoutes::RestoreRun, true},
      {"GET", "runs/get", &TrackingRoutes::GetRun},
      {"POST", "runs/log-metric", &TrackingRoutes::LogMetric},
      {"POST", "runs/log-parameter", &TrackingRoutes::LogParam},
      {"POST", "runs/set-tag", &TrackingRoutes::SetTag},
      {"POST", "runs/delete-tag", &TrackingRoutes::DeleteTag},
      {"POST", "runs/log-batch", &TrackingRoutes::LogBatch},
      {"POST", "runs/log-inputs", &TrackingRoutes::LogInputs},
      {"POST", "runs/log-model", &TrackingRoutes::LogModel, true},
      {"POST", "runs/search", &TrackingRoutes::SearchRuns},
      {"GET", "metrics/get-history", &TrackingRoutes::GetMetricHistory},
      {"GET", "artifacts/list", &TrackingRoutes::ListRunArtifacts},
  };
  AddMlflowRoutes(router, routes, kRoutes, audit);
  router.SetErrorFormatter(kMlflowArtifactsPrefix, MlflowErrorFormatter);
  const std::string artifacts_path = std::string(kMlflowArtifactsPrefix) + "/artifacts";
  router.Add("GET", artifacts_path, BindRoute(routes, &TrackingRoutes::ListArtifacts));
  router.Add("GET", artifacts_path + "/{path...}", BindRoute(routes, &TrackingRoutes::DownloadArtifact));
  // Writing and deleting artifacts (a model's files among them) are audited.
  for (auto [method, handler] : {std::pair{"PUT", &TrackingRoutes::UploadArtifact},
                                 std::pair{"DELETE", &TrackingRoutes::DeleteArtifact}}) {
    const std::string pattern = artifacts_path + "/{path...}";
    http::Handler bound = BindRoute(routes, handler);
    if (audit != nullptr) bound = AuditedHandler(std::move(bound), audit, method, pattern);
    router.Add(method, pattern, std::move(bound));
  }
}

}  // namespace gyre::api
