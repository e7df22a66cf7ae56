#include "tracking/artifact_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/base64.h"

namespace fs = std::filesystem;

namespace gyre::tracking {
namespace {

// One round of percent-decoding; invalid escapes are left as they are.
std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigitValue(s[i + 1]) >= 0 && HexDigitValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexDigitValue(s[i + 1]) * 16 + HexDigitValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Status Refuse(std::string_view path, std::string_view why) {
  return Status::InvalidArgument(fmt::format("Invalid artifact path '{}': {}", path, why));
}

// Names beyond what the file system holds are refused as bad input (a 400), not failed as I/O (a 500).
constexpr size_t kMaxSegmentBytes = 255;  // NAME_MAX
constexpr size_t kMaxPathBytes = 2048;    // well under PATH_MAX, with the artifact root in front

Status CheckSegment(std::string_view path, std::string_view segment) {
  if (segment.empty()) return Refuse(path, "empty path segment");
  if (segment.size() > kMaxSegmentBytes) {
    return Refuse(path.substr(0, 80), fmt::format("a file or folder name of {} bytes; at most {} are allowed",
                                                  segment.size(), kMaxSegmentBytes));
  }
  // Decode repeatedly: a segment that turns into "..", or grows a separator, was an escape attempt.
  std::string decoded(segment);
  for (int round = 0; round < 4; ++round) {
    if (decoded == "." || decoded == "..") return Refuse(path, "'.' and '..' segments are not allowed");
    if (decoded.find('/') != std::string::npos || decoded.find('\\') != std::string::npos) {
      return Refuse(path, "encoded path separators are not allowed");
    }
    if (decoded.find('\0') != std::string::npos) return Refuse(path, "NUL bytes are not allowed");
    std::string next = PercentDecode(decoded);
    if (next == decoded) break;
    decoded = std::move(next);
  }
  return Status::OK();
}

}  // namespace

Result<ArtifactStore> ArtifactStore::Open(const std::string& root) {
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Status::IOError(fmt::format("{}: cannot create artifact folder: {}", root, ec.message()));
  fs::path canonical = fs::canonical(root, ec);
  if (ec) return Status::IOError(fmt::format("{}: {}", root, ec.message()));
  return ArtifactStore(canonical.string());
}

Result<std::string> ArtifactStore::Resolve(std::string_view path) const {
  if (path.find('\0') != std::string_view::npos) return Refuse(path, "NUL bytes are not allowed");
  if (path.find('\\') != std::string_view::npos) return Refuse(path, "backslashes are not allowed");
  if (!path.empty() && path.front() == '/') return Refuse(path, "absolute paths are not allowed");
  if (path.size() >= 2 && path[1] == ':') return Refuse(path, "drive letters are not allowed");
  if (path.size() > kMaxPathBytes) {
    return Refuse(path.substr(0, 80), fmt::format("{} bytes long; at most {} are allowed", path.size(), kMaxPathBytes));
  }
  fs::path full = root_;
  if (!path.empty()) {
    std::string_view rest = path;
    if (rest.back() == '/') rest.remove_suffix(1);  // "dir/" names the folder
    size_t start = 0;
    while (start <= rest.size()) {
      size_t end = rest.find('/', start);
      if (end == std::string_view::npos) end = rest.size();
      std::string_view segment = rest.substr(start, end - start);
      GYRE_RETURN_IF_ERROR(CheckSegment(path, segment));
      full /= std::string(segment);
      start = end + 1;
    }
  }
  // Symlinks: the real location of the deepest existing ancestor must stay under the root.
  std::error_code ec;
  fs::path real = fs::weakly_canonical(full, ec);
  if (ec) return Status::IOError(fmt::format("artifact path '{}': {}", path, ec.message()));
  std::string real_str = real.string();
  if (real_str != root_ && !real_str.starts_with(root_ + "/")) {
    return Refuse(path, "it resolves outside the artifact root");
  }
  return full.string();
}

Status ArtifactStore::Put(std::string_view path, std::string_view bytes) const {
  if (path.empty() || path.back() == '/') return Refuse(path, "a file name is required");
  GYRE_ASSIGN_OR_RETURN(std::string target, Resolve(path));
  std::error_code ec;
  fs::create_directories(fs::path(target).parent_path(), ec);
  if (ec) return Status::IOError(fmt::format("artifact '{}': {}", path, ec.message()));
  if (fs::is_directory(target, ec)) return Refuse(path, "a folder of that name exists");
  static std::atomic<uint64_t> counter{0};
  // Named apart from the target, so a name of the longest allowed length still has room for it.
  std::string temp =
      (fs::path(target).parent_path() / fmt::format(".gyre-tmp-{}-{}", ::getpid(), counter++)).string();
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(fmt::format("artifact '{}': cannot write: {}", path, std::strerror(errno)));
  size_t written = 0;
  while (written < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(temp.c_str());
      return Status::IOError(fmt::format("artifact '{}': write failed: {}", path, std::strerror(err)));
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temp.c_str());
    return Status::IOError(fmt::format("artifact '{}': sync failed: {}", path, std::strerror(errno)));
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    ::unlink(temp.c_str());
    return Status::IOError(fmt::format("artifact '{}': rename failed: {}", path, std::strerror(errno)));
  }
  return Status::OK();
}

Result<std::string> ArtifactStore::Get(std::string_view path) const {
  GYRE_ASSIGN_OR_RETURN(std::string target, Resolve(path));
  std::error_code ec;
  if (!fs::exists(target, ec)) return Status::NotFound(fmt::format("Artifact '{}' not found", path));
  if (fs::is_directory(target, ec)) return Refuse(path, "it is a folder; list it instead");
  std::ifstream in(target, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  if (!in.good() && !in.eof()) return Status::IOError(fmt::format("artifact '{}': read failed", path));
  return out.str();
}

Status ArtifactStore::Delete(std::string_view path) const {
  if (path.empty()) return Refuse(path, "refusing to delete the artifact root");
  GYRE_ASSIGN_OR_RETURN(std::string target, Resolve(path));
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(target, ec)))
    return Status::NotFound(fmt::format("Artifact '{}' not found", path));
  fs::remove_all(target, ec);
  if (ec) return Status::IOError(fmt::format("artifact '{}': {}", path, ec.message()));
  return Status::OK();
}

Result<std::vector<ArtifactFile>> ArtifactStore::List(std::string_view path) const {
  GYRE_ASSIGN_OR_RETURN(std::string folder, Resolve(path));
  std::vector<ArtifactFile> files;
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) return files;
  for (const auto& entry : fs::directory_iterator(folder, ec)) {
    std::string name = entry.path().filename().string();
    if (name.find(".gyre-tmp-") != std::string::npos) continue;  // an in-flight Put
    ArtifactFile f;
    f.path = name;
    f.is_dir = entry.is_directory(ec);
    f.file_size = f.is_dir ? 0 : static_cast<int64_t>(entry.file_size(ec));
    files.push_back(std::move(f));
  }
  if (ec) return Status::IOError(fmt::format("artifact folder '{}': {}", path, ec.message()));
  std::sort(files.begin(), files.end(), [](const ArtifactFile& a, const ArtifactFile& b) { return a.path < b.path; });
  return files;
}

Result<std::string> ArtifactPathOf(const std::string& artifact_uri) {
  constexpr std::string_view kScheme = "mlflow-artifacts:";
  if (!artifact_uri.starts_with(kScheme)) {
    return Status::Unimplemented(
        fmt::format("artifact location '{}' is not served by this server's proxy", artifact_uri));
  }
  std::string path = artifact_uri.substr(kScheme.size());
  while (path.starts_with("/")) path.erase(0, 1);
  return path;
}

}  // namespace gyre::tracking
