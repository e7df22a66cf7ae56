// Feature routes, in the shape of Feast's feature server so its clients work unchanged:
//   POST /get-online-features  {"features": ["group:feature", ...] | "feature_service": "set",
//                               "entities": {"user_id": ["u1", "u2"], ...}, "full_feature_names": false,
//                               "event_timestamps": [...] (gyre: read as of these times; default now)}
//     → {"metadata": {"feature_names": [...]}, "results": [{"values", "statuses", "event_timestamps"}, ...]}
//       entity columns first, then one result per feature, column-major over the rows. Statuses: PRESENT,
//       NULL_VALUE, NOT_FOUND (no history: values are those of an empty history, e.g. count 0),
//       OUTSIDE_MAX_AGE (null). event_timestamps carry the time the values are as of.
//   POST /push  {"push_source_name": "logins", "df": {"col": [...], ...}, "to": "online"}
//     → {"rows": n, "late": accepted out of order, "too_late": dropped beyond the allowed lateness}
// Bad input (unknown feature or column, wrong value types, ragged columns, missing keys) is a 400 naming the
// field, e.g. "field 'df.amount[3]': expected a number, got a string \"abc\"".
#pragma once

#include <functional>

#include "features/online_store.h"
#include "http/router.h"

namespace gyre::api {

// `online` returns the store, or null while there is none (a workspace without features.yaml): the routes
// then answer 404 saying so.
void AddFeatureRoutes(http::Router& router, std::function<features::OnlineStore*()> online);

}  // namespace gyre::api
