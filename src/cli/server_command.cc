// gyre server: serve a workspace's HTTP API until SIGTERM or SIGINT, then drain and exit 0.
#include <fmt/format.h>
#include <pthread.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "api/route_permissions.h"
#include "api/routes.h"
#include "auth/auth_mode.h"
#include "services/workspace_services.h"
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
  std::string auth;  // "required", "off", or empty: gyre.yaml's server.auth, else by the address
  std::string tls_cert;
  std::string tls_key;
};

// Logs go to stderr: stdout carries the one "listening" line scripts wait for. SIGTERM and SIGINT are blocked
// before any server thread exists (threads inherit the mask), so only the sigwait in ServeUntilSignalled
// receives them and shutdown runs as ordinary code, not in a signal handler.
sigset_t PrepareToServe() {
  std::shared_ptr<spdlog::logger> logger = spdlog::get("gyre-server");
  if (!logger) logger = spdlog::stderr_color_mt("gyre-server");
  spdlog::set_default_logger(logger);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Starts `server`, prints the "listening" line (with `what`), and on SIGTERM or SIGINT drains and returns.
Status ServeUntilSignalled(http::Server& server, const sigset_t& signals, int64_t drain_timeout_ms,
                           const std::string& what) {
  GYRE_RETURN_IF_ERROR(server.Start());
  fmt::print("gyre server listening on {} ({})\n", server.url(), what);
  std::fflush(stdout);
  int received = 0;
  sigwait(&signals, &received);
  spdlog::info("received {}; draining (up to {} ms)", received == SIGTERM ? "SIGTERM" : "SIGINT", drain_timeout_ms);
  Status drained = server.Shutdown();
  if (!drained.ok()) spdlog::warn("{}", drained.message());
  fmt::print("gyre server stopped after {} requests\n", server.requests_served());
  std::fflush(stdout);
  return Status::OK();
}

http::ServerOptions ServerOptionsOf(const ServerConfig& config, const ServerFlags& flags, const CLI::App& cmd) {
  http::ServerOptions options = http::ServerOptions::FromConfig(config);
  if (cmd.count("--host") > 0) options.host = flags.host;
  if (cmd.count("--port") > 0) options.port = flags.port;
  if (cmd.count("--threads") > 0) options.threads = flags.threads;
  if (cmd.count("--tls-cert") > 0) options.tls_cert = flags.tls_cert;
  if (cmd.count("--tls-key") > 0) options.tls_key = flags.tls_key;
  return options;
}

// --tls-cert and --tls-key, for both server commands.
void AddTlsFlags(CLI::App* cmd, ServerFlags& flags, const std::string& defaults) {
  cmd->add_option("--tls-cert", flags.tls_cert,
                  "PEM certificate (then any intermediates): serve HTTPS only, TLS 1.2+; needs --tls-key" + defaults);
  cmd->add_option("--tls-key", flags.tls_key, "PEM private key of --tls-cert, unencrypted" + defaults);
}

Status RunServer(const ServerFlags& flags, const CLI::App& cmd) {
  GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::Open(flags.workspace));
  ServerConfig server_config = ws.config().server;
  server_config.threads = services::DefaultServerThreads(ws.config());
  http::ServerOptions options = ServerOptionsOf(server_config, flags, cmd);
  GYRE_ASSIGN_OR_RETURN(auth::AuthDecision auth_mode,
                        auth::DecideServerAuth(flags.auth, ws.config().server.auth, options.host));
  sigset_t signals = PrepareToServe();
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<services::WorkspaceServices> app, services::WorkspaceServices::Open(ws));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server, http::Server::Create(options));
  http::Router& router = server->router();
  api::AddRoutes(*server, *app);
  std::string workspace_name = ws.config().name;
  router.Add("GET", "/", [&router, workspace_name](const http::Request&) -> Result<http::Response> {
    nlohmann::json index = {{"name", "gyre"}, {"version", "0.1.0"}, {"workspace", workspace_name},
                            {"routes", router.Describe()}};
    return http::JsonResponse(index);
  });
  if (auth_mode.required) GYRE_RETURN_IF_ERROR(api::RequireAuth(router, app->auth()));
  if (!auth_mode.warning.empty()) {
    spdlog::warn("{}", auth_mode.warning);
  }
  if (auth_mode.required && !server->tls() && !auth::IsLoopbackHost(options.host)) {
    spdlog::warn(
        "serving plain HTTP on {}, a non-loopback address: API tokens and data travel in clear text. "
        "Turn on TLS (gyre.yaml server.tls.cert and server.tls.key, or --tls-cert and --tls-key) or "
        "put a TLS-terminating proxy in front.",
        options.host);
  }
  return ServeUntilSignalled(*server, signals, options.drain_timeout_ms,
                             fmt::format("workspace {}, metadata {}, online durability {}, auth {}", ws.root(),
                                         app->database().description(), ws.config().online.durability,
                                         auth_mode.required ? "required" : "off"));
}

struct ModelServeFlags : ServerFlags {
  std::string target;
  std::string name;
  std::string log;
};

// gyre models serve: one model, no feature definitions, the standard protocols only.
Status RunModelServer(const ModelServeFlags& flags, const CLI::App& cmd) {
  std::unique_ptr<services::WorkspaceServices> app;
  ServerConfig config;
  config.port = 5000;  // mlflow models serve's default, for the scripts that expect it
  if (flags.target.starts_with("models:/")) {
    GYRE_ASSIGN_OR_RETURN(Workspace ws, Workspace::OpenExisting(flags.workspace.empty() ? "." : flags.workspace));
    GYRE_ASSIGN_OR_RETURN(app, services::WorkspaceServices::Open(ws, {.serve = false}));
  }
  GYRE_ASSIGN_OR_RETURN(std::string name,
                        flags.name.empty() ? services::ModelServingName(flags.target) : Result<std::string>(flags.name));
  http::ServerOptions options = ServerOptionsOf(config, flags, cmd);
  sigset_t signals = PrepareToServe();
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<serving::ScoringService> scoring,
                        services::OpenModelServing(flags.target, name, flags.log, app.get()));
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server, http::Server::Create(options));
  api::AddModelServingRoutes(*server, *scoring);
  GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const serving::Servable> model, scoring->Model(name));
  return ServeUntilSignalled(
      *server, signals, options.drain_timeout_ms,
      fmt::format("model '{}' from {}: {} features, {}; POST /invocations, POST /v2/models/{}/infer", name, flags.target,
                  model->num_features(), serving::OutputKindName(model->output_kind()), name));
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
  cmd->add_option("--auth", flags->auth,
                  "required: every route but health, readiness and /metrics needs an API token (gyre users add); "
                  "off: no checks (default: gyre.yaml server.auth, else required unless --host is loopback)")
      ->check(CLI::IsMember({"required", "off"}));
  AddTlsFlags(cmd, *flags, " (default: gyre.yaml server.tls; relative paths there are to the workspace)");
  SetAction(cmd, [flags, cmd]() { return RunServer(*flags, *cmd); });
}

void AddModelsServeCommand(CLI::App& models) {
  auto* cmd = models.add_subcommand(
      "serve", "Serve one model over OIP v2 and MLflow /invocations, no feature definitions needed "
               "(like mlflow models serve -m)");
  auto flags = std::make_shared<ModelServeFlags>();
  cmd->add_option("target", flags->target,
                  "An XGBoost model file, a model folder (gyre package or MLflow model), or a models:/ URI")
      ->required();
  cmd->add_option("--name", flags->name, "The name clients address (default: the model's or the folder's)");
  cmd->add_option("--workspace,-w", flags->workspace, "Workspace whose registry resolves a models:/ URI (default: .)");
  cmd->add_option("--log", flags->log,
                  "Prediction log file (default: the workspace's .gyre/predictions/NAME.jsonl for a models:/ URI; "
                  "none for a folder)");
  cmd->add_option("--host", flags->host, "Address to listen on (default 127.0.0.1)");
  cmd->add_option("--port,-p", flags->port, "Port (default 5000; 0 picks a free one)")->check(CLI::Range(0, 65535));
  cmd->add_option("--threads", flags->threads, "I/O threads (default: one per core)")->check(CLI::NonNegativeNumber);
  AddTlsFlags(cmd, *flags, "");
  SetAction(cmd, [flags, cmd]() { return RunModelServer(*flags, *cmd); });
}

}  // namespace gyre::cli
