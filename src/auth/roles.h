// Roles and permissions: who may do what in gyre (docs/auth.md).
//
// A user has one role; a role grants a fixed set of permissions; every HTTP route names the one permission
// it needs (api/route_permissions.cc). The roles are those of gyre's users (PRODUCT.md), each including the
// one before it:
//   analyst      read everything; label (reserved for review queues)
//   scientist    + experiments, runs, artifacts; feature backfill and pushes; training; scoring; register
//                  model versions
//   ml_engineer  + aliases and stages; deployments; approvals; pipelines; deleting models and versions
//   admin        + users, tokens, settings
// Pure functions and constants: thread-safe.
#pragma once

#include <optional>
#include <string_view>

namespace gyre::auth {

enum class Role { kAnalyst, kScientist, kMlEngineer, kAdmin };

enum class Permission {
  kOpen,          // no credentials needed (health, readiness, /metrics)
  kRead,          // read experiments, runs, artifacts, models, audit log, features
  kLabel,         // label model outputs in review queues (reserved: labels come later)
  kTrack,         // create and change experiments, runs, metrics, params, tags, artifacts
  kFeatures,      // push events to the online store, backfill features
  kTrain,         // run training
  kScore,         // score events or feature rows (writes the prediction log)
  kRegister,      // create and edit registered models and versions (tags, descriptions)
  kPromote,       // move aliases, transition stages
  kDeploy,        // deployments
  kApprove,       // approvals (reserved)
  kPipelines,     // retraining pipelines (reserved)
  kDeleteModels,  // delete registered models and model versions
  kAdmin,         // users, tokens, settings
};

// "analyst", "scientist", "ml_engineer", "admin".
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);
// "read", "track", "promote", ...: how a 403 names what was missing.
std::string_view PermissionName(Permission permission);

// Whether `role` grants `permission`. kOpen is granted to everyone.
bool RoleAllows(Role role, Permission permission);

}  // namespace gyre::auth
