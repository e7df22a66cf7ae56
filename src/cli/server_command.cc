// gyre server: serve a workspace's HTTP API until SIGTERM or SIGINT, then drain and exit 0.
#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "api/app.h"
#include "cli/command.h"
#include "core/workspace.h"
#include "http/json.h"
#include "http/server.h"

namespace gyre::cli {
namespace {

struct ServerFlags {
  std::string workspace;
  std::string host;
  int port = 0;
  int threads = 0;
};

Status RunServer(const ServerFlags& flags, const CLI::App& cmd) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(flags.workspace));
  http::ServerOptions options = http::ServerOptions::FromConfig(ws.config().server);
  if (cmd.count("--host") > 0) options.host = flags.host;
  if (cmd.count("--port") > 0) options.port = flags.port;
  if (cmd.count("--threads") > 0) options.threads = flags.threads;

  // Logs go to stderr: stdout carries the one "listening" line scripts wait for.
  std::shared_ptr<spdlog::logger> logger = spdlog::get("gyre-server");
  if (!logger) logger = spdlog::stderr_color_mt("gyre-server");
  spdlog::set_default_logger(logger);
  // SIGTERM and SIGINT are blocked before any server thread exists (threads inherit the mask), so only
  // the sigwait below receives them and shutdown runs as ordinary code, not in a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<api::App> app, api::App::Open(ws));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server, http::Server::Create(options));
  http::Router& router = server->router();
  app->AddRoutes(*server);
  std::string workspace_name = ws.config().name;
  router.Add("GET", "/", [&router, workspace_name](const http::Request&) -> Result<http::Response> {
    nlohmann::json index = {{"name", "gyre"}, {"version", "0.1.0"}, {"workspace", workspace_name},
                            {"routes", router.Describe()}};
    return http::JsonResponse(index);
  });
  GYRE_RETURN_IF_ERROR(server->Start());

  fmt::print("gyre server listening on {} (workspace {}, metadata {})\n", server->url(), ws.root(),
             app->database().description());
  std::fflush(stdout);

  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received {}; draining (up to {} ms)", received == SIGTERM ? "SIGTERM" : "SIGINT",
               options.drain_timeout_ms);
  Status drained = server->Shutdown();
  if (!drained.ok()) spdlog::warn("{}", drained.message());
  fmt::print("gyre server stopped after {} requests\n", server->requests_served());
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace

void AddServerCommand(CLI::App& root) {
  auto* cmd = root.add_subcommand(
      "server", "Serve the workspace over HTTP: MLflow tracking and registry API, artifacts, health");
  auto flags = std::make_shared<ServerFlags>();
  cmd->add_option("--workspace,-w", flags->workspace, "Workspace folder (initialised if missing or empty)")
      ->required();
  cmd->add_option("--host", flags->host, "Address to listen on (default: gyre.yaml server.host, 127.0.0.1)");
  cmd->add_option("--port,-p", flags->port, "Port (default: gyre.yaml server.port, 8080; 0 picks a free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--threads", flags->threads, "I/O threads (default: gyre.yaml server.threads; 0: one per core)")
      ->check(CLI::NonNegativeNumber);
  SetAction(cmd, [flags, cmd]() { return RunServer(*flags, *cmd); });
}

}  // namespace gyre::cli
