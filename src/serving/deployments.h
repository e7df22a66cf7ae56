// Deployments: what the server scores. A deployment binds a model URI (usually an alias, models:/ato@champion)
// to the online features it reads, the decision bands it applies and, optionally, a challenger that runs in
// shadow (scored and logged, never returned) or as a canary (a share of traffic, sticky per entity).
//
// Read from <workspace>/deployments.yaml (examples/ato/deployments.yaml is annotated). Strict: unknown keys,
// a URI that is not models:/..., a canary without a percentage — errors with file:line:column and the key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace gyre::serving {

enum class ChallengerMode { kShadow, kCanary };

struct ChallengerConfig {
  std::string model;  // models:/...
  ChallengerMode mode = ChallengerMode::kShadow;
  double percent = 0;      // canary: share of requests (0–100) the challenger answers
  std::string sticky_key;  // canary: the event column whose value picks the model (same entity, same model)
};

struct DeploymentConfig {
  std::string name;
  std::string model;        // models:/name@alias, models:/name/3, ...
  std::string feature_set;  // default: the model package's
  bool push = true;         // after scoring, the event updates the online feature state
  std::optional<double> challenge_threshold, block_threshold;  // override the package's bands
  std::optional<int> positive_class;  // a multiclass model's class whose probability the bands read
  std::optional<ChallengerConfig> challenger;
  std::string log_path;     // prediction log (JSON lines); default <workspace>/.gyre/predictions/<name>.jsonl;
                            // empty (only outside a workspace: `gyre models serve PATH`) logs nothing
  int64_t log_queue = 65536;  // bounded queue between scoring and the log writer
};

struct DeploymentsConfig {
  std::vector<DeploymentConfig> deployments;
  int64_t poll_interval_us = 2'000'000;  // how often model URIs are re-resolved (alias moves → hot swap)
  const DeploymentConfig* Find(std::string_view name) const;
};

Result<DeploymentsConfig> ParseDeployments(const std::string& yaml, const std::string& file_name,
                                           const std::string& workspace_root);
// <workspace>/deployments.yaml; an absent file is an empty configuration.
Result<DeploymentsConfig> LoadDeployments(const std::string& workspace_root);

}  // namespace gyre::serving
