// gyre runs list|show|compare: the tracked runs of a workspace, read straight from its metadata store.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "services/workspace_services.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/workspace.h"

namespace gyre::cli {
namespace {

struct RunsFlags {
  std::string workspace = ".";
  std::string experiment;
  std::string filter;
  std::vector<std::string> order_by;
  std::vector<std::string> metrics;
  std::vector<std::string> params;
  int64_t max_results = 50;
  bool all = false;
  std::vector<std::string> run_ids;
};

Result<std::unique_ptr<services::WorkspaceServices>> OpenApp(const std::string& dir) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(dir));
  return services::WorkspaceServices::Open(ws, {.serve = false});
}

Result<std::vector<std::string>> ExperimentIds(tracking::TrackingStore& store, const std::string& wanted) {
  if (!wanted.empty()) {
    Result<tracking::Experiment> by_name = store.GetExperimentByName(wanted);
    if (by_name.ok()) return std::vector<std::string>{by_name->experiment_id};
    Result<tracking::Experiment> by_id = store.GetExperiment(wanted);
    if (by_id.ok()) return std::vector<std::string>{by_id->experiment_id};
    return Status::NotFound(fmt::format("no experiment named or numbered '{}'", wanted));
  }
  std::vector<std::string> ids;
  tracking::SearchExperimentsRequest req;
  do {
    GYRE_ASSIGN_OR_RETURN(auto page, store.SearchExperiments(req));
    for (const auto& e : page.items) ids.push_back(e.experiment_id);
    req.page_token = page.next_page_token;
  } while (!req.page_token.empty());
  return ids;
}

const tracking::Metric* FindMetric(const tracking::Run& run, const std::string& key) {
  for (const auto& m : run.metrics)
    if (m.key == key) return &m;
  return nullptr;
}
const tracking::Tag* FindKey(const std::vector<tracking::Tag>& tags, const std::string& key) {
  for (const auto& t : tags)
    if (t.key == key) return &t;
  return nullptr;
}

std::string Duration(const tracking::RunInfo& info) {
  if (!info.end_time) return "";
  double s = (*info.end_time - info.start_time) / 1000.0;
  return s < 60     ? fmt::format("{:.1f}s", s)
         : s < 3600 ? fmt::format("{:.1f}m", s / 60)
                    : fmt::format("{:.1f}h", s / 3600);
}

Status List(const RunsFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  tracking::SearchRunsRequest req;
  GYRE_ASSIGN_OR_RETURN(req.experiment_ids, ExperimentIds(app->tracking(), flags.experiment));
  req.filter = flags.filter;
  req.order_by = flags.order_by;
  req.max_results = flags.max_results;
  req.view_type = flags.all ? tracking::ViewType::kAll : tracking::ViewType::kActiveOnly;
  GYRE_ASSIGN_OR_RETURN(auto page, app->tracking().SearchRuns(req));

  // Without --metrics, show the metric keys the listed runs share most (at most 6).
  std::vector<std::string> metrics = flags.metrics;
  if (metrics.empty()) {
    std::map<std::string, int> counts;
    for (const auto& run : page.items)
      for (const auto& m : run.metrics) ++counts[m.key];
    std::vector<std::pair<int, std::string>> ranked;
    for (const auto& [k, n] : counts) ranked.push_back({-n, k});
    std::sort(ranked.begin(), ranked.end());
    for (size_t i = 0; i < ranked.size() && i < 6; ++i) metrics.push_back(ranked[i].second);
  }
  std::vector<std::string> header = {"run_id", "name", "experiment", "status", "started", "duration"};
  for (const auto& p : flags.params) header.push_back("params." + p);
  for (const auto& m : metrics) header.push_back(m);
  TextTable table(header, 40);
  for (const auto& run : page.items) {
    std::vector<std::string> row = {run.info.run_id.substr(0, 12),
                                    run.info.run_name,
                                    run.info.experiment_id,
                                    std::string(tracking::RunStatusName(run.info.status)),
                                    FormatMillis(run.info.start_time),
                                    Duration(run.info)};
    for (const auto& p : flags.params) {
      const tracking::Tag* v = FindKey(run.params, p);
      row.push_back(v ? v->value : "");
    }
    for (const auto& m : metrics) {
      const tracking::Metric* v = FindMetric(run, m);
      row.push_back(v ? FormatNumber(v->value) : "");
    }
    table.AddRow(std::move(row));
  }
  if (table.size() == 0) {
    fmt::print("no runs{}\n", flags.filter.empty() ? "" : " match the filter");
    return Status::OK();
  }
  table.Print(stdout);
  if (!page.next_page_token.empty()) fmt::print("(more runs: raise --max)\n");
  return Status::OK();
}

Status Show(const RunsFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(tracking::Run run, app->tracking().GetRunByIdOrPrefix(flags.run_ids.at(0)));
  const tracking::RunInfo& i = run.info;
  fmt::print(
      "run        {}\nname       {}\nexperiment {}\nstatus     {}\nuser       {}\nstarted    {}\nended      {}\n"
      "artifacts  {}\nlifecycle  {}\n",
      i.run_id, i.run_name, i.experiment_id, tracking::RunStatusName(i.status), i.user_id, FormatMillis(i.start_time),
      i.end_time ? FormatMillis(*i.end_time) : "-", i.artifact_uri, tracking::LifecycleStageName(i.lifecycle_stage));
  auto section = [](const char* title, const std::vector<std::pair<std::string, std::string>>& rows) {
    if (rows.empty()) return;
    fmt::print("\n{}\n", title);
    TextTable t({"key", "value"}, 80);
    for (const auto& [k, v] : rows) t.AddRow({k, v});
    t.Print(stdout);
  };
  std::vector<std::pair<std::string, std::string>> rows;
  for (const auto& p : run.params) rows.push_back({p.key, p.value});
  section("params", rows);
  rows.clear();
  for (const auto& m : run.metrics) rows.push_back({m.key, FormatNumber(m.value)});
  section("metrics (latest)", rows);
  rows.clear();
  for (const auto& t : run.tags) rows.push_back({t.key, t.value});
  section("tags", rows);
  for (const auto& in : run.inputs)
    fmt::print("\ninput dataset {} (digest {}) from {}\n", in.dataset.name, in.dataset.digest, in.dataset.source);
  return Status::OK();
}

Status Compare(const RunsFlags& flags) {
  if (flags.run_ids.size() < 2) return Status::InvalidArgument("compare needs at least two run ids");
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  std::vector<tracking::Run> runs;
  for (const auto& id : flags.run_ids) {
    GYRE_ASSIGN_OR_RETURN(tracking::Run run, app->tracking().GetRunByIdOrPrefix(id));
    runs.push_back(std::move(run));
  }
  std::vector<std::string> header = {"", "key"};
  for (const auto& r : runs) header.push_back(r.info.run_name.empty() ? r.info.run_id.substr(0, 12) : r.info.run_name);
  TextTable table(header, 32);
  std::set<std::string> param_keys, metric_keys;
  for (const auto& r : runs) {
    for (const auto& p : r.params) param_keys.insert(p.key);
    for (const auto& m : r.metrics) metric_keys.insert(m.key);
  }
  // '*' marks the rows whose values differ between runs: what the comparison is for.
  for (const auto& key : param_keys) {
    std::vector<std::string> values;
    for (const auto& r : runs) {
      const tracking::Tag* v = FindKey(r.params, key);
      values.push_back(v ? v->value : "");
    }
    bool differs = std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) != values.end();
    std::vector<std::string> row = {differs ? "*" : "", "params." + key};
    row.insert(row.end(), values.begin(), values.end());
    table.AddRow(std::move(row));
  }
  for (const auto& key : metric_keys) {
    std::vector<std::string> values;
    for (const auto& r : runs) {
      const tracking::Metric* v = FindMetric(r, key);
      values.push_back(v ? FormatNumber(v->value) : "");
    }
    bool differs = std::adjacent_find(values.begin(), values.end(), std::not_equal_to<>()) != values.end();
    std::vector<std::string> row = {differs ? "*" : "", "metrics." + key};
    row.insert(row.end(), values.begin(), values.end());
    table.AddRow(std::move(row));
  }
  table.Print(stdout);
  return Status::OK();
}

}  // namespace

void AddRunsCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand("runs", "Tracked runs: list, show, compare");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<RunsFlags>();
  auto add_workspace = [&](CLI::App* sub) {
    sub->add_option("--workspace,-w", flags->workspace, "Workspace folder")->capture_default_str();
  };

  auto* list = cmd->add_subcommand("list", "A table of runs with chosen metrics and params");
  add_workspace(list);
  list->add_option("--experiment,-e", flags->experiment, "Experiment name or id (default: all)");
  list->add_option("--filter,-f", flags->filter,
                   "MLflow search filter, e.g. \"metrics.auc > 0.9 AND params.model = 'xgb'\"");
  list->add_option("--order-by,-o", flags->order_by, "e.g. \"metrics.auc DESC\" (repeatable)");
  list->add_option("--metrics,-m", flags->metrics, "Metric columns (comma-separated)")->delimiter(',');
  list->add_option("--params,-p", flags->params, "Param columns (comma-separated)")->delimiter(',');
  list->add_option("--max", flags->max_results, "At most this many runs")
      ->capture_default_str()
      ->check(CLI::Range(1, 50000));
  list->add_flag("--all", flags->all, "Include deleted runs");
  SetAction(list, [flags] { return List(*flags); });

  auto* show = cmd->add_subcommand("show", "One run: info, params, latest metrics, tags");
  add_workspace(show);
  show->add_option("run_id", flags->run_ids, "Run id (or a unique prefix)")->required()->expected(1);
  SetAction(show, [flags] { return Show(*flags); });

  auto* compare = cmd->add_subcommand("compare", "Params and metrics of runs side by side ('*' where they differ)");
  add_workspace(compare);
  compare->add_option("run_ids", flags->run_ids, "Two or more run ids (or unique prefixes)")
      ->required()
      ->expected(2, 50);
  SetAction(compare, [flags] { return Compare(*flags); });
}

}  // namespace gyre::cli
