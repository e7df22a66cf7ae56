// SQLite backend of store::Database: the embedded default.
//
// Durability: WAL with synchronous=NORMAL. A committed transaction survives a crash or kill -9 of the
// process (it is in the WAL, which the OS holds); only a power loss can lose the last commits. That is the
// contract MLflow-style tracking needs and it keeps commits cheap.
#include "store/sqlite_database.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <atomic>
#include <charconv>
#include <filesystem>
#include <unordered_map>

#include "store/connection_pool.h"
#include "store/database.h"

namespace gyre::store {
namespace {

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  static Result<std::unique_ptr<SqliteConnection>> Open(const std::string& path, bool uri, int busy_timeout_ms) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
      sqlite3_close_v2(db);
      return Status::IOError(fmt::format("sqlite:{}: cannot open: {}", path, msg));
    }
    auto conn = std::make_unique<SqliteConnection>(db, path);
    sqlite3_busy_timeout(db, busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    GYRE_RETURN_IF_ERROR(conn->ExecuteScript(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY; "
        "PRAGMA case_sensitive_like=ON;"));
    return conn;
  }

  bool broken() const { return false; }

  Status Execute(std::string_view sql, std::span<const Value> params) override {
    GYRE_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    Status status = rc == SQLITE_DONE ? Status::OK() : Error(rc, sql);
    sqlite3_reset(stmt);
    changes_ = sqlite3_changes64(db_);
    return status;
  }

  Result<QueryResult> Query(std::string_view sql, std::span<const Value> params) override {
    GYRE_ASSIGN_OR_RETURN(sqlite3_stmt * stmt, Prepare(sql, params));
    QueryResult result;
    int ncol = sqlite3_column_count(stmt);
    result.columns.reserve(ncol);
    for (int i = 0; i < ncol; ++i) result.columns.emplace_back(sqlite3_column_name(stmt, i));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value>& row = result.rows.emplace_back();
      row.reserve(ncol);
      for (int i = 0; i < ncol; ++i) {
        switch (sqlite3_column_type(stmt, i)) {
          case SQLITE_INTEGER:
            row.emplace_back(static_cast<int64_t>(sqlite3_column_int64(stmt, i)));
            break;
          case SQLITE_FLOAT:
            row.emplace_back(sqlite3_column_double(stmt, i));
            break;
          case SQLITE_NULL:
            row.emplace_back(std::monostate{});
            break;
          default: {
            const char* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
            row.emplace_back(std::string(text, sqlite3_column_bytes(stmt, i)));
          }
        }
      }
    }
    Status status = rc == SQLITE_DONE ? Status::OK() : Error(rc, sql);
    sqlite3_reset(stmt);
    if (!status.ok()) return status;
    return result;
  }

  Status ExecuteScript(std::string_view sql) override {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
    if (rc == SQLITE_OK) return Status::OK();
    std::string msg = err ? err : sqlite3_errstr(rc);
    sqlite3_free(err);
    return Map(rc, fmt::format("sqlite: {} (in: {})", msg, AbbreviateSql(sql)));
  }

  int64_t changes() const override { return changes_; }

 private:
  Result<sqlite3_stmt*> Prepare(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto it = cache_.find(key);
    sqlite3_stmt* stmt;
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc =
          sqlite3_prepare_v3(db_, key.data(), static_cast<int>(key.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return Error(rc, sql);
      cache_.emplace(std::move(key), stmt);
    }
    sqlite3_clear_bindings(stmt);
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt)) {
      return Status::Internal(fmt::format("sqlite: statement takes {} parameters, {} given (in: {})",
                                          sqlite3_bind_parameter_count(stmt), params.size(), AbbreviateSql(sql)));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i) + 1;
      int rc = std::visit(
          [&](const auto& v) -> int {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) return sqlite3_bind_null(stmt, idx);
            if constexpr (std::is_same_v<T, int64_t>) return sqlite3_bind_int64(stmt, idx, v);
            if constexpr (std::is_same_v<T, double>) return sqlite3_bind_double(stmt, idx, v);
            if constexpr (std::is_same_v<T, std::string>)
              return sqlite3_bind_text64(stmt, idx, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
          },
          params[i]);
      if (rc != SQLITE_OK) return Error(rc, sql);
    }
    return stmt;
  }

  Status Error(int rc, std::string_view sql) {
    return Map(rc, fmt::format("sqlite: {} (in: {})", sqlite3_errmsg(db_), AbbreviateSql(sql)));
  }

  static Status Map(int rc, std::string message) {
    switch (rc) {
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
        return Status::AlreadyExists(std::move(message));
      case SQLITE_BUSY:
      case SQLITE_LOCKED:
      case SQLITE_BUSY_SNAPSHOT:
        return Status::Unavailable(std::move(message));
      case SQLITE_FULL:
      case SQLITE_IOERR:
      case SQLITE_CANTOPEN:
      case SQLITE_READONLY:
        return Status::IOError(std::move(message));
      default:
        if ((rc & 0xff) == SQLITE_IOERR) return Status::IOError(std::move(message));
        if ((rc & 0xff) == SQLITE_BUSY) return Status::Unavailable(std::move(message));
        return Status::Internal(std::move(message));
    }
  }

  sqlite3* db_;
  std::string path_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
  int64_t changes_ = 0;
};

// An in-memory database gets one connection: SQLite's shared-cache table locks do not wait for the busy
// timeout, so concurrent connections to it would fail instead of queueing. Write transactions take the
// write lock up front (BEGIN IMMEDIATE), so concurrent writers queue instead of failing on upgrade.
class SqliteDatabase final : public PooledDatabase<SqliteConnection> {
 public:
  SqliteDatabase(std::string path, bool uri, Database::Options options, std::string description)
      : PooledDatabase(
            Dialect::kSqlite, std::move(description), "BEGIN IMMEDIATE",
            [path, uri, options] { return SqliteConnection::Open(path, uri, options.busy_timeout_ms); },
            uri ? 1 : static_cast<size_t>(options.pool_size)),
        path_(std::move(path)),
        uri_(uri),
        options_(options) {}

  Status Init() {
    // For an in-memory database a second, idle connection outside the pool keeps the database alive for
    // the Database's lifetime.
    if (uri_) {
      GYRE_ASSIGN_OR_RETURN(anchor_, SqliteConnection::Open(path_, uri_, options_.busy_timeout_ms));
    }
    return CheckConnection();
  }

 private:
  std::string path_;
  bool uri_;
  Database::Options options_;
  std::unique_ptr<SqliteConnection> anchor_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqlite(const std::string& location, const std::string& state_dir,
                                             Database::Options options) {
  std::string path;
  bool uri = false;
  if (location == ":memory:") {
    static std::atomic<int> counter{0};
    path = fmt::format("file:gyre_memdb_{}?mode=memory&cache=shared", counter++);
    uri = true;
  } else {
    std::filesystem::path p = location.empty() ? std::filesystem::path("gyre.db") : std::filesystem::path(location);
    if (p.is_relative()) p = std::filesystem::path(state_dir) / p;
    std::error_code ec;
    std::filesystem::create_directories(p.parent_path(), ec);
    path = p.lexically_normal().string();
  }
  auto db = std::make_unique<SqliteDatabase>(path, uri, options, "sqlite:" + (uri ? std::string(":memory:") : path));
  GYRE_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gyre::store
