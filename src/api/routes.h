// Every HTTP route gyre serves over a workspace's services: the MLflow tracking, artifact and registry API,
// the online feature routes, scoring (/v1/score, Open Inference Protocol v2, MLflow /invocations), and
// /metrics (which also reports the server's own counters). Routes look the online store and scoring up per
// request, so services enabled after the server started (the demo's) are served from then on.
#pragma once

#include "http/server.h"
#include "services/workspace_services.h"

namespace gyre::api {

// Adds the routes to `server`'s router; call before the server starts. `services` must outlive `server`.
void AddRoutes(http::Server& server, services::WorkspaceServices& services);
// The scoring routes (OIP v2, /invocations, /ping) and /metrics over one ScoringService (`gyre models serve`).
void AddModelServingRoutes(http::Server& server, serving::ScoringService& scoring);

}  // namespace gyre::api
