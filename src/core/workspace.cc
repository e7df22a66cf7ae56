#include "core/workspace.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <system_error>

#include "core/config.h"

namespace fs = std::filesystem;

namespace gyre {
namespace {

Status CreateDirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create folder: {}", dir.string(), ec.message()));
  return Status::OK();
}

}  // namespace

std::string DefaultWorkspaceYaml(const std::string& name) {
  return fmt::format(R"(# gyre workspace settings. Unknown keys are errors; every value below is the default.
name: {}

store:
  metadata: sqlite        # embedded SQLite under .gyre/, or postgresql://user@host/db
  online: rocksdb         # embedded RocksDB under .gyre/, or redis://host:port
  # artifacts: .gyre/artifacts

online:
  durability: window      # window: pushes journaled within ~2 ms of their answer; sync: fsynced before it

server:
  host: 127.0.0.1
  port: 8080
  threads: 0              # 0 = one per core
  max_body_bytes: 16777216
  max_header_bytes: 65536
  read_timeout_ms: 30000
  idle_timeout_ms: 60000
  drain_timeout_ms: 10000
  # auth: required        # required or off; unset: required unless host is a loopback address
  # tls:                  # HTTPS only on this port (TLS 1.2+); paths relative to this folder
  #   cert: tls/cert.pem  # PEM: the certificate, then any intermediates
  #   key: tls/key.pem    # PEM: its private key, unencrypted
)",
                     name);
}

Result<WorkspaceConfig> Workspace::LoadConfig(const std::string& path, const std::string& workspace_dir) {
  GYRE_ASSIGN_OR_RETURN(ConfigDocument doc, ConfigDocument::LoadFile(path));
  WorkspaceConfig config;
  ConfigObject root = doc.Root();
  root.Optional("name", &config.name);
  root.Object("store", [&](ConfigObject& store) {
    store.Optional("metadata", &config.store.metadata);
    store.Optional("online", &config.store.online);
    store.Optional("artifacts", &config.store.artifacts);
    const std::string& m = config.store.metadata;
    if (m != "sqlite" && !m.starts_with("sqlite://") && !m.starts_with("postgresql://") &&
        !m.starts_with("postgres://")) {
      store.Error("metadata", "expected sqlite, sqlite://PATH or a postgresql:// URL, got '" + m + "'");
    }
    const std::string& o = config.store.online;
    if (o != "rocksdb" && !o.starts_with("rocksdb://") && !o.starts_with("redis://")) {
      store.Error("online", "expected rocksdb, rocksdb://PATH or a redis:// URL, got '" + o + "'");
    }
  });
  root.Object("online", [&](ConfigObject& online) {
    online.Optional("durability", &config.online.durability);
    if (config.online.durability != "window" && config.online.durability != "sync") {
      online.Error("durability", "expected window or sync, got '" + config.online.durability + "'");
    }
  });
  root.Object("server", [&](ConfigObject& server) {
    ServerConfig& s = config.server;
    server.Optional("host", &s.host);
    int64_t port = s.port, threads = s.threads;
    server.OptionalInRange("port", &port, 0, 65535);
    server.OptionalInRange("threads", &threads, 0, 1024);
    s.port = static_cast<int>(port);
    s.threads = static_cast<int>(threads);
    server.OptionalInRange("max_body_bytes", &s.max_body_bytes, 1, int64_t{1} << 40);
    server.OptionalInRange("max_header_bytes", &s.max_header_bytes, 1024, 16 << 20);
    server.OptionalInRange("read_timeout_ms", &s.read_timeout_ms, 1, 3'600'000);
    server.OptionalInRange("idle_timeout_ms", &s.idle_timeout_ms, 1, 86'400'000);
    server.OptionalInRange("drain_timeout_ms", &s.drain_timeout_ms, 0, 3'600'000);
    server.Optional("auth", &s.auth);
    if (!s.auth.empty() && s.auth != "required" && s.auth != "off") {
      server.Error("auth", "expected required or off, got '" + s.auth + "'");
    }
    server.Object("tls", [&](ConfigObject& tls) {
      tls.Optional("cert", &s.tls_cert);
      tls.Optional("key", &s.tls_key);
    });
  });
  GYRE_RETURN_IF_ERROR(root.Finish());
  fs::path artifacts = config.store.artifacts.empty() ? fs::path(kStateDir) / "artifacts" : fs::path(config.store.artifacts);
  config.store.artifacts = (fs::path(workspace_dir) / artifacts).lexically_normal().string();
  for (std::string* tls_file : {&config.server.tls_cert, &config.server.tls_key}) {
    if (!tls_file->empty()) *tls_file = (fs::path(workspace_dir) / *tls_file).lexically_normal().string();
  }
  return config;
}

Result<Workspace> Workspace::Init(const std::string& dir, bool* created) {
  if (dir.empty()) return Status::InvalidArgument("workspace folder is empty: pass --workspace DIR");
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec).lexically_normal();
  if (ec) return Status::IOError(fmt::format("{}: {}", dir, ec.message()));
  if (fs::exists(root, ec) && !fs::is_directory(root, ec)) {
    return Status::InvalidArgument(fmt::format("{}: exists and is not a folder", root.string()));
  }
  GYRE_RETURN_IF_ERROR(CreateDirs(root / kStateDir / "artifacts"));
  fs::path config_path = root / kConfigFile;
  bool writing = !fs::exists(config_path, ec);
  if (writing) {
    std::string name = root.filename().string();
    if (name.empty() || name == "." || name == "/") name = "gyre";
    std::ofstream out(config_path, std::ios::binary);
    out << DefaultWorkspaceYaml(name);
    out.close();
    if (!out) return Status::IOError(fmt::format("{}: cannot write", config_path.string()));
  }
  if (created != nullptr) *created = writing;
  return Open(root.string());
}

Result<Workspace> Workspace::Open(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("workspace folder is empty: pass --workspace DIR");
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec).lexically_normal();
  if (ec) return Status::IOError(fmt::format("{}: {}", dir, ec.message()));
  if (root.has_filename() == false) root = root.parent_path();
  fs::path config_path = root / kConfigFile;
  if (!fs::exists(config_path, ec)) {
    bool empty_or_missing = !fs::exists(root, ec) || (fs::is_directory(root, ec) && fs::is_empty(root, ec));
    if (!empty_or_missing) {
      return Status::FailedPrecondition(
          fmt::format("{}: not a gyre workspace (no {}) and not empty; run 'gyre init {}' to make it one",
                      root.string(), kConfigFile, dir));
    }
    return Init(root.string());
  }
  Workspace ws;
  ws.root_ = root.string();
  ws.state_dir_ = (root / kStateDir).string();
  GYRE_ASSIGN_OR_RETURN(ws.config_, LoadConfig(config_path.string(), ws.root_));
  GYRE_RETURN_IF_ERROR(CreateDirs(ws.state_dir_));
  return ws;
}

Result<Workspace> Workspace::OpenExisting(const std::string& dir) {
  if (dir.empty()) return Status::InvalidArgument("workspace folder is empty: pass --workspace DIR");
  std::error_code ec;
  fs::path root = fs::absolute(dir, ec).lexically_normal();
  if (ec) return Status::IOError(fmt::format("{}: {}", dir, ec.message()));
  if (root.has_filename() == false) root = root.parent_path();
  if (!fs::exists(root / kConfigFile, ec)) {
    std::string what = fmt::format("not a gyre workspace (no {})", kConfigFile);
    if (!fs::exists(root, ec)) {
      what = "no such folder";
    } else if (!fs::is_directory(root, ec)) {
      what = "not a folder";
    } else if (fs::is_empty(root, ec)) {
      what = "an empty folder, not a gyre workspace";
    }
    return Status::NotFound(fmt::format("workspace {}: {}; check --workspace, or create one with 'gyre init {}'",
                                        root.string(), what, dir));
  }
  return Open(root.string());
}

Result<std::string> Workspace::StatePath(const std::string& relative) const {
  fs::path path = fs::path(state_dir_) / relative;
  GYRE_RETURN_IF_ERROR(CreateDirs(path.parent_path()));
  return path.string();
}

}  // namespace gyre
