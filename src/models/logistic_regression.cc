#include "models/logistic_regression.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_set>

namespace gyre::models {
namespace {

using nlohmann::json;

Status FieldError(const std::string& name, std::string_view field, std::string_view message) {
  return Status::InvalidArgument(Located(name, 0, 0, Field(field, message)));
}

Result<std::vector<double>> NumberArray(const json& doc, const char* key, size_t length, const std::string& name) {
  auto it = doc.find(key);
  if (it == doc.end()) return FieldError(name, key, "missing");
  if (!it->is_array()) return FieldError(name, key, "expected an array of numbers");
  if (it->size() != length) {
    return FieldError(name, key, fmt::format("has {} values; feature_names has {}", it->size(), length));
  }
  std::vector<double> out;
  out.reserve(length);
  for (size_t i = 0; i < length; ++i) {
    const json& v = (*it)[i];
    // JSON has no NaN or infinity; a writer that had one wrote null or a string instead.
    if (!v.is_number()) return FieldError(name, fmt::format("{}[{}]", key, i), "expected a finite number, got " + v.dump());
    double d = v.get<double>();
    if (!std::isfinite(d)) return FieldError(name, fmt::format("{}[{}]", key, i), "not finite");
    out.push_back(d);
  }
  return out;
}

Status CheckFinite(const std::vector<double>& values, std::string_view field, const std::string& name) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      return FieldError(name, fmt::format("{}[{}]", field, i), fmt::format("not finite ({})", values[i]));
    }
  }
  return Status::OK();
}

// Shared by Create and ParseJson so that a model built in memory obeys the same rules as one read from disk.
Status Validate(const std::vector<std::string>& names, const std::vector<double>& mean,
                const std::vector<double>& scale, const std::vector<double>& impute,
                const std::vector<double>& coefficients, double intercept, const std::string& name) {
  if (names.empty()) return FieldError(name, "feature_names", "at least one feature is required");
  std::unordered_set<std::string_view> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return FieldError(name, fmt::format("feature_names[{}]", i), "empty name");
    if (!seen.insert(names[i]).second) {
      return FieldError(name, fmt::format("feature_names[{}]", i), fmt::format("'{}' appears twice", names[i]));
    }
  }
  const std::pair<const std::vector<double>*, const char*> arrays[] = {
      {&mean, "mean"}, {&scale, "scale"}, {&impute, "impute"}, {&coefficients, "coefficients"}};
  for (const auto& [values, field] : arrays) {
    if (values->size() != names.size()) {
      return FieldError(name, field, fmt::format("has {} values; feature_names has {}", values->size(), names.size()));
    }
    GYRE_RETURN_IF_ERROR(CheckFinite(*values, field, name));
  }
  for (size_t i = 0; i < scale.size(); ++i) {
    if (scale[i] <= 0) return FieldError(name, fmt::format("scale[{}]", i), fmt::format("must be > 0, got {}", scale[i]));
  }
  if (!std::isfinite(intercept)) return FieldError(name, "intercept", "not finite");
  return Status::OK();
}

double Sigmoid(double margin) {
  // Written so that exp never overflows.
  if (margin >= 0) return 1.0 / (1.0 + std::exp(-margin));
  double e = std::exp(margin);
  return e / (1.0 + e);
}

}  // namespace

Result<LogisticRegression> LogisticRegression::Create(std::vector<std::string> feature_names, std::vector<double> mean,
                                                      std::vector<double> scale, std::vector<double> impute,
                                                      std::vector<double> coefficients, double intercept) {
  GYRE_RETURN_IF_ERROR(Validate(feature_names, mean, scale, impute, coefficients, intercept, "logistic regression"));
  LogisticRegression m;
  m.feature_names_ = std::move(feature_names);
  m.mean_ = std::move(mean);
  m.scale_ = std::move(scale);
  m.impute_ = std::move(impute);
  m.coefficients_ = std::move(coefficients);
  m.intercept_ = intercept;
  return m;
}

Result<LogisticRegression> LogisticRegression::LoadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot open model file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::IOError("cannot read model file " + path);
  return ParseJson(buffer.str(), path);
}

Result<LogisticRegression> LogisticRegression::ParseJson(std::string_view json_text, const std::string& name) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::exception& e) {
    // nlohmann reports a byte offset (one past the bad character); turn it into line:column.
    size_t offset = 0;
    if (const auto* parse = dynamic_cast<const json::parse_error*>(&e)) offset = parse->byte;
    offset = std::min(offset == 0 ? 0 : offset - 1, json_text.size());
    int line = 1, column = 1;
    for (size_t i = 0; i < offset; ++i) {
      if (json_text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    return Status::InvalidArgument(
        Located(name, line, column, "not valid JSON (a gyre.logistic_regression model was expected)"));
  }
  if (!doc.is_object()) return Status::InvalidArgument(name + ": expected a JSON object");
  auto format = doc.find("format");
  if (format == doc.end()) return FieldError(name, "format", fmt::format("missing (expected '{}')", kFormat));
  if (!format->is_string() || format->get<std::string>() != kFormat) {
    return FieldError(name, "format", fmt::format("unknown format {} (expected '{}')", format->dump(), kFormat));
  }
  auto version = doc.find("version");
  if (version == doc.end()) return FieldError(name, "version", "missing");
  if (!version->is_number_integer() || version->get<int64_t>() != kVersion) {
    return FieldError(name, "version", fmt::format("unsupported version {} (this gyre reads version {})",
                                                   version->dump(), kVersion));
  }
  auto names_it = doc.find("feature_names");
  if (names_it == doc.end()) return FieldError(name, "feature_names", "missing");
  if (!names_it->is_array()) return FieldError(name, "feature_names", "expected an array of strings");
  std::vector<std::string> names;
  for (size_t i = 0; i < names_it->size(); ++i) {
    const json& v = (*names_it)[i];
    if (!v.is_string()) return FieldError(name, fmt::format("feature_names[{}]", i), "expected a string, got " + v.dump());
    names.push_back(v.get<std::string>());
  }
  GYRE_ASSIGN_OR_RETURN(std::vector<double> mean, NumberArray(doc, "mean", names.size(), name));
  GYRE_ASSIGN_OR_RETURN(std::vector<double> scale, NumberArray(doc, "scale", names.size(), name));
  GYRE_ASSIGN_OR_RETURN(std::vector<double> impute, NumberArray(doc, "impute", names.size(), name));
  GYRE_ASSIGN_OR_RETURN(std::vector<double> coefficients, NumberArray(doc, "coefficients", names.size(), name));
  auto intercept = doc.find("intercept");
  if (intercept == doc.end()) return FieldError(name, "intercept", "missing");
  if (!intercept->is_number()) return FieldError(name, "intercept", "expected a finite number, got " + intercept->dump());
  GYRE_RETURN_IF_ERROR(Validate(names, mean, scale, impute, coefficients, intercept->get<double>(), name));

  LogisticRegression m;
  m.feature_names_ = std::move(names);
  m.mean_ = std::move(mean);
  m.scale_ = std::move(scale);
  m.impute_ = std::move(impute);
  m.coefficients_ = std::move(coefficients);
  m.intercept_ = intercept->get<double>();
  return m;
}

std::string LogisticRegression::ToJson() const {
  nlohmann::ordered_json doc;
  doc["format"] = kFormat;
  doc["version"] = kVersion;
  doc["feature_names"] = feature_names_;
  doc["mean"] = mean_;
  doc["scale"] = scale_;
  doc["impute"] = impute_;
  doc["coefficients"] = coefficients_;
  doc["intercept"] = intercept_;
  doc["raw_coefficients"] = RawCoefficients();
  doc["raw_intercept"] = RawIntercept();
  // replace: a name with invalid UTF-8 must not make dump() throw.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::vector<double> LogisticRegression::RawCoefficients() const {
  std::vector<double> raw(coefficients_.size());
  for (size_t j = 0; j < raw.size(); ++j) raw[j] = coefficients_[j] / scale_[j];
  return raw;
}

double LogisticRegression::RawIntercept() const {
  double b = intercept_;
  for (size_t j = 0; j < coefficients_.size(); ++j) b -= coefficients_[j] * mean_[j] / scale_[j];
  return b;
}

double LogisticRegression::PredictMargin(const float* row) const {
  const size_t d = coefficients_.size();
  double margin = intercept_;
  for (size_t j = 0; j < d; ++j) {
    double x = std::isnan(row[j]) ? impute_[j] : static_cast<double>(row[j]);
    margin += coefficients_[j] * ((x - mean_[j]) / scale_[j]);
  }
  return margin;
}

double LogisticRegression::Predict(const float* row) const { return Sigmoid(PredictMargin(row)); }

void LogisticRegression::PredictBatch(const float* rows, int64_t n, double* out) const {
  const size_t d = coefficients_.size();
  for (int64_t i = 0; i < n; ++i) out[i] = Predict(rows + static_cast<size_t>(i) * d);
}

void LogisticRegression::PredictBatch(const float* rows, int64_t n, float* out) const {
  const size_t d = coefficients_.size();
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(Predict(rows + static_cast<size_t>(i) * d));
}

}  // namespace gyre::models
