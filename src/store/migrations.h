// Versioned schema migrations, one ordered list per component (tracking, registry, ...).
//
// Each component owns its migrations; applied versions are recorded in gyre_schema_migrations
// (component, version, name, applied_at). Migrate() applies, in order and each in its own transaction,
// every version above the recorded one, so a crash mid-way leaves the database at a well-defined version.
// A database recording a version newer than this binary knows is refused (FailedPrecondition): an old
// binary must not write to a schema it does not understand. Safe to call from several processes at once
// (SQLite: the write lock; PostgreSQL: an advisory lock per component).
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "store/database.h"

namespace gyre::store {

struct Migration {
  int version;               // 1, 2, 3, ... without gaps
  std::string name;          // what it does, e.g. "create runs"
  std::string sqlite_sql;    // one or more statements
  std::string postgres_sql;  // empty: same as sqlite_sql
};

Status Migrate(Database& db, const std::string& component, std::span<const Migration> migrations);

// SQL that makes the database itself refuse UPDATE and DELETE (and, on PostgreSQL, TRUNCATE) of `table`, for
// append-only logs: SQLite triggers, or a PostgreSQL trigger function named <table>_append_only.
std::string AppendOnlySqlite(std::string_view table);
std::string AppendOnlyPostgres(std::string_view table);

// The version recorded for `component`, 0 if none.
Result<int> SchemaVersion(Database& db, const std::string& component);

}  // namespace gyre::store
