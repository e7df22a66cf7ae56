// The scoring routes that feed a model directly (api/inference_body.h): the Open Inference Protocol's
// infer body and MLflow's /invocations (JSON formats and text/csv), for a model reading three features.
// Rows come back or a 400/415 naming the field; never a crash; rows always hold whole rows. The first byte
// picks the route and, for /invocations, the Content-Type.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/inference_body.h"
#include "fuzz_util.h"
#include "http/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gyre;
  if (size == 0) return 0;
  static const std::vector<std::string> kNames = {"failed_1h", "geo_velocity", "new_device"};
  const uint8_t mode = data[0];
  std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((mode & 1) == 0) {
    Result<nlohmann::json> doc = http::ParseJson(body);
    if (!doc.ok()) return 0;
    http::JsonView root(*doc);
    if (!root.ExpectObject().ok()) return 0;
    Result<api::InferRows> rows = api::InferInputs(root, static_cast<int>(kNames.size()), kNames, "m");
    if (rows.ok()) {
      fuzz::Check(rows->n >= 0 && rows->rows.size() == static_cast<size_t>(rows->n) * kNames.size(),
                  "infer rows do not hold n whole rows");
    }
    return 0;
  }
  static const char* const kTypes[] = {"application/json", "text/csv", "text/csv; charset=utf-8",
                                       "application/json; format=pandas-split"};
  http::HeaderField header{"Content-Type", kTypes[(mode >> 1) % 4]};
  http::Request request;
  request.method = "POST";
  request.body = body;
  request.headers = std::span<const http::HeaderField>(&header, 1);
  Result<std::vector<float>> rows = api::InvocationRows(request, kNames);
  if (rows.ok()) fuzz::Check(rows->size() % kNames.size() == 0, "invocation rows are not whole rows");
  return 0;
}
