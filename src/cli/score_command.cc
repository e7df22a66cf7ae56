// gyre score: batch scoring with a registered model version — a CSV of feature rows (e.g. a backfill output),
// or the events of a source in a time range (their point-in-time features computed first) → scores and
// actions (serving/batch.h does the work).
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "services/workspace_services.h"
#include "cli/command.h"
#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "core/workspace.h"
#include "features/definitions.h"
#include "serving/batch.h"

namespace gyre::cli {
namespace {

struct ScoreFlags {
  std::string workspace = ".";
  std::string model;
  std::string deployment;
  std::string input;
  std::string source;
  std::string start, end;
  std::string output;
  std::vector<std::string> keep;
  int threads = 0;
};

using Clock = std::chrono::steady_clock;

std::string OsUser() {
  const char* user = std::getenv("USER");
  return user != nullptr ? user : "";
}

Status Score(const ScoreFlags& flags) {
  if (flags.input.empty() == flags.source.empty()) {
    return Status::InvalidArgument("give exactly one of --input FILE.csv or --source NAME (with --start/--end)");
  }
  if (!flags.model.empty() && !flags.deployment.empty()) {
    return Status::InvalidArgument("give --model URI or --deployment NAME, not both");
  }
  if (flags.output.empty()) return Status::InvalidArgument("--output FILE.csv is required");
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app,
                        services::WorkspaceServices::Open(ws, {.serve = false}));
  // A deployment lends its model, its decision (bands, positive class) and its prediction log; a bare model URI
  // its package's bands.
  serving::DeploymentConfig deployment;
  serving::BatchOptions options;
  if (!flags.deployment.empty()) {
    GYRE_ASSIGN_OR_RETURN(serving::DeploymentsConfig config, serving::LoadDeployments(ws.root()));
    const serving::DeploymentConfig* found = config.Find(flags.deployment);
    if (found == nullptr) {
      return Status::NotFound(fmt::format("no deployment '{}' in {}/deployments.yaml", flags.deployment, ws.root()));
    }
    deployment = *found;
    options.deployment = deployment.name;
    options.log_path = deployment.log_path;
  } else {
    deployment.name = "batch";
    deployment.model = flags.model.empty() ? "models:/ato@champion" : flags.model;
  }
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const serving::Servable> model, app->LoadModel(deployment.model));
  auto started = Clock::now();
  Table table;
  std::vector<std::string> keep = flags.keep;
  if (!flags.input.empty()) {
    CsvReadOptions read_options;
    read_options.select = model->descriptor().feature_names;
    for (const std::string& k : keep) read_options.select.push_back(k);
    GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(flags.input, read_options));
    table = std::move(read.table);
  } else {
    GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry registry, features::FeatureRegistry::LoadForWorkspace(ws.root(), ""));
    GYRE_ASSIGN_OR_RETURN(int source, registry.FindSource(flags.source));
    const std::string& time_column = registry.sources()[source].timestamp_column;
    if (keep.empty()) keep = {time_column};
    std::optional<TimestampMicros> start, end;
    if (!flags.start.empty()) {
      GYRE_ASSIGN_OR_RETURN(start, ParseTimestamp(flags.start));
    }
    if (!flags.end.empty()) {
      GYRE_ASSIGN_OR_RETURN(end, ParseTimestamp(flags.end));
    }
    GYRE_ASSIGN_OR_RETURN(table, serving::SourceFeatures(registry, flags.source, model->descriptor().feature_names,
                                                         keep, start, end, flags.threads));
    options.time_column = time_column;
  }
  if (options.event_id_column.empty() && table.schema().IndexOf("event_id") >= 0) options.event_id_column = "event_id";
  double load_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  options.keep_columns = keep;
  options.threads = flags.threads;
  options.decision = serving::DecisionFor(deployment, *model);
  options.caller = OsUser();
  serving::BatchStats stats;
  GYRE_ASSIGN_OR_RETURN(Table scored, serving::ScoreTable(*model, table, options, &stats));
  auto written = Clock::now();
  GYRE_RETURN_IF_ERROR(WriteCsv(scored, flags.output, flags.threads > 0 ? flags.threads : 2));
  double write_seconds = std::chrono::duration<double>(Clock::now() - written).count();
  fmt::print("scored {} rows with models:/{}/{} ({} features, {}) → {}\n", stats.rows, model->name(),
             model->version(), model->num_features(), serving::OutputKindName(model->output_kind()), flags.output);
  fmt::print("  read {:.2f} s, prepare {:.2f} s, score {:.3f} s ({:.2f} M rows/s), write {:.2f} s\n", load_seconds,
             stats.prepare_seconds, stats.score_seconds,
             stats.score_seconds > 0 ? stats.rows / stats.score_seconds / 1e6 : 0.0, write_seconds);
  if (options.decision.output >= 0) {
    std::string actions;
    for (const auto& [a, n] : stats.actions) actions += fmt::format("{}{} {}", actions.empty() ? "" : ", ", a, n);
    fmt::print("  actions: {}\n", actions);
  } else {
    fmt::print("  no actions: {}\n", options.decision.why_not);
  }
  if (stats.logged > 0) fmt::print("  {} predictions appended to {}\n", stats.logged, options.log_path);
  return Status::OK();
}

}  // namespace

void AddScoreCommand(CLI::App& root) {
  auto flags = std::make_shared<ScoreFlags>();
  auto* cmd = root.add_subcommand("score", "Batch scoring: feature rows or a source's events → scores and actions");
  cmd->add_option("--workspace,-w", flags->workspace, "Workspace folder")->capture_default_str();
  cmd->add_option("--model,-m", flags->model, "Model URI (default: models:/ato@champion)");
  cmd->add_option("--deployment,-d", flags->deployment,
                  "Score as this deployment of deployments.yaml: its model, decision, and prediction log (path batch)");
  cmd->add_option("--input,-i", flags->input, "CSV with the model's feature columns (e.g. a backfill output)");
  cmd->add_option("--source", flags->source, "Score this source's events (features computed point in time)");
  cmd->add_option("--start", flags->start, "With --source: events at or after this time");
  cmd->add_option("--end", flags->end, "With --source: events before this time");
  cmd->add_option("--output,-o", flags->output, "Output CSV: kept columns, score, action")->required();
  cmd->add_option("--keep", flags->keep, "Columns copied to the output (e.g. --keep event_id time)");
  cmd->add_option("--threads", flags->threads, "Threads (default: all cores)");
  SetAction(cmd, [flags] { return Score(*flags); });
}

}  // namespace gyre::cli
