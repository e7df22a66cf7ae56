// The request bodies of the scoring routes that feed a model's rows directly, parsed without a model or a
// service (the routes in serving_routes.cc call these, then score): the Open Inference Protocol's infer
// request and MLflow's /invocations. Rows come back row-major in the model's feature order, NaN for a
// missing value. Errors are InvalidArgument naming the field (inputs[1].shape, dataframe_split.data[3][0]),
// or UnsupportedMediaType for a content type /invocations does not take.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "http/json.h"
#include "http/message.h"

namespace gyre::api {

struct InferRows {
  std::vector<float> rows;  // n rows of num_features values
  int64_t n = -1;
};

// The "inputs" of an OIP v2 infer body (`root` is the body's object): either one [n, d] (or [d]) tensor
// of every feature, or one [n] / [n, 1] tensor per feature, named by feature. `num_features` is d;
// `feature_names` (at least d of them) name the per-feature tensors; `model_name` is for messages.
Result<InferRows> InferInputs(const http::JsonView& root, int num_features, const std::vector<std::string>& feature_names,
                              std::string_view model_name);

// The rows of an MLflow /invocations request: JSON (dataframe_split, dataframe_records, instances, inputs;
// "params" ignored) or text/csv, chosen by Content-Type.
Result<std::vector<float>> InvocationRows(const http::Request& request, const std::vector<std::string>& feature_names);

}  // namespace gyre::api
