// Model import: a model trained elsewhere turned into a gyre package (models/model_package.h), and the one
// loader serving uses for any model folder it is given.
//
// ImportModel accepts three kinds of PATH:
//   - an XGBoost model file in any format libxgboost reads (JSON, UBJSON, the legacy binary), whatever its
//     extension: libxgboost loads it and saves it again as JSON, which TreeEnsemble must then accept;
//   - an MLflow model folder (an MLmodel file with the xgboost flavor, as mlflow.xgboost.log_model writes
//     it): the file its flavors.xgboost.data names is converted as above, and signature.inputs names the
//     features;
//   - a gyre package folder (gyre-model.json present): checked by loading it, and copied as is.
// Feature names, first found wins: --features (ImportOptions::feature_names), the model's own
// (learner.feature_names), the MLflow signature, else f0..fN-1 (ImportedModel::feature_names_origin says which).
//
// Errors name the path: NotFound for a missing file or folder, InvalidArgument for a file libxgboost cannot
// read, an MLmodel without the xgboost flavor, a feature count that does not match the model's.
// Thread-safe: no shared state (libxgboost boosters are created per call).
#pragma once

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "models/logistic_regression.h"
#include "models/model_package.h"
#include "models/tree_ensemble.h"

namespace gyre::models {

struct ImportOptions {
  // Overrides every other source of names; their count must equal the model's num_feature. Empty: not given.
  std::vector<std::string> feature_names;
  // A CSV with (at least) the model's feature columns: reference distributions of each feature and of the
  // model's scores on those rows, as `gyre train` records them. Empty: no reference statistics.
  std::string reference_csv;
};

enum class ImportSource { kXGBoostFile, kMlflowFolder, kGyrePackage };
std::string_view ImportSourceName(ImportSource source);  // "XGBoost model file", "MLflow model folder", ...

struct ImportedModel {
  ImportSource source = ImportSource::kXGBoostFile;
  std::string path;    // as given
  std::string sha256;  // hex, of the model file read (a gyre package: of its model file)
  // "--features", "the model", "the MLflow signature", "the package", or "generated (f0..fN-1)".
  std::string feature_names_origin;
  bool generated_feature_names = false;
  PackageDescriptor descriptor;  // provenance = "imported from PATH (sha256 HEX)" for converted models
  // Every file of the package, name → bytes (PackageFiles for converted models; a gyre package's own files).
  std::vector<std::pair<std::string, std::string>> files;
};

Result<ImportedModel> ImportModel(const std::string& path, const ImportOptions& options = {});

// Rebuilds `model.files` after its descriptor changed (e.g. the run id of the import's tracking run). A gyre
// package copied as is gets only its gyre-model.json rewritten.
void RefreshPackageFiles(ImportedModel& model);

// Writes `model.files` into `dir` (created if missing).
Status WriteImportedModel(const ImportedModel& model, const std::string& dir);

// A model folder as serving loads it: a gyre package (gyre-model.json and its model file), or an MLflow
// xgboost folder as the MLflow client uploaded it, converted in memory (names from its signature, else
// f0..fN-1; no reference statistics).
struct LoadedModel {
  PackageDescriptor descriptor;
  std::variant<TreeEnsemble, LogisticRegression> model;
};
Result<LoadedModel> LoadModelFolder(const std::string& dir);

// XGBoost model bytes in any format libxgboost reads → its JSON. `name` is used in messages.
Result<std::string> XGBoostModelToJson(const std::string& bytes, const std::string& name);
// libxgboost's version, "1.7.4".
std::string XGBoostVersionString();
// Hex SHA-256 of `bytes`.
std::string Sha256Hex(std::string_view bytes);

}  // namespace gyre::models
