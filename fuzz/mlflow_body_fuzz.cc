// The MLflow REST 2.0 request fields of the tracking and registry routes (api/mlflow_protocol.h): a POST
// body (JSON) or a GET query string, then every typed accessor the routes use on the fields they read
// (strings, ints, doubles, bools, lists, tags, metrics; each a value or a 400 naming the field). Never a
// crash. The first byte picks POST or GET.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "api/mlflow_protocol.h"
#include "http/url.h"

namespace {

const char* const kKeys[] = {
    "action", "alias", "archive_existing_versions", "artifact_location", "description", "end_time",
    "experiment_id", "experiment_ids", "experiment_name", "filter", "key", "max_results", "metric_key",
    "metrics", "model", "model_json", "name", "new_name", "order_by", "page_token", "params", "path",
    "run_id", "run_link", "run_name", "run_uuid", "since", "source", "stage", "stages", "start_time",
    "status", "tags", "until", "uri", "user_id", "value", "version", "timestamp", "step"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gyre;
  if (size == 0) return 0;
  const bool get = (data[0] & 1) != 0;
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  http::Request request;
  std::vector<http::QueryParam> query;
  if (get) {
    request.method = "GET";
    auto parsed = http::ParseQueryString(text);
    if (!parsed.ok()) return 0;
    query = std::move(parsed).value();
    request.query = query;
    request.query_string = text;
  } else {
    request.method = "POST";
    request.body = text;
  }
  auto fields = api::MlflowFields::From(request);
  if (!fields.ok()) return 0;
  for (const char* key : kKeys) {
    (void)fields->RequiredString(key);
    (void)fields->OptionalString(key);
    (void)fields->OptionalInt(key);
    (void)fields->RequiredInt(key);
    (void)fields->OptionalDouble(key);
    (void)fields->OptionalBool(key);
    (void)fields->StringList(key);
    (void)fields->Tags(key);
    (void)fields->Metrics(key);
  }
  // log-metric's top-level form: the body itself is the metric.
  (void)api::MetricFromJson(fields->json(), "");
  return 0;
}
