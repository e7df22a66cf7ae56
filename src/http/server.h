// Server: gyre's HTTP/1.1 server (Boost.Beast's parser over Asio), the one port every API is served on.
//
//   GYRE_ASSIGN_OR_RETURN(std::unique_ptr<http::Server> server,
//                         http::Server::Create(http::ServerOptions::FromConfig(ws.config().server)));
//   server->router().Add("POST", "/v1/score/{deployment}", ScoreHandler);
//   GYRE_RETURN_IF_ERROR(server->Start());
//   ... server->url() ...
//   server->Shutdown();  // drain; also done by the destructor
//
// Design, for sub-millisecond serving: one io_context and one thread per worker; a small accept thread
// hands each new connection to the next worker in turn, and a connection stays on its worker for life, so a request is parsed, routed, handled and answered on one thread with no locks and, once the
// connection's buffers are warm, no heap allocation outside the handler. Keep-alive and pipelining are
// supported: every complete request already buffered is answered in order, and their responses go out in
// one write. Handlers of one worker's connections run one after another, so a handler that blocks delays
// the other connections of its worker (not the others, and not accepting). Timeouts are enforced by a per-worker sweep, not a timer per operation.
//
// Limits (ServerOptions): a body over max_body_bytes → 413 as soon as its Content-Length is read (a
// chunked body: as soon as it crosses the limit); a header block over max_header_bytes → 431; a malformed
// request → 400; a request not complete read_timeout_ms after its first byte → 408 and close; a
// keep-alive connection idle for idle_timeout_ms → closed. After any of these errors the connection is
// closed (after reading and discarding what the client is still sending, for up to a second, so the
// client sees the response instead of a reset).
//
// TLS (tls.h): when ServerOptions names a certificate and key, the port speaks HTTPS only (TLS 1.2+) and
// url() says https. A connection must complete its handshake within tls_handshake_timeout_ms; a failed
// handshake (plain HTTP sent to the port, an old TLS version, a client refusing the certificate) closes the
// connection without a response and is logged at debug level only. A Connection: close or error response
// is followed by a TLS close_notify. The plain HTTP path is unchanged by TLS: connections are a template
// over the stream type, so there is no per-request indirection either way.
//
// GET /health is built in: {"status":"ok"} (200) while serving, {"status":"draining"} (503) during drain.
//
// Lifecycle: Create (binds and listens, so port() is known and a taken port fails here) → routes are
// added → Start (threads begin serving) → Shutdown (drain: stop accepting, close idle connections, let
// in-flight and partly received requests finish for up to drain_timeout_ms, then cut the rest, join the
// threads). Shutdown is thread-safe and idempotent; it must not be called from a handler (it would wait
// for its own request). Signal handling belongs to the caller (`gyre server` waits for SIGTERM/SIGINT).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"
#include "core/workspace.h"
#include "http/router.h"

namespace gyre::http {

struct ServerOptions {
  std::string host = "127.0.0.1";    // an IP address or a resolvable name
  int port = 8080;                   // 0: the system picks a free port; port() reports it
  int threads = 0;                   // I/O threads; 0: one per hardware thread
  int64_t max_body_bytes = 16 << 20;
  int64_t max_header_bytes = 64 << 10;
  int64_t read_timeout_ms = 30'000;  // also bounds writing a response to a client that does not read
  int64_t idle_timeout_ms = 60'000;
  int64_t drain_timeout_ms = 10'000;
  // HTTPS: both or neither (PEM files; see tls.h for what each holds). Both empty: plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  int64_t tls_handshake_timeout_ms = 10'000;  // not in gyre.yaml; a connection silent this long is closed

  // gyre.yaml's `server:` section (core/workspace.h) field by field.
  static ServerOptions FromConfig(const ServerConfig& config);
};

class Server {
 public:
  // Validates `options`, loads the TLS certificate and key if named, resolves the host, binds and listens.
  // Errors: InvalidArgument for a bad option, an unresolvable host, or a certificate or key that cannot be
  // used (NotFound / IOError when its file is missing or unreadable; the message names the file);
  // Unavailable when the address is taken or cannot be bound.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options);

  // Shuts down (drains) if still serving.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Routes are added here between Create and Start; changing them after Start is a data race.
  Router& router();
  const Router& router() const;

  // Starts the worker threads. Fails if the router holds a registration error, or if called twice.
  Status Start();

  // The bound address; port() is the real port even when options.port was 0.
  const std::string& host() const;
  int port() const;
  std::string url() const;  // "http://127.0.0.1:8080", "https://..." with TLS (IPv6 hosts in brackets)
  bool tls() const;
  const ServerOptions& options() const;

  // True from the moment Shutdown begins.
  bool draining() const;

  // Drains as described above and returns once every worker thread has stopped. OK when every connection
  // finished within drain_timeout_ms; DeadlineExceeded when some had to be cut (the server is stopped
  // either way). Calls after the first return OK at once.
  Status Shutdown();

  // Counters, readable from any thread: connections open now, requests answered since Start, and every
  // response written (including those to requests that could not be parsed) by status class, [0] = 1xx ..
  // [4] = 5xx.
  int64_t open_connections() const;
  int64_t requests_served() const;
  std::array<int64_t, 5> responses_by_class() const;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gyre::http
