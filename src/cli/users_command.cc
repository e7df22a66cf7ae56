// gyre users add|list: the workspace's users and their roles, written straight to its metadata database (the
// CLI is the machine's administrator: whoever can run it on the workspace can read its database anyway).
#include <fmt/format.h>

#include "auth/auth_store.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/workspace.h"
#include "services/workspace_services.h"

namespace gyre::cli {
namespace {

struct UsersFlags {
  std::string workspace = ".";
  std::string name;
  std::string role;
};

Result<std::unique_ptr<services::WorkspaceServices>> OpenServices(const std::string& dir) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(dir));
  return services::WorkspaceServices::Open(ws, {.serve = false});
}

Status Add(const UsersFlags& flags) {
  std::optional<auth::Role> role = auth::ParseRole(flags.role);
  if (!role) {
    return Status::InvalidArgument(
        fmt::format("role '{}': expected analyst, scientist, ml_engineer or admin", flags.role));
  }
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenServices(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(auth::NewTokenResult created, app->auth().AddUser(flags.name, *role));
  fmt::print(stderr, "added user '{}' ({}) with token {}; the token is shown once, keep it:\n", flags.name,
             auth::RoleName(*role), created.info.id);
  fmt::print("{}\n", created.token);
  return Status::OK();
}

Status List(const UsersFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenServices(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(std::vector<auth::User> users, app->auth().ListUsers());
  GYRE_ASSIGN_OR_RETURN(std::vector<auth::TokenInfo> tokens, app->auth().ListTokens());
  TextTable table({"user", "role", "created", "active tokens"});
  for (const auth::User& u : users) {
    int active = 0;
    for (const auth::TokenInfo& t : tokens) active += t.user == u.name && !t.revoked_ms ? 1 : 0;
    table.AddRow({u.name, std::string(auth::RoleName(u.role)), FormatMillis(u.created_ms), std::to_string(active)});
  }
  if (table.size() == 0) {
    fmt::print("no users (add one: gyre users add NAME --role admin -w {})\n", flags.workspace);
    return Status::OK();
  }
  table.Print(stdout);
  return Status::OK();
}

}  // namespace

void AddUsersCommand(CLI::App& root) {
  auto* users = root.add_subcommand("users", "Users of the workspace's server and their roles");
  users->require_subcommand(1);
  auto flags = std::make_shared<UsersFlags>();

  auto* add = users->add_subcommand("add", "Add a user with a role; prints the user's first API token, once");
  add->add_option("name", flags->name, "User name (letters, digits, '.', '_', '-', '@')")->required();
  add->add_option("--role", flags->role, "analyst, scientist, ml_engineer or admin")->required();
  add->add_option("--workspace,-w", flags->workspace, "Workspace folder (default: .)");
  SetAction(add, [flags]() { return Add(*flags); });

  auto* list = users->add_subcommand("list", "List users, their roles and how many active tokens each holds");
  list->add_option("--workspace,-w", flags->workspace, "Workspace folder (default: .)");
  SetAction(list, [flags]() { return List(*flags); });
}

}  // namespace gyre::cli
