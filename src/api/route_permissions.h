// Who may call which route: the one table of per-route permissions (method + route pattern → the
// auth::Permission it needs), and the router guard that enforces it when a server runs with
// authentication on (`gyre server --auth required`, docs/auth.md).
//
// The MLflow routes are served under two prefixes (/api/2.0/mlflow and the UI's /ajax-api/2.0/mlflow); the
// table names the first, and the second reads as it. Every route the server registers must have an entry:
// RequireAuth refuses to install a guard over a router holding a route without one, and the test
// tests/api/route_permissions_test.cc walks every registered route.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "auth/auth_store.h"
#include "auth/roles.h"
#include "core/status.h"
#include "http/router.h"

namespace gyre::api {

struct RoutePermission {
  std::string_view method;
  std::string_view pattern;
  auth::Permission permission;
};

// The whole table, in the order of the route files.
std::span<const RoutePermission> RoutePermissions();

// The permission `method pattern` needs, or nullopt when the table has no entry for it.
std::optional<auth::Permission> PermissionFor(std::string_view method, std::string_view pattern);

// Installs on `router` the guard that, for each matched request:
//   - lets routes marked kOpen through without looking at credentials (health, readiness, /metrics);
//   - answers 401 with `WWW-Authenticate` when the request carries no credentials, malformed ones, or
//     ones that do not verify (auth::AuthStore::Authenticate);
//   - answers 403 naming the missing permission when the user's role does not grant it;
//   - otherwise passes the authenticated user's name to the handler (Request::user), which is then the
//     audit actor; X-Gyre-User is ignored.
// Call after every route is added and before the server starts. FailedPrecondition, naming them, if any
// registered route has no entry in the table. `store` must outlive the router.
Status RequireAuth(http::Router& router, auth::AuthStore& store);

}  // namespace gyre::api
