// gyre models list|show|versions|alias|audit|import: the model registry of a workspace, read and changed in place,
// and models trained elsewhere brought into it.
#include <fmt/format.h>

#include <cstdlib>

#include "services/workspace_services.h"
#include "cli/command.h"
#include "cli/text_table.h"
#include "core/workspace.h"
#include "models/model_import.h"
#include "train/publish.h"

namespace gyre::cli {
namespace {

struct ModelsFlags {
  std::string workspace = ".";
  std::string name;
  std::string alias;
  std::string version;
  std::string filter;
  std::string action;
  bool remove = false;
  int64_t max_results = 100;
  std::string actor;
  std::string path;      // import: the model file or folder
  std::string features;  // import: comma-separated names
  std::string reference;
};

Result<std::unique_ptr<services::WorkspaceServices>> OpenApp(const std::string& dir) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(dir));
  return services::WorkspaceServices::Open(ws, {.serve = false});
}

// Who is acting, for the audit log: --as, else $GYRE_USER, else $USER.
std::string Actor(const ModelsFlags& flags) {
  if (!flags.actor.empty()) return flags.actor;
  for (const char* var : {"GYRE_USER", "USER"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  return "";
}

std::string Aliases(const std::vector<std::string>& aliases) {
  std::string out;
  for (const auto& a : aliases) out += (out.empty() ? "@" : ", @") + a;
  return out;
}

Status List(const ModelsFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  registry::SearchRegisteredModelsRequest req;
  req.filter = flags.filter;
  req.max_results = flags.max_results;
  GYRE_ASSIGN_OR_RETURN(auto page, app->registry().SearchRegisteredModels(req));
  if (page.items.empty()) {
    fmt::print("no registered models\n");
    return Status::OK();
  }
  TextTable table({"name", "latest", "aliases", "updated", "description"});
  for (const auto& m : page.items) {
    int64_t latest = 0;  // the highest version among the latest of each stage
    for (const auto& v : m.latest_versions) latest = std::max<int64_t>(latest, std::atoll(v.version.c_str()));
    std::string aliases;
    for (const auto& a : m.aliases)
      aliases += fmt::format("{}{}→v{}", aliases.empty() ? "@" : ", @", a.alias, a.version);
    table.AddRow({m.name, latest > 0 ? std::to_string(latest) : "", aliases, FormatMillis(m.last_updated_timestamp),
                  m.description});
  }
  table.Print(stdout);
  return Status::OK();
}

Status Show(const ModelsFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v,
                        app->registry().ResolveModelUri(
                            flags.name.starts_with("models:/") ? flags.name : "models:/" + flags.name + "/latest"));
  fmt::print(
      "model        {}\nversion      {}\nstage        {}\naliases      {}\nstatus       {}\nsource       {}\n"
      "run          {}\ncreated      {} by {}\ndescription  {}\n",
      v.name, v.version, registry::StageName(v.current_stage), Aliases(v.aliases),
      registry::ModelVersionStatusName(v.status), v.source, v.run_id.empty() ? "-" : v.run_id,
      FormatMillis(v.creation_timestamp), v.user_id.empty() ? "unknown" : v.user_id,
      v.description.empty() ? "-" : v.description);
  fmt::print("lineage      data {}, feature set {}, code {}\n",
             v.lineage.training_data_fingerprint.empty() ? "-" : v.lineage.training_data_fingerprint,
             v.lineage.feature_set.empty() ? "-" : v.lineage.feature_set,
             v.lineage.code_version.empty() ? "-" : v.lineage.code_version);
  for (const auto& t : v.tags) fmt::print("tag          {} = {}\n", t.key, t.value);
  return Status::OK();
}

Status Versions(const ModelsFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  GYRE_RETURN_IF_ERROR(app->registry().GetRegisteredModel(flags.name).status());
  registry::SearchModelVersionsRequest req;
  req.filter = fmt::format("name = '{}'", flags.name);
  req.order_by = {"version_number DESC"};
  req.max_results = flags.max_results;
  GYRE_ASSIGN_OR_RETURN(auto page, app->registry().SearchModelVersions(req));
  TextTable table({"version", "stage", "aliases", "created", "by", "run", "source"}, 60);
  for (const auto& v : page.items) {
    table.AddRow({v.version, std::string(registry::StageName(v.current_stage)), Aliases(v.aliases),
                  FormatMillis(v.creation_timestamp), v.user_id, v.run_id.substr(0, 12), v.source});
  }
  table.Print(stdout);
  return Status::OK();
}

Status Alias(const ModelsFlags& flags) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  registry::RegistryStore& reg = app->registry();
  if (flags.remove) {
    GYRE_RETURN_IF_ERROR(reg.DeleteRegisteredModelAlias(flags.name, flags.alias, Actor(flags)));
    fmt::print("removed alias @{} of model '{}'\n", flags.alias, flags.name);
    return Status::OK();
  }
  if (flags.version.empty()) {
    GYRE_ASSIGN_OR_RETURN(registry::ModelVersion v, reg.GetModelVersionByAlias(flags.name, flags.alias));
    fmt::print("models:/{}@{} → version {}\n", flags.name, flags.alias, v.version);
    return Status::OK();
  }
  Result<registry::ModelVersion> before = reg.GetModelVersionByAlias(flags.name, flags.alias);
  GYRE_RETURN_IF_ERROR(reg.SetRegisteredModelAlias(flags.name, flags.alias, flags.version, Actor(flags)));
  if (before.ok() && before->version != flags.version) {
    fmt::print("moved alias @{} of model '{}' from version {} to {}\n", flags.alias, flags.name, before->version,
               flags.version);
  } else {
    fmt::print("alias @{} of model '{}' → version {}\n", flags.alias, flags.name, flags.version);
  }
  return Status::OK();
}

Status Audit(const ModelsFlags& flags) {
  return PrintRegistryAudit(flags.workspace, flags.name, flags.action, flags.max_results);
}

std::vector<std::string> SplitNames(const std::string& list) {
  std::vector<std::string> names;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string name = list.substr(start, comma - start);
    while (!name.empty() && name.front() == ' ') name.erase(name.begin());
    while (!name.empty() && name.back() == ' ') name.pop_back();
    names.push_back(name);
    start = comma + 1;
  }
  return names;
}

Status Import(const ModelsFlags& flags) {
  models::ImportOptions options;
  if (!flags.features.empty()) {
    options.feature_names = SplitNames(flags.features);
    for (size_t i = 0; i < options.feature_names.size(); ++i) {
      if (options.feature_names[i].empty()) {
        return Status::InvalidArgument(fmt::format("--features: name {} is empty in '{}'", i + 1, flags.features));
      }
    }
  }
  options.reference_csv = flags.reference;
  // The package is built (and the model checked) before the workspace is touched.
  GYRE_ASSIGN_OR_RETURN(models::ImportedModel model, models::ImportModel(flags.path, options));
  const models::PackageDescriptor& d = model.descriptor;
  fmt::print("read {} {}: {}, {} features, sha256 {}\n", models::ImportSourceName(model.source), flags.path,
             d.objective, d.feature_names.size(), model.sha256);
  if (model.generated_feature_names) {
    fmt::print("feature names: none in the model; named {} (give --features f1,f2,... to name them)\n",
               model.feature_names_origin.substr(model.feature_names_origin.find('(')));
  } else {
    fmt::print("feature names from {}\n", model.feature_names_origin);
  }
  if (d.num_outputs != 1) {
    fmt::print("note: {} outputs per row ({}); online scoring serves one-score models\n", d.num_outputs, d.objective);
  }
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, OpenApp(flags.workspace));
  train::ImportPublishOptions publish;
  publish.name = flags.name;
  publish.alias = flags.alias;
  if (std::string actor = Actor(flags); !actor.empty()) publish.user = actor;
  GYRE_ASSIGN_OR_RETURN(train::PublishedImport published,
                        train::PublishImportedModel(std::move(model), publish, app->tracking(), app->artifacts(),
                                                    app->registry()));
  fmt::print("registered models:/{}/{}\n", flags.name, published.version.version);
  if (!flags.alias.empty()) fmt::print("alias      models:/{}@{} → version {}\n", flags.name, flags.alias, published.version.version);
  fmt::print("source     {}\npackage    {}\nrun        {}\n", published.source, published.package_dir, published.run_id);
  return Status::OK();
}

}  // namespace

void AddModelsCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand("models", "The model registry: list, show, versions, alias, audit, import");
  cmd->require_subcommand(1);
  auto flags = std::make_shared<ModelsFlags>();
  auto add_workspace = [&](CLI::App* sub) {
    sub->add_option("--workspace,-w", flags->workspace, "Workspace folder")->capture_default_str();
  };

  auto* list = cmd->add_subcommand("list", "Registered models with their latest version and aliases");
  add_workspace(list);
  list->add_option("--filter,-f", flags->filter, "e.g. \"name LIKE 'ato%'\"");
  SetAction(list, [flags] { return List(*flags); });

  auto* show = cmd->add_subcommand("show", "One model version: stage, aliases, source, run, lineage, tags");
  add_workspace(show);
  show->add_option("model", flags->name, "NAME (its latest version) or a URI: models:/ato@champion, models:/ato/3")
      ->required();
  SetAction(show, [flags] { return Show(*flags); });

  auto* versions = cmd->add_subcommand("versions", "Every version of a model, newest first");
  add_workspace(versions);
  versions->add_option("name", flags->name, "Registered model name")->required();
  SetAction(versions, [flags] { return Versions(*flags); });

  auto* alias =
      cmd->add_subcommand("alias", "Show, set (promote), or --delete an alias: gyre models alias ato champion 3");
  add_workspace(alias);
  alias->add_option("name", flags->name, "Registered model name")->required();
  alias->add_option("alias", flags->alias, "Alias, e.g. champion")->required();
  alias->add_option("version", flags->version, "Version to point the alias at (omit to show it)");
  alias->add_flag("--delete", flags->remove, "Remove the alias");
  alias->add_option("--as", flags->actor, "Who is acting, for the audit log (default: $GYRE_USER or $USER)");
  SetAction(alias, [flags] { return Alias(*flags); });

  auto* audit = cmd->add_subcommand("audit", "Registry changes, newest first: who, when, before and after");
  add_workspace(audit);
  audit->add_option("name", flags->name, "Only this model");
  audit->add_option("--action", flags->action, "Only this action, e.g. alias.set");
  audit->add_option("--max", flags->max_results, "At most this many entries")->capture_default_str();
  SetAction(audit, [flags] { return Audit(*flags); });

  auto* import = cmd->add_subcommand(
      "import",
      "Register a model trained elsewhere: an XGBoost file (JSON, UBJSON, binary), an MLflow xgboost folder, or a "
      "gyre package");
  add_workspace(import);
  import->add_option("path", flags->path, "The model file or folder")->required();
  import->add_option("--name,-n", flags->name, "Registered model name (created on first use)")->required();
  import->add_option("--alias", flags->alias, "Point this alias (e.g. challenger) at the new version");
  import->add_option("--features", flags->features,
                     "Feature names in the model's column order, comma-separated (overrides the model's own)");
  import->add_option("--reference", flags->reference,
                     "CSV with the feature columns: reference distributions of features and scores for monitoring");
  import->add_option("--as", flags->actor, "Who is acting, for the audit log (default: $GYRE_USER or $USER)");
  SetAction(import, [flags] { return Import(*flags); });
}

}  // namespace gyre::cli
