// A real gyre HTTP server on 127.0.0.1 (port chosen by the system) with the MLflow routes over a real
// store of each backend, and a raw HTTP client speaking to it the way the MLflow Python client does.
#pragma once

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

#include "api/mlflow_tracking_routes.h"
#include "http/server.h"
#include "tests/http/test_client.h"
#include "tests/store/store_backends.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace gyre::api::testing {

struct Reply {
  int status = 0;
  nlohmann::json json;
  std::string body;
  std::string www_authenticate;  // the WWW-Authenticate header of a 401
};

class MlflowServerTest : public store::testing::BackendTest {
 protected:
  void SetUp() override {
    BackendTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    auto tracking = tracking::TrackingStore::Open(db_.get(), "mlflow-artifacts:");
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    tracking_ = std::move(tracking).value();
    auto artifacts = tracking::ArtifactStore::Open((dir_ / "artifacts").string());
    ASSERT_TRUE(artifacts.ok());
    artifacts_ = std::make_unique<tracking::ArtifactStore>(std::move(artifacts).value());
    http::ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.max_body_bytes = 4 << 20;
    auto server = http::Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    AddRoutes(server_->router());
    ASSERT_TRUE(server_->Start().ok());
    client_.Connect(server_->port());
  }

  void TearDown() override {
    client_.Close();
    if (server_) (void)server_->Shutdown();
    server_.reset();
    BackendTest::TearDown();
  }

  virtual void AddRoutes(http::Router& router) { AddMlflowTrackingRoutes(router, tracking_.get(), artifacts_.get()); }

  // `headers`: whole header lines ("Authorization: Bearer ...") sent after the client's own.
  Reply Send(const std::string& method, const std::string& target, const std::string& body,
             const std::string& content_type = "application/json", const std::vector<std::string>& headers = {}) {
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: mlflow-python-client/2.12.2\r\n";
    for (const std::string& h : headers) request += h + "\r\n";
    if (!body.empty() || method != "GET") {
      request += "Content-Type: " + content_type + "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    }
    request += "\r\n" + body;
    Reply reply;
    if (!client_.connected()) client_.Connect(server_->port());
    EXPECT_TRUE(client_.Send(request));
    auto response = client_.Read(10000);
    EXPECT_TRUE(response.has_value()) << method << " " << target;
    if (!response) {
      client_.Close();
      return reply;
    }
    reply.status = response->status;
    reply.body = response->body;
    reply.www_authenticate = response->Header("www-authenticate");
    if (response->Header("connection") == "close") client_.Close();
    reply.json = nlohmann::json::parse(response->body, nullptr, false);
    return reply;
  }
  Reply Post(const std::string& endpoint, const nlohmann::json& body) {
    return Send("POST", std::string(kMlflowApiPrefix) + "/" + endpoint, body.dump());
  }
  Reply Get(const std::string& endpoint_and_query) {
    return Send("GET", std::string(kMlflowApiPrefix) + "/" + endpoint_and_query, "");
  }

  std::unique_ptr<tracking::TrackingStore> tracking_;
  std::unique_ptr<tracking::ArtifactStore> artifacts_;
  std::unique_ptr<http::Server> server_;
  http::testing::RawClient client_;
};

}  // namespace gyre::api::testing
