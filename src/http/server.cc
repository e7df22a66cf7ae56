#include "http/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <limits>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <type_traits>
#include <vector>

#include "http/request_parser.h"
#include "http/tls.h"
#include "http/url.h"

namespace gyre::http {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using boost::system::error_code;
// What a connection reads and writes: the TCP socket itself, or TLS over it.
using PlainStream = tcp::socket;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

constexpr size_t kReadChunk = 16 << 10;
// Bodies at least this large are written from the Response's own string instead of being copied into
// the connection's output buffer.
constexpr size_t kLargeBody = 32 << 10;
// Buffered pipelined responses are flushed once they reach this size.
constexpr size_t kFlushThreshold = 64 << 10;
// After an error response, how long the client may keep sending before the socket is closed.
constexpr int64_t kLingerMs = 1000;
constexpr int64_t kDrainLingerMs = 100;
// Buffers that grew past this for one large request are released afterwards.
constexpr size_t kKeepCapacity = 1 << 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The Date header value (RFC 9110 IMF-fixdate), reformatted at most once a second per thread.
std::string_view HttpDate() {
  thread_local std::time_t cached_second = -1;
  thread_local char text[64];
  thread_local size_t length = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    std::tm tm{};
    gmtime_r(&now, &tm);
    length = std::strftime(text, sizeof(text), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached_second = now;
  }
  return std::string_view(text, length);
}

bool ValidRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

bool SafeHeaderText(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

bool BodyAllowed(int status) { return status >= 200 && status != 204 && status != 304; }

}  // namespace

template <typename Stream>
class Connection;

// One I/O thread: its io_context, its connections (intrusive lists, one per stream type, touched only on
// this thread; a server uses one of them), and the sweep timer that enforces their deadlines. The lists
// are declared before `ctx` so they outlive the handlers (which own Connections) that the io_context
// destroys.
struct Worker {
  Worker(Server::Impl* s, uint32_t i) : server(s), index(i), ctx(1), sweep(ctx) {}
  Server::Impl* server;
  uint32_t index;
  Connection<PlainStream>* plain_connections = nullptr;
  Connection<TlsStream>* tls_connections = nullptr;
  uint64_t next_request = 0;
  bool stopping = false;
  std::atomic<int64_t> requests{0};
  std::array<std::atomic<int64_t>, 5> responses_by_class{};  // 1xx .. 5xx
  asio::io_context ctx;
  asio::steady_timer sweep;
  std::thread thread;

  template <typename Stream>
  Connection<Stream>*& connections() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      return tls_connections;
    } else {
      return plain_connections;
    }
  }
  // Calls f(Connection<S>*) for every connection of this worker. f may close a connection: destruction
  // waits for its pending handler to run, so the lists are not modified during the walk.
  template <typename F>
  void ForEachConnection(F&& f);
};

// Member order matters for destruction: the workers (whose io_contexts may still own Connections) go
// before the counters and lock those Connections touch; the acceptor goes before its io_context.
struct Server::Impl {
  ServerOptions options;
  Router router;
  std::string bound_host;
  int bound_port = 0;
  int64_t sweep_ms = 100;
  uint64_t id_nonce = 0;

  std::atomic<bool> draining{false};
  std::atomic<int64_t> live_connections{0};
  std::mutex mu;
  std::condition_variable drained;
  bool started = false;  // guarded by mu
  bool stopped = false;  // guarded by mu

  // Set when serving HTTPS; declared before `workers` so it outlives every connection's SSL object.
  std::unique_ptr<asio::ssl::context> tls;
  std::vector<std::unique_ptr<Worker>> workers;
  // Accepting runs on its own small thread, so a slow handler never delays new connections or the
  // moment Shutdown stops accepting.
  asio::io_context accept_ctx{1};
  std::optional<tcp::acceptor> acceptor;
  std::optional<asio::steady_timer> accept_retry;
  std::thread accept_thread;
  size_t next_worker = 0;  // touched only by the accept loop

  void DoAccept();
  void ArmSweep(Worker* worker);
  void ConnectionClosed() {
    if (live_connections.fetch_sub(1) == 1 && draining.load()) {
      std::lock_guard<std::mutex> lock(mu);
      drained.notify_all();
    }
  }
};

// One client connection over `Stream` (PlainStream or TlsStream). Lives on one worker's thread; owned by
// the shared_ptrs its pending operations hold, so it is destroyed when its last operation completes after
// Close(). The two instantiations share every line but the handshake, the close_notify and the check for
// buffered input; `if constexpr` keeps TLS out of the plain one.
template <typename Stream>
class Connection : public std::enable_shared_from_this<Connection<Stream>> {
 public:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

  // `tls_context...`: nothing for PlainStream, the server's asio::ssl::context for TlsStream.
  template <typename... TlsContext>
  Connection(Worker* worker, tcp::socket socket, TlsContext&... tls_context)
      : worker_(worker), server_(worker->server), stream_(std::move(socket), tls_context...) {
    server_->live_connections.fetch_add(1);
    Connection*& head = worker_->connections<Stream>();
    next_ = head;
    if (next_ != nullptr) next_->prev_ = this;
    head = this;
  }

  ~Connection() {
    if (prev_ != nullptr) prev_->next_ = next_;
    if (next_ != nullptr) next_->prev_ = prev_;
    Connection*& head = worker_->connections<Stream>();
    if (head == this) head = next_;
    server_->ConnectionClosed();
  }

  Connection* next() const { return next_; }

  void Start() {
    if constexpr (kTls) {
      Handshake();
    } else {
      DoRead();
    }
  }

  // Called by the sweep on this connection's thread.
  void CheckDeadline(int64_t now) {
    if (deadline_ms_ == 0 || now < deadline_ms_) return;
    deadline_ms_ = 0;
    switch (phase_) {
      case Phase::kReading:
        // Cancel the read; OnRead sees kTimedOut and answers 408.
        phase_ = Phase::kTimedOut;
        socket().cancel();
        break;
      case Phase::kHandshake:
      case Phase::kIdle:
      case Phase::kDrainIdle:
      case Phase::kWriting:
      case Phase::kLingering:
        Close();
        break;
      default:
        break;
    }
  }

  // Drain began: an idle connection is closed now; a busy one closes after its current response. A
  // connection whose next request has reached the socket but not been read yet (its worker was busy) is
  // not idle: it is read and answered (/health says "draining"). A TLS handshake still under way has no
  // request yet either: it is closed.
  void OnDrain() {
    if (phase_ == Phase::kHandshake) {
      Close();
      return;
    }
    if (phase_ == Phase::kLingering) {
      // Its response is out; do not hold the drain for a client slow to close its end.
      deadline_ms_ = std::min(deadline_ms_, NowMs() + kDrainLingerMs);
      return;
    }
    if (phase_ != Phase::kIdle) return;
    // The pending read may already hold bytes the socket no longer shows, so do not close here: cancel
    // the read and let OnRead decide with everything known.
    phase_ = Phase::kDrainIdle;
    socket().cancel();
  }

  // Closes the TCP socket at once (no TLS close_notify: Linger sends that after a last response).
  void Close() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    deadline_ms_ = 0;
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

 private:
  enum class Phase { kHandshake, kIdle, kDrainIdle, kReading, kTimedOut, kHandling, kWriting, kLingering, kClosed };

  const ServerOptions& options() const { return server_->options; }
  tcp::socket& socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }
  std::shared_ptr<Connection> self() { return this->shared_from_this(); }

  // TLS only: the handshake, within tls_handshake_timeout_ms (the sweep closes the connection after it).
  // Failures are the client's (plain HTTP to this port, TLS 1.1, our certificate refused): no response
  // can be sent, and a scanner must not fill the log, so they are logged at debug level.
  void Handshake() {
    phase_ = Phase::kHandshake;
    deadline_ms_ = NowMs() + options().tls_handshake_timeout_ms;
    stream_.async_handshake(asio::ssl::stream_base::server, [self = self()](error_code ec) {
      if (ec || self->phase_ == Phase::kClosed) {
        if (ec && self->phase_ != Phase::kClosed) {
          error_code ignored;
          spdlog::debug("TLS handshake with {} failed: {}",
                        self->socket().remote_endpoint(ignored).address().to_string(), ec.message());
        }
        self->Close();
        return;
      }
      self->DoRead();
    });
  }

  // No request started: nothing buffered and nothing waiting in the socket. With TLS, also nothing
  // received but not yet decrypted by OpenSSL (bytes Asio read from the socket and holds outside OpenSSL
  // are not visible: in a drain, such a request would be cut rather than answered).
  bool NothingPending() {
    if (parser_ || in_.size() != 0) return false;
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      if (SSL_has_pending(ssl) != 0 || BIO_ctrl_pending(SSL_get_rbio(ssl)) != 0) return false;
    }
    error_code ec;
    return socket().available(ec) == 0 || ec;
  }

  void DoRead() {
    if (phase_ == Phase::kClosed) return;
    if (!parser_ && in_.size() == 0) {
      if (server_->draining.load(std::memory_order_relaxed) && NothingPending()) {
        Close();
        return;
      }
      phase_ = Phase::kIdle;
      deadline_ms_ = NowMs() + options().idle_timeout_ms;
    } else {
      // Part of a request is here: the rest must arrive within read_timeout of its first byte.
      phase_ = Phase::kReading;
      deadline_ms_ = request_started_ms_ + options().read_timeout_ms;
    }
    stream_.async_read_some(in_.prepare(kReadChunk), [self = self()](error_code ec, size_t n) { self->OnRead(ec, n); });
  }

  void OnRead(error_code ec, size_t n) {
    if (phase_ == Phase::kTimedOut) {
      SendErrorAndClose(408, Status::DeadlineExceeded(fmt::format(
                                 "the request was not received within {} ms", options().read_timeout_ms)));
      return;
    }
    if (phase_ == Phase::kDrainIdle && n == 0 && ec == asio::error::operation_aborted) {
      DoRead();  // closes unless a request is waiting in the socket
      return;
    }
    if (ec || phase_ == Phase::kClosed) {
      Close();
      return;
    }
    in_.commit(n);
    Process();
  }

  // Parses what is buffered; answers every complete request; then writes, reads more, or closes.
  void Process() {
    while (phase_ != Phase::kClosed) {
      if (!parser_) {
        if (in_.size() == 0) break;
        NewParser();
      }
      error_code ec;
      size_t used = parser_->Put(in_.data(), ec);
      in_.consume(used);
      if (ec == bhttp::error::need_more) break;
      if (ec) {
        ProtocolError(ec);
        return;
      }
      if (!parser_->is_done()) {
        if (parser_->is_header_done() && !continue_sent_) MaybeSendContinue();
        if (in_.size() == 0 || used == 0) break;
        continue;
      }
      HandleRequest();
      if (close_after_write_ || !large_body_.empty() || out_.size() >= kFlushThreshold) break;
    }
    if (phase_ == Phase::kClosed) return;
    if (!out_.empty()) {
      Flush();
    } else {
      DoRead();
    }
  }

  void NewParser() {
    data_.Reset();
    parser_.emplace(&data_);
    parser_->eager(true);
    parser_->header_limit(static_cast<uint32_t>(
        std::min<int64_t>(options().max_header_bytes, std::numeric_limits<uint32_t>::max())));
    parser_->body_limit(static_cast<uint64_t>(options().max_body_bytes));
    continue_sent_ = false;
    request_started_ms_ = NowMs();
  }

  // "Expect: 100-continue" clients (curl, for bodies over 1 KiB) wait for this before sending the body.
  void MaybeSendContinue() {
    continue_sent_ = true;
    if (data_.version < 11 || in_.size() != 0) return;
    data_.Views();
    for (const HeaderField& f : data_.fields) {
      if (EqualsIgnoreCase(f.name, "Expect") && EqualsIgnoreCase(f.value, "100-continue")) {
        out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        return;
      }
    }
  }

  void HandleRequest() {
    phase_ = Phase::kHandling;
    deadline_ms_ = 0;
    data_.Views();
    Request req;
    req.method = data_.View(data_.method);
    req.target = data_.View(data_.target);
    req.version = data_.version;
    req.headers = data_.fields;
    req.body = data_.body;
    req.request_id = AssignRequestId(req.Header("X-Request-Id"));
    bool keep_alive = parser_->keep_alive();
    bool head = req.method == "HEAD";

    Response response = server_->router.Handle(req, &scratch_);

    // Read after the handler: a drain that began while it ran still gets Connection: close.
    bool close = !keep_alive || server_->draining.load(std::memory_order_relaxed);
    AppendResponse(std::move(response), head, close, req.version);
    worker_->requests.fetch_add(1, std::memory_order_relaxed);
    parser_.reset();
    if (data_.body.capacity() > kKeepCapacity) data_.body = std::string();
  }

  std::string_view AssignRequestId(std::optional<std::string_view> from_client) {
    if (from_client && ValidRequestId(*from_client)) {
      request_id_len_ = from_client->size();
      std::copy(from_client->begin(), from_client->end(), request_id_);
    } else {
      uint64_t id = server_->id_nonce + ((static_cast<uint64_t>(worker_->index) << 48) | worker_->next_request++);
      auto end = fmt::format_to_n(request_id_, sizeof(request_id_), "{:016x}", id).out;
      request_id_len_ = static_cast<size_t>(end - request_id_);
    }
    return std::string_view(request_id_, request_id_len_);
  }

  void AppendResponse(Response&& response, bool head_request, bool close, int version) {
    int status = response.status;
    if (status < 100 || status > 599) status = 500;
    worker_->responses_by_class[static_cast<size_t>(status / 100 - 1)].fetch_add(1, std::memory_order_relaxed);
    auto reason = bhttp::obsolete_reason(bhttp::int_to_status(static_cast<unsigned>(status)));
    out_.append("HTTP/1.1 ");
    fmt::format_int code(status);
    out_.append(code.data(), code.size());
    out_.push_back(' ');
    if (bhttp::int_to_status(static_cast<unsigned>(status)) == bhttp::status::unknown) {
      out_.append("Status");
    } else {
      out_.append(reason.data(), reason.size());
    }
    out_.append("\r\nDate: ");
    out_.append(HttpDate());
    bool body_allowed = BodyAllowed(status);
    if (body_allowed) {
      std::string_view type = response.ContentType();
      if (!SafeHeaderText(type)) type = "application/octet-stream";
      out_.append("\r\nContent-Type: ");
      out_.append(type);
      fmt::format_int length(response.body.size());
      out_.append("\r\nContent-Length: ");
      out_.append(length.data(), length.size());
    }
    out_.append("\r\nX-Request-Id: ");
    out_.append(request_id_, request_id_len_);
    for (const auto& [name, value] : response.headers) {
      if (name.empty() || !SafeHeaderText(name) || !SafeHeaderText(value) ||
          name.find(':') != std::string::npos) {
        spdlog::warn("dropping response header '{}' (request id {}): contains CR, LF or ':'", name,
                     std::string_view(request_id_, request_id_len_));
        continue;
      }
      out_.append("\r\n");
      out_.append(name);
      out_.append(": ");
      out_.append(value);
    }
    if (close) {
      out_.append("\r\nConnection: close");
      close_after_write_ = true;
    } else if (version < 11) {
      out_.append("\r\nConnection: keep-alive");
    }
    out_.append("\r\n\r\n");
    if (!body_allowed || head_request) return;
    if (response.body.size() >= kLargeBody) {
      large_body_ = std::move(response.body);
    } else {
      out_.append(response.body);
    }
  }

  void Flush() {
    phase_ = Phase::kWriting;
    deadline_ms_ = NowMs() + options().read_timeout_ms;
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_), asio::buffer(large_body_)};
    asio::async_write(stream_, buffers, [self = self()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (ec || phase_ == Phase::kClosed) {
      Close();
      return;
    }
    out_.clear();
    if (out_.capacity() > kKeepCapacity) out_ = std::string();
    if (large_body_.capacity() > 0) large_body_ = std::string();
    if (close_after_write_) {
      Linger();
      return;
    }
    Process();
  }

  // Protocol errors: what Beast refused, answered with the status the brief of each limit asks for.
  void ProtocolError(error_code ec) {
    if (ec == bhttp::error::header_limit) {
      SendErrorAndClose(431, Status::ResourceExhausted(fmt::format(
                                 "request header is larger than the limit of {} bytes", options().max_header_bytes)));
    } else if (ec == bhttp::error::body_limit) {
      SendErrorAndClose(413, Status::ResourceExhausted(fmt::format(
                                 "request body is larger than the limit of {} bytes", options().max_body_bytes)));
    } else if (ec == bhttp::error::bad_transfer_encoding && !data_.unsupported_transfer_coding.empty()) {
      // RFC 9112 suggests 501, but the client sent what no gyre server takes: its request is what is wrong, and
      // a 5xx would read as the server failing (and count against its error budget).
      SendErrorAndClose(400, Status::InvalidArgument(fmt::format(
                                 "Transfer-Encoding '{}' is not supported (only chunked)",
                                 data_.unsupported_transfer_coding)));
    } else {
      SendErrorAndClose(400, Status::InvalidArgument(fmt::format("malformed HTTP request: {}", ec.message())));
    }
  }

  // Appends an error response after whatever is already queued, then writes and closes.
  void SendErrorAndClose(int http_status, const Status& status) {
    // The request line may be known (a body over the limit); it picks the route group's error shape.
    std::string_view path;
    if (parser_ && data_.target.size > 0) {
      std::string_view query;
      if (!SplitTarget(data_.View(data_.target), &path, &query).ok()) path = {};
    }
    std::string_view id = AssignRequestId(std::nullopt);
    Response response = server_->router.Error(path, ErrorInfo{http_status, status, id, ErrorSource::kProtocol});
    parser_.reset();
    in_.consume(in_.size());
    AppendResponse(std::move(response), false, true, 11);
    Flush();
  }

  // Closes our side for writing, then reads and discards until the client closes (or kLingerMs), so a
  // client still sending a rejected body receives our response rather than a connection reset.
  void Linger() {
    phase_ = Phase::kLingering;
    int64_t linger = server_->draining.load(std::memory_order_relaxed) ? kDrainLingerMs : kLingerMs;
    deadline_ms_ = NowMs() + std::min(linger, options().read_timeout_ms);
    parser_.reset();
    in_.consume(in_.size());
    if constexpr (kTls) {
      // Send close_notify without waiting for the client's (marking it received makes OpenSSL's shutdown
      // one-way: waiting would fail on the body a client may still be sending), then linger on the TCP
      // socket like plain HTTP, discarding ciphertext. The sweep's deadline bounds the write.
      SSL_set_shutdown(stream_.native_handle(), SSL_RECEIVED_SHUTDOWN);
      stream_.async_shutdown([self = self()](error_code ec) {
        if (ec || self->phase_ != Phase::kLingering) {
          self->Close();
          return;
        }
        self->ShutdownSendAndDiscard();
      });
    } else {
      ShutdownSendAndDiscard();
    }
  }

  void ShutdownSendAndDiscard() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
    Discard();
  }

  void Discard() {
    socket().async_read_some(in_.prepare(kReadChunk), [self = self()](error_code ec, size_t) {
      if (ec || self->phase_ != Phase::kLingering) {
        self->Close();
        return;
      }
      self->Discard();
    });
  }

  Worker* worker_;
  Server::Impl* server_;
  Stream stream_;
  boost::beast::flat_buffer in_;
  std::string out_;
  std::string large_body_;
  internal::RequestData data_;
  std::optional<internal::RequestParser> parser_;
  RequestScratch scratch_;
  Phase phase_ = Phase::kIdle;
  int64_t deadline_ms_ = 0;
  int64_t request_started_ms_ = 0;
  bool close_after_write_ = false;
  bool continue_sent_ = false;
  char request_id_[64];
  size_t request_id_len_ = 0;
  Connection* prev_ = nullptr;
  Connection* next_ = nullptr;
};

template <typename F>
void Worker::ForEachConnection(F&& f) {
  for (Connection<PlainStream>* c = plain_connections; c != nullptr; c = c->next()) f(c);
  for (Connection<TlsStream>* c = tls_connections; c != nullptr; c = c->next()) f(c);
}

// --- Server::Impl -------------------------------------------------------------------------------------

void Server::Impl::DoAccept() {
  Worker* target = workers[next_worker++ % workers.size()].get();
  acceptor->async_accept(target->ctx, [this, target](error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor->is_open()) return;
    if (ec) {
      // Out of descriptors (EMFILE) and friends: back off instead of spinning on the error.
      spdlog::warn("accept on {}:{} failed: {}", bound_host, bound_port, ec.message());
      accept_retry->expires_after(std::chrono::milliseconds(50));
      accept_retry->async_wait([this](error_code wait_ec) {
        if (!wait_ec && acceptor->is_open()) DoAccept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    asio::post(target->ctx, [target, tls = tls.get(), socket = std::move(socket)]() mutable {
      // Accepted before the drain began: it is served if its request has arrived (DoRead decides).
      if (target->stopping) {
        error_code ignored_close;
        socket.close(ignored_close);
        return;
      }
      if (tls != nullptr) {
        std::make_shared<Connection<TlsStream>>(target, std::move(socket), *tls)->Start();
      } else {
        std::make_shared<Connection<PlainStream>>(target, std::move(socket))->Start();
      }
    });
    DoAccept();
  });
}

void Server::Impl::ArmSweep(Worker* worker) {
  worker->sweep.expires_after(std::chrono::milliseconds(sweep_ms));
  worker->sweep.async_wait([this, worker](error_code ec) {
    if (ec || worker->stopping) return;
    int64_t now = NowMs();
    worker->ForEachConnection([now](auto* c) { c->CheckDeadline(now); });
    ArmSweep(worker);
  });
}

// --- Server --------------------------------------------------------------------------------------------

ServerOptions ServerOptions::FromConfig(const ServerConfig& config) {
  ServerOptions options;
  options.host = config.host;
  options.port = config.port;
  options.threads = config.threads;
  options.max_body_bytes = config.max_body_bytes;
  options.max_header_bytes = config.max_header_bytes;
  options.read_timeout_ms = config.read_timeout_ms;
  options.idle_timeout_ms = config.idle_timeout_ms;
  options.drain_timeout_ms = config.drain_timeout_ms;
  options.tls_cert = config.tls_cert;
  options.tls_key = config.tls_key;
  return options;
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options) {
  auto bad = [](std::string_view field, std::string_view why) {
    return Status::InvalidArgument(Field(fmt::format("server.{}", field), why));
  };
  if (options.port < 0 || options.port > 65535) return bad("port", "must be between 0 and 65535");
  if (options.threads < 0) return bad("threads", "must be 0 (one per core) or more");
  if (options.max_body_bytes < 0) return bad("max_body_bytes", "must not be negative");
  if (options.max_header_bytes < 256) return bad("max_header_bytes", "must be at least 256");
  if (options.read_timeout_ms <= 0) return bad("read_timeout_ms", "must be positive");
  if (options.idle_timeout_ms <= 0) return bad("idle_timeout_ms", "must be positive");
  if (options.drain_timeout_ms < 0) return bad("drain_timeout_ms", "must not be negative");
  if (options.tls_handshake_timeout_ms <= 0) return bad("tls_handshake_timeout_ms", "must be positive");
  bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls && (options.tls_cert.empty() || options.tls_key.empty())) {
    return Status::InvalidArgument(fmt::format(
        "TLS needs both a certificate and a key: the {} is set ({}) but not the {} (gyre.yaml server.tls.cert "
        "and server.tls.key, or --tls-cert and --tls-key)",
        options.tls_cert.empty() ? "key" : "certificate", options.tls_cert.empty() ? options.tls_key : options.tls_cert,
        options.tls_cert.empty() ? "certificate" : "key"));
  }

  auto impl = std::make_unique<Impl>();
  int threads = options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (threads <= 0) threads = 1;
  for (int i = 0; i < threads; ++i) impl->workers.push_back(std::make_unique<Worker>(impl.get(), i));
  if (tls) {
    GYRE_ASSIGN_OR_RETURN(impl->tls, MakeServerTlsContext(options.tls_cert, options.tls_key));
  }
  int64_t shortest_timeout = std::min(options.read_timeout_ms, options.idle_timeout_ms);
  if (tls) shortest_timeout = std::min(shortest_timeout, options.tls_handshake_timeout_ms);
  impl->sweep_ms = std::clamp<int64_t>(shortest_timeout / 4, 5, 250);
  impl->id_nonce = static_cast<uint64_t>(std::random_device{}()) * 0x9E3779B97F4A7C15ull;

  // Resolve: a literal address directly, a name ("localhost") through the resolver.
  error_code ec;
  tcp::endpoint endpoint;
  asio::ip::address address = asio::ip::make_address(options.host, ec);
  if (!ec) {
    endpoint = tcp::endpoint(address, static_cast<unsigned short>(options.port));
  } else {
    tcp::resolver resolver(impl->accept_ctx);
    auto results = resolver.resolve(options.host, std::to_string(options.port), ec);
    if (ec || results.empty()) {
      return Status::InvalidArgument(
          Field("server.host", fmt::format("cannot resolve '{}': {}", options.host, ec.message())));
    }
    endpoint = results.begin()->endpoint();
  }

  impl->acceptor.emplace(impl->accept_ctx);
  impl->accept_retry.emplace(impl->accept_ctx);
  tcp::acceptor& acceptor = *impl->acceptor;
  auto fail = [&](std::string_view what) {
    return Status::Unavailable(fmt::format("cannot {} {}:{}: {}", what, endpoint.address().to_string(),
                                           endpoint.port(), ec.message()));
  };
  if (acceptor.open(endpoint.protocol(), ec)) return fail("open a socket for");
  if (acceptor.set_option(asio::socket_base::reuse_address(true), ec)) return fail("set SO_REUSEADDR on");
  if (acceptor.bind(endpoint, ec)) return fail("bind");
  if (acceptor.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen on");
  tcp::endpoint local = acceptor.local_endpoint(ec);
  if (ec) return fail("read the address of");
  impl->bound_host = local.address().to_string();
  impl->bound_port = local.port();
  impl->options = std::move(options);

  Impl* raw = impl.get();
  impl->router.Add("GET", "/health", [raw](const Request&) -> Result<Response> {
    if (raw->draining.load(std::memory_order_relaxed)) return Response(503, R"({"status":"draining"})");
    return Response(200, R"({"status":"ok"})");
  });
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() {
  if (impl_) (void)Shutdown();
}

Router& Server::router() { return impl_->router; }
const Router& Server::router() const { return impl_->router; }
const std::string& Server::host() const { return impl_->bound_host; }
int Server::port() const { return impl_->bound_port; }
const ServerOptions& Server::options() const { return impl_->options; }
bool Server::draining() const { return impl_->draining.load(); }
int64_t Server::open_connections() const { return impl_->live_connections.load(); }
bool Server::tls() const { return impl_->tls != nullptr; }

int64_t Server::requests_served() const {
  int64_t total = 0;
  for (const auto& w : impl_->workers) total += w->requests.load(std::memory_order_relaxed);
  return total;
}

std::array<int64_t, 5> Server::responses_by_class() const {
  std::array<int64_t, 5> total{};
  for (const auto& w : impl_->workers) {
    for (size_t c = 0; c < total.size(); ++c) total[c] += w->responses_by_class[c].load(std::memory_order_relaxed);
  }
  return total;
}

std::string Server::url() const {
  std::string_view scheme = tls() ? "https" : "http";
  if (impl_->bound_host.find(':') != std::string::npos) {
    return fmt::format("{}://[{}]:{}", scheme, impl_->bound_host, impl_->bound_port);
  }
  return fmt::format("{}://{}:{}", scheme, impl_->bound_host, impl_->bound_port);
}

Status Server::Start() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  if (impl_->started) return Status::FailedPrecondition("the server was already started");
  if (impl_->stopped) return Status::FailedPrecondition("the server was shut down");
  GYRE_RETURN_IF_ERROR(impl_->router.status());
  impl_->started = true;
  Impl* impl = impl_.get();
  asio::post(impl->accept_ctx, [impl] { impl->DoAccept(); });
  impl->accept_thread = std::thread([impl] {
    try {
      impl->accept_ctx.run();
    } catch (const std::exception& e) {
      spdlog::error("http accept loop stopped: {}", e.what());
    }
  });
  for (auto& w : impl->workers) {
    Worker* worker = w.get();
    asio::post(worker->ctx, [impl, worker] { impl->ArmSweep(worker); });
    worker->thread = std::thread([worker] {
      while (true) {
        try {
          worker->ctx.run();
          return;
        } catch (const std::exception& e) {
          // Handlers catch their own errors; this is a bug or an allocation failure. Keep serving.
          spdlog::error("http worker {}: unexpected exception: {}", worker->index, e.what());
        }
      }
    });
  }
  return Status::OK();
}

Status Server::Shutdown() {
  Impl* impl = impl_.get();
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    if (impl->stopped) return Status::OK();
    impl->stopped = true;
    impl->draining.store(true);
    if (!impl->started) {
      error_code ignored;
      impl->acceptor->close(ignored);
      return Status::OK();
    }
  }
  // Stop accepting; once the accept thread has closed the socket, new connections are refused.
  asio::post(impl->accept_ctx, [impl] {
    error_code ignored;
    impl->acceptor->close(ignored);
    impl->accept_retry->cancel();
  });
  if (impl->accept_thread.joinable()) impl->accept_thread.join();
  for (auto& w : impl->workers) {
    Worker* worker = w.get();
    asio::post(worker->ctx, [worker] { worker->ForEachConnection([](auto* c) { c->OnDrain(); }); });
  }
  bool clean;
  {
    std::unique_lock<std::mutex> lock(impl->mu);
    clean = impl->drained.wait_for(lock, std::chrono::milliseconds(impl->options.drain_timeout_ms),
                                   [impl] { return impl->live_connections.load() == 0; });
  }
  int64_t cut = impl->live_connections.load();
  // Cut whatever is left and let each io_context run out of work.
  for (auto& w : impl->workers) {
    Worker* worker = w.get();
    asio::post(worker->ctx, [worker] {
      worker->stopping = true;
      worker->sweep.cancel();
      worker->ForEachConnection([](auto* c) { c->Close(); });
    });
  }
  for (auto& w : impl->workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  if (!clean) {
    return Status::DeadlineExceeded(
        fmt::format("{} connection(s) still open after the drain timeout of {} ms were closed", cut,
                    impl->options.drain_timeout_ms));
  }
  return Status::OK();
}

}  // namespace gyre::http
