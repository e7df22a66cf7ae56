#include "serving/deployments.h"

#include <fmt/format.h>

#include <filesystem>

#include "core/config.h"
#include "core/files.h"
#include "core/time.h"

namespace gyre::serving {

const DeploymentConfig* DeploymentsConfig::Find(std::string_view name) const {
  for (const DeploymentConfig& d : deployments) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

Result<DeploymentsConfig> ParseDeployments(const std::string& yaml, const std::string& file_name,
                                           const std::string& workspace_root) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadString(yaml, file_name));
  DeploymentsConfig config;
  ConfigObject root = doc.Root();
  std::string poll;
  root.Optional("poll_interval", &poll);
  if (!poll.empty()) {
    auto d = ParseDuration(poll);
    if (!d.ok() || *d <= 0) {
      root.Error("poll_interval", fmt::format("expected a positive duration such as 2s or 500ms, got '{}'", poll));
    } else {
      config.poll_interval_us = *d;
    }
  }
  auto check_uri = [](ConfigObject& object, const std::string& key, const std::string& uri) {
    if (!uri.starts_with("models:/")) {
      object.Error(key, fmt::format("expected a registry URI such as models:/ato@champion or models:/ato/3, got '{}'", uri));
    }
  };
  root.Map("deployments", [&](const std::string& name, ConfigObject& d) {
    DeploymentConfig dep;
    dep.name = name;
    d.Required("model", &dep.model);
    check_uri(d, "model", dep.model);
    d.Optional("feature_set", &dep.feature_set);
    d.Optional("push", &dep.push);
    d.Object("decision", [&](ConfigObject& decision) {
      double v = 0;
      if (decision.Has("challenge_threshold")) {
        decision.Optional("challenge_threshold", &v);
        dep.challenge_threshold = v;
      }
      if (decision.Has("block_threshold")) {
        decision.Optional("block_threshold", &v);
        dep.block_threshold = v;
      }
      if (decision.Has("positive_class")) {
        int64_t c = 0;
        decision.OptionalInRange("positive_class", &c, 0, 255);
        dep.positive_class = static_cast<int>(c);
      }
    });
    d.Object("challenger", [&](ConfigObject& c) {
      ChallengerConfig ch;
      c.Required("model", &ch.model);
      check_uri(c, "model", ch.model);
      std::string mode = "shadow";
      c.Optional("mode", &mode);
      if (mode == "canary") {
        ch.mode = ChallengerMode::kCanary;
        if (!c.Has("percent")) c.Error("", "a canary needs 'percent' (the share of traffic it answers, 0-100)");
      } else if (mode != "shadow") {
        c.Error("mode", fmt::format("expected 'shadow' or 'canary', got '{}'", mode));
      }
      c.Optional("percent", &ch.percent);
      if (!(ch.percent >= 0 && ch.percent <= 100)) c.Error("percent", "expected a percentage in [0, 100]");
      c.Optional("sticky_key", &ch.sticky_key);
      dep.challenger = ch;
    });
    d.Object("log", [&](ConfigObject& log) {
      log.Optional("path", &dep.log_path);
      log.OptionalInRange("queue", &dep.log_queue, 16, 1 << 24);
    });
    if (dep.log_path.empty()) {
      dep.log_path = (std::filesystem::path(workspace_root) / ".gyre" / "predictions" / (name + ".jsonl")).string();
    } else if (!dep.log_path.starts_with("/")) {
      dep.log_path = (std::filesystem::path(workspace_root) / dep.log_path).string();
    }
    config.deployments.push_back(std::move(dep));
  });
  GYRE_RETURN_IF_ERROR(root.Finish());
  return config;
}

Result<DeploymentsConfig> LoadDeployments(const std::string& workspace_root) {
  std::string path = (std::filesystem::path(workspace_root) / "deployments.yaml").string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return DeploymentsConfig{};
  GYRE_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseDeployments(text, path, workspace_root);
}

}  // namespace gyre::serving
