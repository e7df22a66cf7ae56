// The main job: `gyre demo` runs every lifecycle stage that exists, end to end, on embedded defaults.
//
// It lays out the examples/ato project (compiled into the binary) in a workspace, then runs the stages in
// order, printing progress and a summary per stage, and ends with where its outputs are. Each capability
// adds its stage here. Re-running it in the same workspace is safe: files the user changed are kept, and
// generated outputs are rebuilt deterministically.
#pragma once

#include <cstdio>
#include <functional>
#include <string>

#include "core/status.h"

namespace gyre::http {
class Server;
}
namespace gyre::services {
class WorkspaceServices;
}

namespace gyre::demo {

struct DemoOptions {
  std::string workspace = "demo-workspace";
  // Overrides of examples/ato/datagen.yaml, for quick runs (tests use tiny values). 0 keeps the file's.
  int users = 0;
  int days = 0;
  // Logins replayed through the online path to check it against the backfill; 0 = all of them.
  int64_t check_events = 0;
  std::FILE* out = stdout;  // where progress and summaries go
  // Adds the HTTP routes over the workspace's services to the demo's in-process server (`gyre demo` passes
  // api::AddRoutes: the demo sits beside the HTTP layer, not on it, and talks to its server as a client).
  std::function<void(http::Server&, services::WorkspaceServices&)> add_routes;
};

Status RunDemo(const DemoOptions& options);

// Writes the files of examples/ato into `dir` (creating it), skipping files that already exist there.
// Returns how many were written.
Result<int> LayOutAtoExample(const std::string& dir);

}  // namespace gyre::demo
