// Every route `gyre server` registers has an entry in the one permission table (api/route_permissions.cc):
// a route added later without one fails here, and RequireAuth refuses to start a server with it.
#include "api/route_permissions.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "api/routes.h"
#include "core/workspace.h"
#include "services/workspace_services.h"

namespace gyre::api {
namespace {

namespace fs = std::filesystem;

class RoutePermissionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gyre_route_permissions_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    auto ws = Workspace::Open(dir_.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    auto services = services::WorkspaceServices::Open(*ws);
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    services_ = std::move(services).value();
    http::ServerOptions options;
    options.port = 0;
    auto server = http::Server::Create(options);
    ASSERT_TRUE(server.ok());
    server_ = std::move(server).value();
    AddRoutes(*server_, *services_);
  }
  void TearDown() override {
    server_.reset();
    services_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  std::unique_ptr<services::WorkspaceServices> services_;
  std::unique_ptr<http::Server> server_;
};

TEST_F(RoutePermissionsTest, EveryRegisteredRouteHasAnEntry) {
  std::vector<http::RouteRef> routes = server_->router().Routes();
  ASSERT_GT(routes.size(), 80u);
  for (const http::RouteRef& route : routes) {
    EXPECT_TRUE(PermissionFor(route.method, route.pattern).has_value())
        << route.method << " " << route.pattern << " has no entry in api/route_permissions.cc";
  }
  EXPECT_TRUE(RequireAuth(server_->router(), services_->auth()).ok());
}

TEST_F(RoutePermissionsTest, EveryEntryNamesARegisteredRoute) {
  std::set<std::pair<std::string, std::string>> registered;
  for (const http::RouteRef& r : server_->router().Routes()) registered.insert({std::string(r.method), std::string(r.pattern)});
  registered.insert({"GET", "/"});  // the index gyre server adds (cli/server_command.cc)
  for (const RoutePermission& p : RoutePermissions()) {
    EXPECT_TRUE(registered.count({std::string(p.method), std::string(p.pattern)}))
        << p.method << " " << p.pattern << " is in the table but no route has it";
  }
}

TEST_F(RoutePermissionsTest, ARouteWithoutAnEntryStopsRequireAuth) {
  server_->router().Add("POST", "/api/v1/something-new", [](const http::Request&) -> Result<http::Response> {
    return http::Response(200, "{}");
  });
  Status s = RequireAuth(server_->router(), services_->auth());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("POST /api/v1/something-new"), std::string::npos) << s.ToString();
}

TEST(RoutePermissionsTableTest, WritesNeedMoreThanRead) {
  using auth::Permission;
  EXPECT_EQ(PermissionFor("POST", "/api/2.0/mlflow/registered-models/alias"), Permission::kPromote);
  EXPECT_EQ(PermissionFor("POST", "/ajax-api/2.0/mlflow/registered-models/alias"), Permission::kPromote);
  EXPECT_EQ(PermissionFor("POST", "/api/2.0/mlflow/model-versions/transition-stage"), Permission::kPromote);
  EXPECT_EQ(PermissionFor("DELETE", "/api/2.0/mlflow/registered-models/delete"), Permission::kDeleteModels);
  EXPECT_EQ(PermissionFor("POST", "/api/2.0/mlflow/runs/create"), Permission::kTrack);
  EXPECT_EQ(PermissionFor("PUT", "/api/2.0/mlflow-artifacts/artifacts/{path...}"), Permission::kTrack);
  EXPECT_EQ(PermissionFor("GET", "/metrics"), Permission::kOpen);
  EXPECT_EQ(PermissionFor("GET", "/nowhere"), std::nullopt);
  // Every entry is unique.
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const RoutePermission& p : RoutePermissions()) {
    EXPECT_TRUE(seen.insert({p.method, p.pattern}).second) << p.method << " " << p.pattern;
  }
}

}  // namespace
}  // namespace gyre::api
