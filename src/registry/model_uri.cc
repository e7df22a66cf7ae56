#include "registry/model_uri.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "registry/validation.h"

namespace gyre::registry {
namespace {

constexpr std::string_view kScheme = "models:/";

Status BadUri(const std::string& uri, std::string_view why) {
  return Status::InvalidArgument(fmt::format(
      "Invalid model URI '{}': {}. Expected models:/<name>/<version>, models:/<name>/<stage>, "
      "models:/<name>/latest or models:/<name>@<alias>",
      uri, why));
}

}  // namespace

Result<ModelUri> ParseModelUri(const std::string& uri) {
  if (!std::string_view(uri).starts_with(kScheme)) return BadUri(uri, "it does not start with 'models:/'");
  std::string_view rest = std::string_view(uri).substr(kScheme.size());
  ModelUri out;
  // An alias cannot hold '/' or '@', so the last '@' splits name from alias; a name may not hold '/'
  // (it would be ambiguous with the version part), so the only '/' splits name from version or stage.
  size_t at = rest.rfind('@');
  size_t slash = rest.find('/');
  if (at != std::string_view::npos && (slash == std::string_view::npos || slash < at)) {
    if (slash != std::string_view::npos) return BadUri(uri, "a name with an alias has no '/' part");
    out.kind = ModelUri::Kind::kAlias;
    out.name = std::string(rest.substr(0, at));
    out.alias = std::string(rest.substr(at + 1));
    if (out.name.empty()) return BadUri(uri, "the model name is empty");
    Status alias = ValidateAlias(out.alias);
    if (!alias.ok()) return alias.WithContext(fmt::format("model URI '{}'", uri));
    return out;
  }
  if (slash == std::string_view::npos) return BadUri(uri, "no version, stage, 'latest' or alias");
  out.name = std::string(rest.substr(0, slash));
  std::string suffix(rest.substr(slash + 1));
  if (out.name.empty()) return BadUri(uri, "the model name is empty");
  if (suffix.empty()) return BadUri(uri, "the version, stage or 'latest' after the '/' is empty");
  if (suffix.find('/') != std::string::npos) return BadUri(uri, "too many '/' (model names cannot hold '/')");
  std::string lower = suffix;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  if (lower == "latest") {
    out.kind = ModelUri::Kind::kLatest;
    return out;
  }
  if (std::isdigit(static_cast<unsigned char>(suffix[0])) || suffix[0] == '-' || suffix[0] == '+') {
    Result<int64_t> v = ParseVersion(suffix);
    if (!v.ok()) return v.status().WithContext(fmt::format("model URI '{}'", uri));
    out.kind = ModelUri::Kind::kVersion;
    out.version = std::to_string(*v);
    return out;
  }
  Result<Stage> stage = ParseStage(suffix);
  if (!stage.ok()) return stage.status().WithContext(fmt::format("model URI '{}'", uri));
  out.kind = ModelUri::Kind::kStage;
  out.stage = *stage;
  return out;
}

}  // namespace gyre::registry
