// gyre features list|backfill|check|rebuild: the workspace's feature definitions, the offline point-in-time
// table, the check that the online path computes the same values, and the replay that gives an edited group its
// online history back (features/ does the work).
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "services/workspace_services.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/csv_writer.h"
#include "core/workspace.h"
#include "features/backfill.h"
#include "features/consistency.h"
#include "features/definitions.h"
#include "features/rebuild.h"

namespace gyre::cli {
namespace {

struct CommonFlags {
  std::string workspace = ".";
  std::string definitions;
};

void AddCommon(CLI::App* command, CommonFlags* flags) {
  command->add_option("--workspace,-w", flags->workspace, "workspace folder")->capture_default_str();
  command->add_option("--definitions", flags->definitions,
                      "feature definitions YAML (default: <workspace>/features.yaml)");
}

Result<features::FeatureRegistry> LoadRegistry(const CommonFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace));
  return features::FeatureRegistry::LoadForWorkspace(ws.root(), flags.definitions);
}

std::string WindowText(int64_t window) {
  return window == features::kLifetime ? "lifetime" : FormatDuration(window);
}

Status List(const CommonFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry registry, LoadRegistry(flags));
  TextTable table({"feature", "group", "entity", "source", "aggregation", "window", "type"});
  for (const features::FeatureDef& f : registry.features()) {
    if (f.group >= 0) {
      const features::GroupDef& g = registry.groups()[f.group];
      const features::AggregationDef& a = g.aggregations[f.aggregation];
      table.AddRow({f.name, g.name, registry.entities()[g.entity].name, registry.sources()[g.source].name,
                    std::string(features::AggKindName(a.kind)) + (a.of_text.empty() ? "" : "(" + a.of_text + ")") +
                        (a.filter ? " where " + a.filter->text() : ""),
                    a.kind == features::AggKind::kIsNew ? "horizon " + WindowText(f.window) : WindowText(f.window),
                    std::string(features::ExprTypeName(f.type))});
    } else {
      const features::DerivedDef& d = registry.derived()[f.derived];
      table.AddRow({f.name, "derived", "", registry.sources()[d.source].name, d.text, "", std::string(features::ExprTypeName(f.type))});
    }
  }
  table.Print(stdout);
  for (const features::FeatureSetDef& set : registry.feature_sets()) {
    fmt::print("\nfeature set {} ({} features over {}){}{}\n", set.name, set.features.size(),
               registry.sources()[set.source].name, set.description.empty() ? "" : ": ", set.description);
  }
  return Status::OK();
}

struct BackfillFlags {
  CommonFlags common;
  features::BackfillOptions options;
  std::string features;
  std::string out;
};

Status Backfill(BackfillFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry registry, LoadRegistry(flags.common));
  if (!flags.features.empty()) {
    for (size_t start = 0; start <= flags.features.size();) {
      size_t comma = flags.features.find(',', start);
      if (comma == std::string::npos) comma = flags.features.size();
      if (comma > start) flags.options.features.push_back(flags.features.substr(start, comma - start));
      start = comma + 1;
    }
  }
  features::BackfillStats stats;
  GYRE_ASSIGN_OR_RETURN(Table table, features::Backfill(registry, flags.options, &stats));
  int threads = flags.options.threads > 0 ? flags.options.threads
                                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  GYRE_RETURN_IF_ERROR(WriteCsv(table, flags.out, threads));
  fmt::print("wrote {}: {} rows x {} columns\n", flags.out, table.num_rows(), table.num_columns());
  double rate = stats.compute_seconds > 0 ? stats.events / stats.compute_seconds : 0;
  fmt::print("load {:.2f} s, features {:.2f} s ({} group events, {:.0f} events/s, {} entity keys)\n",
             stats.load_seconds, stats.compute_seconds, stats.events, rate, stats.keys);
  if (stats.duplicates > 0) {
    fmt::print("repeated deliveries dropped: {} source rows (their event id came earlier; each event counts once)\n",
               stats.duplicates);
  }
  if (stats.rows > 0 && table.schema().IndexOf("label") >= 0) {
    fmt::print("labels: {} rows labeled from the label file, {} positive ({:.3f}% of rows)\n", stats.labeled_rows,
               stats.positive_labels, 100.0 * stats.positive_labels / stats.rows);
  }
  return Status::OK();
}

struct CheckFlags {
  CommonFlags common;
  features::CheckOptions options;
};

Status Check(CheckFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.common.workspace));
  GYRE_ASSIGN_OR_RETURN(features::FeatureRegistry registry,
                        features::FeatureRegistry::LoadForWorkspace(ws.root(), flags.common.definitions));
  if (flags.options.online_store.empty()) flags.options.online_store = "memory";
  flags.options.state_dir = ws.state_dir() + "/check";
  GYRE_ASSIGN_OR_RETURN(features::CheckReport report, features::CheckConsistency(registry, flags.options));
  TextTable table({"feature", "compared", "mismatches", "max abs diff", "bound"});
  for (const features::FeatureCheck& f : report.features) {
    table.AddRow({f.name, std::to_string(f.compared), std::to_string(f.mismatches), fmt::format("{:.3g}", f.max_abs_diff),
                  f.bound_text});
  }
  table.Print(stdout);
  fmt::print("{} events replayed through the online path ({}), {} reads compared in {:.2f} s; late events dropped: {}\n",
             report.events, flags.options.online_store, report.reads, report.seconds, report.too_late);
  if (report.duplicates > 0 || report.offline_duplicates > 0) {
    fmt::print("repeated deliveries (same event id) counted once: {} recognised online, {} dropped offline\n",
               report.duplicates, report.offline_duplicates);
  }
  if (!report.first_mismatch.empty()) fmt::print("first mismatch: {}\n", report.first_mismatch);
  if (report.total_mismatches > 0) {
    return Status::FailedPrecondition(fmt::format("{} feature values differ between the online path and the backfill",
                                                  report.total_mismatches));
  }
  fmt::print("online and offline agree\n");
  return Status::OK();
}

struct RebuildFlags {
  std::string workspace = ".";  // the server's definitions: no --definitions here
  std::string group;
  std::string since;
};

Status Rebuild(const RebuildFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace));
  int64_t since = 0;
  if (!flags.since.empty()) {
    Result<int64_t> parsed = ParseDuration(flags.since);
    if (!parsed.ok()) return Status::InvalidArgument(fmt::format("--since: {}", parsed.status().message()));
    since = *parsed;
  }
  // The definitions and online store the server uses; RocksDB refuses a second process.
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, services::WorkspaceServices::Open(ws, {.serve = false}));
  Status enabled = app->EnableFeatures();
  if (!enabled.ok()) {
    return Status(enabled.code(), fmt::format("{} (a rebuild needs the online store to itself: stop `gyre server` on "
                                              "this workspace first)",
                                              enabled.message()));
  }
  features::OnlineStore& online = *app->online_features();
  GYRE_ASSIGN_OR_RETURN(features::RebuildReport report, features::RebuildGroup(online, flags.group, since));
  fmt::print("group {}: {} events replayed ({} to {}), {} refused as too late, {} repeated deliveries dropped, in "
             "{:.2f} s; online store {}\n",
             flags.group, report.events, FormatTimestamp(report.from), FormatTimestamp(report.to), report.too_late,
             report.duplicates, report.seconds, online.backend());
  return Status::OK();
}

}  // namespace

void AddFeaturesCommand(CLI::App& root) {
  CLI::App* features =
      root.add_subcommand("features", "feature definitions, offline backfill, online/offline check, online rebuild");
  features->require_subcommand(1);

  auto list_flags = std::make_shared<CommonFlags>();
  CLI::App* list = features->add_subcommand("list", "list the defined features and feature sets");
  AddCommon(list, list_flags.get());
  SetAction(list, [list_flags] { return List(*list_flags); });

  auto backfill_flags = std::make_shared<BackfillFlags>();
  CLI::App* backfill = features->add_subcommand(
      "backfill", "point-in-time feature table for a spine or for every event of a source");
  AddCommon(backfill, &backfill_flags->common);
  backfill->add_option("--set", backfill_flags->options.feature_set, "feature set to compute");
  backfill->add_option("--features", backfill_flags->features, "comma-separated feature names (instead of or besides --set)");
  backfill->add_option("--spine", backfill_flags->options.spine_path,
                       "CSV of entity keys and timestamps (default: every event of the set's source)");
  backfill->add_option("--spine-timestamp", backfill_flags->options.spine_timestamp,
                       "timestamp column of the spine (default: the source's)");
  backfill->add_option("--source", backfill_flags->options.source, "use every event of this source as the spine");
  backfill->add_option("--keep", backfill_flags->options.keep_columns, "spine columns to copy to the output")->delimiter(',');
  backfill->add_flag("!--no-label", backfill_flags->options.join_label, "do not join the feature set's label");
  backfill->add_option("--threads", backfill_flags->options.threads, "worker threads (default: all cores)");
  backfill->add_option("--out,-o", backfill_flags->out, "output CSV")->required();
  SetAction(backfill, [backfill_flags] { return Backfill(*backfill_flags); });

  auto check_flags = std::make_shared<CheckFlags>();
  CLI::App* check = features->add_subcommand(
      "check", "replay events through the online path and compare every feature with the backfill");
  AddCommon(check, &check_flags->common);
  check->add_option("--set", check_flags->options.feature_set, "feature set to check")->required();
  check->add_option("--online", check_flags->options.online_store,
                    "online store for the replay: memory (default), rocksdb, or redis://host:port");
  check->add_option("--limit", check_flags->options.limit, "replay only the first N events of the set's source");
  SetAction(check, [check_flags] { return Check(*check_flags); });

  auto rebuild_flags = std::make_shared<RebuildFlags>();
  CLI::App* rebuild = features->add_subcommand(
      "rebuild", "give one group its online history again from its source's file (after editing the group)");
  rebuild->add_option("--workspace,-w", rebuild_flags->workspace, "workspace folder")->capture_default_str();
  rebuild->add_option("--group", rebuild_flags->group, "feature group to rebuild")->required();
  rebuild->add_option("--since", rebuild_flags->since,
                      "replay only this last stretch of the file, e.g. 30d (default: all of it, which lifetime "
                      "features need)");
  SetAction(rebuild, [rebuild_flags] { return Rebuild(*rebuild_flags); });
}

}  // namespace gyre::cli
