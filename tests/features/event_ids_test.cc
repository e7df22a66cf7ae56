// Exactly-once events: a source's event id column makes a repeated delivery of an event (a client retrying
// /push or /v1/score after a timeout, an at-least-once queue redelivering) count once, online and offline.
//
// Online (OnlineStore::Push, LookupEvents) on every backend the online tests use: a retried batch changes
// nothing, repeats inside one batch count once, receipts come back and the first one wins, ids expire after
// the source's retention, a push to some groups (a rebuild) skips the index; on RocksDB, ids survive a clean
// restart and a SIGKILL at any point of a push (the retry of everything afterwards counts each event once).
// Offline: the backfill and the consistency check drop repeated deliveries the way the online store does.
// Definitions: the strict event_id / event_id_retention keys.
//
// Redis cases run when GYRE_TEST_REDIS_URL is set (`make test` sets it); every name carries a per-process
// tag, and the keys are removed before and after, as in online_store_test.cc.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "core/table.h"
#include "core/time.h"
#include "features/backfill.h"
#include "features/consistency.h"
#include "features/definitions.h"
#include "features/online_store.h"
#include "store/kv_store.h"
#include "tests/features/testing_util.h"

namespace gyre::features {

// Readable values in gtest messages.
void PrintTo(const FeatureValue& v, std::ostream* os) {
  if (v.null) {
    *os << "null";
  } else if (!v.text.empty()) {
    *os << "'" << v.text << "'";
  } else {
    *os << fmt::format("{:.17g}", v.number);
  }
}

namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::kT0;
using testing::Seconds;
using testing::TempDir;

std::string UniqueTag() {
  static int counter = 0;
  return fmt::format("x{}_{}", ::getpid(), counter++);
}

std::string WithTag(std::string yaml, const std::string& tag) {
  for (size_t at = yaml.find("{TAG}"); at != std::string::npos; at = yaml.find("{TAG}")) yaml.replace(at, 5, tag);
  return yaml;
}

// logins: string ids, 10 minutes of lateness (ids kept 1h10m); short: integer ids kept one second; plain: no
// ids (a column named event_id that is just a column).
constexpr const char* kYaml = R"(entities:
  user: {keys: [user]}
  device: {keys: [device]}
sources:
  logins_{TAG}:
    timestamp: time
    allowed_lateness: 10m
    event_id: event_id
    columns: {time: timestamp, user: string, device: string, x: float64, event_id: string}
  short_{TAG}:
    timestamp: time
    event_id: event_id
    event_id_retention: 1s
    columns: {time: timestamp, user: string, device: string, x: float64, event_id: int64}
  plain_{TAG}:
    timestamp: time
    allowed_lateness: 10m
    columns: {time: timestamp, user: string, device: string, x: float64, event_id: string}
groups:
  users_{TAG}:
    entity: user
    source: logins_{TAG}
    features:
      user_count_{TAG}: {agg: count, windows: [1h]}
      user_total_{TAG}: {agg: count}
      user_sum_{TAG}: {agg: sum, of: x, windows: [1h]}
  devices_{TAG}:
    entity: device
    source: logins_{TAG}
    features:
      device_count_{TAG}: {agg: count, windows: [1h]}
  short_users_{TAG}:
    entity: user
    source: short_{TAG}
    features:
      short_total_{TAG}: {agg: count}
  plain_users_{TAG}:
    entity: user
    source: plain_{TAG}
    features:
      plain_total_{TAG}: {agg: count}
)";

struct Login {
  int64_t ts;
  std::string user;
  std::string device;
  double x;
  std::optional<std::string> id;
};

// Rows of the logins or plain source (string ids), or of short (integer ids) when `integer_ids`.
Table Logins(const std::vector<Login>& rows, bool integer_ids = false) {
  TableBuilder b(Schema({{"time", ColumnType::kTimestamp},
                         {"user", ColumnType::kString},
                         {"device", ColumnType::kString},
                         {"x", ColumnType::kFloat64},
                         {"event_id", integer_ids ? ColumnType::kInt64 : ColumnType::kString}}));
  for (const Login& r : rows) {
    b.column(0).AppendTimestamp(r.ts);
    b.column(1).AppendString(r.user);
    b.column(2).AppendString(r.device);
    b.column(3).AppendFloat64(r.x);
    if (!r.id) {
      b.column(4).AppendNull();
    } else if (integer_ids) {
      b.column(4).AppendInt64(std::stoll(*r.id));
    } else {
      b.column(4).AppendString(*r.id);
    }
  }
  Result<Table> table = b.Finish();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : Table();
}

const char* RedisUrl() {
  const char* url = std::getenv("GYRE_TEST_REDIS_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

// Removes every key of the registry (states and event indexes) from a store.
Status RemoveKeys(store::KvStore& kv, const FeatureRegistry& registry) {
  for (const GroupDef& g : registry.groups()) GYRE_RETURN_IF_ERROR(kv.DeletePrefix(g.name + '\x1f'));
  for (const SourceDef& s : registry.sources()) GYRE_RETURN_IF_ERROR(kv.DeletePrefix(EventIndexPrefix(s.name)));
  return Status::OK();
}

class EventIdsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string param = GetParam();
    if (param.ends_with("-uncached")) {
      param.resize(param.size() - std::string_view("-uncached").size());
      options_.cache_keys = 0;
    }
    if (param == "redis") {
      if (RedisUrl() == nullptr) GTEST_SKIP() << "GYRE_TEST_REDIS_URL not set (make test sets it)";
      url_ = RedisUrl();
    } else {
      url_ = param;
    }
    tag_ = UniqueTag();
    Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kYaml, tag_));
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::make_unique<FeatureRegistry>(std::move(*registry));
  }
  void TearDown() override {
    if (url_.rfind("redis", 0) != 0 || registry_ == nullptr) return;
    Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open(url_, "");
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    EXPECT_TRUE(RemoveKeys(**kv, *registry_).ok());
  }

  // A fresh store of the test's backend, or of `url` (a new RocksDB folder each time).
  std::unique_ptr<OnlineStore> Open(const std::string& url = "") {
    Result<std::unique_ptr<store::KvStore>> kv =
        store::KvStore::Open(url.empty() ? url_ : url, dir_.File(fmt::format("state{}", stores_++)));
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    if (!kv.ok()) return nullptr;
    EXPECT_TRUE(RemoveKeys(**kv, *registry_).ok());
    Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(registry_.get(), std::move(*kv), options_);
    EXPECT_TRUE(online.ok()) << online.status().ToString();
    return online.ok() ? std::move(*online) : nullptr;
  }
  int Source(const std::string& name) { return *registry_->FindSource(name + "_" + tag_); }
  int Feature(const std::string& name, const std::string& window = "") {
    return *registry_->FindFeature(name + "_" + tag_ + window);
  }

  // Every feature of the logins groups for users u1, u2 and devices d1, d2, as of `t`.
  std::vector<std::vector<FeatureValue>> Values(OnlineStore& store, int64_t t) {
    std::vector<int> features = {Feature("user_count", "_1h"), Feature("user_total"), Feature("user_sum", "_1h"),
                                 Feature("device_count", "_1h")};
    Table rows = Logins({{t, "u1", "d1", 0, {}}, {t, "u2", "d2", 0, {}}});
    std::vector<int64_t> times = {t, t};
    Result<OnlineValues> got = store.Get(features, rows, times);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->values : std::vector<std::vector<FeatureValue>>();
  }
  double Total(OnlineStore& store, const std::string& feature, const std::string& user, int64_t t) {
    Table rows = Logins({{t, user, "d", 0, {}}});
    Result<OnlineValues> got = store.Get({Feature(feature)}, rows, std::vector<int64_t>{t});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->values[0][0].number : -1;
  }
  PushResult Push(OnlineStore& store, int source, const Table& rows, std::vector<std::string> receipts = {},
                  std::vector<int> only_groups = {}) {
    Result<PushResult> pushed = store.Push(source, rows, only_groups, receipts);
    EXPECT_TRUE(pushed.ok()) << pushed.status().ToString();
    return pushed.ok() ? *pushed : PushResult{-1, -1, -1, -1, {}, {}};
  }

  TempDir dir_;
  std::string url_;
  std::string tag_;
  OnlineStoreOptions options_;
  std::unique_ptr<FeatureRegistry> registry_;
  int stores_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, EventIdsTest,
                         ::testing::Values("memory", "rocksdb", "redis", "memory-uncached", "rocksdb-uncached"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

std::vector<Login> FirstBatch() {
  return {{kT0, "u1", "d1", 1, "e1"},
          {kT0 + Seconds(60), "u1", "d2", 2, "e2"},
          {kT0 + Seconds(120), "u2", "d1", 4, "e3"},
          {kT0 + Seconds(180), "u1", "d1", 8, "e4"},
          {kT0 + Seconds(240), "u2", "d2", 16, "e5"}};
}

// The client timed out and sends the same batch again: every row is acknowledged as a duplicate and no
// feature moves; a later batch mixing old and new ids counts only the new ones.
TEST_P(EventIdsTest, ARetriedBatchCountsNothingTwice) {
  std::unique_ptr<OnlineStore> store = Open();
  ASSERT_NE(store, nullptr);
  const int logins = Source("logins");
  const int64_t t = kT0 + Seconds(600);
  PushResult first = Push(*store, logins, Logins(FirstBatch()));
  EXPECT_EQ(first.rows, 5);
  EXPECT_EQ(first.duplicates, 0);
  EXPECT_TRUE(first.duplicate_rows.empty());
  const auto before = Values(*store, t);
  EXPECT_EQ(before[1][0].number, 3);  // u1's events
  EXPECT_EQ(before[2][0].number, 11);

  PushResult retry = Push(*store, logins, Logins(FirstBatch()));
  EXPECT_EQ(retry.rows, 5);
  EXPECT_EQ(retry.duplicates, 5);
  EXPECT_THAT(retry.duplicate_rows, ElementsAre(0, 1, 2, 3, 4));
  EXPECT_EQ(Values(*store, t), before);
  ASSERT_TRUE(store->Flush().ok());  // and once the ids are in the KvStore rather than pending in memory
  EXPECT_EQ(Push(*store, logins, Logins(FirstBatch())).duplicates, 5);
  EXPECT_EQ(Values(*store, t), before);

  PushResult mixed = Push(*store, logins, Logins({{kT0 + Seconds(300), "u1", "d1", 32, "e6"}, FirstBatch()[0]}));
  EXPECT_EQ(mixed.duplicates, 1);
  EXPECT_THAT(mixed.duplicate_rows, ElementsAre(1));
  EXPECT_EQ(Total(*store, "user_total", "u1", t), 4);
  EXPECT_EQ(store->duplicate_events(), 11);
}

// Repeats inside one batch count once (the first row with the id), even with other values or an earlier time.
TEST_P(EventIdsTest, RepeatsInsideOneBatchCountOnce) {
  std::unique_ptr<OnlineStore> store = Open();
  std::unique_ptr<OnlineStore> reference = Open("memory");  // its own keys (a second Redis store would share them)
  ASSERT_NE(store, nullptr);
  ASSERT_NE(reference, nullptr);
  const int logins = Source("logins");
  std::vector<Login> rows = FirstBatch();
  std::vector<Login> with_repeats = {rows[0], rows[1], rows[0], rows[2], rows[1], rows[3], rows[4], rows[4]};
  with_repeats[4].ts = kT0 + Seconds(30);  // a repeat of e2 at another time: still e2, not counted
  with_repeats[4].x = 1000;
  PushResult pushed = Push(*store, logins, Logins(with_repeats));
  EXPECT_EQ(pushed.rows, 8);
  EXPECT_EQ(pushed.duplicates, 3);
  EXPECT_THAT(pushed.duplicate_rows, ElementsAre(2, 4, 7));
  EXPECT_EQ(Push(*reference, logins, Logins(rows)).duplicates, 0);
  for (int64_t t : {kT0 + Seconds(30), kT0 + Seconds(200), kT0 + Seconds(600)}) {
    EXPECT_EQ(Values(*store, t), Values(*reference, t)) << "at +" << (t - kT0) / Seconds(1) << " s";
  }
}

// A receipt is stored with the first push of an id and returned by LookupEvents; a repeat does not replace
// it. Null ids are never seen, and rows of a source without ids are counted every time.
TEST_P(EventIdsTest, ReceiptsComeBackAndTheFirstWins) {
  std::unique_ptr<OnlineStore> store = Open();
  ASSERT_NE(store, nullptr);
  const int logins = Source("logins");
  std::vector<Login> rows = FirstBatch();
  rows.resize(2);
  rows.push_back({kT0 + Seconds(5), "u1", "d1", 1, std::nullopt});
  const std::string binary("block\0score=0.93", 16);
  PushResult pushed = Push(*store, logins, Logins(rows), {"allow", binary, "ignored"});
  EXPECT_EQ(pushed.duplicates, 0);
  EXPECT_EQ(Push(*store, logins, Logins({rows[0], rows[2]}), {"challenge", "x"}).duplicates, 1);

  Table asked = Logins({rows[0], rows[1], {kT0, "u9", "d9", 0, "never"}, rows[2]});
  for (int pass = 0; pass < 2; ++pass) {  // pending in memory, then folded into the KvStore
    Result<std::vector<EventLookup>> seen = store->LookupEvents(logins, asked);
    ASSERT_TRUE(seen.ok()) << seen.status().ToString();
    ASSERT_EQ(seen->size(), 4U);
    EXPECT_TRUE((*seen)[0].seen);
    EXPECT_EQ((*seen)[0].receipt, "allow") << "pass " << pass;
    EXPECT_TRUE((*seen)[1].seen);
    EXPECT_EQ((*seen)[1].receipt, binary);
    EXPECT_FALSE((*seen)[2].seen);
    EXPECT_FALSE((*seen)[3].seen) << "a null id is nobody's";
    ASSERT_TRUE(store->Flush().ok());
  }
  EXPECT_EQ(Total(*store, "user_total", "u1", kT0 + Seconds(600)), 4) << "e1, e2, and the null-id row twice";

  // Only the id column is needed to look up.
  Result<Table> ids_only = asked.SelectColumns({"event_id"});
  ASSERT_TRUE(ids_only.ok());
  Result<std::vector<EventLookup>> by_id = store->LookupEvents(logins, *ids_only);
  ASSERT_TRUE(by_id.ok()) << by_id.status().ToString();
  EXPECT_TRUE((*by_id)[0].seen);

  const int plain = Source("plain");
  EXPECT_FALSE(store->has_event_ids(plain));
  EXPECT_TRUE(store->has_event_ids(logins));
  EXPECT_EQ(Push(*store, plain, Logins(rows)).duplicates, 0);
  EXPECT_EQ(Push(*store, plain, Logins(rows)).duplicates, 0);
  EXPECT_EQ(Total(*store, "plain_total", "u1", kT0 + Seconds(600)), 6);

  Result<std::vector<EventLookup>> no_ids = store->LookupEvents(plain, asked);
  EXPECT_EQ(no_ids.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(no_ids.status().message(), HasSubstr("plain_" + tag_));
  Result<Table> no_column = asked.SelectColumns({"user"});
  ASSERT_TRUE(no_column.ok());
  Result<std::vector<EventLookup>> missing = store->LookupEvents(logins, *no_column);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("'event_id'"));
  const std::vector<std::string> one_receipt = {"allow"};
  Result<PushResult> wrong = store->Push(logins, Logins(rows), {}, one_receipt);
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(wrong.status().message(), HasSubstr("1 receipts for 3 rows"));
}

// An id is remembered for the source's event_id_retention of wall clock (here 1 s), then forgotten: the same
// id counts again. Within it, a repeat is dropped.
TEST_P(EventIdsTest, IdsExpireAfterTheRetention) {
  std::unique_ptr<OnlineStore> store = Open();
  ASSERT_NE(store, nullptr);
  const int source = Source("short");
  EXPECT_EQ(Push(*store, source, Logins({{kT0, "u1", "d1", 1, "7"}}, true)).duplicates, 0);
  EXPECT_EQ(Push(*store, source, Logins({{kT0, "u1", "d1", 1, "7"}}, true)).duplicates, 1);
  Result<std::vector<EventLookup>> seen = store->LookupEvents(source, Logins({{kT0, "u1", "d1", 1, "7"}}, true));
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_TRUE((*seen)[0].seen);
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  seen = store->LookupEvents(source, Logins({{kT0, "u1", "d1", 1, "7"}}, true));
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_FALSE((*seen)[0].seen);
  EXPECT_EQ(Push(*store, source, Logins({{kT0 + Seconds(1), "u1", "d1", 1, "7"}}, true)).duplicates, 0);
  EXPECT_EQ(Total(*store, "short_total", "u1", kT0 + Seconds(10)), 2);
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_EQ(Push(*store, source, Logins({{kT0 + Seconds(2), "u1", "d1", 1, "7"}}, true)).duplicates, 1);
}

// A push to some groups only (features/rebuild.h) replays events whose ids are recorded: it must count them
// in those groups, and leave the index alone.
TEST_P(EventIdsTest, APushToSomeGroupsSkipsTheIndex) {
  std::unique_ptr<OnlineStore> store = Open();
  ASSERT_NE(store, nullptr);
  const int logins = Source("logins");
  Push(*store, logins, Logins(FirstBatch()));
  const int users = *registry_->FindGroup("users_" + tag_);
  ASSERT_TRUE(store->ClearGroup(users).ok());
  PushResult replayed = Push(*store, logins, Logins(FirstBatch()), {}, {users});
  EXPECT_EQ(replayed.duplicates, 0);
  const int64_t t = kT0 + Seconds(600);
  EXPECT_EQ(Total(*store, "user_total", "u1", t), 3);
  EXPECT_EQ(Values(*store, t)[3][0].number, 3) << "d1's count, not replayed";
}

// ---------------------------------------------------------------------------------------------------------
// Restarts and crashes (RocksDB: the store that outlives the process).

class EventIdsRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kYaml, "r"));
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_ = std::make_unique<FeatureRegistry>(std::move(*registry));
    logins_ = *registry_->FindSource("logins_r");
    for (const char* f : {"user_count_r_1h", "user_total_r", "user_sum_r_1h", "device_count_r_1h"}) {
      features_.push_back(*registry_->FindFeature(f));
    }
  }
  Result<std::unique_ptr<OnlineStore>> Open(const std::string& url, const std::string& state,
                                            OnlineStoreOptions options = {}) {
    GYRE_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv, store::KvStore::Open(url, state));
    return OnlineStore::Open(registry_.get(), std::move(kv), options);
  }
  // Features of 20 users and 5 devices at `t`.
  std::vector<std::vector<FeatureValue>> Values(OnlineStore& store, int64_t t) {
    std::vector<Login> keys;
    for (int u = 0; u < 20; ++u) keys.push_back({t, fmt::format("u{}", u), fmt::format("d{}", u % 5), 0, {}});
    Result<OnlineValues> got = store.Get(features_, Logins(keys), std::vector<int64_t>(keys.size(), t));
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->values : std::vector<std::vector<FeatureValue>>();
  }

  TempDir dir_;
  std::unique_ptr<FeatureRegistry> registry_;
  int logins_ = -1;
  std::vector<int> features_;
};

// 600 logins of 20 users in time order, ids l0..l599, in batches of 4.
std::vector<Table> Batches() {
  std::vector<Table> batches;
  for (int b = 0; b < 150; ++b) {
    std::vector<Login> rows;
    for (int i = 4 * b; i < 4 * b + 4; ++i) {
      rows.push_back({kT0 + Seconds(i), fmt::format("u{}", i * 7 % 20), fmt::format("d{}", i % 5), 0.5 * i,
                      fmt::format("l{}", i)});
    }
    batches.push_back(Logins(rows));
  }
  return batches;
}

TEST_F(EventIdsRestartTest, IdsAndReceiptsSurviveARestart) {
  const std::string state = dir_.File("state");
  const std::vector<Table> batches = Batches();
  const int64_t t = kT0 + Seconds(700);
  std::vector<std::vector<FeatureValue>> before;
  {
    Result<std::unique_ptr<OnlineStore>> store = Open("rocksdb", state);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    for (size_t b = 0; b < batches.size(); ++b) {
      std::vector<std::string> receipts(4, fmt::format("decision of batch {}", b));
      Result<PushResult> pushed = (*store)->Push(logins_, batches[b], {}, receipts);
      ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
    }
    before = Values(**store, t);
  }
  Result<std::unique_ptr<OnlineStore>> store = Open("rocksdb", state);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Result<std::vector<EventLookup>> seen = (*store)->LookupEvents(logins_, batches[37]);
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  for (const EventLookup& e : *seen) {
    EXPECT_TRUE(e.seen);
    EXPECT_EQ(e.receipt, "decision of batch 37");
  }
  for (const Table& batch : batches) {
    Result<PushResult> pushed = (*store)->Push(logins_, batch);
    ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
    EXPECT_EQ(pushed->duplicates, 4);
  }
  EXPECT_EQ(Values(**store, t), before);
}

// A process killed (SIGKILL) at a random point while pushing, then the client retrying every batch (acknowledged
// or not) against the restarted store: each event counts exactly once. A counted event whose id were not
// recorded would count twice; an id recorded without its states would be skipped and count zero times.
TEST_F(EventIdsRestartTest, AKillAnywhereThenARetryOfEverythingCountsEachEventOnce) {
  const std::vector<Table> batches = Batches();
  const int64_t t = kT0 + Seconds(700);
  std::vector<std::vector<FeatureValue>> expected;
  {
    // Gone before the fork: its writer thread must not be running when the child is made.
    Result<std::unique_ptr<OnlineStore>> reference = Open("memory", "");
    ASSERT_TRUE(reference.ok()) << reference.status().ToString();
    for (const Table& batch : batches) ASSERT_TRUE((*reference)->Push(logins_, batch).ok());
    expected = Values(**reference, t);
  }

  for (int64_t cache_keys : {int64_t{200'000}, int64_t{0}}) {  // journaled writes, then direct WriteBatches
    for (int acked_before_kill : {3, 40, 111}) {
      SCOPED_TRACE(fmt::format("cache_keys {}, killed after {} acknowledged batches", cache_keys, acked_before_kill));
      const std::string state = dir_.File(fmt::format("state_{}_{}", cache_keys, acked_before_kill));
      OnlineStoreOptions options;
      options.cache_keys = cache_keys;
      options.write_queue = 3;      // pushes journal the queue themselves, at varying points
      options.fold_writes = 1;      // and each entry is folded soon after it is journaled
      int acks[2];
      ASSERT_EQ(pipe(acks), 0);
      const pid_t child = fork();
      ASSERT_GE(child, 0);
      if (child == 0) {
        close(acks[0]);
        Result<std::unique_ptr<OnlineStore>> store = Open("rocksdb", state, options);
        if (!store.ok()) _exit(2);
        for (size_t b = 0; b < batches.size(); ++b) {
          if (!(*store)->Push(logins_, batches[b]).ok()) _exit(3);
          const char ack = 1;  // the response the client got
          if (write(acks[1], &ack, 1) != 1) _exit(4);
        }
        for (;;) pause();  // never exits cleanly: the parent kills it
      }
      close(acks[1]);
      int acked = 0;
      char ack;
      while (acked < acked_before_kill && read(acks[0], &ack, 1) == 1) ++acked;
      ASSERT_EQ(kill(child, SIGKILL), 0);  // the child is still pushing: the kill lands mid-push
      int status = 0;
      ASSERT_EQ(waitpid(child, &status, 0), child);
      while (read(acks[0], &ack, 1) == 1) ++acked;
      close(acks[0]);
      ASSERT_TRUE(WIFSIGNALED(status)) << "the child failed by itself: status " << status;

      Result<std::unique_ptr<OnlineStore>> store = Open("rocksdb", state, options);
      ASSERT_TRUE(store.ok()) << store.status().ToString();
      int64_t duplicates = 0;
      for (const Table& batch : batches) {
        Result<PushResult> pushed = (*store)->Push(logins_, batch);
        ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
        duplicates += pushed->duplicates;
      }
      EXPECT_EQ(Values(**store, t), expected);
      // What the crash kept is recognised; it may lose only the last ~2 ms of acknowledged pushes.
      EXPECT_GT(duplicates, 0);
      EXPECT_LE(duplicates, 4 * acked + 4);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Offline: the backfill and the consistency check.

TEST(EventIdsOfflineTest, TheBackfillCountsEachEventOnce) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kYaml, "o"));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  const int logins = *registry->FindSource("logins_o");
  const SourceDef& def = registry->sources()[logins];
  std::vector<Login> rows = FirstBatch();
  std::vector<Login> delivered = {rows[3], rows[0], rows[1], rows[0], rows[2], rows[4], rows[3], rows[1]};
  delivered[6].ts = kT0 + Seconds(10);  // e4 again, earlier than its first row in the file: this copy is the event
  delivered[6].x = 100;
  delivered.push_back({kT0 + Seconds(20), "u1", "d1", 7, std::nullopt});
  delivered.push_back({kT0 + Seconds(20), "u1", "d1", 7, std::nullopt});  // no id: two events

  int64_t duplicates = -1;
  EXPECT_THAT(FirstDeliveries(def, Logins(delivered), &duplicates), ElementsAre(1, 2, 4, 5, 6, 8, 9));
  EXPECT_EQ(duplicates, 3);

  std::vector<Login> once = {rows[0], delivered[6], delivered[8], delivered[9], rows[1], rows[2], rows[4]};
  std::vector<int> features;
  for (const char* f : {"user_count_o_1h", "user_total_o", "user_sum_o_1h", "device_count_o_1h"}) {
    features.push_back(*registry->FindFeature(f));
  }
  std::vector<Login> spine_rows;
  for (int s = 0; s < 12; ++s) spine_rows.push_back({kT0 + Seconds(25 * s + 1), s % 2 ? "u1" : "u2", "d1", 0, {}});
  Table spine = Logins(spine_rows);
  std::vector<Table> with_repeats(registry->sources().size()), without(registry->sources().size());
  with_repeats[logins] = Logins(delivered);
  without[logins] = Logins(once);
  BackfillStats stats;
  Result<Table> got = BackfillTables(*registry, features, spine, "time", with_repeats, {"time"}, 2, &stats);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(stats.duplicates, 3);
  Result<Table> want = BackfillTables(*registry, features, spine, "time", without, {"time"}, 2);
  ASSERT_TRUE(want.ok()) << want.status().ToString();
  EXPECT_TRUE(got->Equals(*want)) << "the backfill over repeated deliveries differs from one over each event once";
}

// `gyre features check` over a file with repeated deliveries: the online store recognises as many repeats as
// the backfill drops, and every value agrees.
TEST(EventIdsOfflineTest, TheConsistencyCheckAgreesWithRepeatedDeliveries) {
  TempDir dir;
  std::string csv = "time,user,device,x,event_id\n";
  int repeats = 0;
  for (int i = 0; i < 300; ++i) {
    const std::string time = FormatTimestamp(kT0 + Seconds(7 * i));
    const std::string row = fmt::format("{},u{},d{},{},e{}\n", time, i * 3 % 11, i % 4, i % 9, i);
    csv += row;
    if (i % 13 == 0) {  // a repeat a little later in the file, at the same or a later time
      csv += fmt::format("{},u{},d{},{},e{}\n", FormatTimestamp(kT0 + Seconds(7 * i + (i % 2) * 30)), i * 3 % 11,
                         i % 4, 99, i);
      ++repeats;
    }
  }
  testing::WriteTextFile(dir.File("logins.csv"), csv);
  std::string yaml = WithTag(kYaml, "c");
  yaml.replace(yaml.find("  logins_c:\n"), 12, "  logins_c:\n    path: logins.csv\n");
  const size_t columns = yaml.find("    columns: {time: timestamp, user: string, device: string, x: float64, event_id: string}\n");
  yaml.erase(columns, yaml.find('\n', columns) + 1 - columns);  // the file's header gives the columns
  yaml += "feature_sets:\n  scoring:\n    source: logins_c\n    features: [user_count_c_1h, user_sum_c_1h, device_count_c_1h]\n";
  Result<FeatureRegistry> registry = testing::ParseDefinitions(yaml, dir.path());
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  CheckOptions options;
  options.feature_set = "scoring";
  Result<CheckReport> report = CheckConsistency(*registry, options);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->total_mismatches, 0) << report->first_mismatch;
  EXPECT_EQ(report->duplicates, repeats);
  EXPECT_EQ(report->offline_duplicates, repeats);
  EXPECT_EQ(report->reads, 300 + repeats);
}

// ---------------------------------------------------------------------------------------------------------
// Definitions.

// Regression (issue 20): one pushed event dated 9999-12-31 made every real event of its keys "too late". An
// event further ahead of the clock than the source's future_skew (default 5m) is refused with the row, and
// nothing of its batch reaches the state; one just inside the skew is taken.
TEST_P(EventIdsTest, AnEventFromTheFutureIsRefusedAndChangesNothing) {
  std::unique_ptr<OnlineStore> store = Open();
  ASSERT_NE(store, nullptr);
  const int logins = Source("logins");
  const int64_t now = NowMillis() * 1000;
  const int64_t far = 253'402'300'800'000'000 - 1;  // 9999-12-31T23:59:59.999999Z
  Result<PushResult> refused = store->Push(logins, Logins({{now, "u1", "d1", 1, "f1"}, {far, "u1", "d1", 2, "f2"}}));
  ASSERT_TRUE(refused.status().IsInvalidArgument()) << refused.status().ToString();
  EXPECT_THAT(refused.status().message(), HasSubstr("row 1: 'time' 9999-12-31T23:59:59"));
  EXPECT_THAT(refused.status().message(), HasSubstr("days ahead of this server's clock"));
  EXPECT_EQ(Total(*store, "user_total", "u1", now + Seconds(1)), 0);  // not even the row before it
  PushResult taken = Push(*store, logins, Logins({{now + Seconds(240), "u1", "d1", 1, "f3"}}));
  EXPECT_EQ(taken.rows, 1);
  EXPECT_EQ(Total(*store, "user_total", "u1", now + Seconds(241)), 1);
  // A real event after the refused one is on time, as it would not have been after the poisoned push.
  PushResult later = Push(*store, logins, Logins({{now + Seconds(250), "u1", "d1", 2, "f4"}}));
  EXPECT_EQ(later.too_late, 0);
  EXPECT_EQ(Total(*store, "user_total", "u1", now + Seconds(251)), 2);
}

TEST(EventIdDefinitionsTest, StrictKeysNamingWhereAndWhat) {
  const std::string base = R"(entities:
  user: {keys: [user]}
sources:
  logins:
    timestamp: time
    allowed_lateness: 10m
)";
  const std::string columns = "    columns: {time: timestamp, user: string, id: string, n: int64, f: float64}\n";
  Result<FeatureRegistry> ok = testing::ParseDefinitions(base + "    event_id: id\n" + columns);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->sources()[0].event_id_column, "id");
  EXPECT_EQ(ok->sources()[0].event_id_index, 2);
  EXPECT_EQ(ok->sources()[0].event_id_retention, Seconds(600) + kDefaultEventIdMargin);
  Result<FeatureRegistry> integer = testing::ParseDefinitions(base + "    event_id: n\n    event_id_retention: 2h\n" + columns);
  ASSERT_TRUE(integer.ok()) << integer.status().ToString();
  EXPECT_EQ(integer->sources()[0].event_id_retention, Seconds(7200));
  Result<FeatureRegistry> none = testing::ParseDefinitions(base + columns);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->sources()[0].event_id_index, -1);
  EXPECT_EQ(none->sources()[0].future_skew, SourceDef::kDefaultFutureSkew);
  EXPECT_EQ(testing::ParseDefinitions(base + "    future_skew: 1h\n" + columns)->sources()[0].future_skew, Seconds(3600));
  EXPECT_EQ(testing::ParseDefinitions(base + "    future_skew: off\n" + columns)->sources()[0].future_skew,
            SourceDef::kNoFutureLimit);
  EXPECT_THAT(testing::ParseError(base + "    future_skew: soon\n" + columns),
              HasSubstr("features.yaml:7:18: 'sources.logins.future_skew': invalid duration 'soon'"));

  EXPECT_EQ(testing::ParseError(base + "    event_id: nope\n" + columns),
            "features.yaml:7:15: source 'logins': event_id column 'nope' is not among its columns (time, user, id, "
            "n, f)");
  EXPECT_THAT(testing::ParseError(base + "    event_id: f\n" + columns),
              HasSubstr("features.yaml:7:15: source 'logins': event_id column 'f' holds float64 values; ids must be "
                        "strings or integers"));
  EXPECT_THAT(testing::ParseError(base + "    event_id: id\n    event_id_retention: 5m\n" + columns),
              ::testing::AllOf(HasSubstr("features.yaml:8:"),
                               HasSubstr("must be at least the source's allowed_lateness")));
  EXPECT_THAT(testing::ParseError(base + "    event_id_retention: 2h\n" + columns),
              HasSubstr("needs 'event_id'"));
  EXPECT_THAT(testing::ParseError(base + "    event_ids: id\n" + columns),
              HasSubstr("features.yaml:7:5: unknown key 'event_ids'"));
}

}  // namespace
}  // namespace gyre::features
