// Helpers shared by the feature engine's definition and property tests: a temporary directory, writing a
// file, parsing definitions from YAML text, and the text of an error.
//
// Test-only code; not thread-safe. Everything here reports failures by returning them (or with gtest's
// ADD_FAILURE for the filesystem), so a broken fixture shows up as a failed test, not a crash.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include "core/status.h"
#include "features/definitions.h"

namespace gyre::features::testing {

// A fresh directory under the system temp dir, removed with its contents when the object dies.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gyre_features_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp(" << pattern << ") failed";
    } else {
      path_ = pattern;
    }
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside the directory.
  std::string File(const std::string& name) const { return (std::filesystem::path(path_) / name).string(); }

 private:
  std::string path_;
};

// Writes `text` to `path`, creating its parent directories.
inline void WriteTextFile(const std::string& path, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) ADD_FAILURE() << "cannot write " << path;
}

// Definitions from YAML text, as if read from "features.yaml" (the name every message starts with).
inline Result<FeatureRegistry> ParseDefinitions(const std::string& yaml, const std::string& base_dir = "/nonexistent") {
  return FeatureRegistry::Parse(yaml, "features.yaml", base_dir);
}

// The message of a failed parse, or "OK" when it unexpectedly succeeded (so EXPECT_THAT(..., HasSubstr())
// failures print something readable either way).
inline std::string ParseError(const std::string& yaml, const std::string& base_dir = "/nonexistent") {
  Result<FeatureRegistry> registry = ParseDefinitions(yaml, base_dir);
  return registry.ok() ? std::string("OK") : registry.status().message();
}

// Microseconds: whole seconds.
constexpr int64_t Seconds(int64_t s) { return s * 1'000'000; }

// 2024-03-01T00:00:00Z: the origin of the tests' synthetic event times.
constexpr int64_t kT0 = 1'709'251'200'000'000;

}  // namespace gyre::features::testing
