#include "store/database.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "store/migrations.h"
#include "tests/store/store_backends.h"

namespace gyre::store {
namespace {

using testing::BackendTest;

class DatabaseTest : public BackendTest {};

TEST_P(DatabaseTest, RoundTripsEveryValueType) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE t (id BIGINT PRIMARY KEY, x DOUBLE PRECISION, s TEXT, n TEXT)").ok());
  std::vector<Value> row{int64_t{1} << 40, 0.1, std::string("it's \"quoted\" ? -- not a comment"), std::monostate{}};
  ASSERT_TRUE(db_->Execute("INSERT INTO t (id, x, s, n) VALUES (?, ?, ?, ?)", row).ok());
  std::vector<Value> key{int64_t{1} << 40};
  auto r = db_->Query("SELECT id, x, s, n, '?' AS q FROM t WHERE id = ?", key);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ(r->columns, (std::vector<std::string>{"id", "x", "s", "n", "q"}));
  EXPECT_EQ(r->Int(0, 0), int64_t{1} << 40);
  EXPECT_EQ(r->Double(0, 1), 0.1);  // exact: shortest round-trip text for PostgreSQL
  EXPECT_EQ(r->Text(0, 2), "it's \"quoted\" ? -- not a comment");
  EXPECT_TRUE(r->Null(0, 3));
  EXPECT_EQ(r->Text(0, 4), "?");
}

TEST_P(DatabaseTest, SpecialDoublesSurvive) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE m (k BIGINT, v DOUBLE PRECISION)").ok());
  double values[] = {std::nan(""), INFINITY, -INFINITY, -0.0, 1e-308, 123456789.123456789};
  for (int i = 0; i < 6; ++i) {
    std::vector<Value> p{int64_t{i}, values[i]};
    ASSERT_TRUE(db_->Execute("INSERT INTO m VALUES (?, ?)", p).ok());
  }
  auto r = db_->Query("SELECT v FROM m ORDER BY k");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(std::isnan(r->Double(0, 0)) || r->Null(0, 0));  // SQLite stores NaN as NULL
  EXPECT_EQ(r->Double(1, 0), INFINITY);
  EXPECT_EQ(r->Double(2, 0), -INFINITY);
  EXPECT_EQ(r->Double(4, 0), 1e-308);
  EXPECT_EQ(r->Double(5, 0), 123456789.123456789);
}

TEST_P(DatabaseTest, UniqueViolationIsAlreadyExists) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE u (name TEXT PRIMARY KEY)").ok());
  std::vector<Value> p{std::string("ato")};
  ASSERT_TRUE(db_->Execute("INSERT INTO u VALUES (?)", p).ok());
  Status s = db_->Execute("INSERT INTO u VALUES (?)", p);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
}

TEST_P(DatabaseTest, BadSqlIsInternalAndNamesTheStatement) {
  Status s = db_->Execute("SELEKT 1");
  EXPECT_EQ(s.code(), StatusCode::kInternal);
  EXPECT_NE(s.message().find("SELEKT 1"), std::string::npos) << s.message();
}

TEST_P(DatabaseTest, TransactionCommitsOrRollsBack) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE c (v BIGINT)").ok());
  Status failed = db_->Transaction([](Connection& conn) -> Status {
    std::vector<Value> p{int64_t{1}};
    GYRE_RETURN_IF_ERROR(conn.Execute("INSERT INTO c VALUES (?)", p));
    return Status::InvalidArgument("changed my mind");
  });
  EXPECT_TRUE(failed.IsInvalidArgument());
  Status ok = db_->Transaction([](Connection& conn) -> Status {
    std::vector<Value> p{int64_t{2}};
    GYRE_RETURN_IF_ERROR(conn.Execute("INSERT INTO c VALUES (?)", p));
    GYRE_RETURN_IF_ERROR(conn.Execute("UPDATE c SET v = v + 1"));
    EXPECT_EQ(conn.changes(), 1);
    return Status::OK();
  });
  ASSERT_TRUE(ok.ok()) << ok.ToString();
  auto r = db_->Query("SELECT COUNT(*), SUM(v) FROM c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Int(0, 0), 1);
  EXPECT_EQ(r->Int(0, 1), 3);
}

TEST_P(DatabaseTest, ConcurrentWritersLoseNothing) {
  ASSERT_TRUE(db_->Execute("CREATE TABLE w (thread BIGINT, i BIGINT, PRIMARY KEY (thread, i))").ok());
  ASSERT_TRUE(db_->Execute("CREATE TABLE counter (n BIGINT)").ok());
  ASSERT_TRUE(db_->Execute("INSERT INTO counter VALUES (0)").ok());
  constexpr int kThreads = 4, kPerThread = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Status s = db_->Transaction([&](Connection& conn) -> Status {
          std::vector<Value> p{int64_t{t}, int64_t{i}};
          GYRE_RETURN_IF_ERROR(conn.Execute("INSERT INTO w VALUES (?, ?)", p));
          return conn.Execute("UPDATE counter SET n = n + 1");
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  auto r = db_->Query("SELECT (SELECT COUNT(*) FROM w), (SELECT n FROM counter)");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Int(0, 0), kThreads * kPerThread);
  EXPECT_EQ(r->Int(0, 1), kThreads * kPerThread);
}

const std::vector<Migration> kMigrations = {
    {1, "create items", "CREATE TABLE items (id BIGINT PRIMARY KEY, name TEXT NOT NULL)", ""},
    {2, "add price", "ALTER TABLE items ADD COLUMN price DOUBLE PRECISION; CREATE INDEX items_name ON items (name)", ""},
};

TEST_P(DatabaseTest, MigrationsApplyOnceInOrder) {
  auto v = SchemaVersion(*db_, "items");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 0);
  ASSERT_TRUE(Migrate(*db_, "items", std::span(kMigrations).first(1)).ok());
  EXPECT_EQ(*SchemaVersion(*db_, "items"), 1);
  ASSERT_TRUE(Migrate(*db_, "items", kMigrations).ok());
  ASSERT_TRUE(Migrate(*db_, "items", kMigrations).ok());  // idempotent
  EXPECT_EQ(*SchemaVersion(*db_, "items"), 2);
  EXPECT_TRUE(db_->Execute("INSERT INTO items (id, name, price) VALUES (1, 'a', 2.5)").ok());
  // Another component's history is separate.
  EXPECT_EQ(*SchemaVersion(*db_, "other"), 0);
}

TEST_P(DatabaseTest, NewerSchemaIsRefused) {
  ASSERT_TRUE(Migrate(*db_, "items", kMigrations).ok());
  Status s = Migrate(*db_, "items", std::span(kMigrations).first(1));
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("newer than this gyre knows"), std::string::npos);
}

TEST_P(DatabaseTest, FailedMigrationLeavesPreviousVersion) {
  std::vector<Migration> broken = kMigrations;
  broken.push_back({3, "broken", "CREATE TABLE ok3 (x BIGINT); CREATE TABLEX nope", ""});
  Status s = Migrate(*db_, "items", broken);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("migration 3 'broken' of 'items'"), std::string::npos) << s.message();
  EXPECT_EQ(*SchemaVersion(*db_, "items"), 2);
}

INSTANTIATE_TEST_SUITE_P(Backends, DatabaseTest, ::testing::ValuesIn(testing::Backends()), testing::BackendName);

TEST(DatabaseOpenTest, RejectsUnknownScheme) {
  auto db = Database::Open("mysql://x", "/tmp");
  ASSERT_FALSE(db.ok());
  EXPECT_TRUE(db.status().IsInvalidArgument());
}

TEST(DatabaseOpenTest, UnreachablePostgresIsUnavailableAndHidesPassword) {
  auto db = Database::Open("postgresql://u:secret@127.0.0.1:1/db?connect_timeout=2", "/tmp");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(db.status().message().find("secret"), std::string::npos) << db.status().message();
}

TEST(PlaceholderTest, RewritesOnlyOutsideQuotesAndComments) {
  EXPECT_EQ(ToPostgresPlaceholders("SELECT ? , '?', \"a?\" -- ?\n FROM t WHERE a = ? AND b = 'it''s ?'"),
            "SELECT $1 , '?', \"a?\" -- ?\n FROM t WHERE a = $2 AND b = 'it''s ?'");
}

}  // namespace
}  // namespace gyre::store
