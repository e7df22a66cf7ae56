// ArtifactStore: run artifacts (models, reports, plots) in a local folder, served through the MLflow
// artifact proxy (/api/2.0/mlflow-artifacts/artifacts/<path>).
//
// Safety contract: a path can never leave the root. Paths are relative and '/'-separated, and have been
// percent-decoded once by the HTTP layer. Refused with InvalidArgument, before any file is touched:
// absolute paths, empty, "." or ".." segments, backslashes, NUL bytes, drive letters, segments that still
// decode to something dangerous after further percent-decoding (double-encoded "%252e%252e"), and any path
// whose real location (symlinks followed) is outside the root. MLflow's own server has had several CVEs
// here; tests/tracking/artifact_store_test.cc lists the forms refused.
//
// Durability: Put writes a temporary file in the same folder, fsyncs it and renames it over the target, so
// a reader sees the old or the new file whole, and an acknowledged Put survives a crash.
// Thread-safe: operations are independent file-system calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gyre::tracking {

struct ArtifactFile {
  std::string path;  // relative to the listed folder
  bool is_dir = false;
  int64_t file_size = 0;  // 0 for folders
};

// The store path of an artifact URI this server proxies: "mlflow-artifacts:/1/abc/artifacts" →
// "1/abc/artifacts". Unimplemented for locations served elsewhere.
Result<std::string> ArtifactPathOf(const std::string& artifact_uri);

class ArtifactStore {
 public:
  // Creates `root` if missing.
  static Result<ArtifactStore> Open(const std::string& root);

  // The absolute file-system path for a relative artifact path, after every check above.
  Result<std::string> Resolve(std::string_view path) const;

  Status Put(std::string_view path, std::string_view bytes) const;
  Result<std::string> Get(std::string_view path) const;  // NotFound if absent; InvalidArgument for a folder
  // Deletes a file or a folder (recursively). NotFound if absent.
  Status Delete(std::string_view path) const;
  // The direct children of a folder ("" = the root), sorted by name. An absent folder lists as empty.
  Result<std::vector<ArtifactFile>> List(std::string_view path) const;

  const std::string& root() const { return root_; }

 private:
  explicit ArtifactStore(std::string root) : root_(std::move(root)) {}
  std::string root_;  // canonical, absolute
};

}  // namespace gyre::tracking
