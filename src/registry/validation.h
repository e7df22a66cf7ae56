// Input rules of the registry, with MLflow's messages where the MLflow client shows them. Shared by the
// store and the URI parser; tracking's ValidateKey/ValidateValueLength cover tag keys and values.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace gyre::registry {

inline constexpr size_t kMaxModelNameLength = 256;
inline constexpr size_t kMaxTagValueLength = 5000;     // MLflow's MAX_MODEL_REGISTRY_TAG_VALUE_LENGTH
inline constexpr size_t kMaxDescriptionLength = 5000;  // MLflow's description column
inline constexpr size_t kMaxAliasLength = 255;         // MLflow's MAX_REGISTERED_MODEL_ALIAS_LENGTH
inline constexpr size_t kMaxLineageFieldLength = 1000;
inline constexpr size_t kMaxSourceLength = 500;  // MLflow's model_versions.source and run_link columns
inline constexpr size_t kMaxRunIdLength = 32;    // MLflow's model_versions.run_id column

// Not empty, at most kMaxModelNameLength characters.
Status ValidateModelName(const std::string& name);

// A positive decimal integer ("3"; "03" reads as 3). Returns the number.
Result<int64_t> ParseVersion(const std::string& version);

// Alphanumerics, '_' and '-', at most 255 characters, not "latest" and not shaped like a version
// ("v3", "V3", "3"), which would be ambiguous in a model URI.
Status ValidateAlias(const std::string& alias);

// A tag key (tracking's key rules) and a value of at most kMaxTagValueLength characters.
Status ValidateRegistryTag(const std::string& key, const std::string& value);

// `what` is the field name used in the message ("description", "lineage.code_version").
Status ValidateLength(const char* what, const std::string& value, size_t max);

}  // namespace gyre::registry
