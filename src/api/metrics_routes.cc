#include "api/metrics_routes.h"

#include <fmt/format.h>

#include "core/metrics.h"

namespace gyre::api {

std::string RenderMetrics(const MetricsSources& sources) {
  MetricsText m;
  if (const http::Server* server = sources.server) {
    m.Counter("gyre_http_requests_total", "HTTP requests answered by a route (or its 404/405).", {},
              static_cast<double>(server->requests_served()));
    std::array<int64_t, 5> by_class = server->responses_by_class();
    for (size_t c = 0; c < by_class.size(); ++c) {
      m.Counter("gyre_http_responses_total", "HTTP responses written, by status class.",
                {{"code", fmt::format("{}xx", c + 1)}}, static_cast<double>(by_class[c]));
    }
    m.Gauge("gyre_http_open_connections", "HTTP connections open now.", {},
            static_cast<double>(server->open_connections()));
    server->router().VisitRouteLatencies([&](const http::Router::RouteLatency& route) {
      HistogramSnapshot latency = route.latency.Snapshot();
      if (latency.count() == 0) return;  // some fifty routes: those never called would only be noise
      m.Histogram("gyre_http_request_duration_seconds",
                  "Time to answer a request of a route, from routing to the response built (reading and writing "
                  "the bytes excluded).",
                  {{"method", std::string(route.method)}, {"route", std::string(route.pattern)}}, latency);
    });
  }
  if (const features::OnlineStore* online = sources.online) {
    m.Counter("gyre_online_pushed_events_total", "Events pushed into the online feature state.", {},
              static_cast<double>(online->pushed_events()));
    m.Counter("gyre_online_duplicate_events_total",
              "Pushed events whose id was pushed before (retries, redeliveries): acknowledged, counted in no feature.",
              {}, static_cast<double>(online->duplicate_events()));
    m.Counter("gyre_online_too_late_events_total",
              "Pushed events dropped per feature group for arriving later than the source's allowed_lateness.", {},
              static_cast<double>(online->dropped_too_late()));
    m.Counter("gyre_online_cache_hits_total", "Online state reads and pushes answered from the decoded-state cache.",
              {}, static_cast<double>(online->cache_hits()));
    m.Counter("gyre_online_cache_misses_total", "Online state reads and pushes that loaded the key from the store.",
              {}, static_cast<double>(online->cache_misses()));
    m.Counter("gyre_online_write_batches_total", "Batches of online state writes journaled in the store.", {},
              static_cast<double>(online->write_batches()));
    m.Counter("gyre_online_folds_total", "Folds of the online state journal into the keys' stored values.", {},
              static_cast<double>(online->folds()));
    m.Counter("gyre_online_definition_resets_total",
              "Stored keys found written under another definition of their feature group, whose history restarted "
              "empty.",
              {}, static_cast<double>(online->definition_resets()));
  }
  if (const serving::ScoringService* scoring = sources.scoring) {
    for (const serving::DeploymentConfig& d : scoring->config().deployments) {
      Result<serving::DeploymentStats> stats = scoring->Stats(d.name);
      if (!stats.ok()) continue;
      const MetricsText::Labels labels = {{"deployment", d.name}};
      auto counter = [&](std::string_view name, std::string_view help, int64_t value) {
        m.Counter(name, help, labels, static_cast<double>(value));
      };
      for (size_t p = 0; p < serving::kScorePathNames.size(); ++p) {
        const MetricsText::Labels by_path = {{"deployment", d.name}, {"path", std::string(serving::kScorePathNames[p])}};
        m.Counter("gyre_score_requests_total",
                  "Scoring requests, by path: v1/score (events), oip (OIP infer), invocations (MLflow), batch.",
                  by_path, static_cast<double>(stats->requests_by_path[p]));
        m.Counter("gyre_score_events_total", "Events (or feature rows) scored, by path.", by_path,
                  static_cast<double>(stats->events_by_path[p]));
      }
      counter("gyre_score_errors_total", "Scoring requests refused or failed after reaching the deployment.",
              stats->errors);
      for (const auto& [action, count] : stats->actions) {
        m.Counter("gyre_score_actions_total", "Decisions returned, by action.",
                  {{"deployment", d.name}, {"action", action}}, static_cast<double>(count));
      }
      counter("gyre_score_challenger_answers_total", "Events the canary challenger answered.",
              stats->challenger_answers);
      counter("gyre_score_shadow_scores_total", "Events a challenger scored in the shadow of the answer.",
              stats->shadow_scores);
      counter("gyre_score_replays_total",
              "Repeated events (an id scored before: a retry, a redelivery) answered with their first decision, "
              "not scored, logged or pushed again.",
              stats->replays);
      counter("gyre_prediction_log_written_total", "Prediction log lines written.", stats->log_written);
      counter("gyre_prediction_log_dropped_total", "Prediction log lines dropped because the log's queue was full.",
              stats->log_dropped);
      m.Histogram("gyre_score_duration_seconds",
                  "Time to score one request: features, model, decision, log and push (errors included).", labels,
                  stats->latency);
      for (const auto& [role, loaded] : {std::pair{"champion", &stats->champion},
                                         std::pair{"challenger", &stats->challenger}}) {
        if (!*loaded) continue;
        m.Gauge("gyre_deployment_model_info", "The model version serving a deployment (value 1).",
                {{"deployment", d.name}, {"role", role}, {"model", (*loaded)->model}, {"version", (*loaded)->version}},
                1);
      }
    }
    m.Counter("gyre_model_swaps_total",
              "Model versions the registry poller swapped in (an alias moved, or a first version appeared).", {},
              static_cast<double>(scoring->models().swaps()));
    m.Counter("gyre_model_load_failures_total",
              "Model refreshes that failed: the URI did not resolve or the package did not load (what served kept "
              "serving).",
              {}, static_cast<double>(scoring->models().failed_loads()));
  }
  return m.Render();
}

void AddMetricsRoute(http::Router& router, std::function<MetricsSources()> sources) {
  router.Add("GET", "/metrics", [sources = std::move(sources)](const http::Request&) -> Result<http::Response> {
    return http::Response(200, RenderMetrics(sources()), std::string(MetricsText::kContentType));
  });
}

}  // namespace gyre::api
