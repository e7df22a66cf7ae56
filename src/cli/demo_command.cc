// gyre demo: the main job, every lifecycle stage on embedded defaults (see demo/demo.h).
#include "api/routes.h"
#include "cli/command.h"
#include "demo/demo.h"

namespace gyre::cli {

void AddDemoCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand("demo", "Run the whole lifecycle end to end on synthetic ATO data");
  auto options = std::make_shared<demo::DemoOptions>();
  cmd->add_option("--workspace,-w", options->workspace, "Workspace folder (created if missing)")
      ->capture_default_str();
  cmd->add_option("--users", options->users, "Override the example's number of users (quick runs)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--days", options->days, "Override the example's number of days (quick runs)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--check-events", options->check_events,
                  "Logins replayed through the online feature path to check it (default: all)");
  options->add_routes = api::AddRoutes;
  SetAction(cmd, [options] { return demo::RunDemo(*options); });
}

}  // namespace gyre::cli
