// models' XGBoost JSON loader (TreeEnsemble::ParseXGBoostJson: what `save_model("m.json")` writes), then
// a prediction on a row of missing values and on a row of values, both fast and generic layouts. Loaded
// or refused, never a crash; a loaded model never reads past its nodes whatever the row holds.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "models/tree_ensemble.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = gyre::models::TreeEnsemble::ParseXGBoostJson(text, "model.json");
  if (!model.ok()) return 0;
  const int d = model->num_features();
  const int k = model->num_outputs();
  gyre::fuzz::Check(d >= 0 && k >= 1, "a loaded model with no outputs or negative features");
  if (d > (1 << 20)) return 0;
  std::vector<float> row(static_cast<size_t>(d), std::numeric_limits<float>::quiet_NaN());
  std::vector<float> out(static_cast<size_t>(k));
  model->Predict(row.data(), out.data());
  for (int f = 0; f < d; ++f) row[static_cast<size_t>(f)] = static_cast<float>((f % 7) - 3) * 0.5f;
  model->Predict(row.data(), out.data());
  std::vector<float> margins(static_cast<size_t>(k));
  model->PredictMargin(row.data(), margins.data());
  return 0;
}
