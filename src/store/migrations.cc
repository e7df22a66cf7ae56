#include "store/migrations.h"

#include <fmt/format.h>


#include "core/time.h"

namespace gyre::store {
namespace {

constexpr const char* kCreateTable =
    "CREATE TABLE IF NOT EXISTS gyre_schema_migrations ("
    " component TEXT NOT NULL, version BIGINT NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL,"
    " PRIMARY KEY (component, version))";

Result<int> CurrentVersion(Connection& conn, const std::string& component) {
  std::vector<Value> params{component};
  GYRE_ASSIGN_OR_RETURN(QueryResult r,
                        conn.Query("SELECT MAX(version) FROM gyre_schema_migrations WHERE component = ?", params));
  return static_cast<int>(r.Int(0, 0, 0));
}

}  // namespace

Result<int> SchemaVersion(Database& db, const std::string& component) {
  GYRE_RETURN_IF_ERROR(db.Execute(kCreateTable));
  int version = 0;
  GYRE_RETURN_IF_ERROR(db.Transaction([&](Connection& conn) -> Status {
    GYRE_ASSIGN_OR_RETURN(version, CurrentVersion(conn, component));
    return Status::OK();
  }));
  return version;
}

Status Migrate(Database& db, const std::string& component, std::span<const Migration> migrations) {
  for (size_t i = 0; i < migrations.size(); ++i) {
    if (migrations[i].version != static_cast<int>(i) + 1) {
      return Status::Internal(fmt::format("migrations of '{}' must be numbered 1..n without gaps", component));
    }
  }
  GYRE_RETURN_IF_ERROR(db.Execute(kCreateTable));
  const int known = static_cast<int>(migrations.size());
  for (;;) {
    bool done = false;
    Status status = db.Transaction([&](Connection& conn) -> Status {
      if (db.dialect() == Dialect::kPostgres) {
        std::vector<Value> key{component};
        GYRE_RETURN_IF_ERROR(conn.Query("SELECT pg_advisory_xact_lock(hashtext(?))", key).status());
      }
      GYRE_ASSIGN_OR_RETURN(int current, CurrentVersion(conn, component));
      if (current > known) {
        return Status::FailedPrecondition(
            fmt::format("{}: schema of '{}' is at version {}, newer than this gyre knows ({}); upgrade gyre",
                        db.description(), component, current, known));
      }
      if (current == known) {
        done = true;
        return Status::OK();
      }
      const Migration& m = migrations[current];
      const std::string& sql =
          db.dialect() == Dialect::kPostgres && !m.postgres_sql.empty() ? m.postgres_sql : m.sqlite_sql;
      Status applied = conn.ExecuteScript(sql);
      if (!applied.ok()) {
        return applied.WithContext(fmt::format("migration {} '{}' of '{}'", m.version, m.name, component));
      }
      std::vector<Value> row{component, static_cast<int64_t>(m.version), m.name, NowMillis()};
      return conn.Execute(
          "INSERT INTO gyre_schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)", row);
    });
    GYRE_RETURN_IF_ERROR(status);
    if (done) return Status::OK();
  }
}

std::string AppendOnlySqlite(std::string_view table) {
  return fmt::format(R"(
CREATE TRIGGER {0}_no_update BEFORE UPDATE ON {0}
  BEGIN SELECT RAISE(ABORT, '{0} is append-only'); END;
CREATE TRIGGER {0}_no_delete BEFORE DELETE ON {0}
  BEGIN SELECT RAISE(ABORT, '{0} is append-only'); END;
)",
                     table);
}

std::string AppendOnlyPostgres(std::string_view table) {
  return fmt::format(R"(
CREATE FUNCTION {0}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '{0} is append-only';
END;
$$;
CREATE TRIGGER {0}_no_change BEFORE UPDATE OR DELETE ON {0}
  FOR EACH ROW EXECUTE PROCEDURE {0}_append_only();
CREATE TRIGGER {0}_no_truncate BEFORE TRUNCATE ON {0}
  FOR EACH STATEMENT EXECUTE PROCEDURE {0}_append_only();
)",
                     table);
}

}  // namespace gyre::store
