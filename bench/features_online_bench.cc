// Online feature latency (issue 4): "push + read latency p50/p99 in-process and over HTTP; goal: p99 under
// 1 ms over loopback HTTP for one entity and 20 features", beside what Feast does per online read, a raw
// Redis GET of a ~1 KB value, measured in the same run.
//
//   features_online_bench --work DIR [--redis-url redis://127.0.0.1:PORT] [--users 2000] [--days 7]
//                         [--warm-days 5] [--requests 20000]
//
// bench/features_online_bench.sh starts a private redis-server and runs this; run it by hand only against a
// throw-away Redis (the bench writes and deletes keys under the ATO group names and "gyre-bench:").
//
// What happens, in one process:
//  1. `gyre datagen ato` (the API) writes DIR/ws/data; DIR/ws gets a gyre.yaml (embedded SQLite, RocksDB
//     online store) and examples/ato/features.yaml; services::WorkspaceServices opens it as `gyre server` does.
//  2. Warm state: the logins of the first --warm-days days are pushed in one Push call (not timed per event).
//  3. The remaining logins form the measured stream. Event k is login (k mod n) of the rest, shifted forward
//     by (k div n) periods of the rest's span, so any number of requests pushes events in time order (every
//     cycle starts after the previous ended; none is dropped as too late). Each event is read first (as a
//     scorer would: the features of the login, as of its time) and then pushed, one at a time.
//       in-process, RocksDB: OnlineStore::Get of 1 row x 20 features, OnlineStore::Push of 1 login
//       handler, RocksDB:    the same two routes called through http::Router::Handle, no socket: the cost of
//                            the JSON in and out on top of the OnlineStore call
//       HTTP, RocksDB:       POST /get-online-features and POST /push through http::Server (the routes of
//                            `gyre server`, in-process) and one keep-alive http::Client; GET /health alone
//                            gives the HTTP floor
//       in-process, Redis:   a second OnlineStore over redis://, warmed and replayed the same way
//       peer:                hiredis GET of a 1024-byte value on the same Redis server
//  Timings are client-side wall time around the one call (steady_clock), request bodies built and responses
//  checked outside it. The first --warmup samples of each series are dropped. Each series runs on a thread
//  of its own (see OnFreshThread).
//
// The 20 features: every group over logins (user_logins 11, ip_logins 6, device_logins 3), all from the
// ato_login set; the read carries the 5 entity columns those need (is_new reads device_id, country, asn).
// The HTTP read also sends "event_timestamps" (gyre's extension) so it reads as of the login, like the
// in-process Get; without it gyre reads as of now, past the generated data.
#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/routes.h"
#include "services/workspace_services.h"
#include "api/feature_routes.h"
#include "core/status.h"
#include "core/table.h"
#include "core/time.h"
#include "core/workspace.h"
#include "datagen/ato.h"
#include "features/backfill.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "http/client.h"
#include "http/router.h"
#include "http/server.h"
#include "store/kv_store.h"

namespace gyre {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

const std::vector<std::string> kFeatures = {
    // user_logins (11)
    "user_failed_logins_10m", "user_failed_logins_1h", "user_failed_logins_24h", "user_logins_24h",
    "user_distinct_devices_24h", "user_distinct_ips_24h", "user_new_device", "user_new_country", "user_new_asn",
    "user_secs_since_success", "user_seen_for",
    // ip_logins (6)
    "ip_attempts_10m", "ip_attempts_1h", "ip_distinct_users_1h", "ip_distinct_users_24h", "ip_failure_ratio_1h",
    "ip_approx_users_7d",
    // device_logins (3)
    "device_distinct_users_24h", "device_distinct_users_30d", "device_failed_logins_1h"};
const std::vector<std::string> kEntityColumns = {"user_id", "ip", "device_id", "country", "asn"};

[[noreturn]] void Die(std::string_view what, const Status& status) {
  fmt::print(stderr, "features_online_bench: {}: {}\n", what, status.ToString());
  std::exit(1);
}

template <typename T>
T Check(Result<T> result, std::string_view what) {
  if (!result.ok()) Die(what, result.status());
  return std::move(result).value();
}

void Check(const Status& status, std::string_view what) {
  if (!status.ok()) Die(what, status);
}

double MicrosSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

// One measured series: latencies in µs of one operation.
struct Series {
  std::string path;  // in-process, HTTP, peer
  std::string op;
  std::string backend;
  std::vector<double> us;

  // Nearest-rank percentile, p in (0, 1]; `us` must be sorted.
  double Percentile(double p) const {
    if (us.empty()) return NAN;
    size_t rank = static_cast<size_t>(std::ceil(p * static_cast<double>(us.size())));
    return us[std::clamp<size_t>(rank, 1, us.size()) - 1];
  }
};

// The measured logins: the rows of `logins` from `begin` on, replayed in cycles shifted forward in time.
class LoginStream {
 public:
  LoginStream(const Table& logins, int64_t begin, int ts_column)
      : logins_(&logins), begin_(begin), ts_column_(ts_column) {
    const Column& ts = logins.column(ts_column);
    int64_t first = ts.Timestamp(begin), last = ts.Timestamp(logins.num_rows() - 1);
    period_ = last - first + kMicrosPerMinute;
  }
  int64_t size() const { return logins_->num_rows() - begin_; }

  int64_t Time(int64_t k) const {
    return logins_->column(ts_column_).Timestamp(begin_ + k % size()) + (k / size()) * period_;
  }
  // Event k as a one-row table of the logins' schema.
  Table Row(int64_t k) const {
    int64_t row = begin_ + k % size();
    TableBuilder builder(logins_->schema());
    for (int c = 0; c < logins_->num_columns(); ++c) {
      if (c == ts_column_) {
        builder.column(c).AppendTimestamp(Time(k));
      } else {
        builder.column(c).AppendFrom(logins_->column(c), row);
      }
    }
    return Check(builder.Finish(), "building a login row");
  }

 private:
  const Table* logins_;
  int64_t begin_;
  int ts_column_;
  int64_t period_ = 0;
};

json CellJson(const Column& column, int64_t row) {
  if (column.IsNull(row)) return nullptr;
  switch (column.type()) {
    case ColumnType::kString:
      return std::string(column.String(row));
    case ColumnType::kInt64:
      return column.Int64(row);
    case ColumnType::kFloat64:
      return column.Float64(row);
    case ColumnType::kBool:
      return column.Bool(row);
    case ColumnType::kTimestamp:
      return FormatTimestamp(column.Timestamp(row));
  }
  return nullptr;
}

std::string ReadBody(const Table& row, int64_t time) {
  json entities = json::object();
  for (const std::string& name : kEntityColumns) {
    entities[name] = json::array({CellJson(*Check(row.ColumnByName(name), "entity column"), 0)});
  }
  return json{{"features", kFeatures}, {"entities", entities}, {"event_timestamps", {FormatTimestamp(time)}}}.dump();
}

std::string PushBody(const Table& row) {
  json df = json::object();
  for (int c = 0; c < row.num_columns(); ++c) df[row.column_name(c)] = json::array({CellJson(row.column(c), 0)});
  return json{{"push_source_name", "logins"}, {"df", df}, {"to", "online"}}.dump();
}

// Counts reads whose user entity had state (PRESENT or NULL_VALUE rather than NOT_FOUND): shows the
// replay really reads warm keys.
struct FoundCounter {
  int64_t reads = 0, user_found = 0;
  void Add(features::ReadStatus status) {
    ++reads;
    user_found += status != features::ReadStatus::kNotFound;
  }
  std::string Text() const {
    return fmt::format("{:.1f}% of reads found the user's state", reads ? 100.0 * user_found / reads : 0.0);
  }
};

struct Replay {
  Series get, push;
  FoundCounter found;
};

// Get then Push of events [first, first + count) through an OnlineStore, one event at a time.
Replay ReplayInProcess(features::OnlineStore& online, const LoginStream& stream, int logins_source,
                       const std::vector<int>& features, int64_t first, int64_t count, int64_t warmup) {
  Replay r;
  r.get = {"in-process", "OnlineStore::Get 1 row x 20 features", std::string(online.backend()), {}};
  r.push = {"in-process", "OnlineStore::Push 1 login (3 groups)", std::string(online.backend()), {}};
  for (int64_t k = first; k < first + count; ++k) {
    Table row = stream.Row(k);
    Table query = Check(row.SelectColumns(kEntityColumns), "entity columns");
    int64_t time = stream.Time(k);
    Clock::time_point t0 = Clock::now();
    Result<features::OnlineValues> values = online.Get(features, query, std::span<const int64_t>(&time, 1));
    double get_us = MicrosSince(t0);
    Check(values.status(), "OnlineStore::Get");
    t0 = Clock::now();
    Result<features::PushResult> pushed = online.Push(logins_source, row);
    double push_us = MicrosSince(t0);
    Check(pushed.status(), "OnlineStore::Push");
    if (pushed->too_late != 0) Check(Status::Internal("a replayed login was dropped as too late"), "replay");
    if (k - first < warmup) continue;
    r.get.us.push_back(get_us);
    r.push.us.push_back(push_us);
    r.found.Add(values->statuses[0][0]);
  }
  return r;
}

// One request: (HTTP status, body), or a transport error.
using Send = std::function<Result<std::pair<int, std::string>>(std::string_view path, const std::string& body)>;

// POST /get-online-features then POST /push of events [first, first + count), through `send`.
Replay ReplayRequests(const Send& send, std::string path, const LoginStream& stream, int64_t first, int64_t count,
                      int64_t warmup) {
  Replay r;
  r.get = {path, "POST /get-online-features 1 x 20", "rocksdb", {}};
  r.push = {path, "POST /push 1 login", "rocksdb", {}};
  for (int64_t k = first; k < first + count; ++k) {
    Table row = stream.Row(k);
    std::string read_body = ReadBody(row, stream.Time(k));
    std::string push_body = PushBody(row);
    Clock::time_point t0 = Clock::now();
    Result<std::pair<int, std::string>> read = send("/get-online-features", read_body);
    double get_us = MicrosSince(t0);
    t0 = Clock::now();
    Result<std::pair<int, std::string>> push = send("/push", push_body);
    double push_us = MicrosSince(t0);
    for (const auto* response : {&read, &push}) {
      Check(response->status(), "request");
      if ((*response)->first != 200) {
        Check(Status::Internal(fmt::format("HTTP {}: {}", (*response)->first, (*response)->second)), "request");
      }
    }
    json reply = json::parse(read->second, nullptr, false);
    // Results: the 5 entity columns, then the features in request order; [5] is user_failed_logins_10m.
    if (reply.is_discarded() || reply["results"].size() != kEntityColumns.size() + kFeatures.size()) {
      Check(Status::Internal("unexpected reply: " + read->second.substr(0, 300)), "POST /get-online-features");
    }
    json push_reply = json::parse(push->second, nullptr, false);
    if (push_reply.is_discarded() || push_reply.value("too_late", -1) != 0) {
      Check(Status::Internal("unexpected push reply: " + push->second.substr(0, 300)), "POST /push");
    }
    if (k - first < warmup) continue;
    r.get.us.push_back(get_us);
    r.push.us.push_back(push_us);
    const std::string status = reply["results"][kEntityColumns.size()]["statuses"][0];
    r.found.Add(status == "NOT_FOUND" ? features::ReadStatus::kNotFound : features::ReadStatus::kPresent);
  }
  return r;
}

Series HttpHealth(http::Client& client, int64_t count, int64_t warmup) {
  Series s{"HTTP", "GET /health (HTTP floor)", "-", {}};
  for (int64_t i = 0; i < count + warmup; ++i) {
    Clock::time_point t0 = Clock::now();
    Result<http::ClientResponse> reply = client.Request("GET", "/health");
    double us = MicrosSince(t0);
    Check(reply.status(), "GET /health");
    if (i >= warmup) s.us.push_back(us);
  }
  return s;
}

// Feast's online read is one Redis round trip per entity (a hash of the feature view's values): the peer is
// one GET of a value of that size, through hiredis, on the same server gyre's Redis backend uses.
Series RedisGet(const std::string& url, int64_t count, int64_t warmup) {
  std::string rest = url.substr(std::string_view("redis://").size());
  rest = rest.substr(0, rest.find('/'));
  size_t colon = rest.rfind(':');
  std::string host = colon == std::string::npos ? rest : rest.substr(0, colon);
  int port = colon == std::string::npos ? 6379 : std::atoi(rest.c_str() + colon + 1);
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx(redisConnect(host.c_str(), port), redisFree);
  if (ctx == nullptr || ctx->err) {
    Check(Status::Unavailable(fmt::format("redis {}:{}: {}", host, port, ctx ? ctx->errstr : "out of memory")),
          "hiredis connect");
  }
  auto command = [&](const char* format, auto... args) {
    std::unique_ptr<redisReply, void (*)(void*)> reply(
        static_cast<redisReply*>(redisCommand(ctx.get(), format, args...)), freeReplyObject);
    if (reply == nullptr || reply->type == REDIS_REPLY_ERROR) {
      Check(Status::Unavailable(fmt::format("redis {}: {}", format, reply ? reply->str : ctx->errstr)), "hiredis");
    }
    return reply;
  };
  std::string value(1024, 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + (i * 7) % 26);
  command("SET gyre-bench:value %b", value.data(), value.size());
  Series s{"peer", "Redis GET 1 KB (hiredis)", "redis", {}};
  for (int64_t i = 0; i < count + warmup; ++i) {
    Clock::time_point t0 = Clock::now();
    auto reply = command("GET gyre-bench:value");
    double us = MicrosSince(t0);
    if (reply->type != REDIS_REPLY_STRING || reply->len != 1024) {
      Check(Status::Internal("GET gyre-bench:value did not return the 1024-byte value"), "hiredis");
    }
    if (i >= warmup) s.us.push_back(us);
  }
  command("DEL gyre-bench:value");
  return s;
}

// Runs `f` on a new thread and returns its result. Each series is measured on a thread of its own so that
// every one starts from the same allocator state: glibc gives a new thread a fresh arena, while the main
// thread's arena is fragmented by datagen, the CSV read and the warm push (measured on the main thread, the
// router-only series was slower than the same calls over HTTP, whose handlers run on a server thread).
template <typename F>
auto OnFreshThread(F&& f) -> decltype(f()) {
  std::optional<decltype(f())> result;
  std::thread thread([&] { result.emplace(f()); });
  thread.join();
  return std::move(*result);
}

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one.empty() ? "?" : one + " " + five + " " + fifteen;
}

void WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) Check(Status::IOError("cannot write " + path.string()), "workspace");
}

}  // namespace
}  // namespace gyre

int main(int argc, char** argv) {
  using namespace gyre;
  std::signal(SIGPIPE, SIG_IGN);  // hiredis writes to a socket the server may close
  CLI::App cli{"Online feature push/read latency: in-process, over loopback HTTP, and a raw Redis GET"};
  std::string work, redis_url, features_yaml = std::string(GYRE_SOURCE_DIR) + "/examples/ato/features.yaml";
  int users = 2000, days = 7, warm_days = 5;
  int64_t requests = 20000, warmup = 500;
  cli.add_option("--work", work, "folder for the dataset and workspace (must not exist or be empty)")->required();
  cli.add_option("--redis-url", redis_url, "redis://HOST:PORT of a throw-away Redis: Redis backend and peer");
  cli.add_option("--users", users, "datagen users")->capture_default_str();
  cli.add_option("--days", days, "datagen days")->capture_default_str();
  cli.add_option("--warm-days", warm_days, "days of logins pushed before measuring")->capture_default_str();
  cli.add_option("--requests", requests, "measured events per series (each: one read and one push)")
      ->capture_default_str();
  cli.add_option("--warmup", warmup, "samples dropped at the start of each series")->capture_default_str();
  cli.add_option("--features-yaml", features_yaml, "feature definitions")->capture_default_str();
  CLI11_PARSE(cli, argc, argv);
  if (warm_days < 1 || warm_days >= days) {
    fmt::print(stderr, "features_online_bench: --warm-days must be in [1, --days)\n");
    return 2;
  }
  if (!redis_url.empty() && !redis_url.starts_with("redis://")) {
    fmt::print(stderr, "features_online_bench: --redis-url must be redis://HOST:PORT\n");
    return 2;
  }
  fmt::print(stderr, "load average at start: {}\n", LoadAverage());

  // 1. Data and workspace.
  namespace fs = std::filesystem;
  fs::path ws_dir = fs::path(work) / "ws";
  std::error_code ec;
  if (fs::exists(ws_dir, ec)) Check(Status::FailedPrecondition(ws_dir.string() + " exists"), "--work");
  fs::create_directories(ws_dir, ec);
  datagen::AtoOptions gen;
  gen.users = users;
  gen.days = days;
  gen.out_dir = (ws_dir / "data").string();
  Clock::time_point t0 = Clock::now();
  datagen::AtoSummary generated = Check(datagen::GenerateAto(gen), "datagen");
  fmt::print(stderr, "datagen: {} users x {} days: {} logins in {:.1f} s\n", users, days, generated.logins.rows,
             MicrosSince(t0) / 1e6);
  WriteFile(ws_dir / "gyre.yaml",
            "# features_online_bench: embedded defaults (SQLite metadata, RocksDB online state under .gyre/)\n"
            "name: online-bench\nstore:\n  metadata: sqlite\n  online: rocksdb\n");
  fs::copy_file(features_yaml, ws_dir / "features.yaml", fs::copy_options::overwrite_existing, ec);
  if (ec) Check(Status::IOError(fmt::format("copy {}: {}", features_yaml, ec.message())), "workspace");
  Workspace workspace = Check(Workspace::Open(ws_dir.string()), "workspace");
  std::unique_ptr<services::WorkspaceServices> app = Check(services::WorkspaceServices::Open(workspace), "WorkspaceServices::Open");
  features::OnlineStore* online = app->online_features();
  if (online == nullptr) Check(Status::Internal("the workspace has no online store"), "WorkspaceServices::Open");
  const features::FeatureRegistry& registry = *app->features();

  std::vector<int> feature_ids;
  std::map<std::string, int> per_group;
  for (const std::string& name : kFeatures) {
    int f = Check(registry.FindFeature(name), "feature");
    const features::FeatureDef& def = registry.features()[f];
    if (def.group < 0 || registry.sources()[registry.groups()[def.group].source].name != "logins") {
      Check(Status::InvalidArgument(name + " is not an aggregation over logins"), "feature list");
    }
    ++per_group[registry.groups()[def.group].name];
    feature_ids.push_back(f);
  }
  int logins_source = Check(registry.FindSource("logins"), "source");
  const features::SourceDef& logins_def = registry.sources()[logins_source];
  Table logins = Check(features::ReadSource(logins_def), "reading logins");
  const Column& ts = logins.column(logins_def.timestamp_index);
  const int64_t cut_time = gen.start + warm_days * kMicrosPerDay;
  int64_t cut = 0;
  while (cut < logins.num_rows() && ts.Timestamp(cut) < cut_time) ++cut;
  if (cut == 0 || cut == logins.num_rows()) Check(Status::Internal("no logins on one side of the warm cut"), "data");
  Table warm = logins.Slice(0, cut);
  LoginStream stream(logins, cut, logins_def.timestamp_index);

  // 2. Warm state.
  t0 = Clock::now();
  Check(online->Push(logins_source, warm).status(), "warm push");
  double warm_s = MicrosSince(t0) / 1e6;
  fmt::print(stderr, "warm: {} logins pushed to rocksdb in {:.2f} s ({:.0f}/s); {} logins to replay\n", cut, warm_s,
             cut / warm_s, stream.size());

  // 3a. In-process over RocksDB: events [0, M), M = the length of a series with its warm-up.
  const int64_t m = requests + warmup;
  std::vector<Series> table;
  std::vector<std::string> notes;
  size_t http_row = 0, floor_row = 0;
  Replay rocks =
      OnFreshThread([&] { return ReplayInProcess(*online, stream, logins_source, feature_ids, 0, m, warmup); });
  notes.push_back("in-process rocksdb: " + rocks.found.Text());
  table.push_back(std::move(rocks.get));
  table.push_back(std::move(rocks.push));

  // 3b. The route handlers called directly (no socket, no HTTP parsing): events [M, 2M). Their cost is the
  // JSON in and out plus the OnlineStore call.
  {
    http::Router router;
    api::AddFeatureRoutes(router, [online] { return online; });
    http::RequestScratch scratch;
    Send call = [&](std::string_view path, const std::string& body) -> Result<std::pair<int, std::string>> {
      http::Request request;
      request.method = "POST";
      request.target = path;
      request.body = body;
      request.request_id = "bench";
      http::Response response = router.Handle(request, &scratch);
      return std::make_pair(response.status, std::move(response.body));
    };
    Replay handler = OnFreshThread([&] { return ReplayRequests(call, "handler", stream, m, m, warmup); });
    notes.push_back("handler: " + handler.found.Text());
    table.push_back(std::move(handler.get));
    table.push_back(std::move(handler.push));
  }

  // 3c. HTTP: events [2M, 3M) through http::Server (as `gyre server` serves them) and a keep-alive client.
  http::ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  std::unique_ptr<http::Server> server = Check(http::Server::Create(options), "http::Server::Create");
  api::AddRoutes(*server, *app);
  Check(server->Start(), "http::Server::Start");
  {
    std::unique_ptr<http::Client> client = Check(http::Client::Connect("127.0.0.1", server->port()), "connect");
    Send post = [&](std::string_view path, const std::string& body) -> Result<std::pair<int, std::string>> {
      GYRE_ASSIGN_OR_RETURN(http::ClientResponse response, client->Request("POST", path, body));
      return std::make_pair(response.status, std::move(response.body));
    };
    Replay over_http = OnFreshThread([&] { return ReplayRequests(post, "HTTP", stream, 2 * m, m, warmup); });
    notes.push_back("HTTP: " + over_http.found.Text());
    http_row = table.size();
    table.push_back(std::move(over_http.get));
    table.push_back(std::move(over_http.push));
    floor_row = table.size();
    table.push_back(OnFreshThread([&] { return HttpHealth(*client, requests, warmup); }));
  }
  Check(server->Shutdown(), "http::Server::Shutdown");

  // 3d. Redis: the same replay as 3a through a second OnlineStore over redis://, then the raw GET peer.
  std::optional<size_t> redis_get_row, peer_row;
  if (!redis_url.empty()) {
    std::unique_ptr<store::KvStore> kv = Check(store::KvStore::Open(redis_url, workspace.state_dir()), "redis");
    store::KvStore* raw_kv = kv.get();
    std::vector<std::string> group_prefixes;
    for (const auto& [group, n] : per_group) group_prefixes.push_back(group);
    for (const std::string& p : group_prefixes) Check(raw_kv->DeletePrefix(p), "redis cleanup");
    std::unique_ptr<features::OnlineStore> on_redis =
        Check(features::OnlineStore::Open(&registry, std::move(kv)), "OnlineStore over redis");
    t0 = Clock::now();
    Check(on_redis->Push(logins_source, warm).status(), "warm push to redis");
    warm_s = MicrosSince(t0) / 1e6;
    fmt::print(stderr, "warm: {} logins pushed to redis in {:.2f} s ({:.0f}/s)\n", cut, warm_s, cut / warm_s);
    Replay redis =
        OnFreshThread([&] { return ReplayInProcess(*on_redis, stream, logins_source, feature_ids, 0, m, warmup); });
    notes.push_back("in-process redis: " + redis.found.Text());
    redis_get_row = table.size();
    table.push_back(std::move(redis.get));
    table.push_back(std::move(redis.push));
    peer_row = table.size();
    table.push_back(OnFreshThread([&] { return RedisGet(redis_url, requests, warmup); }));
    for (const std::string& p : group_prefixes) Check(raw_kv->DeletePrefix(p), "redis cleanup");
  }

  // 4. Report.
  for (Series& s : table) std::sort(s.us.begin(), s.us.end());
  fmt::print("\nOnline features: ATO logins, {} users x {} days, {} logins warm ({} days), {} replayed in time order\n",
             users, days, cut, warm_days, stream.size());
  std::string groups_text;
  for (const auto& [group, n] : per_group)
    groups_text += fmt::format("{}{} {}", groups_text.empty() ? "" : ", ", group, n);
  fmt::print(
      "Read: 1 entity row x {} features ({}); push: 1 login updating 3 groups. Latency in µs, one call at a time.\n\n",
      kFeatures.size(), groups_text);
  fmt::print("{:<11} {:<38} {:<8} {:>7} {:>9} {:>9} {:>9} {:>9}\n", "path", "operation", "backend", "n", "p50", "p90",
             "p99", "p99.9");
  for (const Series& s : table) {
    fmt::print("{:<11} {:<38} {:<8} {:>7} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f}\n", s.path, s.op, s.backend, s.us.size(),
               s.Percentile(0.5), s.Percentile(0.9), s.Percentile(0.99), s.Percentile(0.999));
  }
  fmt::print("\n");
  for (const std::string& note : notes) fmt::print("note: {}\n", note);
  const Series& http_read = table[http_row];
  fmt::print(
      "where a read's p50 goes: OnlineStore::Get {:.1f} µs, + JSON in/out (handler) {:.1f} µs, + HTTP "
      "transport {:.1f} µs (floor: GET /health {:.1f} µs)\n",
      table[0].Percentile(0.5), table[2].Percentile(0.5) - table[0].Percentile(0.5),
      http_read.Percentile(0.5) - table[2].Percentile(0.5), table[floor_row].Percentile(0.5));
  if (peer_row) {
    const Series& peer = table[*peer_row];
    fmt::print("ratio gyre HTTP read / Redis GET 1 KB: p50 {:.2f}x, p99 {:.2f}x\n",
               http_read.Percentile(0.5) / peer.Percentile(0.5), http_read.Percentile(0.99) / peer.Percentile(0.99));
    fmt::print("ratio gyre in-process Get on redis / Redis GET 1 KB: p50 {:.2f}x, p99 {:.2f}x\n",
               table[*redis_get_row].Percentile(0.5) / peer.Percentile(0.5),
               table[*redis_get_row].Percentile(0.99) / peer.Percentile(0.99));
  } else {
    fmt::print("no --redis-url: Redis backend and peer not measured\n");
  }
  double p99 = http_read.Percentile(0.99);
  fmt::print("goal (issue 4) p99 < 1 ms over loopback HTTP, 1 entity x 20 features: {} (p99 {:.1f} µs)\n",
             p99 < 1000 ? "HOLDS" : "MISSED", p99);
  fmt::print("load average at end: {} ({} hardware threads; the machine may be shared)\n", LoadAverage(),
             std::thread::hardware_concurrency());
  return 0;
}
