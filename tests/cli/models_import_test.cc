// `gyre models import` as a user runs it: models trained by Python's xgboost (tests/models/make_import_models.py)
// imported into a fresh workspace; the registered version, its source, lineage tag and alias are read back
// with `gyre models show`, and the package stored under the artifacts must load.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include "tests/cli/run_gyre.h"

namespace fs = std::filesystem;

namespace gyre {
namespace {

using testing::kGyre;
using testing::RunGyre;
using testing::RunResult;

std::string Slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ModelsImportCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = new fs::path(fs::temp_directory_path() / ("gyre_import_models_" + std::to_string(::getpid())));
    fs::create_directories(*models_);
    // /usr/bin/python3: Debian's, which has python3-xgboost (scripts/bootstrap.sh).
    std::string cmd = "/usr/bin/python3 " + std::string(GYRE_SOURCE_DIR) + "/tests/models/make_import_models.py " +
                      models_->string();
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*models_);
    delete models_;
  }
  void SetUp() override {
    ws_ = fs::temp_directory_path() / ("gyre_import_ws_" + std::to_string(::getpid()) + "_" +
                                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(ws_);
    // Importing registers into an existing workspace (only init, demo and server create one).
    RunResult init = RunGyre("init " + ws_.string());
    ASSERT_EQ(init.exit_code, 0) << init.out;
  }
  void TearDown() override { fs::remove_all(ws_); }
  static std::string Model(const std::string& name) { return (*models_ / name).string(); }
  fs::path ws_;
  static fs::path* models_;
};
fs::path* ModelsImportCliTest::models_ = nullptr;

TEST_F(ModelsImportCliTest, ImportsRegistersAndSetsTheAlias) {
  RunResult r = RunGyre("models import " + Model("binary.ubj") + " --name ato-ext --alias challenger -w " + ws_.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("registered models:/ato-ext/1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("models:/ato-ext@challenger"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("feature names from the model"), std::string::npos) << r.out;
  size_t at = r.out.find("package    ");
  ASSERT_NE(at, std::string::npos) << r.out;
  at += std::string("package    ").size();
  fs::path dir = r.out.substr(at, r.out.find('\n', at) - at);
  EXPECT_TRUE(fs::exists(dir / "gyre-model.json")) << dir;
  EXPECT_TRUE(fs::exists(dir / "model.json"));
  EXPECT_TRUE(fs::exists(dir / "MLmodel"));
  EXPECT_NE(Slurp(dir / "MLmodel").find("loader_module: mlflow.xgboost"), std::string::npos);
  EXPECT_NE(Slurp(dir / "gyre-model.json").find("\"amount_0\""), std::string::npos);

  RunResult show = RunGyre("models show models:/ato-ext@challenger -w " + ws_.string());
  ASSERT_EQ(show.exit_code, 0) << show.out;
  EXPECT_NE(show.out.find("version      1"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("aliases      @challenger"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("source       mlflow-artifacts:/"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("/artifacts/model"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("gyre.imported_from = imported from " + Model("binary.ubj") + " (sha256 "), std::string::npos)
      << show.out;

  // A second import is version 2; the alias stays where it was.
  RunResult again = RunGyre("models import " + Model("regression.xgb") + " --name ato-ext --features a,b,c,d,e,f,g,h,i -w " +
                            ws_.string());
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_NE(again.out.find("registered models:/ato-ext/2"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("feature names from --features"), std::string::npos) << again.out;
  RunResult alias = RunGyre("models alias ato-ext challenger -w " + ws_.string());
  EXPECT_NE(alias.out.find("version 1"), std::string::npos) << alias.out;
}

TEST_F(ModelsImportCliTest, SaysWhenFeatureNamesAreGenerated) {
  RunResult r = RunGyre("models import " + Model("regression.json") + " --name reg -w " + ws_.string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("named (f0..f8)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("registered models:/reg/1"), std::string::npos) << r.out;
}

TEST_F(ModelsImportCliTest, ErrorsNameThePathAndExitNonZero) {
  RunResult missing = RunGyre("models import " + Model("nope.ubj") + " --name x -w " + ws_.string());
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.out.find(Model("nope.ubj")), std::string::npos) << missing.out;

  fs::path garbage = *models_ / "garbage.model";
  std::ofstream(garbage) << "not a model";
  RunResult unreadable = RunGyre("models import " + garbage.string() + " --name x -w " + ws_.string());
  EXPECT_NE(unreadable.exit_code, 0);
  EXPECT_NE(unreadable.out.find(garbage.string()), std::string::npos) << unreadable.out;

  fs::path sklearn = *models_ / "sklearn";
  fs::create_directories(sklearn);
  std::ofstream(sklearn / "MLmodel") << "flavors:\n  sklearn:\n    pickled_model: model.pkl\n";
  RunResult no_flavor = RunGyre("models import " + sklearn.string() + " --name x -w " + ws_.string());
  EXPECT_NE(no_flavor.exit_code, 0);
  EXPECT_NE(no_flavor.out.find("no xgboost flavor"), std::string::npos) << no_flavor.out;

  RunResult mismatch = RunGyre("models import " + Model("binary.json") + " --name x --features a,b -w " + ws_.string());
  EXPECT_NE(mismatch.exit_code, 0);
  EXPECT_NE(mismatch.out.find("names 2 features, the model reads 8"), std::string::npos) << mismatch.out;
  // Nothing was registered by the failures.
  RunResult list = RunGyre("models list -w " + ws_.string());
  EXPECT_NE(list.out.find("no registered models"), std::string::npos) << list.out;
}

}  // namespace
}  // namespace gyre
