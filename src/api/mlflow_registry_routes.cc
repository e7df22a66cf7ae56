#include "api/mlflow_registry_routes.h"

#include <fmt/format.h>

#include "api/mlflow_protocol.h"
#include "api/mlflow_tracking_routes.h"
#include "http/json.h"

namespace gyre::api {
namespace {

using http::Request;
using http::Response;
using registry::RegistryStore;

Response Json(const nlohmann::json& j) { return http::JsonResponse(j); }
Response Empty() { return http::JsonResponse(nlohmann::json::object()); }

std::string Or(const std::optional<std::string>& v) { return v.value_or(""); }

class RegistryRoutes {
 public:
  explicit RegistryRoutes(RegistryStore* store) : store_(store) {}

  // Registered models ----------------------------------------------------------------------------------
  Result<Response> CreateModel(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::vector<registry::Tag> tags, f.Tags("tags"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> description, f.OptionalString("description"));
    GYRE_ASSIGN_OR_RETURN(registry::RegisteredModel m,
                          store_->CreateRegisteredModel(name, tags, Or(description), ActorOf(req)));
    return Json({{"registered_model", ToJson(m)}});
  }

  Result<Response> GetModel(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(registry::RegisteredModel m, store_->GetRegisteredModel(name));
    return Json({{"registered_model", ToJson(m)}});
  }

  Result<Response> SearchModels(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    registry::SearchRegisteredModelsRequest search;
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> filter, f.OptionalString("filter"));
    search.filter = Or(filter);
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> max, f.OptionalInt("max_results"));
    search.max_results = max.value_or(100);
    GYRE_ASSIGN_OR_RETURN(search.order_by, f.StringList("order_by"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> token, f.OptionalString("page_token"));
    search.page_token = Or(token);
    GYRE_ASSIGN_OR_RETURN(registry::Page<registry::RegisteredModel> page, store_->SearchRegisteredModels(search));
    nlohmann::json out = nlohmann::json::object();
    if (!page.items.empty()) {
      out["registered_models"] = nlohmann::json::array();
      for (const auto& m : page.items) out["registered_models"].push_back(ToJson(m));
    }
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Json(out);
  }

  Result<Response> RenameModel(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::string new_name, f.RequiredString("new_name"));
    GYRE_ASSIGN_OR_RETURN(registry::RegisteredModel m, store_->RenameRegisteredModel(name, new_name, ActorOf(req)));
    return Json({{"registered_model", ToJson(m)}});
  }

  Result<Response> UpdateModel(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> description, f.OptionalString("description"));
    GYRE_ASSIGN_OR_RETURN(registry::RegisteredModel m,
                          store_->UpdateRegisteredModel(name, Or(description), ActorOf(req)));
    return Json({{"registered_model", ToJson(m)}});
  }

  Result<Response> DeleteModel(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_RETURN_IF_ERROR(store_->DeleteRegisteredModel(name, ActorOf(req)));
    return Empty();
  }

  Result<Response> LatestVersions(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::vector<std::string> stages, f.StringList("stages"));
    GYRE_ASSIGN_OR_RETURN(std::vector<registry::ModelVersion> versions, store_->GetLatestVersions(name, stages));
    nlohmann::json out = nlohmann::json::object();
    if (!versions.empty()) {
      out["model_versions"] = nlohmann::json::array();
      for (const auto& v : versions) out["model_versions"].push_back(ToJson(v));
    }
    return Json(out);
  }

  Result<Response> SetModelTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> value, f.OptionalString("value"));
    GYRE_RETURN_IF_ERROR(store_->SetRegisteredModelTag(name, {key, Or(value)}, ActorOf(req)));
    return Empty();
  }

  Result<Response> DeleteModelTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
    GYRE_RETURN_IF_ERROR(store_->DeleteRegisteredModelTag(name, key, ActorOf(req)));
    return Empty();
  }

  // Model versions -------------------------------------------------------------------------------------
  Result<Response> CreateVersion(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    registry::CreateModelVersionRequest create;
    GYRE_ASSIGN_OR_RETURN(create.name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(create.source, f.RequiredString("source"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> run_id, f.OptionalString("run_id"));
    create.run_id = Or(run_id);
    GYRE_ASSIGN_OR_RETURN(create.tags, f.Tags("tags"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> run_link, f.OptionalString("run_link"));
    create.run_link = Or(run_link);
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> description, f.OptionalString("description"));
    create.description = Or(description);
    // gyre's lineage, for clients that know it (the plain MLflow client sends none).
    if (auto it = f.json().find("gyre_lineage"); it != f.json().end() && it->is_object()) {
      create.lineage.training_data_fingerprint = it->value("training_data_fingerprint", "");
      create.lineage.feature_set = it->value("feature_set", "");
      create.lineage.code_version = it->value("code_version", "");
    }
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v, store_->CreateModelVersion(create, ActorOf(req)));
    return Json({{"model_version", ToJson(v)}});
  }

  Result<std::pair<std::string, std::string>> NameAndVersion(const MlflowFields& f) {
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::string version, f.RequiredString("version"));
    return std::make_pair(name, version);
  }

  Result<Response> GetVersion(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v, store_->GetModelVersion(key.first, key.second));
    return Json({{"model_version", ToJson(v)}});
  }

  Result<Response> SearchVersions(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    registry::SearchModelVersionsRequest search;
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> filter, f.OptionalString("filter"));
    search.filter = Or(filter);
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> max, f.OptionalInt("max_results"));
    search.max_results = max.value_or(1000);
    GYRE_ASSIGN_OR_RETURN(search.order_by, f.StringList("order_by"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> token, f.OptionalString("page_token"));
    search.page_token = Or(token);
    GYRE_ASSIGN_OR_RETURN(registry::Page<registry::ModelVersion> page, store_->SearchModelVersions(search));
    nlohmann::json out = nlohmann::json::object();
    if (!page.items.empty()) {
      out["model_versions"] = nlohmann::json::array();
      for (const auto& v : page.items) out["model_versions"].push_back(ToJson(v));
    }
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Json(out);
  }

  Result<Response> UpdateVersion(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> description, f.OptionalString("description"));
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v,
                          store_->UpdateModelVersion(key.first, key.second, Or(description), ActorOf(req)));
    return Json({{"model_version", ToJson(v)}});
  }

  Result<Response> DeleteVersion(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_RETURN_IF_ERROR(store_->DeleteModelVersion(key.first, key.second, ActorOf(req)));
    return Empty();
  }

  Result<Response> TransitionStage(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(std::string stage, f.RequiredString("stage"));
    GYRE_ASSIGN_OR_RETURN(std::optional<bool> archive, f.OptionalBool("archive_existing_versions"));
    GYRE_ASSIGN_OR_RETURN(
        registry::ModelVersion v,
        store_->TransitionModelVersionStage(key.first, key.second, stage, archive.value_or(false), ActorOf(req)));
    return Json({{"model_version", ToJson(v)}});
  }

  Result<Response> DownloadUri(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(std::string uri, store_->GetModelVersionDownloadUri(key.first, key.second));
    return Json({{"artifact_uri", uri}});
  }

  Result<Response> SetVersionTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(std::string tag, f.RequiredString("key"));
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> value, f.OptionalString("value"));
    GYRE_RETURN_IF_ERROR(store_->SetModelVersionTag(key.first, key.second, {tag, Or(value)}, ActorOf(req)));
    return Empty();
  }

  Result<Response> DeleteVersionTag(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(std::string tag, f.RequiredString("key"));
    GYRE_RETURN_IF_ERROR(store_->DeleteModelVersionTag(key.first, key.second, tag, ActorOf(req)));
    return Empty();
  }

  // Aliases ---------------------------------------------------------------------------------------------
  Result<Response> SetAlias(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(auto key, NameAndVersion(f));
    GYRE_ASSIGN_OR_RETURN(std::string alias, f.RequiredString("alias"));
    GYRE_RETURN_IF_ERROR(store_->SetRegisteredModelAlias(key.first, alias, key.second, ActorOf(req)));
    return Empty();
  }

  Result<Response> DeleteAlias(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::string alias, f.RequiredString("alias"));
    GYRE_RETURN_IF_ERROR(store_->DeleteRegisteredModelAlias(name, alias, ActorOf(req)));
    return Empty();
  }

  Result<Response> GetByAlias(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
    GYRE_ASSIGN_OR_RETURN(std::string alias, f.RequiredString("alias"));
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v, store_->GetModelVersionByAlias(name, alias));
    return Json({{"model_version", ToJson(v)}});
  }

  // gyre's own: /api/v1 ----------------------------------------------------------------------------------
  Result<Response> Audit(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    registry::AuditQuery query;
    GYRE_ASSIGN_OR_RETURN(query.model_name, f.OptionalString("model"));
    GYRE_ASSIGN_OR_RETURN(query.action, f.OptionalString("action"));
    GYRE_ASSIGN_OR_RETURN(query.since, f.OptionalInt("since"));
    GYRE_ASSIGN_OR_RETURN(query.until, f.OptionalInt("until"));
    GYRE_ASSIGN_OR_RETURN(std::optional<int64_t> max, f.OptionalInt("max_results"));
    query.max_results = max.value_or(100);
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> token, f.OptionalString("page_token"));
    query.page_token = Or(token);
    GYRE_ASSIGN_OR_RETURN(registry::Page<registry::AuditEntry> page, store_->QueryAudit(query));
    nlohmann::json out = {{"entries", nlohmann::json::array()}};
    for (const auto& e : page.items) out["entries"].push_back(ToJson(e));
    if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
    return Json(out);
  }

  Result<Response> Resolve(const Request& req) {
    GYRE_ASSIGN_OR_RETURN(MlflowFields f, MlflowFields::From(req));
    GYRE_ASSIGN_OR_RETURN(std::string uri, f.RequiredString("uri"));
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v, store_->ResolveModelUri(uri));
    return Json({{"model_version", ToJson(v)}});
  }

 private:
  RegistryStore* store_;
};

}  // namespace

nlohmann::json ToJson(const registry::ModelVersion& v) {
  nlohmann::json j = {{"name", v.name},
                      {"version", v.version},
                      {"creation_timestamp", v.creation_timestamp},
                      {"last_updated_timestamp", v.last_updated_timestamp},
                      {"current_stage", registry::StageName(v.current_stage)},
                      {"source", v.source},
                      {"status", registry::ModelVersionStatusName(v.status)}};
  if (!v.user_id.empty()) j["user_id"] = v.user_id;
  if (!v.description.empty()) j["description"] = v.description;
  if (!v.run_id.empty()) j["run_id"] = v.run_id;
  if (!v.status_message.empty()) j["status_message"] = v.status_message;
  if (!v.tags.empty()) j["tags"] = TagsToJson(v.tags);
  if (!v.run_link.empty()) j["run_link"] = v.run_link;
  if (!v.aliases.empty()) j["aliases"] = v.aliases;
  if (v.lineage != registry::Lineage{}) {
    j["gyre_lineage"] = {{"training_data_fingerprint", v.lineage.training_data_fingerprint},
                         {"feature_set", v.lineage.feature_set},
                         {"code_version", v.lineage.code_version}};
  }
  return j;
}

nlohmann::json ToJson(const registry::RegisteredModel& m) {
  nlohmann::json j = {{"name", m.name},
                      {"creation_timestamp", m.creation_timestamp},
                      {"last_updated_timestamp", m.last_updated_timestamp}};
  if (!m.user_id.empty()) j["user_id"] = m.user_id;
  if (!m.description.empty()) j["description"] = m.description;
  if (!m.latest_versions.empty()) {
    j["latest_versions"] = nlohmann::json::array();
    for (const auto& v : m.latest_versions) j["latest_versions"].push_back(ToJson(v));
  }
  if (!m.tags.empty()) j["tags"] = TagsToJson(m.tags);
  if (!m.aliases.empty()) {
    j["aliases"] = nlohmann::json::array();
    for (const auto& a : m.aliases) j["aliases"].push_back({{"alias", a.alias}, {"version", a.version}});
  }
  return j;
}

nlohmann::json ToJson(const registry::AuditEntry& e) {
  auto parse = [](const std::string& text) {
    return text.empty() ? nlohmann::json(nullptr) : nlohmann::json::parse(text, nullptr, false);
  };
  nlohmann::json j = {{"id", e.id},
                      {"timestamp", e.timestamp},
                      {"actor", e.actor},
                      {"action", e.action},
                      {"model", e.model_name},
                      {"before", parse(e.before)},
                      {"after", parse(e.after)}};
  if (e.version) j["version"] = *e.version;
  if (e.alias) j["alias"] = *e.alias;
  return j;
}

void AddMlflowRegistryRoutes(http::Router& router, RegistryStore* store) {
  auto routes = std::make_shared<RegistryRoutes>(store);
  static const MlflowRoute<RegistryRoutes> kRoutes[] = {
      {"POST", "registered-models/create", &RegistryRoutes::CreateModel},
      {"GET", "registered-models/get", &RegistryRoutes::GetModel},
      {"GET", "registered-models/search", &RegistryRoutes::SearchModels},
      {"POST", "registered-models/search", &RegistryRoutes::SearchModels},
      {"POST", "registered-models/rename", &RegistryRoutes::RenameModel},
      {"PATCH", "registered-models/update", &RegistryRoutes::UpdateModel},
      {"DELETE", "registered-models/delete", &RegistryRoutes::DeleteModel},
      {"POST", "registered-models/get-latest-versions", &RegistryRoutes::LatestVersions},
      {"GET", "registered-models/get-latest-versions", &RegistryRoutes::LatestVersions},
      {"POST", "registered-models/set-tag", &RegistryRoutes::SetModelTag},
      {"DELETE", "registered-models/delete-tag", &RegistryRoutes::DeleteModelTag},
      {"POST", "registered-models/alias", &RegistryRoutes::SetAlias},
      {"DELETE", "registered-models/alias", &RegistryRoutes::DeleteAlias},
      {"GET", "registered-models/alias", &RegistryRoutes::GetByAlias},
      {"POST", "model-versions/create", &RegistryRoutes::CreateVersion},
      {"GET", "model-versions/get", &RegistryRoutes::GetVersion},
      {"GET", "model-versions/search", &RegistryRoutes::SearchVersions},
      {"POST", "model-versions/search", &RegistryRoutes::SearchVersions},
      {"PATCH", "model-versions/update", &RegistryRoutes::UpdateVersion},
      {"DELETE", "model-versions/delete", &RegistryRoutes::DeleteVersion},
      {"POST", "model-versions/transition-stage", &RegistryRoutes::TransitionStage},
      {"GET", "model-versions/get-download-uri", &RegistryRoutes::DownloadUri},
      {"POST", "model-versions/set-tag", &RegistryRoutes::SetVersionTag},
      {"DELETE", "model-versions/delete-tag", &RegistryRoutes::DeleteVersionTag},
  };
  AddMlflowRoutes(router, routes, kRoutes);
  router.Add("GET", "/api/v1/audit", BindRoute(routes, &RegistryRoutes::Audit));
  router.Add("GET", "/api/v1/models/resolve", BindRoute(routes, &RegistryRoutes::Resolve));
}

}  // namespace gyre::api
