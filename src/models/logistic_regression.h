// LogisticRegression: the runtime of an L2 logistic regression trained by train/logistic_trainer.h (or written
// by hand), evaluated without allocation.
//
// The model carries its own standardisation, so callers pass raw feature values:
//   x_j   = row[j], or impute_j when row[j] is NaN (impute_j is the training mean, i.e. 0 after standardising)
//   z_j   = (x_j - mean_j) / scale_j
//   margin = intercept + sum_j coefficient_j * z_j        probability = 1 / (1 + exp(-margin))
// Coefficients are on the standardised inputs (what the trainer fits); RawCoefficients()/RawIntercept() give
// the same function in raw units, for display only. Arithmetic is double throughout.
//
// File format (JSON, written by ToJson, read by ParseJson/LoadJsonFile):
//   {"format": "gyre.logistic_regression", "version": 1, "feature_names": [...], "mean": [...],
//    "scale": [...], "impute": [...], "coefficients": [...], "intercept": x,
//    "raw_coefficients": [...], "raw_intercept": x}
// The raw_* fields are derived, written for people reading the file, and ignored on load. Every load error
// names the file and the field ("m.json: field 'scale[2]': must be > 0, got 0"). Numbers are written with
// enough digits to read back the same doubles, so ToJson → ParseJson is exact.
//
// Immutable after construction; Predict* may run on many threads at once.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gyre::models {

class LogisticRegression {
 public:
  static constexpr std::string_view kFormat = "gyre.logistic_regression";
  static constexpr int kVersion = 1;

  // An empty model (no features, margin 0); real ones come from Create, ParseJson or the trainer.
  LogisticRegression() = default;

  // Validates as a load does (equal lengths, at least one feature, unique non-empty names, finite numbers,
  // scale > 0); errors name the field.
  static Result<LogisticRegression> Create(std::vector<std::string> feature_names, std::vector<double> mean,
                                           std::vector<double> scale, std::vector<double> impute,
                                           std::vector<double> coefficients, double intercept);
  static Result<LogisticRegression> LoadJsonFile(const std::string& path);
  // `name` (usually the file path) prefixes every message.
  static Result<LogisticRegression> ParseJson(std::string_view json_text, const std::string& name);
  std::string ToJson() const;

  int num_features() const { return static_cast<int>(feature_names_.size()); }
  const std::vector<std::string>& feature_names() const { return feature_names_; }
  const std::vector<double>& mean() const { return mean_; }
  const std::vector<double>& scale() const { return scale_; }
  const std::vector<double>& impute() const { return impute_; }
  const std::vector<double>& coefficients() const { return coefficients_; }
  double intercept() const { return intercept_; }

  // The same linear function on raw inputs: coefficient_j / scale_j, and the intercept with the centring
  // folded in (intercept - sum_j coefficient_j * mean_j / scale_j). Equal to the model only for rows without
  // missing values when impute_j != mean_j; for display.
  std::vector<double> RawCoefficients() const;
  double RawIntercept() const;

  // `row` has num_features() values (NaN = missing).
  double PredictMargin(const float* row) const;
  double Predict(const float* row) const;
  // Rows back to back (num_features() each); one probability per row.
  void PredictBatch(const float* rows, int64_t n, double* out) const;
  void PredictBatch(const float* rows, int64_t n, float* out) const;

 private:
  std::vector<std::string> feature_names_;
  std::vector<double> mean_;
  std::vector<double> scale_;
  std::vector<double> impute_;
  std::vector<double> coefficients_;
  double intercept_ = 0;
};

}  // namespace gyre::models
