// The scoring routes (serving/scoring.h does the work; these parse and format):
//   POST /v1/score/{deployment}     gyre's online decision: a raw event → features → model → action
//   Open Inference Protocol v2      GET /v2, /v2/health/live|ready, /v2/models/{m}[/versions/{v}][/ready],
//                                   POST /v2/models/{m}[/versions/{v}]/infer   (model = deployment)
//   MLflow scoring protocol         POST /invocations[?deployment=NAME] (JSON: dataframe_split, dataframe_records,
//                                   instances, inputs; text/csv), GET /ping, /version
// Every bad input is a 4xx with a JSON error naming the field: {"error": ...} for gyre and OIP,
// {"error_code": "BAD_REQUEST", "message": ...} for /invocations.
#pragma once

#include <functional>

#include "http/router.h"
#include "serving/scoring.h"

namespace gyre::api {

// `get_scoring` returns null until serving is enabled (the routes answer 503 / not ready until then).
void AddServingRoutes(http::Router& router, std::function<serving::ScoringService*()> get_scoring);

}  // namespace gyre::api
