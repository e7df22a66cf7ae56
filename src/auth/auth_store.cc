#include "auth/auth_store.h"

#include <fmt/format.h>

#include "core/base64.h"
#include "core/time.h"
#include "store/migrations.h"

namespace gyre::auth {

using store::QueryResult;
using store::Value;

namespace {

// The log of audited requests, with `id` (the dialect's auto-increment key).
std::string RequestAuditTable(std::string_view id) {
  return fmt::format(R"(
CREATE TABLE auth_request_audit (
  id {},
  time_ms BIGINT NOT NULL,
  actor TEXT NOT NULL,
  method TEXT NOT NULL,
  route TEXT NOT NULL,
  target TEXT NOT NULL,
  status INTEGER NOT NULL,
  request_id TEXT NOT NULL);
CREATE INDEX auth_request_audit_by_time ON auth_request_audit (time_ms);
)",
                     id);
}

const std::vector<store::Migration>& Migrations() {
  static const std::vector<store::Migration> kMigrations = {
      {1, "users and API tokens", R"(
CREATE TABLE auth_users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  created_ms BIGINT NOT NULL);
CREATE TABLE auth_tokens (
  id TEXT PRIMARY KEY,
  user_name TEXT NOT NULL REFERENCES auth_users(name),
  secret_hash TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  revoked_ms BIGINT);
CREATE INDEX auth_tokens_by_user ON auth_tokens (user_name, created_ms);
)",
       ""},
      {2, "audited requests",
       RequestAuditTable("INTEGER PRIMARY KEY AUTOINCREMENT") + store::AppendOnlySqlite("auth_request_audit"),
       RequestAuditTable("BIGSERIAL PRIMARY KEY") + store::AppendOnlyPostgres("auth_request_audit")},
  };
  return kMigrations;
}

Status Denied() { return Status::PermissionDenied("invalid or revoked token"); }

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
              c == '_' || c == '-' || c == '@';
    if (!ok) return false;
  }
  return true;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    char a = s[i], b = prefix[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

TokenInfo TokenFromRow(const QueryResult& r, size_t i) {
  TokenInfo t;
  t.id = r.Text(i, 0);
  t.user = r.Text(i, 1);
  t.created_ms = r.Int(i, 2);
  if (!r.Null(i, 3)) t.revoked_ms = r.Int(i, 3);
  return t;
}

}  // namespace

Credentials ParseAuthorization(std::optional<std::string_view> header) {
  Credentials c;
  if (!header) return c;
  std::string_view value = Trim(*header);
  c.kind = Credentials::Kind::kMalformed;
  if (StartsWithIgnoreCase(value, "Bearer ")) {
    c.kind = Credentials::Kind::kBearer;
    c.secret = std::string(Trim(value.substr(7)));
  } else if (StartsWithIgnoreCase(value, "Basic ")) {
    Result<std::string> decoded = Base64Decode(Trim(value.substr(6)));
    if (!decoded.ok()) return c;
    size_t colon = decoded->find(':');
    if (colon == std::string::npos) return c;
    c.kind = Credentials::Kind::kBasic;
    c.user = decoded->substr(0, colon);
    c.secret = decoded->substr(colon + 1);
  }
  return c;
}

Result<std::unique_ptr<AuthStore>> AuthStore::Open(store::Database* db, Options options) {
  GYRE_RETURN_IF_ERROR(store::Migrate(*db, "auth", Migrations()));
  return std::unique_ptr<AuthStore>(new AuthStore(db, options));
}

Result<NewTokenResult> AuthStore::InsertToken(store::Connection& conn, const std::string& user) {
  TokenParts parts = NewToken();
  GYRE_ASSIGN_OR_RETURN(std::string hash, HashSecret(parts.secret, options_.kdf));
  NewTokenResult out;
  out.info.id = parts.id;
  out.info.user = user;
  out.info.created_ms = NowMillis();
  out.token = std::move(parts.secret);
  std::vector<Value> row{out.info.id, user, hash, out.info.created_ms};
  GYRE_RETURN_IF_ERROR(conn.Execute(
      "INSERT INTO auth_tokens (id, user_name, secret_hash, created_ms, revoked_ms) VALUES (?, ?, ?, ?, NULL)", row));
  return out;
}

Result<NewTokenResult> AuthStore::AddUser(const std::string& name, Role role) {
  if (!ValidUserName(name)) {
    return Status::InvalidArgument(
        fmt::format("user name '{}': 1 to 64 of letters, digits, '.', '_', '-', '@'", name.substr(0, 80)));
  }
  NewTokenResult out;
  Status s = db_->Transaction([&](store::Connection& conn) -> Status {
    std::vector<Value> row{name, std::string(RoleName(role)), NowMillis()};
    Status inserted = conn.Execute("INSERT INTO auth_users (name, role, created_ms) VALUES (?, ?, ?)", row);
    if (inserted.code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists(fmt::format("user '{}' already exists", name));
    }
    GYRE_RETURN_IF_ERROR(inserted);
    GYRE_ASSIGN_OR_RETURN(out, InsertToken(conn, name));
    return Status::OK();
  });
  GYRE_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<User>> AuthStore::ListUsers() {
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query("SELECT name, role, created_ms FROM auth_users ORDER BY name"));
  std::vector<User> users;
  for (size_t i = 0; i < r.size(); ++i) {
    users.push_back({r.Text(i, 0), ParseRole(r.Text(i, 1)).value_or(Role::kAnalyst), r.Int(i, 2)});
  }
  return users;
}

Result<User> AuthStore::GetUser(const std::string& name) {
  std::vector<Value> key{name};
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query("SELECT name, role, created_ms FROM auth_users WHERE name = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("no user '{}' (gyre users list shows them)", name));
  return User{r.Text(0, 0), ParseRole(r.Text(0, 1)).value_or(Role::kAnalyst), r.Int(0, 2)};
}

Result<NewTokenResult> AuthStore::CreateToken(const std::string& user) {
  NewTokenResult out;
  Status s = db_->Transaction([&](store::Connection& conn) -> Status {
    std::vector<Value> key{user};
    GYRE_ASSIGN_OR_RETURN(QueryResult r, conn.Query("SELECT name FROM auth_users WHERE name = ?", key));
    if (r.empty()) return Status::NotFound(fmt::format("no user '{}' (gyre users list shows them)", user));
    GYRE_ASSIGN_OR_RETURN(out, InsertToken(conn, user));
    return Status::OK();
  });
  GYRE_RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<TokenInfo>> AuthStore::ListTokens(const std::string& user) {
  QueryResult r;
  if (user.empty()) {
    GYRE_ASSIGN_OR_RETURN(r, db_->Query("SELECT id, user_name, created_ms, revoked_ms FROM auth_tokens "
                                        "ORDER BY created_ms, id"));
  } else {
    std::vector<Value> key{user};
    GYRE_ASSIGN_OR_RETURN(r, db_->Query("SELECT id, user_name, created_ms, revoked_ms FROM auth_tokens "
                                        "WHERE user_name = ? ORDER BY created_ms, id",
                                        key));
  }
  std::vector<TokenInfo> tokens;
  for (size_t i = 0; i < r.size(); ++i) tokens.push_back(TokenFromRow(r, i));
  return tokens;
}

Status AuthStore::RevokeToken(const std::string& id) {
  std::vector<Value> key{id};
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query("SELECT revoked_ms FROM auth_tokens WHERE id = ?", key));
  if (r.empty()) return Status::NotFound(fmt::format("no token with id '{}' (gyre tokens list shows them)", id));
  if (r.Null(0, 0)) {
    std::vector<Value> params{NowMillis(), id};
    GYRE_RETURN_IF_ERROR(db_->Execute("UPDATE auth_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL",
                                      params));
  }
  std::lock_guard lock(cache_mu_);
  cache_.clear();
  return Status::OK();
}

Result<Identity> AuthStore::AuthenticateToken(std::string_view token) {
  std::string_view id = TokenId(token);
  if (id.empty()) return Denied();
  std::string key = CacheKey(token);
  int64_t now = NowMillis();
  {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (it->second.expires_ms > now) return it->second.identity;
      cache_.erase(it);
    }
  }
  std::vector<Value> params{std::string(id)};
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query("SELECT t.secret_hash, t.revoked_ms, u.name, u.role FROM "
                                                  "auth_tokens t JOIN auth_users u ON u.name = t.user_name "
                                                  "WHERE t.id = ?",
                                                  params));
  if (r.empty() || !r.Null(0, 1)) return Denied();
  if (!VerifySecret(token, r.Text(0, 0))) return Denied();
  std::optional<Role> role = ParseRole(r.Text(0, 3));
  if (!role) return Denied();
  Identity identity{r.Text(0, 2), *role, std::string(id)};
  std::lock_guard lock(cache_mu_);
  if (cache_.size() >= options_.cache_capacity) cache_.clear();
  cache_[std::move(key)] = CacheEntry{identity, now + options_.cache_ttl_ms};
  return identity;
}

Result<Identity> AuthStore::Authenticate(const Credentials& credentials) {
  switch (credentials.kind) {
    case Credentials::Kind::kBearer:
      return AuthenticateToken(credentials.secret);
    case Credentials::Kind::kBasic: {
      GYRE_ASSIGN_OR_RETURN(Identity identity, AuthenticateToken(credentials.secret));
      if (identity.user != credentials.user) return Denied();
      return identity;
    }
    case Credentials::Kind::kNone:
      return Status::PermissionDenied("no credentials");
    case Credentials::Kind::kMalformed:
      return Status::PermissionDenied("malformed Authorization header (expected Bearer or Basic)");
  }
  return Denied();
}

}  // namespace gyre::auth

namespace gyre::auth {

Status AuthStore::RecordRequest(const AuditedRequest& request) {
  constexpr size_t kMaxTarget = 2048;  // the artifact proxy's longest path, with room for a query
  std::vector<Value> row{request.time_ms,
                         request.actor,
                         request.method,
                         request.route,
                         request.target.substr(0, kMaxTarget),
                         static_cast<int64_t>(request.status),
                         request.request_id};
  return db_->Execute(
      "INSERT INTO auth_request_audit (time_ms, actor, method, route, target, status, request_id) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      row);
}

Result<std::vector<AuditedRequest>> AuthStore::ListRequests(const RequestAuditQuery& query) {
  if (query.max_results <= 0 || query.max_results > 100'000) {
    return Status::InvalidArgument(fmt::format("max_results {}: must be between 1 and 100000", query.max_results));
  }
  std::string sql = "SELECT time_ms, actor, method, route, target, status, request_id FROM auth_request_audit WHERE 1 = 1";
  std::vector<Value> params;
  if (query.since) {
    sql += " AND time_ms >= ?";
    params.emplace_back(*query.since);
  }
  if (query.until) {
    sql += " AND time_ms < ?";
    params.emplace_back(*query.until);
  }
  if (query.actor) {
    sql += " AND actor = ?";
    params.emplace_back(*query.actor);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(query.max_results);
  GYRE_ASSIGN_OR_RETURN(QueryResult r, db_->Query(sql, params));
  std::vector<AuditedRequest> out;
  for (size_t i = 0; i < r.size(); ++i) {
    out.push_back({r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4), static_cast<int>(r.Int(i, 5)),
                   r.Text(i, 6)});
  }
  return out;
}

}  // namespace gyre::auth
