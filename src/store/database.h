// store::Database: gyre's metadata database behind one small interface, with two real backends:
// SQLite (embedded default, a file under the workspace's .gyre/, WAL) and PostgreSQL (libpq).
//
// Modules above (tracking, registry, monitoring, labeling) write one portable SQL dialect:
// - placeholders are `?` (the PostgreSQL backend rewrites them to $1, $2, ...);
// - LIKE is case-sensitive on both (SQLite runs with case_sensitive_like); use LOWER() for ILIKE;
// - upserts are INSERT ... ON CONFLICT (...) DO UPDATE / DO NOTHING, and RETURNING works, on both;
// - types: BIGINT, DOUBLE PRECISION, TEXT (and BOOLEAN stored as BIGINT 0/1);
// - where the two differ (auto-increment keys, upserts), migrations carry one script per dialect, and
//   dialect() lets a caller choose.
// Statements are prepared once per connection and cached by their SQL text.
//
// Thread-safety: a Database is safe to use from many threads. It holds a small pool of connections; each
// Execute/Query runs on one connection in autocommit mode, and Transaction() pins one connection for the
// body. Errors: a unique-key violation is AlreadyExists; a busy/locked database after the busy timeout is
// Unavailable; a broken connection is Unavailable (the connection is dropped and re-opened next time);
// other SQL errors are Internal (they are bugs in gyre's SQL), all naming the statement.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace gyre::store {

enum class Dialect { kSqlite, kPostgres };

// A SQL value: NULL, integer, real or text.
using Value = std::variant<std::monostate, int64_t, double, std::string>;

inline bool IsNull(const Value& v) { return std::holds_alternative<std::monostate>(v); }

// A fully materialised query result.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<Value>> rows;

  size_t size() const { return rows.size(); }
  bool empty() const { return rows.empty(); }
  // Typed reads; a NULL reads as the fallback. Integers read as doubles and vice versa are converted,
  // text holding a number is parsed (PostgreSQL returns NUMERIC aggregates as text).
  int64_t Int(size_t row, size_t col, int64_t fallback = 0) const;
  double Double(size_t row, size_t col, double fallback = 0) const;
  std::string Text(size_t row, size_t col, std::string fallback = "") const;
  bool Null(size_t row, size_t col) const { return IsNull(rows[row][col]); }
};

// A connection pinned for the length of a transaction. Valid only inside the Transaction() body.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Status Execute(std::string_view sql, std::span<const Value> params = {}) = 0;
  virtual Result<QueryResult> Query(std::string_view sql, std::span<const Value> params = {}) = 0;
  // Several statements separated by ';', no parameters (migrations).
  virtual Status ExecuteScript(std::string_view sql) = 0;
  // Rows changed by the last Execute on this connection.
  virtual int64_t changes() const = 0;
};

class Database {
 public:
  struct Options {
    int pool_size = 8;             // connections kept open at most
    int busy_timeout_ms = 10'000;  // SQLite: wait this long for a lock before Unavailable
  };

  // Opens a database from a URL:
  //   "sqlite" (the default: <state_dir>/gyre.db), "sqlite://relative/or/absolute/path.db",
  //   "sqlite::memory:" (tests; one shared in-memory database),
  //   "postgresql://user:password@host:port/dbname?param=value" (libpq connection URI; postgres:// too).
  // Relative SQLite paths resolve against state_dir. Fails if the first connection cannot be made.
  static Result<std::unique_ptr<Database>> Open(const std::string& url, const std::string& state_dir, Options options);
  static Result<std::unique_ptr<Database>> Open(const std::string& url, const std::string& state_dir) {
    return Open(url, state_dir, Options{});
  }

  virtual ~Database() = default;
  virtual Dialect dialect() const = 0;
  // A description without credentials, for logs: "sqlite:/abs/path/gyre.db", "postgresql://host:port/db".
  virtual std::string description() const = 0;

  // One statement in autocommit mode.
  virtual Status Execute(std::string_view sql, std::span<const Value> params = {}) = 0;
  virtual Result<QueryResult> Query(std::string_view sql, std::span<const Value> params = {}) = 0;

  // Runs `body` in one transaction on one connection: committed if it returns OK, rolled back otherwise
  // (its Status is returned). Write transactions take the write lock up front (SQLite BEGIN IMMEDIATE) so
  // concurrent writers queue instead of failing on upgrade.
  virtual Status Transaction(const std::function<Status(Connection&)>& body) = 0;
};

// "?, ?, ?": n placeholders; PlaceholderList adds the parentheses, for an IN list or a VALUES row.
std::string Placeholders(size_t n);
std::string PlaceholderList(size_t n);

// The first 120 characters of a statement on one line, for error messages.
std::string AbbreviateSql(std::string_view sql);

// Rewrites `?` placeholders outside quotes and comments to $1..$n. Exposed for tests.
std::string ToPostgresPlaceholders(std::string_view sql);

}  // namespace gyre::store
