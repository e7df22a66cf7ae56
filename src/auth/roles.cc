#include "auth/roles.h"

namespace gyre::auth {

std::string_view RoleName(Role role) {
  switch (role) {
    case Role::kAnalyst: return "analyst";
    case Role::kScientist: return "scientist";
    case Role::kMlEngineer: return "ml_engineer";
    case Role::kAdmin: return "admin";
  }
  return "analyst";
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kAnalyst, Role::kScientist, Role::kMlEngineer, Role::kAdmin}) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

std::string_view PermissionName(Permission permission) {
  switch (permission) {
    case Permission::kOpen: return "open";
    case Permission::kRead: return "read";
    case Permission::kLabel: return "label";
    case Permission::kTrack: return "track";
    case Permission::kFeatures: return "features";
    case Permission::kTrain: return "train";
    case Permission::kScore: return "score";
    case Permission::kRegister: return "register";
    case Permission::kPromote: return "promote";
    case Permission::kDeploy: return "deploy";
    case Permission::kApprove: return "approve";
    case Permission::kPipelines: return "pipelines";
    case Permission::kDeleteModels: return "delete_models";
    case Permission::kAdmin: return "admin";
  }
  return "admin";
}

namespace {

// The least role that grants each permission; roles are ordered, each including the one before.
Role LeastRole(Permission permission) {
  switch (permission) {
    case Permission::kOpen:
    case Permission::kRead:
    case Permission::kLabel:
      return Role::kAnalyst;
    case Permission::kTrack:
    case Permission::kFeatures:
    case Permission::kTrain:
    case Permission::kScore:
    case Permission::kRegister:
      return Role::kScientist;
    case Permission::kPromote:
    case Permission::kDeploy:
    case Permission::kApprove:
    case Permission::kPipelines:
    case Permission::kDeleteModels:
      return Role::kMlEngineer;
    case Permission::kAdmin:
      return Role::kAdmin;
  }
  return Role::kAdmin;
}

}  // namespace

bool RoleAllows(Role role, Permission permission) {
  return static_cast<int>(role) >= static_cast<int>(LeastRole(permission));
}

}  // namespace gyre::auth
