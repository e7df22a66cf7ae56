#include "tracking/artifact_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace gyre::tracking {
namespace {

class ArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("gyre_artifacts_" + std::to_string(::getpid()));
    fs::remove_all(base_);
    fs::create_directories(base_ / "outside");
    std::ofstream(base_ / "outside" / "secret.txt") << "secret";
    auto s = ArtifactStore::Open((base_ / "root").string());
    ASSERT_TRUE(s.ok());
    store_ = std::make_unique<ArtifactStore>(std::move(s).value());
  }
  void TearDown() override { fs::remove_all(base_); }
  fs::path base_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_F(ArtifactStoreTest, PutGetListDelete) {
  ASSERT_TRUE(store_->Put("1/abc/artifacts/model/model.json", "{\"trees\": []}").ok());
  ASSERT_TRUE(store_->Put("1/abc/artifacts/report.html", "<html/>").ok());
  ASSERT_TRUE(store_->Put("1/abc/artifacts/report.html", "<html>v2</html>").ok());  // overwrite whole
  EXPECT_EQ(*store_->Get("1/abc/artifacts/report.html"), "<html>v2</html>");
  auto list = store_->List("1/abc/artifacts");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].path, "model");
  EXPECT_TRUE((*list)[0].is_dir);
  EXPECT_EQ((*list)[1].path, "report.html");
  EXPECT_EQ((*list)[1].file_size, 15);
  EXPECT_TRUE(store_->List("nothing/here")->empty());
  EXPECT_TRUE(store_->Get("1/abc/artifacts/missing").status().IsNotFound());
  EXPECT_TRUE(store_->Get("1/abc/artifacts/model").status().IsInvalidArgument());
  ASSERT_TRUE(store_->Delete("1/abc/artifacts/model").ok());
  EXPECT_EQ(store_->List("1/abc/artifacts")->size(), 1u);
  EXPECT_TRUE(store_->Delete("1/abc/artifacts/model").IsNotFound());
  EXPECT_TRUE(store_->Delete("").IsInvalidArgument());
}

TEST_F(ArtifactStoreTest, EveryEscapeFormIsRefused) {
  for (const char* bad : {"../outside/secret.txt", "a/../../outside/secret.txt", "/etc/passwd", "a/./b", "a//b",
                          "..", "a/..", "%2e%2e/outside/secret.txt", "%2E%2E/x", "%252e%252e/outside/secret.txt",
                          "%25252e%25252e/x", "a%2f..%2f..%2foutside", "a%5c..%5cx", "..\\outside", "C:/windows",
                          "a/%00b", "."}) {
    auto r = store_->Resolve(bad);
    EXPECT_FALSE(r.ok()) << bad << " resolved to " << (r.ok() ? *r : "");
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    }
    EXPECT_FALSE(store_->Put(bad, "x").ok()) << bad;
    EXPECT_FALSE(store_->Get(bad).ok()) << bad;
  }
  EXPECT_TRUE(fs::exists(base_ / "outside" / "secret.txt"));
}

TEST_F(ArtifactStoreTest, SymlinkOutOfTheRootIsRefused) {
  fs::create_directories(base_ / "root" / "run");
  fs::create_directory_symlink(base_ / "outside", base_ / "root" / "run" / "link");
  auto r = store_->Get("run/link/secret.txt");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("outside the artifact root"), std::string::npos);
  EXPECT_FALSE(store_->Put("run/link/new.txt", "x").ok());
  EXPECT_FALSE(fs::exists(base_ / "outside" / "new.txt"));
  // A symlink that stays inside the root is fine.
  fs::create_directories(base_ / "root" / "real");
  std::ofstream(base_ / "root" / "real" / "f.txt") << "ok";
  fs::create_directory_symlink(base_ / "root" / "real", base_ / "root" / "alias");
  EXPECT_EQ(*store_->Get("alias/f.txt"), "ok");
}

// Regression (issue 20): a 255-byte file name failed with a 500 "File name too long" (the temporary name
// beside it overflowed), and so did paths over 4096 bytes. The longest name the file system holds works;
// longer names and paths are refused as bad input.
TEST_F(ArtifactStoreTest, LongestNamesWorkLongerOnesAreRefused) {
  const std::string longest(255, 'x');
  ASSERT_TRUE(store_->Put("run/" + longest, "bytes").ok());
  EXPECT_EQ(*store_->Get("run/" + longest), "bytes");
  Status name = store_->Put("run/" + longest + "y", "bytes");
  EXPECT_TRUE(name.IsInvalidArgument()) << name.ToString();
  EXPECT_NE(name.message().find("at most 255"), std::string::npos) << name.message();
  std::string deep;
  while (deep.size() <= 4096) deep += "folder/";
  Status path = store_->Put(deep + "f", "bytes");
  EXPECT_TRUE(path.IsInvalidArgument()) << path.ToString();
  EXPECT_TRUE(store_->Get(deep + "f").status().IsInvalidArgument());
}

TEST_F(ArtifactStoreTest, NamesWithDotsAndSpacesAreFine) {
  ASSERT_TRUE(store_->Put("run/my model..v2/file name.txt", "x").ok());
  EXPECT_EQ(*store_->Get("run/my model..v2/file name.txt"), "x");
  ASSERT_TRUE(store_->Put("run/.hidden", "y").ok());
}

}  // namespace
}  // namespace gyre::tracking
