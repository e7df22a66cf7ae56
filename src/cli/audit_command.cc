// gyre audit: the registry's audit log (who created, changed, staged, aliased or deleted which model or
// version, when, with the state before and after), newest first, straight from the workspace's metadata
// database — the same entries GET /api/v1/audit serves; with --requests, the log of the other audited changes
// made through the API (experiments, runs, artifacts: auth::AuthStore::ListRequests). With auth on, the actor
// is the authenticated user.
#include <fmt/format.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "api/mlflow_registry_routes.h"
#include "auth/auth_store.h"
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
  bool requests = false;
  std::string actor;
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

Status ParseWindow(const AuditFlags& flags, std::optional<int64_t>* since, std::optional<int64_t>* until) {
  if (!flags.since.empty()) {
    GYRE_ASSIGN_OR_RETURN(*since, MillisOf(flags.since, "--since"));
  }
  if (!flags.until.empty()) {
    GYRE_ASSIGN_OR_RETURN(*until, MillisOf(flags.until, "--until"));
  }
  return Status::OK();
}

Status RunRequests(const AuditFlags& flags, services::WorkspaceServices& app) {
  auth::RequestAuditQuery query;
  GYRE_RETURN_IF_ERROR(ParseWindow(flags, &query.since, &query.until));
  if (!flags.actor.empty()) query.actor = flags.actor;
  query.max_results = std::min<int64_t>(flags.limit, 100'000);
  GYRE_ASSIGN_OR_RETURN(std::vector<auth::AuditedRequest> records, app.auth().ListRequests(query));
  TextTable table({"time", "actor", "method", "target", "status", "request id"}, 90);
  for (const auth::AuditedRequest& r : records) {
    if (flags.json) {
      fmt::print("{}\n", nlohmann::json{{"time_ms", r.time_ms}, {"actor", r.actor}, {"method", r.method},
                                        {"route", r.route}, {"target", r.target}, {"status", r.status},
                                        {"request_id", r.request_id}}.dump());
    } else {
      table.AddRow({FormatMillis(r.time_ms), r.actor, r.method, r.target, std::to_string(r.status), r.request_id});
    }
  }
  if (flags.json) return Status::OK();
  if (table.size() == 0) {
    fmt::print("no audited requests{}\n", query.actor || query.since || query.until ? " match" : "");
    return Status::OK();
  }
  table.Print(stdout);
  return Status::OK();
}

Status PrintRegistryLog(services::WorkspaceServices& app, const AuditFlags& flags) {
  registry::AuditQuery query;
  if (!flags.model.empty()) query.model_name = flags.model;
  if (!flags.action.empty()) query.action = flags.action;
  GYRE_RETURN_IF_ERROR(ParseWindow(flags, &query.since, &query.until));
  TextTable table({"time", "actor", "action", "model", "version", "alias", "after"}, 60);
  int64_t shown = 0;
  // Pages of the store's size until the limit: a limit beyond one page still reads them all in order.
  for (;;) {
    query.max_results = std::min<int64_t>(flags.limit - shown, 1000);
    if (query.max_results <= 0) break;
    GYRE_ASSIGN_OR_RETURN(registry::Page<registry::AuditEntry> page, app.registry().QueryAudit(query));
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

Status Run(const AuditFlags& flags) {
  if (flags.requests && (!flags.model.empty() || !flags.action.empty())) {
    return Status::InvalidArgument("--model and --action filter the registry's log; with --requests use --actor");
  }
  if (!flags.requests && !flags.actor.empty()) {
    return Status::InvalidArgument("--actor filters the log of audited requests: add --requests");
  }
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app,
                        services::WorkspaceServices::Open(ws, {.serve = false}));
  if (flags.requests) return RunRequests(flags, *app);
  return PrintRegistryLog(*app, flags);
}

}  // namespace

Status PrintRegistryAudit(const std::string& workspace, const std::string& model, const std::string& action,
                          int64_t limit) {
  AuditFlags flags;
  flags.workspace = workspace;
  flags.model = model;
  flags.action = action;
  flags.limit = limit;
  return Run(flags);
}

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
  cmd->add_flag("--requests", flags->requests, "The other audited changes made through the API instead: experiments "
                                               "and runs created, updated, deleted, restored; artifacts written or deleted");
  cmd->add_option("--actor", flags->actor, "With --requests: only this user's");
  SetAction(cmd, [flags]() { return Run(*flags); });
}

}  // namespace gyre::cli
