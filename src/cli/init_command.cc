// gyre init DIR: make a folder a gyre workspace.
#include <fmt/format.h>

#include "cli/command.h"
#include "core/workspace.h"

namespace gyre::cli {

void AddInitCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand("init", "Create a workspace: gyre.yaml with embedded defaults and .gyre/ for state");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("dir", *dir, "Workspace folder (created if missing; may already hold files)")->required();
  SetAction(cmd, [dir]() -> Status {
    bool created = false;
    GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::Init(*dir, &created));
    if (created) {
      fmt::print("Initialised gyre workspace '{}' in {}\n", ws.config().name, ws.root());
    } else {
      fmt::print("{} is already a gyre workspace ('{}'); left as it was\n", ws.root(), ws.config().name);
    }
    return Status::OK();
  });
}

}  // namespace gyre::cli
