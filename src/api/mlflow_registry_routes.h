// The MLflow model registry REST API 2.0 (registered models, versions, stages, aliases, tags) bound to
// gyre's RegistryStore, plus gyre's own registry routes:
//   GET /api/v1/audit?model=&action=&since=&until=&max_results=&page_token=   the audit log, newest first
//   GET /api/v1/models/resolve?uri=models:/ato@champion                         a model URI → its version
// The caller's identity for the audit log is ActorOf's: the authenticated user when the server requires auth.
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.h"
#include "registry/registry_store.h"

namespace gyre::api {

// The store must outlive the router's use of the routes.
void AddMlflowRegistryRoutes(http::Router& router, registry::RegistryStore* store);

// MLflow's messages (empty fields omitted); a version's gyre lineage rides along as "gyre_lineage".
nlohmann::json ToJson(const registry::ModelVersion& version);
nlohmann::json ToJson(const registry::RegisteredModel& model);
nlohmann::json ToJson(const registry::AuditEntry& entry);

}  // namespace gyre::api
