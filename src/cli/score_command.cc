// gyre score: batch scoring with a registered model version — a CSV of feature rows (e.g. a backfill output),
// or the events of a source in a time range (their point-in-time features computed first) → scores and
// actions (serving/batch.h does the work).
#include <fmt/format.h>

#include <chrono>
#include <string>
#include <vector>

#include "api/app.h"
#include "cli/command.h"
#include "core/csv_reader.h"
#include "core/csv_writer.h"
#include "core/workspace.h"
#include "features/backfill.h"
#include "serving/batch.h"

namespace gyre::cli {
namespace {

struct ScoreFlags {
  std::string workspace = ".";
  std::string model = "models:/ato@champion";
  std::string input;
  std::string source;
  std::string start, end;
  std::string output;
  std::vector<std::string> keep;
  int threads = 0;
};

using Clock = std::chrono::steady_clock;

Status Score(const ScoreFlags& flags) {
  if (flags.input.empty() == flags.source.empty()) {
    return Status::InvalidArgument("give exactly one of --input FILE.csv or --source NAME (with --start/--end)");
  }
  if (flags.output.empty()) return Status::InvalidArgument("--output FILE.csv is required");
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<api::App> app, api::App::Open(ws, /*serve_features=*/false));
  GYRE_ASSIGN_OR_RETURN(serving::ResolvedModel resolved, app->ModelResolver()(flags.model));
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const serving::Servable> model,
                        serving::Servable::Load(resolved.package_dir, resolved.name, resolved.version));
  auto started = Clock::now();
  Table table;
  std::vector<std::string> keep = flags.keep;
  if (!flags.input.empty()) {
    CsvReadOptions options;
    options.select = model->descriptor().feature_names;
    for (const std::string& k : keep) options.select.push_back(k);
    GYRE_ASSIGN_OR_RETURN(CsvReadResult read, ReadCsv(flags.input, options));
    table = std::move(read.table);
  } else {
    GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry registry, features::FeatureRegistry::LoadForWorkspace(ws.root(), ""));
    GYRE_ASSIGN_OR_RETURN(int source, registry.FindSource(flags.source));
    const features::SourceDef& def = registry.sources()[source];
    features::BackfillOptions options;
    options.source = flags.source;
    options.features = model->descriptor().feature_names;
    if (keep.empty()) keep = {def.timestamp_column};
    options.keep_columns = keep;
    if (std::find(keep.begin(), keep.end(), def.timestamp_column) == keep.end()) {
      options.keep_columns.push_back(def.timestamp_column);
    }
    options.join_label = false;
    options.threads = flags.threads;
    GYRE_ASSIGN_OR_RETURN(Table all, features::Backfill(registry, options));
    std::optional<TimestampMicros> start, end;
    if (!flags.start.empty()) {
      GYRE_ASSIGN_OR_RETURN(start, ParseTimestamp(flags.start));
    }
    if (!flags.end.empty()) {
      GYRE_ASSIGN_OR_RETURN(end, ParseTimestamp(flags.end));
    }
    const Column& time = **all.ColumnByName(def.timestamp_column);
    TableBuilder builder(all.schema());
    for (int64_t r = 0; r < all.num_rows(); ++r) {
      if (time.IsNull(r)) continue;
      if ((start && time.Timestamp(r) < *start) || (end && time.Timestamp(r) >= *end)) continue;
      for (int c = 0; c < all.num_columns(); ++c) builder.column(c).AppendFrom(all.column(c), r);
    }
    GYRE_ASSIGN_OR_RETURN(table, builder.Finish());
  }
  double load_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  serving::BatchOptions options;
  options.keep_columns = keep;
  options.threads = flags.threads;
  options.decision = model->descriptor().decision;
  serving::BatchStats stats;
  GYRE_ASSIGN_OR_RETURN(Table scored, serving::ScoreTable(*model, table, options, &stats));
  auto written = Clock::now();
  GYRE_RETURN_IF_ERROR(WriteCsv(scored, flags.output, flags.threads > 0 ? flags.threads : 2));
  double write_seconds = std::chrono::duration<double>(Clock::now() - written).count();
  fmt::print("scored {} rows with models:/{}/{} ({} features) → {}\n", stats.rows, model->name(), model->version(),
             model->num_features(), flags.output);
  fmt::print("  read {:.2f} s, prepare {:.2f} s, score {:.3f} s ({:.2f} M rows/s), write {:.2f} s\n", load_seconds,
             stats.prepare_seconds, stats.score_seconds,
             stats.score_seconds > 0 ? stats.rows / stats.score_seconds / 1e6 : 0.0, write_seconds);
  std::string actions;
  for (const auto& [a, n] : stats.actions) actions += fmt::format("{}{} {}", actions.empty() ? "" : ", ", a, n);
  fmt::print("  actions: {}\n", actions);
  return Status::OK();
}

}  // namespace

void AddScoreCommand(CLI::App& root) {
  auto flags = std::make_shared<ScoreFlags>();
  auto* cmd = root.add_subcommand("score", "Batch scoring: feature rows or a source's events → scores and actions");
  cmd->add_option("--workspace,-w", flags->workspace, "Workspace folder")->capture_default_str();
  cmd->add_option("--model,-m", flags->model, "Model URI")->capture_default_str();
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
