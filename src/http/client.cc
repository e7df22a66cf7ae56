#include "http/client.h"

#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace gyre::http {

namespace beast = boost::beast;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct Client::Impl {
  asio::io_context io;
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  std::string host;
  int port = 0;
  std::chrono::milliseconds timeout{30'000};
  bool connected = false;

  Status Open() {
    beast::error_code ec;
    tcp::resolver resolver(io);
    auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) return Status::Unavailable(fmt::format("{}:{}: cannot resolve: {}", host, port, ec.message()));
    stream.expires_after(timeout);
    stream.connect(endpoints, ec);
    if (ec) return Status::Unavailable(fmt::format("{}:{}: cannot connect: {}", host, port, ec.message()));
    stream.socket().set_option(tcp::no_delay(true), ec);
    connected = true;
    return Status::OK();
  }

  void Close() {
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
    buffer.clear();
    connected = false;
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() {
  if (impl_ && impl_->connected) impl_->Close();
}

Result<std::unique_ptr<Client>> Client::Connect(const std::string& host, int port, int timeout_ms) {
  auto impl = std::make_unique<Impl>();
  impl->host = host;
  impl->port = port;
  impl->timeout = std::chrono::milliseconds(timeout_ms);
  GYRE_RETURN_IF_ERROR(impl->Open());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Result<ClientResponse> Client::Request(std::string_view method, std::string_view target, std::string_view body,
                                       std::string_view content_type,
                                       std::span<const std::pair<std::string, std::string>> headers) {
  beast::http::request<beast::http::string_body> req;
  req.method_string(beast::string_view(method.data(), method.size()));
  req.target(beast::string_view(target.data(), target.size()));
  req.version(11);
  req.set(beast::http::field::host, impl_->host);
  req.set(beast::http::field::user_agent, "gyre");
  for (const auto& [name, value] : headers) req.set(name, value);
  if (!body.empty() || method != "GET") {
    req.set(beast::http::field::content_type, beast::string_view(content_type.data(), content_type.size()));
    req.body() = std::string(body);
  }
  req.prepare_payload();
  // One retry on a fresh connection: the server may have closed an idle keep-alive connection.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!impl_->connected) GYRE_RETURN_IF_ERROR(impl_->Open());
    beast::error_code ec;
    impl_->stream.expires_after(impl_->timeout);
    beast::http::write(impl_->stream, req, ec);
    beast::http::response<beast::http::string_body> res;
    if (!ec) beast::http::read(impl_->stream, impl_->buffer, res, ec);
    if (ec) {
      impl_->Close();
      if (attempt == 0) continue;
      return Status::Unavailable(fmt::format("{} {}: {}", method, target, ec.message()));
    }
    if (!res.keep_alive()) impl_->Close();
    ClientResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[beast::http::field::content_type]);
    out.body = std::move(res.body());
    return out;
  }
  return Status::Unavailable(fmt::format("{} {}: failed", method, target));
}

}  // namespace gyre::http
