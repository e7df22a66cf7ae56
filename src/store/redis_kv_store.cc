// The "redis" KvStore over hiredis's blocking API.
//
// Every call is one exchange: its commands are appended to a pooled connection's buffer and their
// replies read back, so MULTI + writes + EXEC, or GET, costs one round trip. Commands go out as argv
// arrays (binary-safe, like %b). Values are stored as they are: Redis keeps the expiry itself (SET ...
// PXAT, Redis >= 6.2). Each new connection names itself "gyre-<pid>" (CLIENT SETNAME) so an operator can
// tell gyre processes apart in CLIENT LIST.
#include <fmt/format.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <mutex>
#include <vector>

#include "store/kv_backends.h"

namespace gyre::store {
namespace {

constexpr int kTimeoutSeconds = 2;
constexpr size_t kMaxIdleConnections = 64;
constexpr std::string_view kScanCount = "1000";

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Conn = std::unique_ptr<redisContext, ContextDeleter>;

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

using Args = std::vector<std::string_view>;

std::string_view ReplyText(const redisReply* r) { return std::string_view(r->str, r->len); }

// Blocks SIGPIPE in this thread for the object's life, and discards one raised meanwhile (a write to a
// socket the server closed), so the write fails with EPIPE instead of killing the process. libpq does
// the same. A thread that already blocks SIGPIPE is left alone.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, &old_);
    was_blocked_ = sigismember(&old_, SIGPIPE) == 1;
  }
  ~SigpipeBlock() {
    if (was_blocked_) return;
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) == 1) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      timespec zero{};
      sigtimedwait(&pipe, nullptr, &zero);
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  sigset_t old_;
  bool was_blocked_ = false;
};

// Sends `commands` in one write and reads one reply per command. False when the connection failed
// (c->err says why); it must not be reused then.
bool RoundTrip(redisContext* c, std::span<const Args> commands, std::vector<Reply>* replies) {
  std::vector<const char*> argv;
  std::vector<size_t> argvlen;
  for (const Args& args : commands) {
    argv.clear();
    argvlen.clear();
    for (std::string_view a : args) {
      argv.push_back(a.data());
      argvlen.push_back(a.size());
    }
    if (redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(), argvlen.data()) != REDIS_OK) {
      return false;
    }
  }
  replies->clear();
  replies->reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c, &raw) != REDIS_OK || raw == nullptr) return false;
    replies->emplace_back(static_cast<redisReply*>(raw));
  }
  return true;
}

bool TimedOut(const redisContext* c) {
  return c->err == REDIS_ERR_IO && (std::string_view(c->errstr) == std::strerror(EAGAIN) ||
                                    std::string_view(c->errstr) == std::strerror(ETIMEDOUT));
}

// Escapes the glob metacharacters of MATCH so a prefix matches only itself.
std::string GlobEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// PXAT's argument. Redis hides a key once its millisecond clock is strictly past PXAT, and every
// now >= expires_at has now_ms >= expires_at / 1000, so PXAT is one less: the key vanishes up to 1 ms
// early, never late. A time at or before the epoch becomes 1 ms, which Redis takes as long expired.
std::string PxatMillis(int64_t expires_at) {
  int64_t floor_ms = expires_at >= 0 ? expires_at / 1000 : 0;
  return std::to_string(std::max<int64_t>(floor_ms - 1, 1));
}

class RedisKvStore final : public KvStore {
 public:
  explicit RedisKvStore(RedisEndpoint endpoint) : ep_(std::move(endpoint)) {}

  // Opens the first connection, so that Open fails on a wrong address or password.
  Status Connect() {
    SigpipeBlock block;
    GYRE_ASSIGN_OR_RETURN(Conn conn, NewConnection());
    Release(std::move(conn));
    return Status::OK();
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    Args cmd = {"GET", key};
    GYRE_ASSIGN_OR_RETURN(auto replies,
                          Exchange({&cmd, 1}, [&] { return fmt::format("GET '{}'", PrintableKey(key)); }));
    const redisReply* r = replies[0].get();
    if (r->type == REDIS_REPLY_NIL) return std::optional<std::string>();
    if (r->type == REDIS_REPLY_STRING) return std::optional<std::string>(std::in_place, r->str, r->len);
    return ReplyError(r, fmt::format("GET '{}'", PrintableKey(key)));
  }

  Result<std::vector<std::optional<std::string>>> MultiGet(std::span<const std::string> keys) override {
    std::vector<std::optional<std::string>> out(keys.size());
    if (keys.empty()) return out;
    Args cmd;
    cmd.reserve(keys.size() + 1);
    cmd.push_back("MGET");
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    auto op = [&] { return fmt::format("MGET of {} keys", keys.size()); };
    GYRE_ASSIGN_OR_RETURN(auto replies, Exchange({&cmd, 1}, op));
    const redisReply* r = replies[0].get();
    if (r->type != REDIS_REPLY_ARRAY || r->elements != keys.size()) return ReplyError(r, op());
    for (size_t i = 0; i < keys.size(); ++i) {
      const redisReply* e = r->element[i];
      if (e->type == REDIS_REPLY_STRING) {
        out[i].emplace(e->str, e->len);
      } else if (e->type != REDIS_REPLY_NIL) {
        return ReplyError(e, op());
      }
    }
    return out;
  }

  Status Put(std::string_view key, std::string_view value, int64_t expires_at) override {
    std::string millis;
    Args cmd = {"SET", key, value};
    if (expires_at != 0) {
      millis = PxatMillis(expires_at);
      cmd.insert(cmd.end(), {"PXAT", millis});
    }
    auto op = [&] { return fmt::format("SET '{}'", PrintableKey(key)); };
    GYRE_ASSIGN_OR_RETURN(auto replies, Exchange({&cmd, 1}, op));
    return ExpectOk(replies[0].get(), op());
  }

  Status Delete(std::string_view key) override {
    Args cmd = {"DEL", key};
    auto op = [&] { return fmt::format("DEL '{}'", PrintableKey(key)); };
    GYRE_ASSIGN_OR_RETURN(auto replies, Exchange({&cmd, 1}, op));
    return replies[0]->type == REDIS_REPLY_INTEGER ? Status::OK() : ReplyError(replies[0].get(), op());
  }

  Status WriteBatch(std::span<const KvWrite> writes) override {
    if (writes.empty()) return Status::OK();
    std::deque<std::string> millis;  // a deque: growing it never moves the strings the Args point into
    std::vector<Args> cmds;
    std::vector<size_t> write_of;    // per command inside MULTI/EXEC: the index of its write
    cmds.reserve(writes.size() + 2);
    cmds.push_back({"MULTI"});
    for (size_t i = 0; i < writes.size(); ++i) {
      const KvWrite& w = writes[i];
      if (!w.value) {
        cmds.push_back({"DEL", w.key});
      } else if (w.append) {
        // APPEND keeps the key's expiry (a key Redis already expired starts empty); then the new expiry.
        cmds.push_back({"APPEND", w.key, *w.value});
        write_of.push_back(i);
        cmds.push_back(w.expires_at == 0 ? Args{"PERSIST", w.key}
                                         : Args{"PEXPIREAT", w.key, millis.emplace_back(PxatMillis(w.expires_at))});
      } else if (w.expires_at == 0) {
        cmds.push_back({"SET", w.key, *w.value});
      } else {
        cmds.push_back({"SET", w.key, *w.value, "PXAT", millis.emplace_back(PxatMillis(w.expires_at))});
      }
      write_of.push_back(i);
    }
    cmds.push_back({"EXEC"});
    auto op = [&] { return fmt::format("write batch of {} (MULTI/EXEC)", writes.size()); };
    GYRE_ASSIGN_OR_RETURN(auto replies, Exchange(cmds, op));
    auto failed = [&](const redisReply* reply, size_t command) {
      size_t w = write_of[command];
      return ReplyError(reply, fmt::format("{}: write #{} '{}'", op(), w + 1, PrintableKey(writes[w].key)));
    };
    // A write the server refuses to queue makes EXEC abort (nothing applied): report that write.
    for (size_t i = 1; i + 1 < replies.size(); ++i) {
      if (replies[i]->type == REDIS_REPLY_ERROR) return failed(replies[i].get(), i - 1);
    }
    const redisReply* exec = replies.back().get();
    if (exec->type != REDIS_REPLY_ARRAY || exec->elements != write_of.size()) return ReplyError(exec, op());
    for (size_t i = 0; i < exec->elements; ++i) {
      if (exec->element[i]->type == REDIS_REPLY_ERROR) return failed(exec->element[i], i);
    }
    return Status::OK();
  }

  // The server's appendfsync setting decides when Redis fsyncs; with `always` every write is durable when answered.
  Status Sync() override { return Status::OK(); }

  Status DeletePrefix(std::string_view prefix) override {
    const std::string pattern = GlobEscape(prefix) + "*";
    std::string cursor = "0";
    auto op = [&] { return fmt::format("delete prefix '{}' (SCAN)", PrintableKey(prefix)); };
    do {
      Args scan = {"SCAN", cursor, "MATCH", pattern, "COUNT", kScanCount};
      GYRE_ASSIGN_OR_RETURN(auto replies, Exchange({&scan, 1}, op));
      const redisReply* r = replies[0].get();
      if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
          r->element[1]->type != REDIS_REPLY_ARRAY) {
        return ReplyError(r, op());
      }
      const redisReply* keys = r->element[1];
      if (keys->elements > 0) {
        Args unlink;
        unlink.reserve(keys->elements + 1);
        unlink.push_back("UNLINK");
        for (size_t i = 0; i < keys->elements; ++i) unlink.push_back(ReplyText(keys->element[i]));
        auto unlink_op = [&] { return fmt::format("delete prefix '{}' (UNLINK)", PrintableKey(prefix)); };
        GYRE_ASSIGN_OR_RETURN(auto unlinked, Exchange({&unlink, 1}, unlink_op));
        if (unlinked[0]->type != REDIS_REPLY_INTEGER) return ReplyError(unlinked[0].get(), unlink_op());
      }
      cursor.assign(ReplyText(r->element[0]));
    } while (cursor != "0");
    return Status::OK();
  }

  std::string_view backend() const override { return "redis"; }
  bool single_writer() const override { return false; }

 private:
  // Runs `commands` on a pooled connection and returns their replies (which may be Redis errors: the
  // caller checks). A pooled connection found broken is replaced once: the server may have restarted or
  // closed an idle client. A fresh connection that fails, or a timeout, is Unavailable at once.
  template <typename OpName>
  Result<std::vector<Reply>> Exchange(std::span<const Args> commands, const OpName& op) {
    SigpipeBlock block;
    std::vector<Reply> replies;
    bool fresh = false;
    Conn conn = TakeIdle();
    for (;;) {
      if (!conn) {
        GYRE_ASSIGN_OR_RETURN(conn, NewConnection());
        fresh = true;
      }
      if (RoundTrip(conn.get(), commands, &replies)) {
        Release(std::move(conn));
        return replies;
      }
      if (fresh || TimedOut(conn.get())) return ConnectionError(conn.get(), op());
      conn.reset();
      DropIdle();  // its siblings are likely dead too (same restart); don't let the next calls trip on them
    }
  }

  Result<Conn> NewConnection() {
    const timeval timeout{kTimeoutSeconds, 0};
    Conn conn(redisConnectWithTimeout(ep_.host.c_str(), ep_.port, timeout));
    if (!conn) return Status::Unavailable(fmt::format("redis {}: cannot allocate a connection", ep_.display));
    if (conn->err) {
      return Status::Unavailable(
          fmt::format("redis {}: {}", ep_.display, TimedOut(conn.get()) ? TimeoutText() : std::string(conn->errstr)));
    }
    if (redisSetTimeout(conn.get(), timeout) != REDIS_OK) return ConnectionError(conn.get(), "set timeout");
    (void)redisEnableKeepAlive(conn.get());  // best effort: only speeds up noticing a vanished server

    std::vector<Args> hello;
    std::string db = std::to_string(ep_.db);
    if (!ep_.password.empty()) {
      hello.push_back(ep_.user.empty() ? Args{"AUTH", ep_.password} : Args{"AUTH", ep_.user, ep_.password});
    }
    if (ep_.db != 0) hello.push_back({"SELECT", db});
    std::string name = fmt::format("gyre-{}", ::getpid());
    hello.push_back({"CLIENT", "SETNAME", name});
    std::vector<Reply> replies;
    if (!RoundTrip(conn.get(), hello, &replies)) return ConnectionError(conn.get(), "connect");
    size_t i = 0;
    if (!ep_.password.empty()) {
      const redisReply* r = replies[i++].get();
      if (r->type == REDIS_REPLY_ERROR) {
        return Status::PermissionDenied(fmt::format("redis {}: AUTH: {}", ep_.display, ReplyText(r)));
      }
    }
    if (ep_.db != 0) {
      const redisReply* r = replies[i++].get();
      if (r->type == REDIS_REPLY_ERROR) {
        return Status::InvalidArgument(fmt::format("redis {}: SELECT {}: {}", ep_.display, ep_.db, ReplyText(r)));
      }
    }
    // CLIENT SETNAME's reply is not checked: a server that renamed or disabled CLIENT still works.
    return conn;
  }

  Conn TakeIdle() {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.empty()) return nullptr;
    Conn conn = std::move(idle_.back());
    idle_.pop_back();
    return conn;
  }

  void Release(Conn conn) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdleConnections) idle_.push_back(std::move(conn));
  }

  void DropIdle() {
    std::vector<Conn> dropped;
    {
      std::lock_guard<std::mutex> lock(mu_);
      dropped.swap(idle_);
    }
  }

  static std::string TimeoutText() { return fmt::format("no answer within {} s", kTimeoutSeconds); }

  Status ConnectionError(const redisContext* c, std::string_view op) const {
    std::string why = TimedOut(c) ? TimeoutText() : std::string(c->errstr);
    return Status::Unavailable(fmt::format("redis {}: {}: {}", ep_.display, op, why));
  }

  // A reply that is a Redis error (or of an unexpected type), as a Status chosen by what the caller
  // should do next.
  Status ReplyError(const redisReply* r, std::string_view op) const {
    if (r->type != REDIS_REPLY_ERROR) {
      return Status::Internal(fmt::format("redis {}: {}: unexpected reply of type {}", ep_.display, op, r->type));
    }
    std::string_view text = ReplyText(r);
    std::string message = fmt::format("redis {}: {}: {}", ep_.display, op, text);
    auto has_code = [&](std::string_view code) {
      return text.starts_with(code) && (text.size() == code.size() || text[code.size()] == ' ');
    };
    if (has_code("NOAUTH") || has_code("WRONGPASS") || has_code("NOPERM")) {
      return Status::PermissionDenied(std::move(message));
    }
    if (has_code("LOADING") || has_code("BUSY") || has_code("MASTERDOWN") || has_code("TRYAGAIN")) {
      return Status::Unavailable(std::move(message));
    }
    if (has_code("OOM")) return Status::ResourceExhausted(std::move(message));
    if (has_code("READONLY")) return Status::FailedPrecondition(std::move(message));
    if (has_code("ERR") && text.find("syntax error") != std::string_view::npos && op.starts_with("SET")) {
      message += " (gyre needs Redis >= 6.2 for SET ... PXAT)";
    }
    return Status::Internal(std::move(message));
  }

  Status ExpectOk(const redisReply* r, std::string_view op) const {
    if (r->type == REDIS_REPLY_STATUS && ReplyText(r) == "OK") return Status::OK();
    return ReplyError(r, op);
  }

  const RedisEndpoint ep_;
  std::mutex mu_;
  std::vector<Conn> idle_;  // guarded by mu_
};

}  // namespace

Result<std::unique_ptr<KvStore>> OpenRedisKvStore(const RedisEndpoint& endpoint) {
  auto store = std::make_unique<RedisKvStore>(endpoint);
  GYRE_RETURN_IF_ERROR(store->Connect());
  return std::unique_ptr<KvStore>(std::move(store));
}

}  // namespace gyre::store
