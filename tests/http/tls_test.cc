// The server over TLS, end to end against a certificate generated per test: a Beast/Asio TLS client that
// verifies the certificate, curl and Python's requests (the MLflow client's HTTP library) as real clients;
// refused TLS 1.1, plain HTTP sent to the TLS port, a client that never handshakes, close_notify on
// Connection: close, the drain; and every startup error naming its file.
#include "http/tls.h"

#include <gtest/gtest.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "http/server.h"
#include "test_certificate.h"
#include "test_client.h"

namespace gyre::http {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
namespace bhttp = boost::beast::http;
namespace fs = std::filesystem;
using testing::RawClient;
using testing::RequestText;
using testing::TestCertificate;
using testing::Clock;
using testing::MsSince;

// A blocking TLS client that verifies the server's certificate against `ca_file` and the name 127.0.0.1.
// `version` pins the protocol (0: whatever both sides support).
class TlsClient {
 public:
  TlsClient(int port, const std::string& ca_file, int version = 0) : context_(ssl::context::tls_client) {
    SSL_CTX* ctx = context_.native_handle();
    if (version != 0) {
      // Let OpenSSL speak an old version at all (its default security level refuses TLS < 1.2 itself),
      // so that any refusal is the server's.
      SSL_CTX_set_security_level(ctx, 0);
      SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
      SSL_CTX_set_min_proto_version(ctx, version);
      SSL_CTX_set_max_proto_version(ctx, version);
    }
    context_.load_verify_file(ca_file);
    context_.set_verify_mode(ssl::verify_peer);
    context_.set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    stream_.emplace(io_, context_);
    boost::system::error_code ec;
    stream_->next_layer().connect(
        asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
    if (!ec)
      stream_->handshake(ssl::stream_base::client, handshake_error_);
    else
      handshake_error_ = ec;
  }

  const boost::system::error_code& handshake_error() const { return handshake_error_; }
  int version() { return SSL_version(stream_->native_handle()); }

  // Sends one request and reads its response; status 0 when the exchange failed.
  bhttp::response<bhttp::string_body> Fetch(const std::string& request_text) {
    boost::system::error_code ec;
    asio::write(*stream_, asio::buffer(request_text), ec);
    bhttp::response<bhttp::string_body> response;
    if (!ec) bhttp::read(*stream_, buffer_, response, ec);
    if (ec) {
      response.result(0u);
      response.body() = ec.message();
    }
    return response;
  }

  // What the next read meets once the server closed: eof after a close_notify, stream_truncated without.
  boost::system::error_code ReadToClose() {
    boost::system::error_code ec;
    char byte;
    stream_->read_some(asio::buffer(&byte, 1), ec);
    return ec;
  }

 private:
  asio::io_context io_;
  ssl::context context_;
  std::optional<ssl::stream<asio::ip::tcp::socket>> stream_;
  boost::beast::flat_buffer buffer_;
  boost::system::error_code handshake_error_;
};

// Runs a shell command; its stdout, and its exit code through *exit_code.
std::string Shell(const std::string& command, int* exit_code) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  int status = ::pclose(pipe);
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

class TlsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gyre_tls_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    cert_ = testing::MakeTestCertificate(dir_);
  }
  void TearDown() override {
    if (server_) (void)server_->Shutdown();
    fs::remove_all(dir_);
  }

  ServerOptions TlsOptions() const {
    ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.read_timeout_ms = 3000;
    o.idle_timeout_ms = 3000;
    o.drain_timeout_ms = 3000;
    o.tls_cert = cert_.cert;
    o.tls_key = cert_.key;
    return o;
  }

  void Start(ServerOptions options) {
    auto server = Server::Create(options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
    server_->router().Add("POST", "/echo", [](const Request& req) -> Result<Response> {
      return Response(200, std::string(req.body), "application/octet-stream");
    });
    server_->router().Add("GET", "/big", [](const Request&) -> Result<Response> {
      return Response::Text(200, std::string(200 * 1024, 'x'));
    });
    ASSERT_TRUE(server_->Start().ok());
    port_ = server_->port();
  }

  std::string Url(const std::string& path) const { return "https://127.0.0.1:" + std::to_string(port_) + path; }

  Status CreateError(const std::string& cert, const std::string& key) {
    ServerOptions o = TlsOptions();
    o.tls_cert = cert;
    o.tls_key = key;
    return Server::Create(o).status();
  }

  void WriteFile(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

  fs::path dir_;
  TestCertificate cert_;
  std::unique_ptr<Server> server_;
  int port_ = 0;
};

TEST_F(TlsServerTest, KeepAliveRequestsOverOneVerifiedConnection) {
  Start(TlsOptions());
  EXPECT_TRUE(server_->tls());
  EXPECT_EQ(server_->url(), "https://127.0.0.1:" + std::to_string(port_));
  TlsClient client(port_, cert_.cert);
  ASSERT_FALSE(client.handshake_error()) << client.handshake_error().message();
  EXPECT_GE(client.version(), TLS1_2_VERSION);
  for (int i = 0; i < 5; ++i) {
    auto health = client.Fetch(RequestText("GET", "/health"));
    EXPECT_EQ(health.result_int(), 200) << health.body();
    EXPECT_EQ(health.body(), R"({"status":"ok"})");
  }
  std::string body(50'000, 'b');
  auto echoed = client.Fetch(RequestText("POST", "/echo", body));
  EXPECT_EQ(echoed.result_int(), 200);
  EXPECT_EQ(echoed.body(), body);
  auto big = client.Fetch(RequestText("GET", "/big"));  // the large-body write path: two buffers
  EXPECT_EQ(big.result_int(), 200);
  EXPECT_EQ(big.body().size(), 200u * 1024);
  EXPECT_EQ(server_->open_connections(), 1);
  EXPECT_EQ(server_->requests_served(), 7);
}

TEST_F(TlsServerTest, BothTls12AndTls13AreServedAndTls11IsRefused) {
  Start(TlsOptions());
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClient client(port_, cert_.cert, version);
    ASSERT_FALSE(client.handshake_error()) << version << ": " << client.handshake_error().message();
    EXPECT_EQ(client.version(), version);
    EXPECT_EQ(client.Fetch(RequestText("GET", "/health")).result_int(), 200);
  }
  for (int version : {TLS1_1_VERSION, TLS1_VERSION}) {
    TlsClient old(port_, cert_.cert, version);
    EXPECT_TRUE(old.handshake_error()) << "the server accepted TLS version " << version;
  }
  TlsClient after(port_, cert_.cert);
  EXPECT_EQ(after.Fetch(RequestText("GET", "/health")).result_int(), 200);
}

TEST_F(TlsServerTest, CurlGetsHealthOverOneReusedConnection) {
  if (!fs::exists("/usr/bin/curl")) GTEST_SKIP() << "no /usr/bin/curl";
  Start(TlsOptions());
  int code = -1;
  std::string out = Shell("/usr/bin/curl -sS --cacert " + cert_.cert + " -w ' %{http_code} %{num_connects}\\n' " +
                              Url("/health") + " " + Url("/health") + " " + Url("/health") + " 2>&1",
                          &code);
  EXPECT_EQ(code, 0) << out;
  // One TCP connection and TLS session for three requests.
  EXPECT_EQ(out, "{\"status\":\"ok\"} 200 1\n{\"status\":\"ok\"} 200 0\n{\"status\":\"ok\"} 200 0\n");

  // curl's own refusal of TLS 1.1 comes from its OpenSSL before any byte is sent; either way, no answer.
  std::string old =
      Shell("/usr/bin/curl -sS --cacert " + cert_.cert + " --tlsv1.1 --tls-max 1.1 " + Url("/health") + " 2>&1", &code);
  EXPECT_NE(code, 0) << old;
  EXPECT_EQ(old.find("\"ok\""), std::string::npos) << old;
}

TEST_F(TlsServerTest, PythonRequestsVerifiesAndFetches) {
  int code = -1;
  Shell("python3 -c 'import requests' 2>/dev/null", &code);
  if (code != 0) GTEST_SKIP() << "python3 with requests is not installed";
  Start(TlsOptions());
  std::string out = Shell(
      "python3 -c 'import requests, sys; s = requests.Session(); "
      "print(*[s.get(sys.argv[1], verify=sys.argv[2]).json()[\"status\"] for _ in range(3)])' " +
          Url("/health") + " " + cert_.cert + " 2>&1",
      &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "ok ok ok\n");
  // Without the certificate to trust, requests refuses the server (as MLflow would without
  // MLFLOW_TRACKING_SERVER_CERT_PATH).
  out = Shell("python3 -c 'import requests, sys; requests.get(sys.argv[1])' " + Url("/health") + " 2>&1", &code);
  EXPECT_NE(code, 0);
  EXPECT_NE(out.find("CERTIFICATE_VERIFY_FAILED"), std::string::npos) << out;
}

TEST_F(TlsServerTest, PlainHttpToTheTlsPortIsClosedWithoutAResponse) {
  Start(TlsOptions());
  for (int i = 0; i < 20; ++i) {
    RawClient plain(port_);
    ASSERT_TRUE(plain.Send(RequestText("GET", "/health")));
    auto start = Clock::now();
    EXPECT_TRUE(plain.WaitClosed(2000));
    EXPECT_LT(MsSince(start), 1000);  // at once, not at the handshake timeout
    EXPECT_EQ(plain.buffered().find("HTTP/"), std::string::npos) << plain.buffered();
  }
  TlsClient client(port_, cert_.cert);
  EXPECT_EQ(client.Fetch(RequestText("GET", "/health")).result_int(), 200);
  auto by_class = server_->responses_by_class();
  EXPECT_EQ(by_class[3] + by_class[4], 0);  // no 4xx or 5xx was sent to anyone
}

TEST_F(TlsServerTest, ClientThatNeverHandshakesIsDroppedAtTheTimeout) {
  ServerOptions o = TlsOptions();
  o.tls_handshake_timeout_ms = 300;
  Start(o);
  RawClient silent(port_);
  ASSERT_TRUE(silent.connected());
  RawClient partial(port_);
  ASSERT_TRUE(partial.Send(std::string("\x16\x03\x01\x02\x00\x01", 6)));  // the start of a ClientHello
  auto start = Clock::now();
  EXPECT_TRUE(silent.WaitClosed(3000));
  EXPECT_GE(MsSince(start), 200);
  EXPECT_LT(MsSince(start), 2000);
  EXPECT_TRUE(partial.WaitClosed(3000));
  for (int i = 0; i < 100 && server_->open_connections() != 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->open_connections(), 0);
  TlsClient client(port_, cert_.cert);
  EXPECT_EQ(client.Fetch(RequestText("GET", "/health")).result_int(), 200);
}

TEST_F(TlsServerTest, ConnectionCloseEndsWithCloseNotifyAndDrainClosesIdleAndHandshakingOnes) {
  Start(TlsOptions());
  {
    TlsClient closing(port_, cert_.cert);
    auto response = closing.Fetch("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(response.result_int(), 200);
    EXPECT_EQ(closing.ReadToClose(), asio::error::eof);  // a clean TLS close, not a truncation
  }  // closes our end, which ends the server's linger

  TlsClient idle(port_, cert_.cert);
  EXPECT_EQ(idle.Fetch(RequestText("GET", "/health")).result_int(), 200);
  RawClient silent(port_);  // connected, never handshakes: closed by the drain, not at the 10 s timeout
  for (int i = 0; i < 100 && server_->open_connections() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_->open_connections(), 2);
  auto start = Clock::now();
  EXPECT_TRUE(server_->Shutdown().ok());
  EXPECT_LT(MsSince(start), 2000);
  EXPECT_TRUE(idle.ReadToClose());
  EXPECT_TRUE(silent.WaitClosed(1000));
}

TEST_F(TlsServerTest, StartupErrorsNameTheFileAndTheProblem) {
  std::string missing = (dir_ / "missing.pem").string();
  Status s = CreateError(missing, cert_.key);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "TLS certificate " + missing + ": no such file");
  s = CreateError(cert_.cert, missing);
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "TLS key " + missing + ": no such file");

  s = CreateError(cert_.cert, "");
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("TLS needs both a certificate and a key: the certificate is set (" + cert_.cert +
                             ") but not the key"),
            std::string::npos)
      << s.message();
  s = CreateError("", cert_.key);
  EXPECT_NE(s.message().find("the key is set (" + cert_.key + ") but not the certificate"), std::string::npos);

  TestCertificate other = testing::MakeTestCertificate(dir_, "other");
  s = CreateError(cert_.cert, other.key);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "TLS key " + other.key + " does not match the certificate " + cert_.cert);

  std::string garbage = (dir_ / "garbage.pem").string();
  WriteFile(garbage, "not a certificate\n");
  s = CreateError(garbage, cert_.key);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("TLS certificate " + garbage + ": no PEM certificate in it"), std::string::npos)
      << s.message();
  s = CreateError(cert_.cert, dir_.string());
  EXPECT_EQ(s.message(), "TLS key " + dir_.string() + ": is a folder, not a PEM file");
  s = CreateError(cert_.cert, cert_.cert);  // the certificate given as the key
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_NE(s.message().find("TLS key " + cert_.cert + ": no PEM private key in it"), std::string::npos) << s.message();
  s = CreateError(cert_.key, cert_.key);  // the key given as the certificate
  EXPECT_NE(s.message().find("TLS certificate " + cert_.key + ": no PEM certificate in it"), std::string::npos)
      << s.message();

  std::string encrypted = (dir_ / "encrypted-key.pem").string();
  int code = -1;
  Shell("openssl pkey -in " + cert_.key + " -aes256 -passout pass:secret -out " + encrypted + " 2>&1", &code);
  if (code == 0) {
    s = CreateError(cert_.cert, encrypted);
    EXPECT_TRUE(s.IsInvalidArgument());
    EXPECT_NE(s.message().find("TLS key " + encrypted + ": encrypted with a passphrase"), std::string::npos)
        << s.message();
  }

  std::string weak_key = (dir_ / "weak-key.pem").string(), weak = (dir_ / "weak.pem").string();
  Shell("openssl req -x509 -newkey rsa:1024 -nodes -days 1 -subj /CN=localhost -keyout " + weak_key + " -out " + weak +
            " 2>&1",
        &code);
  if (code == 0) {
    s = CreateError(weak, weak_key);
    EXPECT_EQ(s.message(),
              "TLS certificate " + weak +
                  ": refused (its key is too small for security level 2: RSA keys need 2048 bits or more)");
  }

  // An expired certificate starts (clients will refuse it; the log says so).
  TestCertificate expired = testing::MakeTestCertificate(dir_, "expired", -1);
  ServerOptions o = TlsOptions();
  o.tls_cert = expired.cert;
  o.tls_key = expired.key;
  EXPECT_TRUE(Server::Create(o).ok());

  o = TlsOptions();
  o.tls_handshake_timeout_ms = 0;
  EXPECT_EQ(Server::Create(o).status().message(), "field 'server.tls_handshake_timeout_ms': must be positive");
}

TEST(TlsContextTest, MakesAContextFromGeneratedFiles) {
  fs::path dir = fs::temp_directory_path() / ("gyre_tls_ctx_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  TestCertificate cert = testing::MakeTestCertificate(dir);
  auto context = MakeServerTlsContext(cert.cert, cert.key);
  ASSERT_TRUE(context.ok()) << context.status().ToString();
  SSL_CTX* ctx = (*context)->native_handle();
  EXPECT_EQ(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
  EXPECT_GE(SSL_CTX_get_security_level(ctx), 2);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gyre::http
