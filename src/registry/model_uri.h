// Model URIs: how users and the MLflow client name one version of a registered model.
//   models:/<name>/<version>   a version number        models:/fraud/3
//   models:/<name>/<stage>     latest version in stage  models:/fraud/Production (stage case-insensitive)
//   models:/<name>/latest      the highest version      models:/fraud/latest (case-insensitive)
//   models:/<name>@<alias>     the aliased version      models:/fraud@champion
// Parsing is a pure function; RegistryStore::ResolveModelUri looks the result up.
#pragma once

#include <string>

#include "core/status.h"
#include "registry/types.h"

namespace gyre::registry {

struct ModelUri {
  enum class Kind { kVersion, kStage, kLatest, kAlias };
  Kind kind = Kind::kVersion;
  std::string name;
  std::string version;  // kVersion: canonical digits ("3")
  Stage stage = Stage::kNone;  // kStage
  std::string alias;    // kAlias
};

// InvalidArgument naming the URI and the accepted forms when `uri` is not one of them, or when its version
// or stage part is invalid.
Result<ModelUri> ParseModelUri(const std::string& uri);

}  // namespace gyre::registry
