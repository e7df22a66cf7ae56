// Client: a small blocking HTTP/1.1 client over one keep-alive connection (Boost.Beast), for gyre's own
// use: `gyre demo` talking to its in-process server, CLI commands talking to a remote `gyre server`.
// Not for serving paths. Not thread-safe: one Client per thread. Transport errors are Unavailable; an
// HTTP error status is not an error here (the caller reads ClientResponse::status).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <utility>
#include <string_view>

#include "core/status.h"

namespace gyre::http {

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

class Client {
 public:
  // Connects to host:port (reconnects by itself if the server closes the connection between requests).
  static Result<std::unique_ptr<Client>> Connect(const std::string& host, int port, int timeout_ms = 30'000);
  ~Client();

  Result<ClientResponse> Request(std::string_view method, std::string_view target, std::string_view body = {},
                                 std::string_view content_type = "application/json",
                                 std::span<const std::pair<std::string, std::string>> headers = {});

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gyre::http
