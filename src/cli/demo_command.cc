// Placeholder: the demo is written once datagen lands.
#include "cli/command.h"
namespace gyre::cli {
void AddDemoCommand(CLI::App& root) { root.add_subcommand("demo", "Run the whole lifecycle on synthetic data"); }
}  // namespace gyre::cli
