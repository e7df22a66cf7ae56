// Placeholder: replaced by the data-profile work.
#include "cli/command.h"
namespace gyre::cli {
void AddDataCommand(CLI::App& root) { root.add_subcommand("data", "Inspect data sources (profile)"); }
}  // namespace gyre::cli
