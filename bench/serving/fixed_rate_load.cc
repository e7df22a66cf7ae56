// fixed_rate_load: an open-loop HTTP/1.1 load generator for bench/serving_bench.sh — what wrk2's -R does,
// which Debian bookworm does not ship (its wrk has no fixed-rate mode).
//
// Each of --connections keep-alive connections sends at its share of --rate on a fixed schedule (connection c
// sends its k-th request at start + (c + k * connections) / rate), one request in flight per connection. A
// request's latency is measured from the time it was SCHEDULED to go out, not from when it went out: a server
// that stalls delays the requests queued behind the stall, and those delays are counted (no coordinated
// omission). The send lag (actual send - scheduled send, for requests whose connection was free on time) is
// reported separately, so a load generator starved of CPU shows as such instead of as server latency.
//
// Bodies come from a file, one request body per line, rotated over. With --event-clock FROM_MS,ZERO_MS the
// 16-digit value of each body's first "event_id" field becomes a new id per request (start second, connection,
// counter: exactly-once servers would answer a repeated id as a replay), and the 24-character value of its
// first "time" field is rewritten at send time to FROM_MS + (now - ZERO_MS)
// (wall clock, milliseconds since the epoch), as bench/serving/post_bodies.lua does for wrk. Responses must carry Content-Length (gyre
// and nginx both do). Prints one line of key=value pairs; exits non-zero on bad arguments or if no request
// completed. Plain sockets and epoll, Linux only; built by bench/serving_bench.sh with the system compiler.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * kNsPerSec + ts.tv_nsec;
}

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/";
  std::string method = "POST";
  std::string content_type = "application/json";
  std::string bodies_file;
  double rate = 1000;
  int connections = 32;
  int threads = 2;
  double duration_s = 10;
  double warmup_s = 2;
  int64_t event_from_ms = -1;  // --event-clock: fresh event times
  int64_t event_zero_ms = 0;
};

struct Connection {
  int fd = -1;
  int index = 0;                  // global connection number: fixes its place in the schedule
  int64_t sent = 0;               // requests this connection has scheduled so far
  bool in_flight = false;
  int64_t scheduled_ns = 0;       // when the request in flight was due
  int64_t sent_ns = 0;            // when its first byte went out
  int64_t free_ns = 0;            // when the previous response arrived (the connection became free)
  std::string_view out;           // bytes of the current request not written yet
  std::string fresh;              // the current request with a fresh event time (--event-clock)
  std::string in;                 // bytes of the current response read so far
  bool watching_out = false;      // EPOLLOUT is registered (only while a request is partly written)
};

struct ThreadResult {
  std::vector<int64_t> latency_ns;   // from the scheduled send time (corrected)
  std::vector<int64_t> service_ns;   // from the actual send time
  std::vector<int64_t> lag_ns;       // actual - scheduled send, for connections that were free on time
  int64_t completed = 0;             // inside the measured window
  int64_t non_2xx = 0;
  int64_t errors = 0;                // connect/read/write failures, closed connections, unparsable responses
  int64_t unfinished = 0;            // still in flight when the run ended
  std::string first_error;
};

class Worker {
 public:
  Worker(const Options& o, const std::vector<std::string>& requests, const std::vector<size_t>& time_offset,
         const std::vector<size_t>& id_offset,
         const sockaddr_storage& addr, socklen_t addr_len, std::vector<int> indices, int64_t start_ns)
      : o_(o), requests_(requests), time_offset_(time_offset), id_offset_(id_offset), addr_(addr), addr_len_(addr_len), start_ns_(start_ns) {
    period_ns_ = static_cast<int64_t>(static_cast<double>(o.connections) * kNsPerSec / o.rate);
    measure_from_ns_ = start_ns + static_cast<int64_t>(o.warmup_s * kNsPerSec);
    end_ns_ = measure_from_ns_ + static_cast<int64_t>(o.duration_s * kNsPerSec);
    for (int i : indices) {
      Connection c;
      c.index = i;
      conns_.push_back(std::move(c));
    }
  }

  ThreadResult Run() {
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);  // timers wake within ~1 µs instead of the default 50 µs
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    timer_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    epoll_event tev{};
    tev.events = EPOLLIN;
    tev.data.u64 = UINT64_MAX;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, timer_, &tev);
    for (size_t i = 0; i < conns_.size(); ++i) Connect(i);

    const int64_t drain_until = end_ns_ + 2 * kNsPerSec;
    int64_t armed_ns = -1;  // the absolute time the timer is set to fire at (-1: not armed)
    std::vector<epoll_event> events(conns_.size() + 1);
    for (;;) {
      const int64_t now = NowNs();
      int64_t next_due = INT64_MAX;
      bool any_in_flight = false;
      for (size_t i = 0; i < conns_.size(); ++i) {
        Connection& c = conns_[i];
        if (c.in_flight) {
          any_in_flight = true;
          continue;
        }
        const int64_t due = Due(c);
        if (due >= end_ns_) continue;  // this connection's schedule is over
        if (due <= now) {
          Send(i, due, now);
          any_in_flight = any_in_flight || c.in_flight;
        } else {
          next_due = std::min(next_due, due);
        }
      }
      if (next_due == INT64_MAX && !any_in_flight) break;
      if (NowNs() > drain_until) break;
      const int64_t wake = std::min(next_due, drain_until);
      if (wake != armed_ns) {  // an armed timer that has not fired yet still holds
        itimerspec its{};
        its.it_value.tv_sec = wake / kNsPerSec;
        its.it_value.tv_nsec = wake % kNsPerSec;
        timerfd_settime(timer_, TFD_TIMER_ABSTIME, &its, nullptr);
        armed_ns = wake;
      }
      const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 1000);
      for (int e = 0; e < n; ++e) {
        if (events[e].data.u64 == UINT64_MAX) {
          uint64_t expirations;
          [[maybe_unused]] ssize_t r = read(timer_, &expirations, sizeof expirations);
          armed_ns = -1;  // fired: the next wake must be armed again
          continue;
        }
        const size_t i = events[e].data.u64;
        if (events[e].events & EPOLLOUT) Flush(i);
        if (events[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Receive(i);
      }
    }
    for (Connection& c : conns_) {
      if (c.in_flight) ++result_.unfinished;
      if (c.fd >= 0) close(c.fd);
    }
    close(timer_);
    close(epoll_);
    return std::move(result_);
  }

 private:
  int64_t Due(const Connection& c) const {
    return start_ns_ + static_cast<int64_t>(static_cast<double>(c.index) * kNsPerSec / o_.rate) +
           c.sent * period_ns_;
  }

  void Error(size_t i, const std::string& what) {
    ++result_.errors;
    if (result_.first_error.empty()) result_.first_error = what;
    Connection& c = conns_[i];
    if (c.in_flight) ++c.sent;  // the failed request keeps its slot in the schedule
    c.in_flight = false;
    c.free_ns = NowNs();
    close(c.fd);
    c.fd = -1;
    Connect(i);
  }

  void Connect(size_t i) {
    Connection& c = conns_[i];
    c.in.clear();
    c.out = {};
    c.watching_out = false;
    c.fd = socket(addr_.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c.fd < 0 || connect(c.fd, reinterpret_cast<const sockaddr*>(&addr_), addr_len_) != 0) {
      ++result_.errors;
      if (result_.first_error.empty()) result_.first_error = std::string("connect: ") + strerror(errno);
      if (c.fd >= 0) close(c.fd);
      c.fd = -1;
      return;
    }
    int one = 1;
    setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void Send(size_t i, int64_t due, int64_t now) {
    Connection& c = conns_[i];
    if (c.fd < 0) {
      Connect(i);
      if (c.fd < 0) {
        ++c.sent;  // counted as an error in Connect; keep the schedule moving
        return;
      }
    }
    const std::string& request = requests_[static_cast<size_t>(c.index + c.sent * o_.connections) % requests_.size()];
    c.in_flight = true;
    c.scheduled_ns = due;
    c.sent_ns = now;
    c.out = request;
    if (o_.event_from_ms >= 0) {
      c.fresh = request;
      const size_t r = static_cast<size_t>(c.index + c.sent * o_.connections) % requests_.size();
      WriteEventTime(c.fresh.data() + time_offset_[r]);
      WriteEventId(c.index, c.sent, c.fresh.data() + id_offset_[r]);
      c.out = c.fresh;
    }
    c.in.clear();
    // Lag only where the connection was free when the request fell due: a request that waited for the previous
    // response is server latency (counted in latency_ns), not the generator's.
    if (due >= measure_from_ns_ && c.free_ns <= due) result_.lag_ns.push_back(now - due);
    Flush(i);
  }

  // Writes a 16-digit id: "1", 5 digits of the run's start second, 3 of the connection, 7 of its count.
  void WriteEventId(int connection, int64_t sent, char* out) const {
    char text[64];
    std::snprintf(text, sizeof text, "1%05lld%03d%07lld", static_cast<long long>(id_second_ % 100000),
                  connection % 1000, static_cast<long long>(sent % 10000000));
    std::memcpy(out, text, 16);
  }

  // Writes "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 bytes) for the event clock's current time.
  void WriteEventTime(char* out) const {
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const int64_t now_ms = int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1'000'000;
    const int64_t t = o_.event_from_ms + (now_ms - o_.event_zero_ms);
    const time_t seconds = static_cast<time_t>(t / 1000);
    tm parts;
    gmtime_r(&seconds, &parts);
    char text[96];  // room for any int the compiler cannot rule out; a real time takes 24
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                  parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, static_cast<int>(t % 1000));
    std::memcpy(out, text, 24);
  }

  void Flush(size_t i) {
    Connection& c = conns_[i];
    while (!c.out.empty()) {
      const ssize_t w = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        Error(i, std::string("send: ") + strerror(errno));
        return;
      }
      c.out.remove_prefix(static_cast<size_t>(w));
    }
    // Re-registered only when the interest changes: a request nearly always goes out whole, and a call per
    // request made the generator the machine's third-biggest CPU user at fixed rates.
    const bool watch_out = !c.out.empty();
    if (watch_out == c.watching_out) return;
    c.watching_out = watch_out;
    epoll_event ev{};
    ev.events = EPOLLIN | (watch_out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u64 = i;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  void Receive(size_t i) {
    Connection& c = conns_[i];
    if (c.fd < 0) return;
    // One recv per readiness: epoll is level-triggered, so bytes left unread (a response larger than the
    // buffer) report the socket ready again, without a second call that would only say EAGAIN.
    char buf[16384];
    const ssize_t r = recv(c.fd, buf, sizeof buf, 0);
    if (r == 0) return Error(i, "connection closed by the server");
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      return Error(i, std::string("recv: ") + strerror(errno));
    }
    c.in.append(buf, static_cast<size_t>(r));
    if (!c.in_flight) return Error(i, "bytes received with no request in flight");
    const size_t header_end = c.in.find("\r\n\r\n");
    if (header_end == std::string::npos) return;
    // Status line "HTTP/1.1 200 OK"; then the Content-Length header, whatever its case.
    if (c.in.size() < 12 || c.in.compare(0, 5, "HTTP/") != 0) return Error(i, "not an HTTP response");
    const int status = std::atoi(c.in.c_str() + c.in.find(' ') + 1);
    std::string headers = c.in.substr(0, header_end);
    std::transform(headers.begin(), headers.end(), headers.begin(),
                   [](char ch) { return static_cast<char>(std::tolower(static_cast<unsigned char>(ch))); });
    const size_t cl = headers.find("\r\ncontent-length:");
    if (cl == std::string::npos) return Error(i, "response without Content-Length");
    const size_t body_len = std::strtoull(headers.c_str() + cl + 17, nullptr, 10);
    const size_t total = header_end + 4 + body_len;
    if (c.in.size() < total) return;
    if (c.in.size() > total) return Error(i, "more bytes than one response");
    const int64_t now = NowNs();
    if (c.scheduled_ns >= measure_from_ns_) {
      ++result_.completed;
      if (status < 200 || status > 299) ++result_.non_2xx;
      result_.latency_ns.push_back(now - c.scheduled_ns);
      result_.service_ns.push_back(now - c.sent_ns);
    }
    c.in.clear();
    c.in_flight = false;
    c.free_ns = now;
    ++c.sent;
  }

  const Options& o_;
  const std::vector<std::string>& requests_;
  const std::vector<size_t>& time_offset_;  // per request: where its time value starts (--event-clock)
  const std::vector<size_t>& id_offset_;    // per request: where its 16-digit event id starts (--event-clock)
  const int64_t id_second_ = static_cast<int64_t>(std::time(nullptr));  // wall clock, as post_bodies.lua's
  sockaddr_storage addr_;
  socklen_t addr_len_;
  int64_t start_ns_;
  int64_t period_ns_ = 0;
  int64_t measure_from_ns_ = 0;
  int64_t end_ns_ = 0;
  int epoll_ = -1;
  int timer_ = -1;
  std::vector<Connection> conns_;
  ThreadResult result_;
};

double Percentile(std::vector<int64_t>& v, double p) {
  if (v.empty()) return 0;
  // Nearest rank: the smallest value with at least p% of the samples at or below it.
  size_t rank = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size()) + 0.999999);
  rank = std::clamp<size_t>(rank, 1, v.size());
  std::nth_element(v.begin(), v.begin() + static_cast<ptrdiff_t>(rank - 1), v.end());
  return static_cast<double>(v[rank - 1]) / 1e6;
}

[[noreturn]] void Usage(const char* why) {
  std::fprintf(stderr,
               "fixed_rate_load: %s\n"
               "usage: fixed_rate_load --url http://HOST:PORT/PATH --bodies FILE [--rate R] [--connections C]\n"
               "       [--threads T] [--duration S] [--warmup S] [--method POST] [--content-type TYPE]\n"
               "       [--event-clock FROM_MS,ZERO_MS]\n",
               why);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::string url;
  for (int a = 1; a < argc; ++a) {
    const std::string_view flag = argv[a];
    if (a + 1 >= argc) Usage(("missing value for " + std::string(flag)).c_str());
    const char* v = argv[++a];
    if (flag == "--url") url = v;
    else if (flag == "--bodies") o.bodies_file = v;
    else if (flag == "--rate") o.rate = std::atof(v);
    else if (flag == "--connections") o.connections = std::atoi(v);
    else if (flag == "--threads") o.threads = std::atoi(v);
    else if (flag == "--duration") o.duration_s = std::atof(v);
    else if (flag == "--warmup") o.warmup_s = std::atof(v);
    else if (flag == "--method") o.method = v;
    else if (flag == "--content-type") o.content_type = v;
    else if (flag == "--event-clock") {
      if (std::sscanf(v, "%lld,%lld", reinterpret_cast<long long*>(&o.event_from_ms),
                      reinterpret_cast<long long*>(&o.event_zero_ms)) != 2 || o.event_from_ms < 0) {
        Usage("--event-clock takes FROM_MS,ZERO_MS");
      }
    }
    else Usage(("unknown flag " + std::string(flag)).c_str());
  }
  if (url.rfind("http://", 0) != 0) Usage("--url must start with http://");
  if (o.rate <= 0 || o.connections <= 0 || o.threads <= 0 || o.duration_s <= 0) Usage("bad numbers");
  o.threads = std::min(o.threads, o.connections);
  {
    std::string rest = url.substr(7);
    const size_t slash = rest.find('/');
    o.path = slash == std::string::npos ? "/" : rest.substr(slash);
    const std::string hostport = rest.substr(0, slash);
    const size_t colon = hostport.rfind(':');
    if (colon == std::string::npos) Usage("--url needs a port");
    o.host = hostport.substr(0, colon);
    o.port = std::atoi(hostport.c_str() + colon + 1);
  }

  std::vector<std::string> bodies;
  if (o.bodies_file.empty()) {
    bodies.emplace_back();
  } else {
    std::ifstream in(o.bodies_file);
    if (!in) Usage(("cannot read " + o.bodies_file).c_str());
    for (std::string line; std::getline(in, line);) {
      if (!line.empty()) bodies.push_back(line);
    }
    if (bodies.empty()) Usage(("no bodies in " + o.bodies_file).c_str());
  }
  std::vector<std::string> requests;
  std::vector<size_t> time_offset, id_offset;
  for (const std::string& b : bodies) {
    std::string r = o.method + " " + o.path + " HTTP/1.1\r\nHost: " + o.host + ":" + std::to_string(o.port) + "\r\n";
    if (!b.empty() || o.method == "POST") {
      r += "Content-Type: " + o.content_type + "\r\nContent-Length: " + std::to_string(b.size()) + "\r\n";
    }
    r += "\r\n" + b;
    if (o.event_from_ms >= 0) {
      const size_t at = r.find("\"time\":\"");
      if (at == std::string::npos || at + 8 + 24 > r.size()) Usage(("a body has no \"time\" field: " + b).c_str());
      time_offset.push_back(at + 8);
      const size_t id_at = r.find("\"event_id\":");
      if (id_at == std::string::npos || id_at + 11 + 16 > at) {
        Usage(("a body has no 16-digit \"event_id\" before its \"time\": " + b).c_str());
      }
      id_offset.push_back(id_at + 11);
    }
    requests.push_back(std::move(r));
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* ai = nullptr;
  if (getaddrinfo(o.host.c_str(), std::to_string(o.port).c_str(), &hints, &ai) != 0 || ai == nullptr) {
    Usage(("cannot resolve " + o.host).c_str());
  }
  sockaddr_storage addr{};
  std::memcpy(&addr, ai->ai_addr, ai->ai_addrlen);
  const socklen_t addr_len = ai->ai_addrlen;
  freeaddrinfo(ai);

  // Start a little in the future so every connection is open before its first send is due.
  const int64_t start_ns = NowNs() + 200'000'000;
  std::vector<ThreadResult> results(static_cast<size_t>(o.threads));
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    std::vector<int> indices;
    for (int c = t; c < o.connections; c += o.threads) indices.push_back(c);
    threads.emplace_back([&, t, indices] {
      Worker w(o, requests, time_offset, id_offset, addr, addr_len, indices, start_ns);
      results[static_cast<size_t>(t)] = w.Run();
    });
  }
  for (std::thread& t : threads) t.join();

  ThreadResult all;
  for (ThreadResult& r : results) {
    all.latency_ns.insert(all.latency_ns.end(), r.latency_ns.begin(), r.latency_ns.end());
    all.service_ns.insert(all.service_ns.end(), r.service_ns.begin(), r.service_ns.end());
    all.lag_ns.insert(all.lag_ns.end(), r.lag_ns.begin(), r.lag_ns.end());
    all.completed += r.completed;
    all.non_2xx += r.non_2xx;
    all.errors += r.errors;
    all.unfinished += r.unfinished;
    if (all.first_error.empty()) all.first_error = r.first_error;
  }
  const double max_ms =
      all.latency_ns.empty() ? 0 : static_cast<double>(*std::max_element(all.latency_ns.begin(), all.latency_ns.end())) / 1e6;
  std::printf(
      "rate=%.0f achieved=%.0f completed=%lld non2xx=%lld errors=%lld unfinished=%lld "
      "p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f service_p99_ms=%.3f lag_p99_ms=%.3f\n",
      o.rate, static_cast<double>(all.completed) / o.duration_s, static_cast<long long>(all.completed),
      static_cast<long long>(all.non_2xx), static_cast<long long>(all.errors),
      static_cast<long long>(all.unfinished), Percentile(all.latency_ns, 50), Percentile(all.latency_ns, 90),
      Percentile(all.latency_ns, 99), Percentile(all.latency_ns, 99.9), max_ms, Percentile(all.service_ns, 99),
      Percentile(all.lag_ns, 99));
  if (!all.first_error.empty()) std::fprintf(stderr, "fixed_rate_load: first error: %s\n", all.first_error.c_str());
  return all.completed > 0 ? 0 : 1;
}
