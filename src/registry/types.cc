#include "registry/types.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace gyre::registry {

std::string_view StageName(Stage stage) {
  switch (stage) {
    case Stage::kNone: return "None";
    case Stage::kStaging: return "Staging";
    case Stage::kProduction: return "Production";
    case Stage::kArchived: return "Archived";
  }
  return "None";
}

Result<Stage> ParseStage(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "none") return Stage::kNone;
  if (lower == "staging") return Stage::kStaging;
  if (lower == "production") return Stage::kProduction;
  if (lower == "archived") return Stage::kArchived;
  return Status::InvalidArgument(
      fmt::format("Invalid Model Version stage: {}. Value must be one of None, Staging, Production, Archived.", name));
}

std::string_view ModelVersionStatusName(ModelVersionStatus status) {
  switch (status) {
    case ModelVersionStatus::kPendingRegistration: return "PENDING_REGISTRATION";
    case ModelVersionStatus::kFailedRegistration: return "FAILED_REGISTRATION";
    case ModelVersionStatus::kReady: return "READY";
  }
  return "READY";
}

}  // namespace gyre::registry
