// GET /metrics: the process's counters in the Prometheus text format (core/metrics.h), for a Prometheus
// scrape or a look by hand (`curl -s localhost:8080/metrics | grep gyre_score`). Families, all prefixed gyre_:
//   http_requests_total, http_responses_total{code="2xx"..}, http_open_connections,
//   http_request_duration_seconds{method,route} (histogram; routes called at least once)  (http::Server)
//   online_pushed_events_total, online_duplicate_events_total, online_too_late_events_total, online_cache_hits_total,
//   online_cache_misses_total, online_write_batches_total, online_folds_total,
//   online_definition_resets_total                                                    (features::OnlineStore)
//   score_requests_total{path}, score_events_total{path}, score_errors_total, score_actions_total{action},
//   score_challenger_answers_total, score_shadow_scores_total, score_replays_total, prediction_log_written_total,
//   prediction_log_dropped_total, score_duration_seconds (histogram), deployment_model_info{role,model,version},
//   all labelled {deployment}; model_swaps_total, model_load_failures_total            (serving::ScoringService)
// A part that is not enabled (no features.yaml, no deployments.yaml) contributes no families.
#pragma once

#include <functional>
#include <string>

#include "features/online_store.h"
#include "http/router.h"
#include "http/server.h"
#include "serving/scoring.h"

namespace gyre::api {

struct MetricsSources {
  const http::Server* server = nullptr;
  const features::OnlineStore* online = nullptr;
  const serving::ScoringService* scoring = nullptr;
};

std::string RenderMetrics(const MetricsSources& sources);

// `sources` is called per scrape (parts are enabled after the routes are added).
void AddMetricsRoute(http::Router& router, std::function<MetricsSources()> sources);

}  // namespace gyre::api
