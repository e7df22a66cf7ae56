// Placeholder: replaced by the HTTP server work.
#include "cli/command.h"
namespace gyre::cli {
void AddServerCommand(CLI::App& root) { root.add_subcommand("server", "Run the HTTP server"); }
}  // namespace gyre::cli
