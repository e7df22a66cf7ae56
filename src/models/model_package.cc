#include "models/model_package.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "core/files.h"

namespace gyre::models {
namespace {

using nlohmann::json;

json DistributionJson(const Distribution& d) {
  return json{{"name", d.name},         {"count", d.count},       {"missing", d.missing},
              {"mean", d.mean},         {"quantile_levels", d.quantile_levels},
              {"quantiles", d.quantiles}, {"edges", d.edges},     {"counts", d.counts}};
}

// Reads fields with messages that name the descriptor and the field's path.
class Reader {
 public:
  explicit Reader(std::string name) : name_(std::move(name)) {}

  template <typename T>
  Status Get(const json& object, const std::string& path, const std::string& key, T* out, bool required = true) {
    auto it = object.find(key);
    if (it == object.end()) {
      if (!required) return Status::OK();
      return Status::InvalidArgument(fmt::format("{}: missing field '{}{}'", name_, path, key));
    }
    try {
      *out = it->template get<T>();
    } catch (const json::exception&) {
      return Status::InvalidArgument(fmt::format("{}: field '{}{}' has the wrong type ({})", name_, path, key,
                                                 it->type_name()));
    }
    return Status::OK();
  }

  Result<Distribution> ReadDistribution(const json& j, const std::string& path) {
    Distribution d;
    if (!j.is_object()) return Status::InvalidArgument(fmt::format("{}: '{}' is not an object", name_, path));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "name", &d.name));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "count", &d.count));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "missing", &d.missing));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "mean", &d.mean, false));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "quantile_levels", &d.quantile_levels));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "quantiles", &d.quantiles));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "edges", &d.edges));
    GYRE_RETURN_IF_ERROR(Get(j, path + ".", "counts", &d.counts));
    if (d.quantiles.size() != d.quantile_levels.size()) {
      return Status::InvalidArgument(fmt::format("{}: '{}': {} quantiles for {} levels", name_, path,
                                                 d.quantiles.size(), d.quantile_levels.size()));
    }
    if (!d.edges.empty() && d.counts.size() + 1 != d.edges.size()) {
      return Status::InvalidArgument(fmt::format("{}: '{}': {} counts for {} bin edges (expected edges - 1)", name_,
                                                 path, d.counts.size(), d.edges.size()));
    }
    return d;
  }

 private:
  std::string name_;
};

// The MLflow release whose MLmodel layout gyre writes (and checks against), and the Python it names for the
// pyfunc environment: Debian 12's, where that check runs.
constexpr const char* kMlflowVersion = "2.12.2";
constexpr const char* kMlflowPythonVersion = "3.11.2";

// A YAML single-quoted scalar: the only escape is a doubled quote.
std::string YamlQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// uuid4().hex, as MLflow writes model_uuid.
std::string NewModelUuid() {
  std::random_device device;
  std::mt19937_64 rng((static_cast<uint64_t>(device()) << 32) ^ device());
  uint64_t hi = rng(), lo = rng();
  hi = (hi & ~0xF000ULL) | 0x4000ULL;                       // version 4
  lo = (lo & ~(0xC0ULL << 56)) | (0x80ULL << 56);           // RFC 4122 variant
  return fmt::format("{:016x}{:016x}", hi, lo);
}

// Python's str(datetime.utcnow()): "2024-04-10 12:00:00.123000".
std::string UtcTimeCreated(int64_t ms) {
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, (ms % 1000) * 1000);
}

double QuantileSorted(const std::vector<double>& sorted, double level) {
  double pos = level * static_cast<double>(sorted.size() - 1);
  auto lo = static_cast<size_t>(std::floor(pos));
  size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

Distribution Summarize(std::string name, std::vector<double> values) {
  Distribution d;
  d.name = std::move(name);
  d.count = static_cast<int64_t>(values.size());
  std::erase_if(values, [](double v) { return std::isnan(v); });
  d.missing = d.count - static_cast<int64_t>(values.size());
  if (values.empty()) return d;
  std::sort(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  d.mean = sum / static_cast<double>(values.size());
  for (int i = 0; i <= 20; ++i) {
    d.quantile_levels.push_back(i / 20.0);
    d.quantiles.push_back(QuantileSorted(values, i / 20.0));
  }
  for (int i = 0; i <= 10; ++i) {
    double edge = QuantileSorted(values, i / 10.0);
    if (d.edges.empty() || edge > d.edges.back()) d.edges.push_back(edge);
  }
  if (d.edges.size() == 1) d.edges.push_back(d.edges[0]);  // a constant: one bin
  d.counts.assign(d.edges.size() - 1, 0);
  for (double v : values) ++d.counts[BinOf(d.edges, v)];
  return d;
}

int BinOf(const std::vector<double>& edges, double v) {
  if (edges.size() < 2) return 0;
  // Inner edges are edges[1..n-2]; bin i holds [edges[i], edges[i+1]) with the ends open.
  auto it = std::upper_bound(edges.begin() + 1, edges.end() - 1, v);
  return static_cast<int>(it - (edges.begin() + 1));
}

std::string SerializeDescriptor(const PackageDescriptor& d) {
  json inputs = json::array();
  for (size_t i = 0; i < d.feature_names.size(); ++i) {
    inputs.push_back({{"name", d.feature_names[i]}, {"type", i < d.feature_types.size() ? d.feature_types[i] : "float32"}});
  }
  json params = json::object();
  for (const auto& [k, v] : d.params) params[k] = v;
  json reference = {{"features", json::array()}};
  for (const Distribution& f : d.reference_features) reference["features"].push_back(DistributionJson(f));
  if (d.reference_score) reference["score"] = DistributionJson(*d.reference_score);
  json j = {
      {"format", "gyre.model_package"},
      {"version", 1},
      {"flavor", d.flavor},
      {"model_file", d.model_file},
      {"objective", d.objective},
      {"signature", {{"inputs", inputs}, {"outputs", json::array({{{"name", "score"}, {"type", "float32"}}})}}},
      {"feature_set", d.feature_set},
      {"decision",
       {{"actions", {"allow", "challenge", "block"}},
        {"challenge_threshold", d.decision.challenge_threshold},
        {"block_threshold", d.decision.block_threshold}}},
      {"training",
       {{"experiment", d.experiment},
        {"run_id", d.run_id},
        {"data_fingerprint", d.data_fingerprint},
        {"rows", d.training_rows},
        {"positives", d.training_positives},
        {"time_start", d.time_start},
        {"time_end", d.time_end},
        {"params", params}}},
      {"reference", reference},
      {"created_at_ms", d.created_at_ms},
  };
  // Written only when they say something, so descriptors of gyre's own binary models read as before.
  if (d.num_outputs != 1) j["num_outputs"] = d.num_outputs;
  if (!d.provenance.empty()) j["provenance"] = d.provenance;
  return j.dump(2) + "\n";
}

Result<PackageDescriptor> ParseDescriptor(const std::string& json_text, const std::string& name) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidArgument(fmt::format("{}: not a JSON object", name));
  }
  Reader r(name);
  PackageDescriptor d;
  std::string format;
  int version = 0;
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "format", &format));
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "version", &version));
  if (format != "gyre.model_package" || version != 1) {
    return Status::InvalidArgument(fmt::format("{}: format '{}' version {} is not a gyre model package (expected "
                                               "gyre.model_package version 1)", name, format, version));
  }
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "flavor", &d.flavor));
  if (d.flavor != "xgboost" && d.flavor != "logistic_regression") {
    return Status::InvalidArgument(fmt::format("{}: flavor '{}' is not supported (xgboost, logistic_regression)", name,
                                               d.flavor));
  }
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "model_file", &d.model_file));
  if (d.model_file.empty() || d.model_file.find('/') != std::string::npos || d.model_file.starts_with(".")) {
    return Status::InvalidArgument(fmt::format("{}: 'model_file' must be a file name in the package, got '{}'", name,
                                               d.model_file));
  }
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "objective", &d.objective));
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "feature_set", &d.feature_set, false));
  if (!j.contains("signature") || !j["signature"].is_object() || !j["signature"].contains("inputs") ||
      !j["signature"]["inputs"].is_array()) {
    return Status::InvalidArgument(fmt::format("{}: missing field 'signature.inputs'", name));
  }
  const json& inputs = j["signature"]["inputs"];
  for (size_t i = 0; i < inputs.size(); ++i) {
    std::string path = fmt::format("signature.inputs[{}].", i);
    std::string n, t;
    GYRE_RETURN_IF_ERROR(r.Get(inputs[i], path, "name", &n));
    GYRE_RETURN_IF_ERROR(r.Get(inputs[i], path, "type", &t));
    d.feature_names.push_back(n);
    d.feature_types.push_back(t);
  }
  if (j.contains("decision")) {
    GYRE_RETURN_IF_ERROR(r.Get(j["decision"], "decision.", "challenge_threshold", &d.decision.challenge_threshold));
    GYRE_RETURN_IF_ERROR(r.Get(j["decision"], "decision.", "block_threshold", &d.decision.block_threshold));
  }
  if (j.contains("training") && j["training"].is_object()) {
    const json& t = j["training"];
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "experiment", &d.experiment, false));
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "run_id", &d.run_id, false));
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "data_fingerprint", &d.data_fingerprint, false));
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "rows", &d.training_rows, false));
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "positives", &d.training_positives, false));
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "time_start", &d.time_start, false));
    GYRE_RETURN_IF_ERROR(r.Get(t, "training.", "time_end", &d.time_end, false));
    if (t.contains("params") && t["params"].is_object()) {
      for (const auto& [k, v] : t["params"].items()) d.params.emplace_back(k, v.is_string() ? v.get<std::string>() : v.dump());
    }
  }
  if (j.contains("reference") && j["reference"].is_object()) {
    const json& ref = j["reference"];
    if (ref.contains("features") && ref["features"].is_array()) {
      for (size_t i = 0; i < ref["features"].size(); ++i) {
        GYRE_ASSIGN_OR_RETURN(Distribution dist,
                              r.ReadDistribution(ref["features"][i], fmt::format("reference.features[{}]", i)));
        d.reference_features.push_back(std::move(dist));
      }
    }
    if (ref.contains("score")) {
      GYRE_ASSIGN_OR_RETURN(Distribution dist, r.ReadDistribution(ref["score"], "reference.score"));
      d.reference_score = std::move(dist);
    }
  }
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "created_at_ms", &d.created_at_ms, false));
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "num_outputs", &d.num_outputs, false));
  if (d.num_outputs < 1) {
    return Status::InvalidArgument(fmt::format("{}: 'num_outputs' must be at least 1, got {}", name, d.num_outputs));
  }
  GYRE_RETURN_IF_ERROR(r.Get(j, "", "provenance", &d.provenance, false));
  return d;
}

std::string MlflowModelFile(const PackageDescriptor& d, const std::string& xgboost_version) {
  // MLflow reads signature.inputs and .outputs as JSON strings inside the YAML. gyre scores float32, but the
  // columns are declared "double": pandas reads numbers as float64, and MLflow refuses to narrow float64 to a
  // "float" (float32) column, while it widens float32 to "double" — so both kinds of frame load.
  json inputs = json::array();
  for (const std::string& n : d.feature_names) inputs.push_back({{"type", "double"}, {"name", n}, {"required", true}});
  json shape = d.num_outputs == 1 ? json::array({-1}) : json::array({-1, d.num_outputs});
  json outputs = json::array({{{"type", "tensor"}, {"tensor-spec", {{"dtype", "float32"}, {"shape", shape}}}}});
  const bool trees = d.flavor == "xgboost";
  std::string out;
  out += "artifact_path: model\n";
  out += "flavors:\n";
  out += fmt::format("  gyre:\n    descriptor: {}\n    flavor: {}\n    model_file: {}\n", kDescriptorFile, d.flavor,
                     d.model_file);
  if (trees) {
    out += fmt::format(
        "  python_function:\n    data: {}\n    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n"
        "    loader_module: mlflow.xgboost\n    python_version: {}\n",
        d.model_file, kMlflowPythonVersion);
    out += fmt::format(
        "  xgboost:\n    code: null\n    data: {}\n    model_class: xgboost.core.Booster\n    model_format: json\n"
        "    xgb_version: {}\n",
        d.model_file, xgboost_version);
  }
  out += fmt::format("mlflow_version: {}\n", kMlflowVersion);
  out += fmt::format("model_uuid: {}\n", NewModelUuid());
  if (!d.run_id.empty()) out += fmt::format("run_id: {}\n", d.run_id);
  out += "signature:\n";
  out += fmt::format("  inputs: {}\n", YamlQuoted(inputs.dump()));
  out += fmt::format("  outputs: {}\n", YamlQuoted(outputs.dump()));
  out += "  params: null\n";
  out += fmt::format("utc_time_created: '{}'\n", UtcTimeCreated(d.created_at_ms));
  return out;
}

std::vector<std::pair<std::string, std::string>> PackageFiles(const PackageDescriptor& d, std::string model_bytes,
                                                              const std::string& xgboost_version) {
  std::vector<std::pair<std::string, std::string>> files;
  files.emplace_back(d.model_file, std::move(model_bytes));
  files.emplace_back(kDescriptorFile, SerializeDescriptor(d));
  files.emplace_back("MLmodel", MlflowModelFile(d, xgboost_version));
  if (d.flavor == "xgboost") {
    // The environment the python_function flavor names; `mlflow models serve` and pyfunc's env restore read
    // them, and MLflow's loader warns when requirements.txt is absent.
    std::string requirements = fmt::format("mlflow=={}\nxgboost=={}\n", kMlflowVersion, xgboost_version);
    files.emplace_back("requirements.txt", requirements);
    files.emplace_back("python_env.yaml",
                       fmt::format("python: {}\nbuild_dependencies:\n- pip\n- setuptools\n- wheel\ndependencies:\n"
                                   "- -r requirements.txt\n",
                                   kMlflowPythonVersion));
    files.emplace_back("conda.yaml", fmt::format("channels:\n- conda-forge\ndependencies:\n- python={}\n- pip\n- pip:\n"
                                                 "  - mlflow=={}\n  - xgboost=={}\nname: mlflow-env\n",
                                                 kMlflowPythonVersion, kMlflowVersion, xgboost_version));
  }
  return files;
}

Status WritePackage(const std::string& dir, const PackageDescriptor& d, std::string model_bytes,
                    const std::string& xgboost_version) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create the package folder: {}", dir, ec.message()));
  for (const auto& [name, bytes] : PackageFiles(d, std::move(model_bytes), xgboost_version)) {
    std::string path = dir + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) return Status::IOError(fmt::format("{}: cannot write the file", path));
  }
  return Status::OK();
}

Result<PackageDescriptor> LoadDescriptor(const std::string& dir) {
  std::string path = dir + "/" + kDescriptorFile;
  GYRE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseDescriptor(text, path);
}

}  // namespace gyre::models
