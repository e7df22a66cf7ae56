// End-to-end tests of the `gyre` binary as a user runs it: exit codes, error messages that name the place,
// the demo, and a real server process that is killed with SIGKILL after acknowledging writes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "core/csv_reader.h"
#include "core/table.h"
#include "core/time.h"
#include "http/client.h"
#include "tests/cli/run_gyre.h"
#include "tests/http/test_certificate.h"

extern char** environ;
namespace fs = std::filesystem;

namespace gyre {
namespace {

using testing::kGyre;
using testing::RunGyre;
using testing::RunResult;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("gyre_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }
  fs::path dir_;
};

TEST_F(CliTest, HelpListsTheCommands) {
  RunResult r = RunGyre("--help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* cmd : {"init", "data", "datagen", "features", "server", "runs", "models", "demo", "users", "tokens",
                          "audit"}) {
    EXPECT_NE(r.out.find(cmd), std::string::npos) << cmd;
  }
  EXPECT_NE(RunGyre("no-such-command").exit_code, 0);
}

TEST_F(CliTest, InitAndStrictConfigErrors) {
  RunResult r = RunGyre("init " + (dir_ / "ws").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir_ / "ws" / "gyre.yaml"));
  Write(dir_ / "ws" / "gyre.yaml", "name: x\nserver:\n  prot: 80\n");
  r = RunGyre("runs list -w " + (dir_ / "ws").string());
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("gyre.yaml:3:3: unknown key 'prot' in 'server'"), std::string::npos) << r.out;
}

// A read-only command given a mistyped or empty folder says so and how to make a workspace, exits 2 and leaves
// no workspace behind; on a real (even fresh) workspace it answers as before.
TEST_F(CliTest, ReadOnlyCommandsRefuseAMissingOrEmptyWorkspace) {
  fs::path typo = dir_ / "demo-workpsace";
  fs::create_directories(dir_ / "empty");
  for (std::string cmd : {"runs list", "runs show 0123", "runs compare a b", "models list", "models show ato",
                          "models versions ato", "models audit", "features list"}) {
    for (const fs::path& ws : {typo, dir_ / "empty"}) {
      RunResult r = RunGyre(cmd + " -w " + ws.string());
      EXPECT_EQ(r.exit_code, 2) << cmd << ": " << r.out;
      EXPECT_NE(r.out.find("workspace " + ws.string() + ": "), std::string::npos) << cmd << ": " << r.out;
      EXPECT_NE(r.out.find("gyre init " + ws.string()), std::string::npos) << cmd << ": " << r.out;
    }
  }
  RunResult train = RunGyre("train " + std::string(GYRE_SOURCE_DIR) + "/examples/ato/experiments/ato_xgboost.yaml -w " +
                            typo.string());
  EXPECT_EQ(train.exit_code, 2) << train.out;
  EXPECT_NE(train.out.find("gyre init " + typo.string()), std::string::npos) << train.out;
  EXPECT_FALSE(fs::exists(typo));
  EXPECT_TRUE(fs::is_empty(dir_ / "empty"));

  ASSERT_EQ(RunGyre("init " + (dir_ / "ws").string()).exit_code, 0);
  RunResult fresh = RunGyre("runs list -w " + (dir_ / "ws").string());
  EXPECT_EQ(fresh.exit_code, 0) << fresh.out;
}

TEST_F(CliTest, MalformedCsvNamesLineAndColumn) {
  Write(dir_ / "types.csv", "id,amount\n1,2.5\n2,3\n");
  RunResult ok = RunGyre("data profile " + (dir_ / "types.csv").string());
  EXPECT_EQ(ok.exit_code, 0) << ok.out;
  Write(dir_ / "broken.csv", "id,name\n1,\"open\n2,x\n");
  RunResult bad = RunGyre("data profile " + (dir_ / "broken.csv").string());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("broken.csv:2: column 'name' (2): quoted field is never closed"), std::string::npos) << bad.out;
  Write(dir_ / "ragged.csv", "id,amount\n1,2.5\n2,3,4\n");
  RunResult ragged = RunGyre("data profile " + (dir_ / "ragged.csv").string());
  EXPECT_EQ(ragged.exit_code, 2);
  EXPECT_NE(ragged.out.find("ragged.csv:3: too many fields"), std::string::npos) << ragged.out;
}

TEST_F(CliTest, DemoRunsEndToEnd) {
  RunResult r = RunGyre("demo --users 300 --days 5 -w " + (dir_ / "demo").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("Demo finished"), std::string::npos);
  EXPECT_NE(r.out.find("datagen FINISHED, profile-logins FINISHED, features FINISHED"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(": 0 mismatches"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("as models:/ato-imported/1 (a model trained elsewhere"), std::string::npos) << r.out;
  if (r.out.find("replayed 0 logins") == std::string::npos) {  // a retry needs a login in the last hour
    EXPECT_NE(r.out.find("as at first, marked replay"), std::string::npos) << r.out;
  }
  EXPECT_TRUE(fs::exists(dir_ / "demo" / "data" / "training_ato_login.csv"));
  EXPECT_TRUE(fs::exists(dir_ / "demo" / "data" / "logins.csv"));
  RunResult runs = RunGyre("runs list -w " + (dir_ / "demo").string());
  EXPECT_EQ(runs.exit_code, 0);
  EXPECT_NE(runs.out.find("profile-logins"), std::string::npos) << runs.out;
  // The registry's audit log: the demo registered ato and pointed its champion alias.
  RunResult audit = RunGyre("audit --model ato --action alias.set -w " + (dir_ / "demo").string());
  EXPECT_EQ(audit.exit_code, 0) << audit.out;
  EXPECT_NE(audit.out.find("alias.set"), std::string::npos) << audit.out;
  EXPECT_NE(audit.out.find("champion"), std::string::npos) << audit.out;
  EXPECT_EQ(audit.out.find("version.create"), std::string::npos) << "filtered by action: " << audit.out;
  RunResult audit_json = RunGyre("audit --json -n 3 --since 1h -w " + (dir_ / "demo").string());
  EXPECT_EQ(audit_json.exit_code, 0) << audit_json.out;
  int lines = 0;
  for (size_t at = 0; (at = audit_json.out.find('\n', at)) != std::string::npos; ++at) ++lines;
  EXPECT_EQ(lines, 3) << audit_json.out;
  EXPECT_TRUE(nlohmann::json::parse(audit_json.out.substr(0, audit_json.out.find('\n')), nullptr, false).contains("actor"))
      << audit_json.out;
  RunResult audit_future = RunGyre("audit --since 2099-01-01 -w " + (dir_ / "demo").string());
  EXPECT_NE(audit_future.out.find("no audit entries match"), std::string::npos) << audit_future.out;
  RunResult bad_since = RunGyre("audit --since yesterday -w " + (dir_ / "demo").string());
  EXPECT_EQ(bad_since.exit_code, 2) << bad_since.out;
  EXPECT_NE(bad_since.out.find("--since 'yesterday'"), std::string::npos) << bad_since.out;
  // A folder that is neither empty nor a workspace is refused, untouched.
  Write(dir_ / "notes.txt", "mine");
  RunResult refused = RunGyre("demo -w " + dir_.string());
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_ / ".gyre"));
}

TEST_F(CliTest, FeaturesBackfillCheckAndErrors) {
  fs::path ws = dir_ / "ws";
  fs::create_directories(ws);
  Write(ws / "events.csv",
        "time,user,ok,amount\n"
        "2026-01-01T09:00:00Z,u1,false,1\n"
        "2026-01-01T09:30:00Z,u1,false,2\n"
        "2026-01-01T09:30:00Z,u1,true,3\n"
        "2026-01-01T10:00:00Z,u1,true,4\n"
        "2026-01-01T10:30:00Z,u1,false,5\n"
        "2026-01-01T10:30:00Z,u2,true,6\n");
  Write(ws / "features.yaml",
        "entities: {user: {keys: [user]}}\n"
        "sources: {events: {path: events.csv, timestamp: time}}\n"
        "groups:\n"
        "  g:\n"
        "    entity: user\n"
        "    source: events\n"
        "    features:\n"
        "      failed: {agg: count, filter: \"not ok\", windows: [1h]}\n"
        "      spent: {agg: sum, of: amount, windows: [1h]}\n"
        "feature_sets: {s: {source: events, features: [failed_1h, spent_1h]}}\n");
  ASSERT_EQ(RunGyre("init " + ws.string()).exit_code, 0);
  RunResult r = RunGyre("features backfill -w " + ws.string() + " --set s -o " + (dir_ / "out.csv").string());
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::ifstream in(dir_ / "out.csv");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The worked example of docs/features.md: 0, 1, 1, 2, 1 failed logins in the hour before each login.
  EXPECT_EQ(text,
            "time,user,failed_1h,spent_1h\n"
            "2026-01-01T09:00:00Z,u1,0,0\n"
            "2026-01-01T09:30:00Z,u1,1,1\n"
            "2026-01-01T09:30:00Z,u1,1,1\n"
            "2026-01-01T10:00:00Z,u1,2,6\n"
            "2026-01-01T10:30:00Z,u1,1,9\n"
            "2026-01-01T10:30:00Z,u2,0,0\n");
  RunResult check = RunGyre("features check -w " + ws.string() + " --set s");
  EXPECT_EQ(check.exit_code, 0) << check.out;
  EXPECT_NE(check.out.find("online and offline agree"), std::string::npos) << check.out;
  RunResult rocks = RunGyre("features check -w " + ws.string() + " --set s --online rocksdb");
  EXPECT_EQ(rocks.exit_code, 0) << rocks.out;
  RunResult rebuilt = RunGyre("features rebuild -w " + ws.string() + " --group g");
  EXPECT_EQ(rebuilt.exit_code, 0) << rebuilt.out;
  EXPECT_NE(rebuilt.out.find("group g: 6 events replayed"), std::string::npos) << rebuilt.out;
  RunResult no_group = RunGyre("features rebuild -w " + ws.string() + " --group nope");
  EXPECT_NE(no_group.exit_code, 0) << no_group.out;
  EXPECT_NE(no_group.out.find("no feature group 'nope' (groups: g)"), std::string::npos) << no_group.out;
  RunResult bad_since = RunGyre("features rebuild -w " + ws.string() + " --group g --since 3x");
  EXPECT_EQ(bad_since.exit_code, 2) << bad_since.out;
  EXPECT_NE(bad_since.out.find("--since:"), std::string::npos) << bad_since.out;

  RunResult unknown = RunGyre("features backfill -w " + ws.string() + " --set nope -o " + (dir_ / "x.csv").string());
  EXPECT_EQ(unknown.exit_code, 2) << unknown.out;
  EXPECT_NE(unknown.out.find("unknown feature set 'nope' (feature sets: s)"), std::string::npos) << unknown.out;
  Write(ws / "features.yaml", "entities: {user: {keys: [user]}}\n"
                              "sources: {events: {path: events.csv, timestamp: time}}\n"
                              "groups: {g: {entity: user, source: events, features: {x: {agg: count, filter: \"okk\"}}}}\n");
  RunResult typo = RunGyre("features list -w " + ws.string());
  EXPECT_EQ(typo.exit_code, 2) << typo.out;
  EXPECT_NE(typo.out.find("features.yaml:3:80: unknown column 'okk' in source 'events'"), std::string::npos) << typo.out;
}

// A `gyre server` child process; its stdout and stderr go to a file we poll for the "listening" line.
class ServerProcess {
 public:
  explicit ServerProcess(const fs::path& workspace, std::vector<std::string> extra = {}) {
    log_ = workspace.string() + ".server.log";
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::string ws = workspace.string();
    std::vector<const char*> argv = {kGyre.c_str(), "server", "--workspace", ws.c_str(), "--port", "0"};
    for (const std::string& a : extra) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    posix_spawn(&pid_, kGyre.c_str(), &actions, nullptr, const_cast<char**>(argv.data()), environ);
    posix_spawn_file_actions_destroy(&actions);
    const std::string prefix = "listening on http";  // http:// or https://
    for (int i = 0; i < 200 && port_ == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      std::ifstream in(log_);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      size_t at = text.find(prefix);
      size_t colon = at == std::string::npos ? at : text.find(':', text.find("://", at) + 3);
      if (colon != std::string::npos) port_ = std::atoi(text.c_str() + colon + 1);
      log_text_ = std::move(text);
    }
  }
  ~ServerProcess() { Kill(SIGKILL); }
  int port() const { return port_; }
  const std::string& log_text() const { return log_text_; }
  // Returns the exit code (or 128 + signal).
  int Kill(int signal) {
    if (pid_ <= 0) return -1;
    ::kill(pid_, signal);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_;
  std::string log_text_;
};

TEST_F(CliTest, AcknowledgedWritesSurviveKill9) {
  fs::path ws = dir_ / "ws";
  std::string run_id;
  {
    ServerProcess server(ws);
    ASSERT_NE(server.port(), 0) << "server did not start";
    auto client = http::Client::Connect("127.0.0.1", server.port());
    ASSERT_TRUE(client.ok());
    auto created = (*client)->Request("POST", "/api/2.0/mlflow/runs/create", R"({"experiment_id": "0", "run_name": "durable"})");
    ASSERT_TRUE(created.ok());
    ASSERT_EQ(created->status, 200) << created->body;
    run_id = nlohmann::json::parse(created->body)["run"]["info"]["run_id"];
    for (int i = 0; i < 50; ++i) {
      std::string body = nlohmann::json{{"run_id", run_id},
                                        {"metrics", {{{"key", "loss"}, {"value", i}, {"timestamp", 1000 + i}, {"step", i}}}}}
                             .dump();
      auto logged = (*client)->Request("POST", "/api/2.0/mlflow/runs/log-batch", body);
      ASSERT_TRUE(logged.ok());
      ASSERT_EQ(logged->status, 200);
    }
    EXPECT_EQ(server.Kill(SIGKILL), 128 + SIGKILL);
  }
  ServerProcess restarted(ws);
  ASSERT_NE(restarted.port(), 0);
  auto client = http::Client::Connect("127.0.0.1", restarted.port());
  ASSERT_TRUE(client.ok());
  auto history = (*client)->Request("GET", "/api/2.0/mlflow/metrics/get-history?run_id=" + run_id + "&metric_key=loss");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(nlohmann::json::parse(history->body)["metrics"].size(), 50u) << history->body;
  // SIGTERM drains and exits 0.
  EXPECT_EQ(restarted.Kill(SIGTERM), 0);
}

// Row `r` of `table` as a JSON event, each value typed as its column (the source's schema, as gyre reads it).
nlohmann::json EventOf(const Table& table, int64_t r) {
  nlohmann::json event = nlohmann::json::object();
  for (int c = 0; c < table.num_columns(); ++c) {
    const Column& column = table.column(c);
    nlohmann::json& value = event[table.schema().column(c).name];
    if (column.IsNull(r)) continue;  // stays null
    switch (column.type()) {
      case ColumnType::kInt64: value = column.Int64(r); break;
      case ColumnType::kFloat64: value = column.Float64(r); break;
      case ColumnType::kBool: value = column.Bool(r); break;
      case ColumnType::kString: value = std::string(column.String(r)); break;
      case ColumnType::kTimestamp: value = FormatTimestamp(column.Timestamp(r)); break;
    }
  }
  return event;
}

// online.durability: sync, end to end: a real server under concurrent /v1/score (each scored login pushed) and
// /push load is killed with SIGKILL mid-load; after a restart, every event it acknowledged (a 200) is in the
// online state: pushed again, each is answered as a duplicate (its id is recorded in the same write as its
// features, so a recorded id means a counted event).
TEST_F(CliTest, SyncDurabilityKeepsEveryAcknowledgedEventThroughKill9) {
  fs::path ws = dir_ / "demo";
  RunResult demo = RunGyre("demo --users 300 --days 5 -w " + ws.string());
  ASSERT_EQ(demo.exit_code, 0) << demo.out;
  {
    std::ifstream in(ws / "gyre.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), {});
    const size_t at = yaml.find("durability: window");
    if (at == std::string::npos) {
      yaml += "\nonline:\n  durability: sync\n";
    } else {
      yaml.replace(at, std::string("durability: window").size(), "durability: sync");
    }
    Write(ws / "gyre.yaml", yaml);
  }
  // Login templates: the last rows of the demo's logins, each request with a new id and the time it is sent.
  Result<CsvReadResult> logins = ReadCsv((ws / "data" / "logins.csv").string());
  ASSERT_TRUE(logins.ok()) << logins.status().ToString();
  const Table& table = logins->table;
  std::vector<std::string> columns;
  for (const ColumnSchema& c : table.schema().columns()) columns.push_back(c.name);
  std::vector<nlohmann::json> templates;
  for (int64_t r = std::max<int64_t>(0, table.num_rows() - 64); r < table.num_rows(); ++r) {
    templates.push_back(EventOf(table, r));
  }
  ASSERT_FALSE(templates.empty());
  auto fresh_event = [&](int64_t id) {
    nlohmann::json event = templates[static_cast<size_t>(id) % templates.size()];
    event["event_id"] = id;
    event["time"] = FormatTimestamp(NowMillis() * 1000);
    return event;
  };
  auto as_columns = [&](const std::vector<nlohmann::json>& events) {
    nlohmann::json df = nlohmann::json::object();
    for (const std::string& c : columns) {
      df[c] = nlohmann::json::array();
      for (const nlohmann::json& e : events) df[c].push_back(e[c]);
    }
    return nlohmann::json{{"push_source_name", "logins"}, {"df", df}, {"to", "online"}};
  };

  std::vector<std::vector<nlohmann::json>> acknowledged(6);  // per client thread
  std::atomic<int> server_errors{0};
  {
    ServerProcess server(ws);
    ASSERT_NE(server.port(), 0) << "server did not start: " << server.log_text();
    EXPECT_NE(server.log_text().find("online durability sync"), std::string::npos) << server.log_text();
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int c = 0; c < 6; ++c) {
      clients.emplace_back([&, c] {
        auto client = http::Client::Connect("127.0.0.1", server.port(), 5'000);
        if (!client.ok()) return;
        const bool scores = c % 2 == 0;  // half score (and push) one login per request, half push 1-3 per request
        for (int64_t n = 0; !stop; ++n) {
          const int64_t first_id = 1'000'000'000 + c * 10'000'000 + n * 4;
          std::vector<nlohmann::json> events;
          for (int64_t i = 0; i < (scores ? 1 : 1 + n % 3); ++i) events.push_back(fresh_event(first_id + i));
          auto answer = scores ? (*client)->Request("POST", "/v1/score/ato", nlohmann::json{{"event", events[0]}}.dump())
                               : (*client)->Request("POST", "/push", as_columns(events).dump());
          if (!answer.ok()) break;  // the server is gone
          if (answer->status >= 500) ++server_errors;
          if (answer->status != 200) continue;
          for (nlohmann::json& e : events) acknowledged[static_cast<size_t>(c)].push_back(std::move(e));
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    EXPECT_EQ(server.Kill(SIGKILL), 128 + SIGKILL);
    stop = true;
    for (std::thread& t : clients) t.join();
  }
  EXPECT_EQ(server_errors.load(), 0);
  std::vector<nlohmann::json> all;
  for (auto& per_thread : acknowledged) all.insert(all.end(), per_thread.begin(), per_thread.end());
  ASSERT_GT(all.size(), 20u) << "the load did not get going";

  ServerProcess restarted(ws);
  ASSERT_NE(restarted.port(), 0) << restarted.log_text();
  auto client = http::Client::Connect("127.0.0.1", restarted.port());
  ASSERT_TRUE(client.ok());
  int64_t duplicates = 0;
  for (size_t at = 0; at < all.size(); at += 500) {
    std::vector<nlohmann::json> chunk(all.begin() + static_cast<std::ptrdiff_t>(at),
                                      all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), at + 500)));
    auto pushed = (*client)->Request("POST", "/push", as_columns(chunk).dump());
    ASSERT_TRUE(pushed.ok());
    ASSERT_EQ(pushed->status, 200) << pushed->body;
    duplicates += nlohmann::json::parse(pushed->body)["duplicates"].get<int64_t>();
  }
  EXPECT_EQ(duplicates, static_cast<int64_t>(all.size())) << "acknowledged events lost: " << all.size() - duplicates;
  EXPECT_EQ(restarted.Kill(SIGTERM), 0);
}

// Users and tokens from the CLI; a server bound to a non-loopback address requires them without being told.
TEST_F(CliTest, UsersTokensAndAuthRequiredOffLoopback) {
  fs::path ws = dir_ / "ws";
  ASSERT_EQ(RunGyre("init " + ws.string()).exit_code, 0);
  RunResult bad = RunGyre("users add sam --role wizard -w " + ws.string());
  EXPECT_EQ(bad.exit_code, 2) << bad.out;
  RunResult added = RunGyre("users add sam --role scientist -w " + ws.string());
  ASSERT_EQ(added.exit_code, 0) << added.out;
  size_t at = added.out.find("gyre_", added.out.find('\n'));
  ASSERT_NE(at, std::string::npos) << added.out;
  std::string token = added.out.substr(at, added.out.find('\n', at) - at);
  EXPECT_EQ(RunGyre("users add sam --role admin -w " + ws.string()).exit_code, 2);
  RunResult users = RunGyre("users list -w " + ws.string());
  EXPECT_NE(users.out.find("scientist"), std::string::npos) << users.out;
  RunResult second = RunGyre("tokens create --user sam -w " + ws.string());
  ASSERT_EQ(second.exit_code, 0) << second.out;
  RunResult listed = RunGyre("tokens list -w " + ws.string());
  EXPECT_EQ(listed.out.find(token), std::string::npos) << "a listing never shows a secret";
  std::string first_id = token.substr(5, 12);
  EXPECT_NE(listed.out.find(first_id), std::string::npos) << listed.out;

  ServerProcess server(ws, {"--host", "0.0.0.0"});
  ASSERT_NE(server.port(), 0) << "server did not start: " << server.log_text();
  EXPECT_NE(server.log_text().find("auth required"), std::string::npos) << server.log_text();
  EXPECT_NE(server.log_text().find("API tokens and data travel in clear text"), std::string::npos) << server.log_text();
  auto client = http::Client::Connect("127.0.0.1", server.port());
  ASSERT_TRUE(client.ok());
  const std::string body = R"({"experiment_id": "0"})";
  auto anonymous = (*client)->Request("POST", "/api/2.0/mlflow/runs/create", body);
  ASSERT_TRUE(anonymous.ok());
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  std::vector<std::pair<std::string, std::string>> headers = {{"Authorization", "Bearer " + token}};
  auto authed = (*client)->Request("POST", "/api/2.0/mlflow/runs/create", body, "application/json", headers);
  ASSERT_TRUE(authed.ok());
  EXPECT_EQ(authed->status, 200) << authed->body;
  auto health = (*client)->Request("GET", "/v2/health/live");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->status, 200);
  // Revoked from the CLI while the server runs: refused once the server's cache entry expires (10 s).
  ASSERT_EQ(RunGyre("tokens revoke " + first_id + " -w " + ws.string()).exit_code, 0);
  EXPECT_EQ(RunGyre("tokens revoke ffffffffffff -w " + ws.string()).exit_code, 2);
  EXPECT_EQ(server.Kill(SIGTERM), 0);

  // Explicitly off on 0.0.0.0: starts, warns, and lets anonymous writes through as before.
  ServerProcess open_server(ws, {"--host", "0.0.0.0", "--auth", "off"});
  ASSERT_NE(open_server.port(), 0);
  EXPECT_NE(open_server.log_text().find("auth off"), std::string::npos) << open_server.log_text();
  auto open_client = http::Client::Connect("127.0.0.1", open_server.port());
  ASSERT_TRUE(open_client.ok());
  auto open_write = (*open_client)->Request("POST", "/api/2.0/mlflow/runs/create", body);
  ASSERT_TRUE(open_write.ok());
  EXPECT_EQ(open_write->status, 200);
  EXPECT_EQ(open_server.Kill(SIGTERM), 0);

  // Both runs are in the log of audited requests: the authenticated one under sam, the anonymous one under "".
  RunResult audited = RunGyre("audit --requests -w " + ws.string());
  EXPECT_EQ(audited.exit_code, 0) << audited.out;
  EXPECT_NE(audited.out.find("/api/2.0/mlflow/runs/create"), std::string::npos) << audited.out;
  RunResult by_sam = RunGyre("audit --requests --actor sam --json -w " + ws.string());
  EXPECT_EQ(std::count(by_sam.out.begin(), by_sam.out.end(), '\n'), 1) << by_sam.out;
  EXPECT_NE(by_sam.out.find("\"actor\":\"sam\""), std::string::npos) << by_sam.out;
  EXPECT_EQ(RunGyre("audit --actor sam -w " + ws.string()).exit_code, 2) << "--actor needs --requests";
}

// HTTPS from gyre.yaml (paths relative to the workspace) or from flags; a real client (curl) with a token;
// startup refusals that name the file.
TEST_F(CliTest, ServerSpeaksHttpsFromConfigOrFlagsAndRefusesBadCertificates) {
  if (!fs::exists("/usr/bin/curl")) GTEST_SKIP() << "no /usr/bin/curl";
  fs::path ws = dir_ / "ws";
  ASSERT_EQ(RunGyre("init " + ws.string()).exit_code, 0);
  fs::create_directories(ws / "tls");
  http::testing::TestCertificate cert = http::testing::MakeTestCertificate(ws / "tls");
  {
    std::ifstream in(ws / "gyre.yaml");
    std::string yaml((std::istreambuf_iterator<char>(in)), {});
    Write(ws / "gyre.yaml", yaml + "  tls:\n    cert: tls/cert.pem\n    key: tls/cert-key.pem\n");
  }
  RunResult added = RunGyre("users add ana --role scientist -w " + ws.string());
  ASSERT_EQ(added.exit_code, 0) << added.out;
  size_t at = added.out.find("gyre_", added.out.find('\n'));
  ASSERT_NE(at, std::string::npos) << added.out;
  std::string token = added.out.substr(at, added.out.find('\n', at) - at);

  {
    ServerProcess server(ws, {"--host", "0.0.0.0"});
    ASSERT_NE(server.port(), 0) << "server did not start: " << server.log_text();
    EXPECT_NE(server.log_text().find("listening on https://0.0.0.0:"), std::string::npos) << server.log_text();
    EXPECT_EQ(server.log_text().find("clear text"), std::string::npos) << server.log_text();
    std::string url = "https://127.0.0.1:" + std::to_string(server.port());
    std::string curl = "/usr/bin/curl -sS --cacert " + cert.cert + " ";
    FILE* pipe = ::popen((curl + "-H 'Authorization: Bearer " + token + "' " + url +
                          "/api/2.0/mlflow/experiments/search?max_results=1 -w ' %{http_code}' 2>&1")
                             .c_str(),
                         "r");
    ASSERT_NE(pipe, nullptr);
    std::array<char, 4096> buf{};
    std::string out(buf.data(), fread(buf.data(), 1, buf.size(), pipe));
    EXPECT_EQ(::pclose(pipe), 0) << out;
    EXPECT_TRUE(out.ends_with(" 200")) << out;
    EXPECT_EQ(server.Kill(SIGTERM), 0);
  }

  // Flags override gyre.yaml; relative flag paths are the caller's (here: absolute).
  http::testing::TestCertificate other = http::testing::MakeTestCertificate(dir_, "other");
  RunResult mismatch = RunGyre("server -w " + ws.string() + " --port 0 --tls-key " + other.key);
  EXPECT_EQ(mismatch.exit_code, 2) << mismatch.out;
  EXPECT_NE(mismatch.out.find("error: TLS key " + other.key + " does not match the certificate " +
                              (ws / "tls" / "cert.pem").string()),
            std::string::npos)
      << mismatch.out;
  std::string missing = (dir_ / "nope.pem").string();
  RunResult absent = RunGyre("server -w " + ws.string() + " --port 0 --tls-cert " + missing);
  EXPECT_EQ(absent.exit_code, 2) << absent.out;
  EXPECT_NE(absent.out.find("error: TLS certificate " + missing + ": no such file"), std::string::npos) << absent.out;
  fs::path plain_ws = dir_ / "plain";
  ASSERT_EQ(RunGyre("init " + plain_ws.string()).exit_code, 0);
  RunResult half = RunGyre("server -w " + plain_ws.string() + " --port 0 --tls-cert " + cert.cert);
  EXPECT_EQ(half.exit_code, 2) << half.out;
  EXPECT_NE(half.out.find("TLS needs both a certificate and a key"), std::string::npos) << half.out;
}

}  // namespace
}  // namespace gyre
