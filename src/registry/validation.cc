#include "registry/validation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "tracking/tracking_store.h"

namespace gyre::registry {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

Status ValidateModelName(const std::string& name) {
  if (name.empty()) return Status::InvalidArgument("Registered model name cannot be empty.");
  if (name.size() > kMaxModelNameLength) {
    return Status::InvalidArgument(fmt::format("Registered model name '{}...' is {} characters long; the limit is {}",
                                               name.substr(0, 40), name.size(), kMaxModelNameLength));
  }
  return Status::OK();
}

Result<int64_t> ParseVersion(const std::string& version) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(version.data(), version.data() + version.size(), v);
  if (!AllDigits(version) || ec != std::errc() || ptr != version.data() + version.size()) {
    if (ec == std::errc::result_out_of_range) {
      return Status::InvalidArgument(fmt::format("Model version '{}' is out of range", version));
    }
    return Status::InvalidArgument(fmt::format("Model version must be an integer, got '{}'", version));
  }
  if (v < 1) return Status::InvalidArgument(fmt::format("Model version must be a positive integer, got '{}'", version));
  return v;
}

Status ValidateAlias(const std::string& alias) {
  if (alias.empty()) return Status::InvalidArgument("Registered model alias name cannot be empty.");
  for (char c : alias) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) {
      return Status::InvalidArgument(fmt::format(
          "Invalid alias name: '{}'. Names may only contain alphanumerics, underscores (_), and dashes (-).", alias));
    }
  }
  if (alias.size() > kMaxAliasLength) {
    return Status::InvalidArgument(fmt::format("Registered model alias name '{}...' had length {}, which exceeded "
                                               "length limit of {}",
                                               alias.substr(0, 40), alias.size(), kMaxAliasLength));
  }
  std::string lower(alias);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "latest") {
    return Status::InvalidArgument("'latest' alias name (case insensitive) is reserved.");
  }
  if (AllDigits(alias) || ((alias[0] == 'v' || alias[0] == 'V') && AllDigits(std::string_view(alias).substr(1)))) {
    return Status::InvalidArgument(fmt::format("Version alias name '{}' is reserved.", alias));
  }
  return Status::OK();
}

Status ValidateRegistryTag(const std::string& key, const std::string& value) {
  GYRE_RETURN_IF_ERROR(tracking::ValidateKey("tag", key));
  return tracking::ValidateValueLength("tag", key, value, kMaxTagValueLength);
}

Status ValidateLength(const char* what, const std::string& value, size_t max) {
  if (value.size() > max) {
    return Status::InvalidArgument(
        Field(what, fmt::format("{} characters long; the limit is {}", value.size(), max)));
  }
  return Status::OK();
}

}  // namespace gyre::registry
