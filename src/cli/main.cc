// gyre: one binary, one subcommand per lifecycle stage.
#include <fmt/format.h>

#include <cstdio>

#include "cli/command.h"

namespace gyre::cli {

void SetAction(CLI::App* command, std::function<Status()> fn) {
  command->callback([fn = std::move(fn)] {
    Status status = fn();
    if (!status.ok()) throw CommandFailed{std::move(status)};
  });
}

int ExitCode(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk: return 0;
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kAlreadyExists:
      return 2;
    default:
      return 1;
  }
}

}  // namespace gyre::cli

int main(int argc, char** argv) {
  using namespace gyre::cli;
  CLI::App app{"gyre: the whole model lifecycle, from events to production, in one fast binary", "gyre"};
  app.set_version_flag("--version", "gyre 0.1.0");
  app.require_subcommand(1);
  app.fallthrough(false);

  AddInitCommand(app);
  AddDataCommand(app);
  AddDatagenCommand(app);
  AddFeaturesCommand(app);
  AddTrainCommand(app);
  AddScoreCommand(app);
  AddEvaluateCommand(app);
  AddServerCommand(app);
  AddRunsCommand(app);
  AddModelsCommand(app);
  AddModelsServeCommand(*app.get_subcommand("models"));
  AddDemoCommand(app);
  AddUsersCommand(app);
  AddTokensCommand(app);
  AddAuditCommand(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const CommandFailed& failed) {
    std::fflush(stdout);
    fmt::print(stderr, "error: {}\n", failed.status.message());
    return ExitCode(failed.status);
  }
  return 0;
}
