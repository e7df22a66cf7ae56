// gyre tokens create|list|revoke: API tokens of the workspace's users, written straight to its metadata
// database. A token is printed once, when created; only its Argon2id hash is stored.
#include <fmt/format.h>

#include "auth/auth_store.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/workspace.h"
#include "services/workspace_services.h"

namespace gyre::cli {
namespace {

struct TokensFlags {
  std::string workspace = ".";
  std::string user;
  std::string id;
};

Result<std::unique_ptr<services::WorkspaceServices>> OpenServices(const std::string& dir) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(dir));
  return services::WorkspaceServices::Open(ws, {.serve = false});
}

Status Create(const TokensFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenServices(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(auth::NewTokenResult created, app->auth().CreateToken(flags.user));
  fmt::print(stderr, "new token {} for '{}'; it is shown once, keep it:\n", created.info.id, flags.user);
  fmt::print("{}\n", created.token);
  return Status::OK();
}

Status List(const TokensFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenServices(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(std::vector<auth::TokenInfo> tokens, app->auth().ListTokens(flags.user));
  TextTable table({"id", "user", "created", "revoked"});
  for (const auth::TokenInfo& t : tokens) {
    table.AddRow({t.id, t.user, FormatMillis(t.created_ms), t.revoked_ms ? FormatMillis(*t.revoked_ms) : ""});
  }
  if (table.size() == 0) {
    fmt::print("no tokens\n");
    return Status::OK();
  }
  table.Print(stdout);
  return Status::OK();
}

Status Revoke(const TokensFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenServices(flags.workspace));
  GYRE_RETURN_IF_ERROR(app->auth().RevokeToken(flags.id));
  fmt::print("revoked token {} (a running server stops accepting it within 10 s)\n", flags.id);
  return Status::OK();
}

}  // namespace

void AddTokensCommand(CLI::App& root) {
  auto* tokens = root.add_subcommand("tokens", "API tokens of the workspace's users");
  tokens->require_subcommand(1);
  auto flags = std::make_shared<TokensFlags>();

  auto* create = tokens->add_subcommand("create", "Create a token for a user; prints it, once");
  create->add_option("--user", flags->user, "The user the token authenticates")->required();
  create->add_option("--workspace,-w", flags->workspace, "Workspace folder (default: .)");
  SetAction(create, [flags]() { return Create(*flags); });

  auto* list = tokens->add_subcommand("list", "List tokens (ids, users, revocations; never the secrets)");
  list->add_option("--user", flags->user, "Only this user's tokens");
  list->add_option("--workspace,-w", flags->workspace, "Workspace folder (default: .)");
  SetAction(list, [flags]() { return List(*flags); });

  auto* revoke = tokens->add_subcommand("revoke", "Revoke a token by id: it never authenticates again");
  revoke->add_option("id", flags->id, "The token's id (gyre tokens list)")->required();
  revoke->add_option("--workspace,-w", flags->workspace, "Workspace folder (default: .)");
  SetAction(revoke, [flags]() { return Revoke(*flags); });
}

}  // namespace gyre::cli
