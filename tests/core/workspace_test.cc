#include "core/workspace.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace gyre {
namespace {

class WorkspaceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gyre_ws_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  fs::path dir_;
};

TEST_F(WorkspaceTest, OpenInitialisesMissingFolderWithDefaults) {
  Result<Workspace> ws = Workspace::Open(dir_.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_TRUE(fs::exists(dir_ / "gyre.yaml"));
  EXPECT_TRUE(fs::is_directory(dir_ / ".gyre" / "artifacts"));
  EXPECT_EQ(ws->config().store.metadata, "sqlite");
  EXPECT_EQ(ws->config().store.online, "rocksdb");
  EXPECT_EQ(ws->config().store.artifacts, (dir_ / ".gyre" / "artifacts").string());
  EXPECT_EQ(ws->config().server.port, 8080);
  EXPECT_EQ(ws->config().name, dir_.filename().string());
}

TEST_F(WorkspaceTest, DefaultYamlRoundTripsToDefaults) {
  Write(dir_ / "gyre.yaml", DefaultWorkspaceYaml("x"));
  auto config = Workspace::LoadConfig((dir_ / "gyre.yaml").string(), dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ServerConfig defaults;
  EXPECT_EQ(config->server.max_body_bytes, defaults.max_body_bytes);
  EXPECT_EQ(config->server.read_timeout_ms, defaults.read_timeout_ms);
  EXPECT_EQ(config->name, "x");
  EXPECT_EQ(config->online.durability, "window");
}

TEST_F(WorkspaceTest, OnlineDurabilityIsWindowOrSync) {
  Write(dir_ / "gyre.yaml", "online:\n  durability: sync\n");
  auto config = Workspace::LoadConfig((dir_ / "gyre.yaml").string(), dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->online.durability, "sync");
  Write(dir_ / "gyre.yaml", "online:\n  durability: always\n");
  config = Workspace::LoadConfig((dir_ / "gyre.yaml").string(), dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("durability"), std::string::npos) << config.status().message();
  EXPECT_NE(config.status().message().find("expected window or sync, got 'always'"), std::string::npos)
      << config.status().message();
  EXPECT_NE(config.status().message().find("gyre.yaml:2:"), std::string::npos) << config.status().message();
}

TEST_F(WorkspaceTest, OpenRefusesNonEmptyFolderWithoutConfig) {
  Write(dir_ / "notes.txt", "mine");
  Result<Workspace> ws = Workspace::Open(dir_.string());
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(ws.status().message().find("gyre init"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_ / ".gyre"));
}

// The read-only commands' open: a mistyped folder is an error that says how to make one, and writes nothing.
TEST_F(WorkspaceTest, OpenExistingRefusesMissingEmptyAndForeignFoldersAndWritesNothing) {
  Result<Workspace> missing = Workspace::OpenExisting(dir_.string());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(dir_.string() + ": no such folder"), std::string::npos)
      << missing.status().message();
  EXPECT_NE(missing.status().message().find("gyre init " + dir_.string()), std::string::npos)
      << missing.status().message();
  EXPECT_FALSE(fs::exists(dir_));

  fs::create_directories(dir_);
  Result<Workspace> empty = Workspace::OpenExisting(dir_.string());
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  EXPECT_NE(empty.status().message().find("empty folder"), std::string::npos) << empty.status().message();
  EXPECT_TRUE(fs::is_empty(dir_));

  Write(dir_ / "notes.txt", "mine");
  Result<Workspace> foreign = Workspace::OpenExisting(dir_.string());
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.status().message().find("no gyre.yaml"), std::string::npos) << foreign.status().message();
  EXPECT_FALSE(fs::exists(dir_ / ".gyre"));

  ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
  Result<Workspace> ws = Workspace::OpenExisting(dir_.string());
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_EQ(ws->root(), dir_.string());
}

TEST_F(WorkspaceTest, InitAdoptsNonEmptyFolderAndIsIdempotent) {
  Write(dir_ / "notes.txt", "mine");
  bool created = false;
  ASSERT_TRUE(Workspace::Init(dir_.string(), &created).ok());
  EXPECT_TRUE(created);
  Write(dir_ / "gyre.yaml", "name: kept\n");
  auto again = Workspace::Init(dir_.string(), &created);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(created);
  EXPECT_EQ(again->config().name, "kept");
}

TEST_F(WorkspaceTest, BadConfigNamesFileLineAndKey) {
  Write(dir_ / "gyre.yaml", "name: a\nserver:\n  port: 80\n  hots: x\n");
  auto ws = Workspace::Open(dir_.string());
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find("gyre.yaml:4:3: unknown key 'hots' in 'server'"), std::string::npos)
      << ws.status().message();
  Write(dir_ / "gyre.yaml", "store:\n  metadata: mysql://x\n");
  ws = Workspace::Open(dir_.string());
  ASSERT_FALSE(ws.ok());
  EXPECT_NE(ws.status().message().find("gyre.yaml:2:13: 'store.metadata'"), std::string::npos) << ws.status().message();
}

TEST_F(WorkspaceTest, TlsFilesResolveAgainstTheWorkspace) {
  Write(dir_ / "gyre.yaml", "server:\n  tls:\n    cert: tls/cert.pem\n    key: /etc/gyre/key.pem\n");
  auto config = Workspace::LoadConfig((dir_ / "gyre.yaml").string(), dir_.string());
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_EQ(config->server.tls_cert, (dir_ / "tls" / "cert.pem").string());
  EXPECT_EQ(config->server.tls_key, "/etc/gyre/key.pem");
  Write(dir_ / "gyre.yaml", "server:\n  tls:\n    certificate: c.pem\n");
  config = Workspace::LoadConfig((dir_ / "gyre.yaml").string(), dir_.string());
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.status().message().find("gyre.yaml:3:5: unknown key 'certificate' in 'server.tls'"),
            std::string::npos)
      << config.status().message();
  // Not set: plain HTTP.
  Write(dir_ / "gyre.yaml", DefaultWorkspaceYaml("x"));
  config = Workspace::LoadConfig((dir_ / "gyre.yaml").string(), dir_.string());
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->server.tls_cert, "");
  EXPECT_EQ(config->server.tls_key, "");
}

TEST_F(WorkspaceTest, StatePathCreatesParents) {
  auto ws = Workspace::Open(dir_.string());
  ASSERT_TRUE(ws.ok());
  auto p = ws->StatePath("logs/predictions.log");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(fs::is_directory(dir_ / ".gyre" / "logs"));
}

TEST_F(WorkspaceTest, RejectsAFileAsWorkspace) {
  Write(dir_, "x");
  EXPECT_FALSE(Workspace::Open(dir_.string()).ok());
}

}  // namespace
}  // namespace gyre
