// Workspace: a folder holding gyre.yaml (stores and server settings), the project's YAML definitions, and
// gyre's state under .gyre/ (metadata database, online feature state, artifacts, logs).
//
// Contract:
// - Open(dir) on a missing or empty folder initialises it with embedded defaults (SQLite metadata,
//   RocksDB online state, local artifacts), so the commands that create (init, server, datagen, demo) work
//   with zero setup.
// - OpenExisting(dir) is for the commands that only read what is already there (runs, models, features,
//   train): a missing or empty folder is NotFound, naming the folder and `gyre init DIR`, and nothing is
//   written. A mistyped -w must not answer "no runs" from a workspace it just made up.
// - Open(dir) on a non-empty folder without gyre.yaml is an error: gyre never scatters state into a
//   folder it was not asked to own. `gyre init DIR` (Init) is the explicit way to adopt such a folder.
// - gyre.yaml is read strictly (core/config.h): unknown keys and wrong types name file:line:column.
// Paths in WorkspaceConfig are returned absolute, resolved against the workspace folder.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace gyre {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;
  int threads = 0;                          // 0: one per core
  int64_t max_body_bytes = 16 << 20;        // larger requests get 413
  int64_t max_header_bytes = 64 << 10;      // larger headers get 431
  int64_t read_timeout_ms = 30'000;         // a request must arrive within this once started (408)
  int64_t idle_timeout_ms = 60'000;         // keep-alive connections idle longer are closed
  int64_t drain_timeout_ms = 10'000;        // on SIGTERM, in-flight requests get this long to finish
  // "required" (every route but health, readiness and /metrics needs an API token), "off", or empty: required
  // unless the server binds a loopback address (docs/auth.md).
  std::string auth;
  // server.tls.cert / server.tls.key: PEM files (absolute, resolved against the workspace folder). Both set:
  // the port speaks HTTPS only, TLS 1.2 and later (docs/auth.md#tls). Both empty: plain HTTP.
  std::string tls_cert;
  std::string tls_key;
};

struct StoreConfig {
  std::string metadata = "sqlite";  // "sqlite" (embedded, under .gyre/) or a postgresql:// URL
  std::string online = "rocksdb";   // "rocksdb" (embedded, under .gyre/) or a redis:// URL
  std::string artifacts;            // folder for artifacts; default <workspace>/.gyre/artifacts
};

// The online feature state's settings (the store itself is StoreConfig::online).
struct OnlineConfig {
  // "window" (the default): a push is acknowledged once applied and queued, and journaled within ~2 ms, so a
  // crash of the process loses at most the pushes of that window. "sync": acknowledged once journaled and
  // fsynced (group commit), so no acknowledged push is lost (features/online_store.h).
  std::string durability = "window";
};

struct WorkspaceConfig {
  std::string name = "gyre";
  StoreConfig store;
  OnlineConfig online;
  ServerConfig server;
};

class Workspace {
 public:
  static constexpr const char* kConfigFile = "gyre.yaml";
  static constexpr const char* kStateDir = ".gyre";

  // Opens `dir`, initialising it when missing or empty (see the contract above).
  static Result<Workspace> Open(const std::string& dir);
  // Opens `dir` only if it already is a workspace (holds gyre.yaml); otherwise NotFound (missing, empty or
  // any folder without gyre.yaml) and `dir` is left untouched.
  static Result<Workspace> OpenExisting(const std::string& dir);
  // Creates gyre.yaml (if absent) and .gyre/ in `dir`, which may already hold files. Returns the opened
  // workspace; *created says whether gyre.yaml was written now.
  static Result<Workspace> Init(const std::string& dir, bool* created = nullptr);
  // Parses a gyre.yaml; exposed for tests and `gyre config check`.
  static Result<WorkspaceConfig> LoadConfig(const std::string& path, const std::string& workspace_dir);

  const std::string& root() const { return root_; }            // absolute
  const std::string& state_dir() const { return state_dir_; }  // <root>/.gyre
  const WorkspaceConfig& config() const { return config_; }
  // <root>/.gyre/<relative>; creates the parent folders.
  Result<std::string> StatePath(const std::string& relative) const;

 private:
  std::string root_;
  std::string state_dir_;
  WorkspaceConfig config_;
};

// The gyre.yaml that Init writes: every setting at its default, commented.
std::string DefaultWorkspaceYaml(const std::string& name);

}  // namespace gyre
