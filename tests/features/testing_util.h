// Helpers shared by the feature engine's definition and property tests: a temporary directory, writing a
// file, parsing definitions from YAML text, the text of an error, and random-event fixtures.
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

#include <fmt/format.h>

#include <optional>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "core/time.h"
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

// Random-event fixtures shared by the backfill and online-store property tests: one event of the source
// (time, user, device, n, x, ok, s) with nulls, its schema, and the rows as a Table or CSV text.
struct Row {
  int64_t ts = 0;
  std::optional<std::string> user;
  std::optional<std::string> device;
  std::optional<int64_t> n;
  std::optional<double> x;
  std::optional<bool> ok;
  std::optional<std::string> s;
};

inline const char* const kSourceColumnsYaml =
    "{time: timestamp, user: string, device: string, n: int64, x: float64, ok: bool, s: string}";

inline Schema RowSchema() {
  return Schema({{"time", ColumnType::kTimestamp},
                 {"user", ColumnType::kString},
                 {"device", ColumnType::kString},
                 {"n", ColumnType::kInt64},
                 {"x", ColumnType::kFloat64},
                 {"ok", ColumnType::kBool},
                 {"s", ColumnType::kString}});
}

inline Table ToTable(const std::vector<Row>& rows) {
  TableBuilder b(RowSchema());
  for (const Row& r : rows) {
    b.column(0).AppendTimestamp(r.ts);
    r.user ? b.column(1).AppendString(*r.user) : b.column(1).AppendNull();
    r.device ? b.column(2).AppendString(*r.device) : b.column(2).AppendNull();
    r.n ? b.column(3).AppendInt64(*r.n) : b.column(3).AppendNull();
    r.x ? b.column(4).AppendFloat64(*r.x) : b.column(4).AppendNull();
    r.ok ? b.column(5).AppendBool(*r.ok) : b.column(5).AppendNull();
    r.s ? b.column(6).AppendString(*r.s) : b.column(6).AppendNull();
  }
  Result<Table> table = b.Finish();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : Table();
}

// The rows as a CSV file (null = empty field; doubles in shortest round-trip form).
inline std::string ToCsv(const std::vector<Row>& rows) {
  std::string out = "time,user,device,n,x,ok,s\n";
  for (const Row& r : rows) {
    out += FormatTimestamp(r.ts) + ",";
    out += r.user.value_or("") + ",";
    out += r.device.value_or("") + ",";
    out += (r.n ? std::to_string(*r.n) : "") + ",";
    out += (r.x ? fmt::format("{}", *r.x) : "") + ",";
    out += (r.ok ? (*r.ok ? "true" : "false") : "") + std::string(",");
    out += r.s.value_or("") + "\n";
  }
  return out;
}


}  // namespace gyre::features::testing
