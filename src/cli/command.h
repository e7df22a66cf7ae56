// The CLI boundary: where a Status becomes a message on stderr and an exit code.
//
// Each subcommand lives in its own <name>_command.cc and registers itself on the root CLI::App through
// an Add*Command function declared below. A command's action parses nothing itself (CLI11 did), calls
// its module, formats the result, and returns a Status. Domain logic never lives here.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"

namespace gyre::cli {

// Thrown only from inside Run() callbacks and caught only in main(): carries a failed Status out of
// CLI11's callback machinery.
struct CommandFailed {
  Status status;
};

// Makes `fn` the action of `command`; a non-OK Status ends the program with an error message.
void SetAction(CLI::App* command, std::function<Status()> fn);

// Exit code for a failed Status: 2 for bad input (usage, invalid or missing things), 1 otherwise.
int ExitCode(const Status& status);

void AddInitCommand(CLI::App& root);
void AddDataCommand(CLI::App& root);
void AddDatagenCommand(CLI::App& root);
void AddServerCommand(CLI::App& root);
void AddRunsCommand(CLI::App& root);
void AddModelsCommand(CLI::App& root);
// `gyre models serve`, added under the `models` subcommand (server_command.cc: it shares the serve loop).
void AddModelsServeCommand(CLI::App& models);
void AddDemoCommand(CLI::App& root);
void AddFeaturesCommand(CLI::App& root);
void AddTrainCommand(CLI::App& root);
void AddScoreCommand(CLI::App& root);
void AddEvaluateCommand(CLI::App& root);
void AddUsersCommand(CLI::App& root);
void AddTokensCommand(CLI::App& root);
void AddAuditCommand(CLI::App& root);
// The registry's audit log as `gyre audit` prints it; also `gyre models audit [NAME]` (audit_command.cc).
Status PrintRegistryAudit(const std::string& workspace, const std::string& model, const std::string& action,
                          int64_t limit);

}  // namespace gyre::cli
