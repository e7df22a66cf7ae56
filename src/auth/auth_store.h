// AuthStore: gyre's users and API tokens, in the workspace's metadata database (SQLite or PostgreSQL,
// component "auth" of store/migrations.h), the check of presented credentials, and the log of audited
// requests (who changed what through the HTTP API outside the registry, which keeps its own).
//
// A user has a unique name and one role (auth/roles.h). A user holds any number of API tokens
// (auth/secrets.h: "gyre_<id>_<secret>"); only an Argon2id hash of each is stored, so a token is shown
// once, when created. A revoked token stays listed, with its revocation time, and never authenticates again.
//
// Credentials: `Authorization: Bearer <token>` (MLFLOW_TRACKING_TOKEN), or HTTP Basic with the user's name
// and one of the user's tokens as the password (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD): the
// password is checked, and must be a token of that very user. gyre stores no other passwords.
//
// Speed: Argon2id takes tens of ms by design, so a token that verified is remembered in memory, keyed by
// its BLAKE2b hash, for Options::cache_ttl_ms; later requests with it cost a hash and a map lookup.
// Revoking through this object clears the cache at once; a revocation made by another process (the CLI
// while a server runs) takes effect in the server within cache_ttl_ms. Failures are never cached.
//
// Thread-safety: all methods are safe to call concurrently. The Database must outlive the store.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/roles.h"
#include "auth/secrets.h"
#include "core/status.h"
#include "store/database.h"

namespace gyre::auth {

struct User {
  std::string name;
  Role role = Role::kAnalyst;
  int64_t created_ms = 0;
};

struct TokenInfo {
  std::string id;  // public: 12 hex digits
  std::string user;
  int64_t created_ms = 0;
  std::optional<int64_t> revoked_ms;
};

// A token just made: `token` is its full text, shown once and never stored.
struct NewTokenResult {
  TokenInfo info;
  std::string token;
};

// Who a request is from, once its credentials verified.
struct Identity {
  std::string user;
  Role role = Role::kAnalyst;
  std::string token_id;
};

// One audited request (api/route_permissions.h names which routes are): a change the caller made through the
// HTTP API, recorded after it succeeded. The registry's changes have their own, richer log (registry_store.h).
struct AuditedRequest {
  int64_t time_ms = 0;
  std::string actor;   // the authenticated user with auth on; else as claimed (api::ActorOf), "" if none
  std::string method;  // "POST"
  std::string route;   // the route's pattern, e.g. "/api/2.0/mlflow/runs/delete"
  std::string target;  // the request's path and query, at most 2048 bytes
  int status = 0;      // the HTTP status answered
  std::string request_id;
  bool operator==(const AuditedRequest&) const = default;
};

struct RequestAuditQuery {
  std::optional<int64_t> since;  // ms, inclusive
  std::optional<int64_t> until;  // ms, exclusive
  std::optional<std::string> actor;
  int64_t max_results = 100;     // 1 .. 100000
};

// What a request presented, parsed from its Authorization header (ParseAuthorization).
struct Credentials {
  enum class Kind { kNone, kBearer, kBasic, kMalformed } kind = Kind::kNone;
  std::string user;    // Basic only
  std::string secret;  // the token (Bearer) or the password (Basic)
};
// Parses an Authorization header's value ("Bearer X", "Basic base64(user:password)"; scheme names are
// case-insensitive). An absent header is kNone; another scheme or bad base64 is kMalformed.
Credentials ParseAuthorization(std::optional<std::string_view> header);

class AuthStore {
 public:
  struct Options {
    KdfCost kdf = InteractiveKdf();  // Argon2id cost of new hashes (verification reads it from the hash)
    int64_t cache_ttl_ms = 10'000;   // how long a verified token is trusted without re-reading its row
    size_t cache_capacity = 10'000;  // verified tokens remembered at most (the cache is emptied when full)
  };

  // Migrates the "auth" schema. The Database must outlive the store.
  static Result<std::unique_ptr<AuthStore>> Open(store::Database* db, Options options);
  static Result<std::unique_ptr<AuthStore>> Open(store::Database* db) { return Open(db, Options{}); }

  // Adds a user with `role` and a first token. InvalidArgument for a bad name (1–64 of letters, digits,
  // '.', '_', '-', '@'), AlreadyExists if the name is taken.
  Result<NewTokenResult> AddUser(const std::string& name, Role role);
  // All users by name.
  Result<std::vector<User>> ListUsers();
  // NotFound if no such user.
  Result<User> GetUser(const std::string& name);

  // A new token for an existing user (NotFound otherwise).
  Result<NewTokenResult> CreateToken(const std::string& user);
  // Tokens (revoked ones too), of one user or of all when `user` is empty, oldest first.
  Result<std::vector<TokenInfo>> ListTokens(const std::string& user = "");
  // Revokes a token by id. NotFound if no such token; revoking a revoked token is OK (idempotent).
  Status RevokeToken(const std::string& id);

  // The identity of a token. PermissionDenied ("invalid or revoked token") for anything that does not
  // verify, whatever the reason, so a caller learns nothing about which tokens exist.
  Result<Identity> AuthenticateToken(std::string_view token);
  // Checks parsed credentials: Bearer → AuthenticateToken; Basic → the password must be a token of the
  // named user. kNone and kMalformed are PermissionDenied too (the caller tells "none" apart by kind).
  Result<Identity> Authenticate(const Credentials& credentials);

  // The log of audited requests: append-only (the database refuses updates and deletes of it), newest first.
  // A record is written after its request's change committed, so a crash between the two loses the record.
  Status RecordRequest(const AuditedRequest& request);
  Result<std::vector<AuditedRequest>> ListRequests(const RequestAuditQuery& query);

 private:
  AuthStore(store::Database* db, Options options) : db_(db), options_(options) {}

  Result<NewTokenResult> InsertToken(store::Connection& conn, const std::string& user);

  struct CacheEntry {
    Identity identity;
    int64_t expires_ms;
  };

  store::Database* db_;
  Options options_;
  std::mutex cache_mu_;
  std::unordered_map<std::string, CacheEntry> cache_;  // GUARDED_BY(cache_mu_); key: CacheKey(token)
};

}  // namespace gyre::auth
