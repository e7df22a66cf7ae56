// Placeholder: replaced by the datagen work.
#include "cli/command.h"
namespace gyre::cli {
void AddDatagenCommand(CLI::App& root) { root.add_subcommand("datagen", "Generate synthetic event data"); }
}  // namespace gyre::cli
