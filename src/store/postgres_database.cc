// PostgreSQL backend of store::Database (libpq): the scale-out metadata store.
//
// Parameters are sent as text and results read as text, converted by the column's type OID; statements
// are prepared once per connection (named s0, s1, ... by first use). A connection that libpq reports as
// bad is marked broken, dropped from the pool, and the error is Unavailable so callers may retry.
#include <fmt/format.h>
#include <libpq-fe.h>

#include <charconv>
#include <optional>
#include <unordered_map>

#include "store/connection_pool.h"
#include "store/database.h"
#include "store/sqlite_database.h"

namespace gyre::store {
namespace {

// Type OIDs from PostgreSQL's catalog (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26, kFloat4Oid = 700,
              kFloat8Oid = 701, kNumericOid = 1700;

// Hides the password in a connection URI for messages.
std::string Redact(const std::string& url) {
  size_t scheme = url.find("://");
  size_t at = url.find('@');
  if (scheme == std::string::npos || at == std::string::npos) return url;
  size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + ":***" + url.substr(at);
}

class PgConnection final : public Connection {
 public:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}
  ~PgConnection() override { PQfinish(conn_); }

  static Result<std::unique_ptr<PgConnection>> Open(const std::string& url) {
    PGconn* conn = PQconnectdb(url.c_str());
    if (PQstatus(conn) != CONNECTION_OK) {
      std::string msg = PQerrorMessage(conn);
      while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
      PQfinish(conn);
      return Status::Unavailable(fmt::format("{}: cannot connect: {}", Redact(url), msg));
    }
    auto c = std::make_unique<PgConnection>(conn);
    // Quiet NOTICEs (e.g. "relation already exists, skipping") that libpq would print to stderr.
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    GYRE_RETURN_IF_ERROR(c->ExecuteScript("SET client_min_messages = warning"));
    return c;
  }

  bool broken() const { return PQstatus(conn_) != CONNECTION_OK; }

  Status Execute(std::string_view sql, std::span<const Value> params) override {
    GYRE_ASSIGN_OR_RETURN(PGresult * res, Run(sql, params));
    const char* tuples = PQcmdTuples(res);
    changes_ = (tuples && *tuples) ? std::atoll(tuples) : 0;
    PQclear(res);
    return Status::OK();
  }

  Result<QueryResult> Query(std::string_view sql, std::span<const Value> params) override {
    GYRE_ASSIGN_OR_RETURN(PGresult * res, Run(sql, params));
    QueryResult result;
    int ncol = PQnfields(res), nrow = PQntuples(res);
    std::vector<Oid> types(ncol);
    for (int c = 0; c < ncol; ++c) {
      result.columns.emplace_back(PQfname(res, c));
      types[c] = PQftype(res, c);
    }
    result.rows.resize(nrow);
    for (int r = 0; r < nrow; ++r) {
      std::vector<Value>& row = result.rows[r];
      row.reserve(ncol);
      for (int c = 0; c < ncol; ++c) {
        if (PQgetisnull(res, r, c)) {
          row.emplace_back(std::monostate{});
          continue;
        }
        const char* v = PQgetvalue(res, r, c);
        int len = PQgetlength(res, r, c);
        switch (types[c]) {
          case kInt8Oid:
          case kInt4Oid:
          case kInt2Oid:
          case kOidOid: {
            int64_t x = 0;
            std::from_chars(v, v + len, x);
            row.emplace_back(x);
            break;
          }
          case kFloat4Oid:
          case kFloat8Oid:
          case kNumericOid: {
            row.emplace_back(ParseDouble(std::string_view(v, len)));
            break;
          }
          case kBoolOid:
            row.emplace_back(static_cast<int64_t>(v[0] == 't'));
            break;
          default:
            row.emplace_back(std::string(v, len));
        }
      }
    }
    PQclear(res);
    return result;
  }

  Status ExecuteScript(std::string_view sql) override {
    PGresult* res = PQexec(conn_, std::string(sql).c_str());
    Status status = Check(res, sql);
    PQclear(res);
    return status;
  }

  int64_t changes() const override { return changes_; }

 private:
  static double ParseDouble(std::string_view s) {
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    double x = 0;
    std::from_chars(s.data(), s.data() + s.size(), x);
    return x;
  }

  Result<PGresult*> Run(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto it = prepared_.find(key);
    if (it == prepared_.end()) {
      std::string name = fmt::format("s{}", prepared_.size());
      PGresult* res = PQprepare(conn_, name.c_str(), ToPostgresPlaceholders(sql).c_str(), 0, nullptr);
      Status status = Check(res, sql);
      PQclear(res);
      GYRE_RETURN_IF_ERROR(status);
      it = prepared_.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      values[i] = std::visit(
          [&](const auto& v) -> const char* {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
              return nullptr;
            } else if constexpr (std::is_same_v<T, std::string>) {
              return v.c_str();
            } else if constexpr (std::is_same_v<T, double>) {
              if (std::isnan(v)) return "NaN";
              if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
              char buf[32];
              text[i].assign(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
              return text[i].c_str();
            } else {
              text[i] = std::to_string(v);
              return text[i].c_str();
            }
          },
          params[i]);
    }
    PGresult* res =
        PQexecPrepared(conn_, it->second.c_str(), static_cast<int>(params.size()), values.data(), nullptr, nullptr, 0);
    Status status = Check(res, sql);
    if (!status.ok()) {
      PQclear(res);
      return status;
    }
    return res;
  }

  Status Check(PGresult* res, std::string_view sql) {
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY) return Status::OK();
    std::string msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn_);
    while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) msg.pop_back();
    std::string text = fmt::format("postgresql: {} (in: {})", msg, AbbreviateSql(sql));
    if (broken()) return Status::Unavailable(std::move(text));
    const char* state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::string_view code = state ? state : "";
    if (code == "23505") return Status::AlreadyExists(std::move(text));
    if (code == "40001" || code == "40P01" || code.starts_with("08") || code == "57P01") {
      return Status::Unavailable(std::move(text));
    }
    if (code == "53100") return Status::IOError(std::move(text));  // disk full
    return Status::Internal(std::move(text));
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;
  int64_t changes_ = 0;
};

class PostgresDatabase final : public PooledDatabase<PgConnection> {
 public:
  PostgresDatabase(const std::string& url, Database::Options options)
      : PooledDatabase(
            Dialect::kPostgres, Redact(url), "BEGIN", [url] { return PgConnection::Open(url); },
            static_cast<size_t>(options.pool_size)) {}

  Status Init() { return CheckConnection(); }
};

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url, Database::Options options) {
  auto db = std::make_unique<PostgresDatabase>(url, options);
  GYRE_RETURN_IF_ERROR(db->Init());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace gyre::store
