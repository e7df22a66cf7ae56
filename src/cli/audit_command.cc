// gyre audit: the registry's audit log (who created, changed, staged, aliased or deleted which model or
// version, when, with the state before and after), newest first, straight from the workspace's metadata
// database — the same entries GET /api/v1/audit serves. With auth on, the actor is the authenticated user.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "api/mlflow_registry_routes.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/time.h"
#include "core/workspace.h"
#include "services/workspace_services.h"

namespace gyre::cli {
namespace {

struct AuditFlags {
  std::string workspace = ".";
  std::string model;
  std::string action;
  std::string since;
  std::string until;
  int64_t limit = 50;
  bool json = false;
};

// An ISO time or date ("2026-12-01", "2026-12-01T10:00:00Z"), or a duration back from now ("24h", "7d").
Result<int64_t> MillisOf(const std::string& text, std::string_view flag) {
  if (Result<int64_t> ago = ParseDuration(text); ago.ok()) return NowMillis() - *ago / 1000;
  Result<TimestampMicros> at = ParseTimestamp(text, TimestampFormat::kIso8601);
  if (!at.ok()) at = ParseDate(text);
  if (!at.ok()) {
    return Status::InvalidArgument(fmt::format("{} '{}': expected a time (2026-12-01, 2026-12-01T10:00:00Z) or a "
                                               "duration back from now (24h, 7d)", flag, text));
  }
  return *at / 1000;
}

Status Run(const AuditFlags& flags) {
  registry::AuditQuery query;
  if (!flags.model.empty()) query.model_name = flags.model;
  if (!flags.action.empty()) query.action = flags.action;
  if (!flags.since.empty()) {
    GYRE_ASSIGN_OR_RETURN(query.since, MillisOf(flags.since, "--since"));
  }
  if (!flags.until.empty()) {
    GYRE_ASSIGN_OR_RETURN(query.until, MillisOf(flags.until, "--until"));
  }
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app,
                        services::WorkspaceServices::Open(ws, {.serve = false}));
  TextTable table({"time", "actor", "action", "model", "version", "alias", "after"}, 60);
  int64_t shown = 0;
  // Pages of the store's size until the limit: a limit beyond one page still reads them all in order.
  for (;;) {
    query.max_results = std::min<int64_t>(flags.limit - shown, 1000);
    if (query.max_results <= 0) break;
    GYRE_ASSIGN_OR_RETURN(registry::Page<registry::AuditEntry> page, app->registry().QueryAudit(query));
    for (const registry::AuditEntry& e : page.items) {
      if (flags.json) {
        fmt::print("{}\n", api::ToJson(e).dump());
      } else {
        table.AddRow({FormatMillis(e.timestamp), e.actor, e.action, e.model_name, e.version.value_or(""),
                      e.alias.value_or(""), e.after});
      }
      ++shown;
    }
    if (page.next_page_token.empty()) break;
    query.page_token = page.next_page_token;
  }
  if (flags.json) return Status::OK();
  if (table.size() == 0) {
    fmt::print("no audit entries{}\n", query.model_name || query.action || query.since || query.until ? " match" : "");
    return Status::OK();
  }
  table.Print(stdout);
  return Status::OK();
}

}  // namespace

void AddAuditCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand("audit", "The registry's audit log, newest first: who changed which model, when");
  auto flags = std::make_shared<AuditFlags>();
  cmd->add_option("--workspace,-w", flags->workspace, "Workspace folder (default: .)");
  cmd->add_option("--model", flags->model, "Only this registered model's entries (also those before a rename)");
  cmd->add_option("--action", flags->action, "Only this action: model.create, version.create, version.stage, "
                                              "alias.set, alias.delete, model.delete, ...");
  cmd->add_option("--since", flags->since, "From this time on (2026-12-01, 2026-12-01T10:00:00Z) or this long ago (24h)");
  cmd->add_option("--until", flags->until, "Before this time (same forms as --since)");
  cmd->add_option("--limit,-n", flags->limit, "At most this many entries (default 50)")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", flags->json, "One JSON object per line, as GET /api/v1/audit gives them");
  SetAction(cmd, [flags]() { return Run(*flags); });
}

}  // namespace gyre::cli
