#include "models/model_import.h"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <xgboost/c_api.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/csv_reader.h"
#include "core/files.h"
#include "core/time.h"

namespace gyre::models {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kModelFile = "model.json";

struct BoosterDeleter {
  void operator()(void* handle) const { XGBoosterFree(handle); }
};
using Booster = std::unique_ptr<void, BoosterDeleter>;

Status XGBoostError(const std::string& name, const std::string& what) {
  return Status::InvalidArgument(fmt::format("{}: {}: {}", name, what, XGBGetLastError()));
}

// The facts of an XGBoost JSON model the import needs, read before TreeEnsemble parses it.
struct XGBoostFacts {
  int num_feature = 0;
  std::string objective;
  std::vector<std::string> feature_names;  // empty when the model has none
};

Result<XGBoostFacts> ReadFacts(const std::string& model_json, const std::string& name) {
  json j = json::parse(model_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidArgument(fmt::format("{}: libxgboost wrote JSON that does not parse", name));
  XGBoostFacts facts;
  try {
    const json& learner = j.at("learner");
    facts.num_feature = std::stoi(learner.at("learner_model_param").at("num_feature").get<std::string>());
    facts.objective = learner.at("objective").at("name").get<std::string>();
    if (auto it = learner.find("feature_names"); it != learner.end() && it->is_array()) {
      facts.feature_names = it->get<std::vector<std::string>>();
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(fmt::format("{}: not an XGBoost JSON model ({})", name, e.what()));
  }
  return facts;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(fmt::format("{}: no such file or folder", path));
  if (fs::is_directory(path, ec)) return Status::InvalidArgument(fmt::format("{}: is a folder, expected a file", path));
  return ReadFileToString(path);
}

// Names given by MLflow's column-based signature, in order; empty for a tensor signature or none.
Result<std::vector<std::string>> SignatureNames(const YAML::Node& mlmodel, const std::string& name) {
  std::vector<std::string> names;
  YAML::Node inputs = mlmodel["signature"] ? mlmodel["signature"]["inputs"] : YAML::Node();
  if (!inputs || inputs.IsNull()) return names;
  json spec = json::parse(inputs.as<std::string>(""), nullptr, /*allow_exceptions=*/false);
  if (spec.is_discarded() || !spec.is_array()) {
    return Status::InvalidArgument(fmt::format("{}: signature.inputs is not a JSON list of columns", name));
  }
  for (const json& column : spec) {
    if (!column.is_object() || !column.contains("name") || !column["name"].is_string()) return std::vector<std::string>{};
    names.push_back(column["name"].get<std::string>());
  }
  return names;
}

struct MlflowXGBoost {
  std::string model_path;
  std::vector<std::string> signature_names;
};

Result<MlflowXGBoost> ReadMlmodel(const std::string& dir) {
  std::string path = dir + "/MLmodel";
  GYRE_ASSIGN_OR_RETURN(std::string text, ReadWholeFile(path));
  YAML::Node mlmodel;
  try {
    mlmodel = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}: not YAML: {}", path, e.what()));
  }
  YAML::Node flavors = mlmodel.IsMap() ? mlmodel["flavors"] : YAML::Node();
  if (!flavors || !flavors.IsMap()) return Status::InvalidArgument(fmt::format("{}: no 'flavors'", path));
  if (!flavors["xgboost"]) {
    std::string present;
    for (const auto& f : flavors) present += (present.empty() ? "" : ", ") + f.first.as<std::string>("?");
    return Status::InvalidArgument(fmt::format(
        "{}: no xgboost flavor (it has: {}); gyre imports XGBoost models", path, present.empty() ? "none" : present));
  }
  MlflowXGBoost out;
  try {
    std::string data = flavors["xgboost"]["data"].as<std::string>("");
    if (data.empty() || data.find("..") != std::string::npos || data.starts_with("/")) {
      return Status::InvalidArgument(fmt::format("{}: flavors.xgboost.data must name the model file in the folder, "
                                                 "got '{}'", path, data));
    }
    out.model_path = dir + "/" + data;
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}: flavors.xgboost.data: {}", path, e.what()));
  }
  try {
    GYRE_ASSIGN_OR_RETURN(out.signature_names, SignatureNames(mlmodel, path));
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(fmt::format("{}: signature.inputs: {}", path, e.what()));
  }
  return out;
}

// A converted model: its XGBoost JSON (names written in when known), the evaluator and the names' origin.
struct Converted {
  std::string model_json;
  TreeEnsemble trees;
  std::vector<std::string> names;
  std::string origin;
  bool generated = false;
};

Result<Converted> Convert(const std::string& bytes, const std::string& name, const std::vector<std::string>& given,
                          const std::vector<std::string>& signature_names) {
  Converted c;
  GYRE_ASSIGN_OR_RETURN(std::string json_text, XGBoostModelToJson(bytes, name));
  GYRE_ASSIGN_OR_RETURN(XGBoostFacts facts, ReadFacts(json_text, name));
  if (!given.empty()) {
    if (static_cast<int>(given.size()) != facts.num_feature) {
      return Status::InvalidArgument(fmt::format("{}: --features names {} features, the model reads {}", name,
                                                 given.size(), facts.num_feature));
    }
    c.names = given;
    c.origin = "--features";
  } else if (!facts.feature_names.empty()) {
    c.names = facts.feature_names;
    c.origin = "the model";
  } else if (!signature_names.empty()) {
    if (static_cast<int>(signature_names.size()) != facts.num_feature) {
      return Status::InvalidArgument(fmt::format("{}: the MLflow signature names {} inputs, the model reads {}", name,
                                                 signature_names.size(), facts.num_feature));
    }
    c.names = signature_names;
    c.origin = "the MLflow signature";
  } else {
    for (int i = 0; i < facts.num_feature; ++i) c.names.push_back(fmt::format("f{}", i));
    c.origin = fmt::format("generated (f0..f{})", facts.num_feature - 1);
    c.generated = true;
  }
  if (!c.generated && c.names != facts.feature_names) {
    // The saved model carries the names gyre serves under, so MLflow's loader, which hands them to xgboost
    // with a DataFrame's columns, checks the same names.
    json j = json::parse(json_text);
    j["learner"]["feature_names"] = c.names;
    j["learner"]["feature_types"] = std::vector<std::string>(c.names.size(), "float");
    json_text = j.dump();
  }
  c.model_json = std::move(json_text);
  GYRE_ASSIGN_OR_RETURN(c.trees, TreeEnsemble::ParseXGBoostJson(c.model_json, name));
  return c;
}

// Reference statistics from the CSV's feature columns and the model's scores on those rows.
Status AddReference(const std::string& csv_path, const TreeEnsemble& trees, PackageDescriptor& d) {
  CsvReadOptions options;
  options.select = d.feature_names;
  GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(csv_path, options));
  const Table& table = read.table;
  const int64_t n = table.num_rows();
  const int cols = static_cast<int>(d.feature_names.size());
  std::vector<float> rows(static_cast<size_t>(n) * cols);
  for (int f = 0; f < cols; ++f) {
    Result<const Column*> found = table.ColumnByName(d.feature_names[f]);
    if (!found.ok()) {
      return Status::InvalidArgument(
          fmt::format("{}: no column '{}' (the model's feature {})", csv_path, d.feature_names[f], f + 1));
    }
    const Column& column = **found;
    std::vector<double> values(n);
    for (int64_t i = 0; i < n; ++i) {
      if (column.IsNull(i)) {
        values[i] = std::nan("");
        continue;
      }
      switch (column.type()) {
        case ColumnType::kFloat64: values[i] = column.Float64(i); break;
        case ColumnType::kInt64: values[i] = static_cast<double>(column.int64_values()[i]); break;
        case ColumnType::kBool: values[i] = column.Bool(i) ? 1.0 : 0.0; break;
        default:
          return Status::InvalidArgument(fmt::format("{}: column '{}' is {}, the model reads numbers", csv_path,
                                                     d.feature_names[f], ColumnTypeName(column.type())));
      }
      rows[static_cast<size_t>(i) * cols + f] = static_cast<float>(values[i]);
    }
    for (int64_t i = 0; i < n; ++i) {
      if (std::isnan(values[i])) rows[static_cast<size_t>(i) * cols + f] = std::nanf("");
    }
    d.reference_features.push_back(Summarize(d.feature_names[f], std::move(values)));
  }
  // A multiclass model has no single score to summarise; its features still are.
  if (trees.num_outputs() == 1) {
    std::vector<float> scores(n);
    trees.PredictBatch(rows.data(), n, scores.data());
    d.reference_score = Summarize("score", {scores.begin(), scores.end()});
  }
  return Status::OK();
}

Result<ImportedModel> ImportGyrePackage(const std::string& dir, const ImportOptions& options) {
  if (!options.feature_names.empty() || !options.reference_csv.empty()) {
    return Status::InvalidArgument(fmt::format(
        "{}: is a gyre package already, imported as is; --features and --reference apply to models converted", dir));
  }
  GYRE_ASSIGN_OR_RETURN(LoadedModel loaded, LoadModelFolder(dir));
  ImportedModel out;
  out.source = ImportSource::kGyrePackage;
  out.path = dir;
  out.feature_names_origin = "the package";
  out.descriptor = std::move(loaded.descriptor);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    GYRE_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(entry.path().string()));
    if (entry.path().filename() == out.descriptor.model_file) out.sha256 = Sha256Hex(bytes);
    out.files.emplace_back(entry.path().filename().string(), std::move(bytes));
  }
  if (ec) return Status::IOError(fmt::format("{}: cannot list the folder: {}", dir, ec.message()));
  std::sort(out.files.begin(), out.files.end());
  return out;
}

}  // namespace

std::string_view ImportSourceName(ImportSource source) {
  switch (source) {
    case ImportSource::kXGBoostFile: return "XGBoost model file";
    case ImportSource::kMlflowFolder: return "MLflow model folder";
    case ImportSource::kGyrePackage: return "gyre package";
  }
  return "?";
}

std::string Sha256Hex(std::string_view bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &size, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

std::string XGBoostVersionString() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  return fmt::format("{}.{}.{}", major, minor, patch);
}

Result<std::string> XGBoostModelToJson(const std::string& bytes, const std::string& name) {
  // libxgboost picks the format from the bytes when loading from memory ('{"' JSON, '{' + a type letter
  // UBJSON, else the legacy binary), so a file's extension does not matter; XGBoosterLoadModel would take
  // an extension-less JSON or UBJSON file for the legacy binary. Its JSON sniffing expects no whitespace
  // after the opening brace, which hand-formatted JSON has.
  std::string buffer;
  const std::string* input = &bytes;
  if (!bytes.empty() && bytes[0] == '{') {
    size_t next = bytes.find_first_not_of(" \t\r\n", 1);
    if (next != std::string::npos && next > 1 && bytes[next] == '"') {
      buffer = "{" + bytes.substr(next);
      input = &buffer;
    }
  }
  BoosterHandle raw = nullptr;
  if (XGBoosterCreate(nullptr, 0, &raw) != 0) return XGBoostError(name, "libxgboost cannot create a booster");
  Booster booster(raw);
  if (XGBoosterLoadModelFromBuffer(raw, input->data(), input->size()) != 0) {
    return XGBoostError(name, "libxgboost cannot read it as an XGBoost model (JSON, UBJSON or binary)");
  }
  bst_ulong size = 0;
  const char* out = nullptr;
  if (XGBoosterSaveModelToBuffer(raw, R"({"format": "json"})", &size, &out) != 0) {
    return XGBoostError(name, "libxgboost cannot save it as JSON");
  }
  return std::string(out, size);
}

Result<ImportedModel> ImportModel(const std::string& path, const ImportOptions& options) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return Status::NotFound(fmt::format("{}: no such file or folder", path));
  const bool is_dir = fs::is_directory(path, ec);
  if (is_dir && fs::exists(fs::path(path) / kDescriptorFile, ec)) return ImportGyrePackage(path, options);

  ImportedModel out;
  out.path = path;
  std::string model_path = path;
  std::vector<std::string> signature_names;
  if (is_dir) {
    if (!fs::exists(fs::path(path) / "MLmodel", ec)) {
      return Status::InvalidArgument(fmt::format(
          "{}: a folder with neither {} (a gyre package) nor MLmodel (an MLflow model)", path, kDescriptorFile));
    }
    GYRE_ASSIGN_OR_RETURN(MlflowXGBoost mlflow, ReadMlmodel(path));
    out.source = ImportSource::kMlflowFolder;
    model_path = mlflow.model_path;
    signature_names = std::move(mlflow.signature_names);
  }
  GYRE_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(model_path));
  out.sha256 = Sha256Hex(bytes);
  GYRE_ASSIGN_OR_RETURN(Converted c, Convert(bytes, model_path, options.feature_names, signature_names));

  PackageDescriptor& d = out.descriptor;
  d.flavor = "xgboost";
  d.model_file = kModelFile;
  d.objective = c.trees.objective();
  d.feature_names = c.names;
  d.feature_types.assign(c.names.size(), "float32");
  d.num_outputs = c.trees.num_outputs();
  d.params.emplace_back("num_trees", std::to_string(c.trees.num_trees()));
  d.provenance = fmt::format("imported from {} (sha256 {})", fs::absolute(path).lexically_normal().string(), out.sha256);
  d.created_at_ms = NowMillis();
  out.feature_names_origin = c.origin;
  out.generated_feature_names = c.generated;
  if (!options.reference_csv.empty()) GYRE_RETURN_IF_ERROR(AddReference(options.reference_csv, c.trees, d));
  out.files = PackageFiles(d, std::move(c.model_json), XGBoostVersionString());
  return out;
}

void RefreshPackageFiles(ImportedModel& model) {
  if (model.source == ImportSource::kGyrePackage) {
    for (auto& [name, bytes] : model.files) {
      if (name == kDescriptorFile) bytes = SerializeDescriptor(model.descriptor);
    }
    return;
  }
  std::string model_bytes;
  for (auto& [name, bytes] : model.files) {
    if (name == model.descriptor.model_file) model_bytes = std::move(bytes);
  }
  model.files = PackageFiles(model.descriptor, std::move(model_bytes), XGBoostVersionString());
}

Status WriteImportedModel(const ImportedModel& model, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create the folder: {}", dir, ec.message()));
  for (const auto& [name, bytes] : model.files) {
    std::string path = dir + "/" + name;
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.close();
    if (!file) return Status::IOError(fmt::format("{}: cannot write the file", path));
  }
  return Status::OK();
}

Result<LoadedModel> LoadModelFolder(const std::string& dir) {
  std::error_code ec;
  LoadedModel out;
  if (fs::exists(fs::path(dir) / kDescriptorFile, ec)) {
    GYRE_ASSIGN_OR_RETURN(out.descriptor, LoadDescriptor(dir));
    std::string model_path = dir + "/" + out.descriptor.model_file;
    if (out.descriptor.flavor == "xgboost") {
      GYRE_ASSIGN_OR_RETURN(out.model, TreeEnsemble::LoadXGBoostJsonFile(model_path));
    } else {
      GYRE_ASSIGN_OR_RETURN(out.model, LogisticRegression::LoadJsonFile(model_path));
    }
    return out;
  }
  if (!fs::exists(fs::path(dir) / "MLmodel", ec)) {
    return Status::NotFound(
        fmt::format("{}: no model here (neither {} of a gyre package nor MLmodel of an MLflow model)", dir,
                    kDescriptorFile));
  }
  GYRE_ASSIGN_OR_RETURN(MlflowXGBoost mlflow, ReadMlmodel(dir));
  GYRE_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(mlflow.model_path));
  GYRE_ASSIGN_OR_RETURN(Converted c, Convert(bytes, mlflow.model_path, {}, mlflow.signature_names));
  PackageDescriptor& d = out.descriptor;
  d.flavor = "xgboost";
  d.model_file = fs::path(mlflow.model_path).filename().string();
  d.objective = c.trees.objective();
  d.feature_names = std::move(c.names);
  d.feature_types.assign(d.feature_names.size(), "float32");
  d.num_outputs = c.trees.num_outputs();
  d.provenance = fmt::format("MLflow model folder {} (sha256 {})", dir, Sha256Hex(bytes));
  out.model = std::move(c.trees);
  return out;
}

}  // namespace gyre::models
