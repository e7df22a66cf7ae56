// The backends every store test runs against: embedded SQLite (file and in-memory) and a real PostgreSQL
// whose URL `make test` provides in GYRE_TEST_POSTGRES_URL (scripts/test-services.sh starts it). Without
// that variable (a developer running one test binary by hand) the PostgreSQL cases are skipped, saying why.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "store/database.h"

namespace gyre::store::testing {

inline std::vector<std::string> Backends() { return {"sqlite-file", "sqlite-memory", "postgresql"}; }

// Test-name suffix for a backend parameter.
inline std::string BackendName(const ::testing::TestParamInfo<std::string>& info) {
  return info.param == "sqlite-file" ? "SqliteFile" : info.param == "sqlite-memory" ? "SqliteMemory" : "Postgres";
}

// A fresh, empty database of the named backend. For PostgreSQL every call gets its own schema, so tests
// never see each other's tables.
class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string& backend = GetParam();
    dir_ = std::filesystem::temp_directory_path() /
           ("gyre_store_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    std::filesystem::create_directories(dir_);
    std::string url;
    if (backend == "sqlite-file") {
      url = "sqlite://test.db";
    } else if (backend == "sqlite-memory") {
      url = "sqlite::memory:";
    } else {
      const char* pg = std::getenv("GYRE_TEST_POSTGRES_URL");
      if (pg == nullptr || *pg == '\0') GTEST_SKIP() << "GYRE_TEST_POSTGRES_URL not set (make test sets it)";
      schema_ = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter_++);
      auto admin = Database::Open(pg, dir_.string());
      ASSERT_TRUE(admin.ok()) << admin.status().ToString();
      ASSERT_TRUE((*admin)->Execute("CREATE SCHEMA " + schema_).ok());
      std::string base = pg;
      url = base + (base.find('?') == std::string::npos ? "?" : "&") + "options=-csearch_path%3D" + schema_;
    }
    auto db = Database::Open(url, dir_.string());
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
  }
  void TearDown() override {
    db_.reset();
    if (!schema_.empty()) {
      auto admin = Database::Open(std::getenv("GYRE_TEST_POSTGRES_URL"), dir_.string());
      if (admin.ok()) (void)(*admin)->Execute("DROP SCHEMA " + schema_ + " CASCADE");
    }
    std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<Database> db_;
  std::filesystem::path dir_;
  std::string schema_;
  static inline int counter_ = 0;
};

}  // namespace gyre::store::testing
