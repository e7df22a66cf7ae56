// ModelPackage: the folder a trained model travels in — from `gyre train` to the registry to serving and
// monitoring. Files:
//   gyre-model.json   the descriptor below (what serving and monitoring read)
//   MLmodel           MLflow's descriptor. For trees it carries the python_function flavor (loader
//                     mlflow.xgboost) and the xgboost flavor, so mlflow.pyfunc.load_model and
//                     mlflow.xgboost.load_model open the folder; logistic regression has no MLflow loader and
//                     gets only the gyre flavor and the signature.
//   model.json        XGBoost's JSON model (flavor xgboost), or
//   logistic_regression.json  (flavor logistic_regression, models/logistic_regression.h)
//   conda.yaml, python_env.yaml, requirements.txt  the Python environment the pyfunc flavor names (trees only)
//
// The descriptor records the signature (feature names and types, in the order the model reads them), the
// objective, the decision thresholds (score bands → actions), the training data's fingerprint and feature
// set, and reference statistics for monitoring: per-feature quantiles, histograms and null rates, and the
// score distribution, all measured on the time-latest slice of the training data.
//
// Parse errors name the file and the field. Immutable values; no I/O except the Load/Write helpers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace gyre::models {

inline constexpr const char* kDescriptorFile = "gyre-model.json";

// Per-feature (or score) distribution summary. `edges` are histogram bin edges (bins = edges.size() - 1;
// the first and last bins are open-ended), `counts` per bin over non-missing values.
struct Distribution {
  std::string name;
  int64_t count = 0;    // rows seen
  int64_t missing = 0;  // NaN / null values among them
  double mean = 0;
  std::vector<double> quantile_levels;  // e.g. 0, 0.05, ..., 1
  std::vector<double> quantiles;
  std::vector<double> edges;
  std::vector<int64_t> counts;
};

// The summary of `values` (NaN = missing): quantiles at 0, 0.05, ..., 1 (linear interpolation between order
// statistics, numpy's default), and a histogram whose edges are the distinct deciles, so every bin holds about
// a tenth of the reference (the bins monitoring's PSI compares). A value equal to an inner edge falls in
// the bin to its right; the first and last bins are open-ended.
Distribution Summarize(std::string name, std::vector<double> values);
// Which bin of `edges` (see Distribution) holds `v`.
int BinOf(const std::vector<double>& edges, double v);

struct DecisionPolicy {
  // score ≥ block → "block"; score ≥ challenge → "challenge"; else "allow".
  double challenge_threshold = 0.5;
  double block_threshold = 1.0;
  // Every action, in increasing severity; ActionIndex(score) indexes it.
  static constexpr std::array<std::string_view, 3> kActions = {"allow", "challenge", "block"};
  int ActionIndex(double score) const { return score >= block_threshold ? 2 : score >= challenge_threshold ? 1 : 0; }
  std::string Action(double score) const { return std::string(kActions[ActionIndex(score)]); }
};

struct PackageDescriptor {
  std::string flavor;      // "xgboost" | "logistic_regression"
  std::string model_file;  // relative to the package folder
  std::string objective;   // "binary:logistic"
  std::vector<std::string> feature_names;
  std::vector<std::string> feature_types;  // "float32" for every feature today
  int num_outputs = 1;                     // values per row: the number of classes for multi:softprob
  std::string feature_set;
  DecisionPolicy decision;
  // Training provenance.
  std::string experiment;
  std::string run_id;
  std::string data_fingerprint;
  int64_t training_rows = 0;
  int64_t training_positives = 0;
  std::string time_start, time_end;  // ISO-8601 UTC
  std::vector<std::pair<std::string, std::string>> params;
  // Monitoring reference, measured on the reference slice.
  std::vector<Distribution> reference_features;
  std::optional<Distribution> reference_score;
  int64_t created_at_ms = 0;
  // Where a model trained elsewhere came from: "imported from PATH (sha256 HEX)"; empty for gyre's own.
  std::string provenance;
};

std::string SerializeDescriptor(const PackageDescriptor& d);  // pretty JSON
Result<PackageDescriptor> ParseDescriptor(const std::string& json_text, const std::string& name);
// MLflow's MLmodel YAML for the package, in MLflow 2.12's layout: flavors (see above), signature (inputs as
// MLflow's JSON column spec, outputs as a tensor spec), mlflow_version, utc_time_created (from created_at_ms),
// a fresh model_uuid, and run_id.
std::string MlflowModelFile(const PackageDescriptor& d, const std::string& xgboost_version);

// Every file of a package but nothing written: name → bytes, the model file's bytes given. What `gyre train`
// uploads and `gyre models import` writes, so both produce the same layout.
std::vector<std::pair<std::string, std::string>> PackageFiles(const PackageDescriptor& d, std::string model_bytes,
                                                              const std::string& xgboost_version);
// Writes PackageFiles into `dir` (created if missing). Errors name the file.
Status WritePackage(const std::string& dir, const PackageDescriptor& d, std::string model_bytes,
                    const std::string& xgboost_version);

// Reads <dir>/gyre-model.json.
Result<PackageDescriptor> LoadDescriptor(const std::string& dir);

}  // namespace gyre::models
