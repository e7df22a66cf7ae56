// Tests of the online feature path: OnlineStore (over the memory, RocksDB and Redis KvStores), KeyState's
// serialization, and the consistency check.
//
// The oracle is the offline backfill (BackfillTables), itself checked against a brute force in
// backfill_property_test.cc: "one definition, two paths" means every online value must equal the backfill's
// value for the same event set and time, bit for bit (FeatureValue ==), approx_count_distinct included.
//
// Data shape: 3-6 string keys (skewed, so some are sparse and idle), a composite key (user, device) and one
// with an int64 part (user, n), times on a 1-minute grid over an hour (many exact ties), ~15% nulls, every
// aggregation kind with filters and windows of 2m, 5m, 20m and lifetime, groups with a small ttl, a small
// max_age and both, and derived features. The grid is coarse on purpose: a group's ttl is also a wall-clock
// expiry in the KvStore (now + ttl), so ttls of minutes keep the replays far from wall-clock expiry.
//
// Redis cases run when GYRE_TEST_REDIS_URL is set (`make test` sets it) and are skipped otherwise. The Redis
// DB is shared by tests running in parallel, so every registry here names its groups with a per-process tag
// (online keys start with the group name) and removes its keys when done.
//
// Two tests fail today, each on a minimal case of a bug in src/features (kept failing on purpose):
// - LateEventAcrossTtlGapMatchesBackfill: a group with a finite ttl drops its state when an event arrives
//   after an idle gap of the ttl, so a late event that falls inside that gap, or a read at a time inside it
//   (both within the allowed lateness), no longer sees what the backfill sees. For this reason the random
//   late-event and earlier-read checks below leave the ttl groups out.
// - CompositeKeyPartsWithTheSeparatorStayDistinct: online keys join composite key parts with an unescaped
//   '\x1f', so ("a\x1fb", "c") and ("a", "b\x1fc") share one state online but not offline.

#include "features/online_store.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/table.h"
#include "core/time.h"
#include "features/backfill.h"
#include "features/consistency.h"
#include "features/definitions.h"
#include "features/key_state.h"
#include "features/row_values.h"
#include "features/write_journal.h"
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
void PrintTo(ReadStatus status, std::ostream* os) { *os << ReadStatusName(status); }

namespace {

using ::testing::HasSubstr;
using testing::kT0;
using testing::Seconds;
using testing::TempDir;

constexpr int64_t kStep = Seconds(60);       // the grid events fall on
constexpr int64_t kLateness = Seconds(300);  // the events source's allowed_lateness (5m)

// ---------------------------------------------------------------------------------------------------------
// Events: (time, user, device, n, x, ok, s), the events source's columns in declared order.

using testing::Row;
using testing::ToCsv;
using testing::ToTable;
const char* const kEventColumnsYaml = testing::kSourceColumnsYaml;
Schema EventSchema() { return testing::RowSchema(); }

std::string Describe(const Row& r) {
  auto opt = [](const auto& v) -> std::string { return v ? fmt::format("{}", *v) : std::string("null"); };
  return fmt::format("t=+{}s user={} device={} n={} x={} ok={} s={}", static_cast<double>(r.ts - kT0) / 1e6,
                     opt(r.user), opt(r.device), opt(r.n), opt(r.x), opt(r.ok), opt(r.s));
}

// Deterministic randomness (distributions written out: the standard's are not portable).
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  int64_t Below(int64_t n) { return static_cast<int64_t>(engine_() % static_cast<uint64_t>(n)); }
  int64_t Between(int64_t lo, int64_t hi) { return lo + Below(hi - lo + 1); }  // inclusive
  bool Chance(double p) { return static_cast<double>(engine_() >> 11) * 0x1p-53 < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[static_cast<size_t>(Below(static_cast<int64_t>(v.size())))];
  }

 private:
  std::mt19937_64 engine_;
};

const std::vector<std::string> kUsers = {"u0", "u1", "u2", "u3", "u4", "u5"};
const std::vector<std::string> kDevices = {"d0", "d1", "d2"};
const std::vector<std::string> kStrings = {"a", "b", "c", "d", "fg", "h\xc3\xa9llo"};

void FillValues(Rng& rng, Row& r) {
  if (!rng.Chance(0.15)) r.n = rng.Between(-3, 5);
  if (!rng.Chance(0.15)) r.x = static_cast<double>(rng.Between(-20, 30)) * 0.1;  // tenths: inexact in binary
  if (!rng.Chance(0.12)) r.ok = rng.Chance(0.6);
  if (!rng.Chance(0.15)) r.s = rng.Pick(kStrings);
}

// Events on the grid, users skewed towards the first ones; a few with a null user or device. Half the
// sets are in time order (ties in random order), the others in no order at all.
std::vector<Row> GenerateEvents(Rng& rng, int64_t min_events = 60, int64_t max_events = 150, int64_t slots = 60) {
  std::vector<std::string> users = kUsers;
  users.resize(static_cast<size_t>(rng.Between(3, 6)));
  int64_t count = rng.Between(min_events, max_events);
  std::vector<Row> events;
  for (int64_t i = 0; i < count; ++i) {
    Row r;
    auto k = static_cast<size_t>(
        std::min(rng.Below(static_cast<int64_t>(users.size())), rng.Below(static_cast<int64_t>(users.size()))));
    if (!rng.Chance(0.03)) r.user = users[k];
    if (!rng.Chance(0.05)) r.device = rng.Pick(kDevices);
    r.ts = kT0 + rng.Below(slots) * kStep;
    FillValues(rng, r);
    events.push_back(std::move(r));
  }
  if (rng.Chance(0.5)) {
    std::stable_sort(events.begin(), events.end(), [](const Row& a, const Row& b) { return a.ts < b.ts; });
  }
  return events;
}

// Positions of `events` in time order, file order among ties (the order the backfill processes them in).
std::vector<size_t> TimeOrder(const std::vector<Row>& events) {
  std::vector<size_t> order(events.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return events[a].ts < events[b].ts; });
  return order;
}

// ---------------------------------------------------------------------------------------------------------
// Definitions.

// A tag unique to this process and call, for group names (online keys start with them; see the top).
std::string UniqueTag() {
  static std::atomic<int> counter{0};
  return fmt::format("_p{}_{}", static_cast<long>(getpid()), counter.fetch_add(1));
}

struct DefinitionOptions {
  std::string tag;           // appended to every group name
  bool ttl_groups = true;    // include the groups with a finite ttl
  std::string events_path;   // empty: a push-only source
  std::string changes_path;  // non-empty: a second source ("changes") with its own group
  std::string feature_set;   // non-empty: a feature set of this name with every feature
};

std::string DefinitionsYaml(const DefinitionOptions& o) {
  const std::string& t = o.tag;
  std::string y = "entities:\n  user: {keys: [user]}\n  ud: {keys: [user, device]}\n  un: {keys: [user, n]}\n";
  y += "sources:\n  events:\n";
  if (!o.events_path.empty()) y += "    path: " + o.events_path + "\n";
  y += "    timestamp: time\n    allowed_lateness: 5m\n";
  y += std::string("    columns: ") + kEventColumnsYaml + "\n";
  if (!o.changes_path.empty()) {
    y += "  changes:\n    path: " + o.changes_path +
         "\n    timestamp: time\n    columns: {time: timestamp, user: string, kind: string}\n";
  }
  y += "groups:\n";
  y += "  pu" + t + ":\n    entity: user\n    source: events\n    features:\n" +
       "      cnt: {agg: count, windows: [2m, 5m, 20m, lifetime]}\n"
       "      cnt_ok: {agg: count, filter: \"ok\", windows: [5m]}\n"
       "      sum_x: {agg: sum, of: x, windows: [2m, 20m, lifetime]}\n"
       "      sum_n_ok: {agg: sum, of: n, filter: \"ok\", windows: [5m]}\n"
       "      mean_x: {agg: mean, of: x, windows: [5m, lifetime]}\n"
       "      mean_xn: {agg: mean, of: \"x * n\", filter: \"x > 0\", windows: [20m]}\n"
       "      min_x: {agg: min, of: x, windows: [2m, lifetime]}\n"
       "      max_n: {agg: max, of: n, filter: \"not ok\", windows: [5m, lifetime]}\n"
       "      std_x: {agg: stddev, of: x, windows: [5m, lifetime]}\n"
       "      cd_s: {agg: count_distinct, of: s, windows: [5m, lifetime]}\n"
       "      cd_n: {agg: count_distinct, of: n, filter: \"ok\", windows: [20m]}\n"
       "      acd_s: {agg: approx_count_distinct, of: s, windows: [5m, lifetime]}\n"
       "      acd_n: {agg: approx_count_distinct, of: n, windows: [20m], precision: 4}\n"
       "      last_s: {agg: last, of: s, windows: [5m, lifetime]}\n"
       "      last_x_ok: {agg: last, of: x, filter: \"ok\"}\n"
       "      last_ok: {agg: last, of: ok}\n"
       "      tsl: {agg: time_since_last, windows: [5m, lifetime]}\n"
       "      tsl_ok: {agg: time_since_last, filter: \"ok\"}\n"
       "      fs: {agg: first_seen}\n"
       "      new_s: {agg: is_new, of: s, horizon: 5m}\n"
       "      new_n_ok: {agg: is_new, of: n, filter: \"ok\", horizon: 20m}\n"
       "      ratio_ok: {agg: ratio, filter: \"ok\", windows: [2m, lifetime]}\n";
  y += "  pu_age" + t + ":\n    entity: user\n    source: events\n    max_age: 2m\n    features:\n" +
       "      a_cnt: {agg: count, windows: [5m, lifetime]}\n"
       "      a_last_x: {agg: last, of: x}\n"
       "      a_new_s: {agg: is_new, of: s, horizon: 5m}\n";
  y += "  pud" + t + ":\n    entity: ud\n    source: events\n    features:\n" +
       "      ud_cnt: {agg: count, windows: [5m, lifetime]}\n"
       "      ud_sum_x: {agg: sum, of: x}\n"
       "      ud_last_s: {agg: last, of: s}\n"
       "      ud_new_n: {agg: is_new, of: n, horizon: 20m}\n";
  y += "  pun" + t + ":\n    entity: un\n    source: events\n    features:\n" +
       "      un_cnt: {agg: count}\n"
       "      un_mean_x: {agg: mean, of: x, windows: [5m]}\n";
  if (o.ttl_groups) {
    y += "  pu_ttl" + t + ":\n    entity: user\n    source: events\n    ttl: 3m\n    features:\n" +
         "      t_cnt: {agg: count, windows: [5m, lifetime]}\n"
         "      t_sum_x: {agg: sum, of: x}\n"
         "      t_min_x: {agg: min, of: x}\n"
         "      t_cd_s: {agg: count_distinct, of: s}\n"
         "      t_acd_s: {agg: approx_count_distinct, of: s}\n"
         "      t_last_s: {agg: last, of: s}\n"
         "      t_fs: {agg: first_seen}\n"
         "      t_new_s: {agg: is_new, of: s, horizon: 20m}\n"
         "      t_ratio_ok: {agg: ratio, filter: \"ok\"}\n";
    y += "  pu_both" + t + ":\n    entity: user\n    source: events\n    ttl: 8m\n    max_age: 2m\n    features:\n" +
         "      b_cnt: {agg: count}\n"
         "      b_tsl: {agg: time_since_last}\n";
  }
  if (!o.changes_path.empty()) {
    y += "  pc" + t + ":\n    entity: user\n    source: changes\n    features:\n" +
         "      c_cnt: {agg: count, windows: [20m, lifetime]}\n"
         "      c_last_kind: {agg: last, of: kind}\n";
  }
  y += "derived:\n"
       "  d_mean_plus_n: {source: events, expr: \"coalesce(mean_x_5m, 0) + n\"}\n"
       "  d_busy_ok: {source: events, expr: \"cnt > 3 and ok\"}\n"
       "  d_len: {source: events, expr: \"length(last_s)\"}\n"
       "  d_tsl_min: {source: events, expr: \"tsl_ok / 60\"}\n";
  return y;
}

// Parses the definitions; with o.feature_set, parses twice to list every feature in the set.
Result<FeatureRegistry> MakeRegistry(const DefinitionOptions& o, const std::string& base_dir = "/nonexistent") {
  std::string yaml = DefinitionsYaml(o);
  if (!o.feature_set.empty()) {
    GYRE_ASSIGN_OR_RETURN(FeatureRegistry first, FeatureRegistry::Parse(yaml, "features.yaml", base_dir));
    std::vector<std::string> names;
    for (const FeatureDef& f : first.features()) names.push_back(f.name);
    yaml +=
        fmt::format("feature_sets:\n  {}: {{source: events, features: [{}]}}\n", o.feature_set, fmt::join(names, ", "));
  }
  return FeatureRegistry::Parse(yaml, "features.yaml", base_dir);
}

std::vector<int> AllFeatures(const FeatureRegistry& registry) {
  std::vector<int> all(registry.features().size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
  return all;
}

// Features whose values do not depend on a ttl (aggregations of lifetime-ttl groups, derived features over
// them only).
std::vector<int> FeaturesWithoutTtl(const FeatureRegistry& registry) {
  auto plain = [&](int f) {
    const FeatureDef& def = registry.features()[f];
    return def.group >= 0 && registry.groups()[def.group].ttl == kLifetime;
  };
  std::vector<int> out;
  for (int f = 0; f < static_cast<int>(registry.features().size()); ++f) {
    const FeatureDef& def = registry.features()[f];
    bool ok = def.derived < 0 ? plain(f)
                              : std::all_of(registry.derived()[def.derived].inputs.begin(),
                                            registry.derived()[def.derived].inputs.end(), plain);
    if (ok) out.push_back(f);
  }
  return out;
}

int FeatureIndex(const FeatureRegistry& registry, const std::string& name) {
  Result<int> f = registry.FindFeature(name);
  EXPECT_TRUE(f.ok()) << f.status().ToString();
  return f.ok() ? *f : 0;
}

// ---------------------------------------------------------------------------------------------------------
// Comparing online values with the backfill.

FeatureValue OfflineValue(const Column& column, int64_t row) {
  FeatureValue v;
  if (column.IsNull(row)) return v;
  v.null = false;
  switch (column.type()) {
    case ColumnType::kFloat64:
      v.number = column.Float64(row);
      break;
    case ColumnType::kBool:
      v.number = column.Bool(row) ? 1 : 0;
      break;
    case ColumnType::kString:
      v.text = std::string(column.String(row));
      break;
    case ColumnType::kInt64:
    case ColumnType::kTimestamp:
      v.number = static_cast<double>(column.Int64(row));
      break;
  }
  return v;
}

std::string Show(const FeatureValue& v) {
  if (v.null) return "null";
  if (!v.text.empty()) return "'" + v.text + "'";
  return fmt::format("{:.17g}", v.number);
}

FeatureValue Num(double v) { return FeatureValue::Number(v); }
FeatureValue Text(std::string s) {
  FeatureValue v;
  v.null = false;
  v.text = std::move(s);
  return v;
}
const FeatureValue kNull;

// Counts and reports (the first few) differences between online values and the backfill's row values.
class Comparison {
 public:
  Comparison(const FeatureRegistry& registry, std::string what) : registry_(registry), what_(std::move(what)) {}
  ~Comparison() {
    if (failures_ > kShown) ADD_FAILURE() << what_ << ": " << failures_ - kShown << " more mismatches not shown";
  }

  // Online value `got` of feature `feature` against row `row` of the backfill `offline` (a column per
  // feature, named as the feature).
  void Check(int feature, const FeatureValue& got, const Table& offline, int64_t row, const std::string& context) {
    ++compared_;
    const std::string& name = registry_.features()[feature].name;
    Result<const Column*> column = offline.ColumnByName(name);
    if (!column.ok()) {
      ADD_FAILURE() << what_ << ": the backfill has no column " << name;
      ++failures_;
      return;
    }
    FeatureValue want = OfflineValue(**column, row);
    if (want == got) return;
    if (++failures_ > kShown) return;
    ADD_FAILURE() << what_ << ": " << context << " feature " << name << ": backfill " << Show(want) << ", online "
                  << Show(got);
  }
  int64_t compared() const { return compared_; }
  int64_t failures() const { return failures_; }

 private:
  static constexpr int64_t kShown = 10;
  const FeatureRegistry& registry_;
  std::string what_;
  int64_t compared_ = 0;
  int64_t failures_ = 0;
};

// The events of `user` up to `t`, for failure messages (a reproducible story).
std::string Story(const std::vector<Row>& events, const std::optional<std::string>& user, int64_t t) {
  std::string out;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].user == user && events[i].ts <= t) out += fmt::format("\n    #{}: {}", i, Describe(events[i]));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Backends.

const char* RedisUrl() {
  const char* url = std::getenv("GYRE_TEST_REDIS_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

// Removes the registry's groups' keys from a Redis DB when it goes out of scope (and before use).
class RedisCleanup {
 public:
  RedisCleanup(std::string url, std::vector<std::string> groups) : url_(std::move(url)), groups_(std::move(groups)) {
    Clean();
  }
  ~RedisCleanup() { Clean(); }

 private:
  void Clean() {
    if (url_.rfind("redis", 0) != 0) return;
    Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open(url_, "");
    if (!kv.ok()) {
      ADD_FAILURE() << kv.status().ToString();
      return;
    }
    for (const std::string& g : groups_) {
      Status s = (*kv)->DeletePrefix(g + '\x1f');
      if (!s.ok()) ADD_FAILURE() << s.ToString();
    }
  }
  std::string url_;
  std::vector<std::string> groups_;
};

std::vector<std::string> GroupNames(const FeatureRegistry& registry) {
  std::vector<std::string> names;
  for (const GroupDef& g : registry.groups()) names.push_back(g.name);
  return names;
}

// A fresh OnlineStore over `url` ("memory", "rocksdb" under `state_dir`, or a Redis URL).
Result<std::unique_ptr<OnlineStore>> OpenOnline(const FeatureRegistry& registry, const std::string& url,
                                                const std::string& state_dir, OnlineStoreOptions options = {}) {
  GYRE_ASSIGN_OR_RETURN(std::unique_ptr<store::KvStore> kv, store::KvStore::Open(url, state_dir));
  for (const GroupDef& g : registry.groups()) GYRE_RETURN_IF_ERROR(kv->DeletePrefix(g.name + '\x1f'));
  return OnlineStore::Open(&registry, std::move(kv), options);
}

// The tests below run on each backend: the parameter is "memory", "rocksdb" or "redis", and "memory" and
// "rocksdb" again without the store's cache of decoded states ("-uncached"), so that every push and read
// goes through the stored value (snapshot + appended records), as on Redis.
class OnlineBackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string param = GetParam();
    if (param.ends_with("-uncached")) {
      param.resize(param.size() - std::string_view("-uncached").size());
      options_.cache_keys = 0;
    }
    backend_ = param;
    if (param == "redis") {
      if (RedisUrl() == nullptr) GTEST_SKIP() << "GYRE_TEST_REDIS_URL not set (make test sets it)";
      url_ = RedisUrl();
    } else {
      url_ = param;
    }
  }
  // A new state folder per store (RocksDB keeps one store per folder).
  std::string StateDir() { return dir_.File(fmt::format("state{}", stores_++)); }

  TempDir dir_;
  std::string url_;
  std::string backend_;
  OnlineStoreOptions options_;
  int stores_ = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, OnlineBackendTest,
                         ::testing::Values("memory", "rocksdb", "redis", "memory-uncached", "rocksdb-uncached"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

// ---------------------------------------------------------------------------------------------------------
// Replay in time order: for each event, Get before Push equals the backfill's row for that event. After
// some pushes, a read at an earlier time (within the lateness) for the same keys equals the backfill at that
// time too.

TEST_P(OnlineBackendTest, ReplayInTimeOrderEqualsBackfill) {
  constexpr int kSeeds = 3;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    DefinitionOptions options;
    options.tag = UniqueTag();
    Result<FeatureRegistry> registry = MakeRegistry(options);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    RedisCleanup cleanup(url_, GroupNames(*registry));
    const std::vector<int> features = AllFeatures(*registry);
    const std::vector<int> early_features = FeaturesWithoutTtl(*registry);
    ASSERT_LT(early_features.size(), features.size());

    Rng rng(static_cast<uint64_t>(seed));
    std::vector<Row> events = GenerateEvents(rng);
    Table table = ToTable(events);
    Result<Table> offline = BackfillTables(*registry, features, table, "time", {table}, {}, 1);
    ASSERT_TRUE(offline.ok()) << offline.status().ToString();
    ASSERT_EQ(offline->num_rows(), table.num_rows());

    Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, url_, StateDir(), options_);
    ASSERT_TRUE(online.ok()) << online.status().ToString();
    EXPECT_EQ((*online)->backend(), backend_);

    Comparison in_order(*registry, fmt::format("{} seed {} (read before push)", GetParam(), seed));
    std::vector<Row> early;                            // reads at an earlier time
    std::vector<std::vector<FeatureValue>> early_got;  // [read][feature of early_features]
    int64_t pushes = 0;
    for (size_t i : TimeOrder(events)) {
      const int64_t r = static_cast<int64_t>(i);
      Table row = table.Slice(r, 1);
      int64_t t = events[i].ts;
      Result<OnlineValues> got = (*online)->Get(features, row, std::span<const int64_t>(&t, 1));
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(got->values.size(), features.size());
      int64_t before = in_order.failures();
      for (size_t f = 0; f < features.size(); ++f) {
        in_order.Check(features[f], got->values[f][0], *offline, r,
                       fmt::format("event #{} ({})", i, Describe(events[i])));
      }
      if (in_order.failures() > before && before == 0) {
        ADD_FAILURE() << "events of the user up to the first mismatch:" << Story(events, events[i].user, t);
      }
      Result<PushResult> pushed = (*online)->Push(0, row);
      ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
      EXPECT_EQ(pushed->rows, 1);
      EXPECT_EQ(pushed->late, 0);
      EXPECT_EQ(pushed->too_late, 0);
      ++pushes;

      if (rng.Chance(0.3)) {
        // The same keys, at a time up to the lateness before this (their newest) event, other values.
        Row q;
        q.user = events[i].user;
        q.device = events[i].device;
        FillValues(rng, q);
        q.n = events[i].n;
        q.ts = t - rng.Below(kLateness + 1);
        if (rng.Chance(0.3)) q.ts = t - rng.Below(kLateness / kStep + 1) * kStep;  // on the grid: ties
        Table q_table = ToTable({q});
        Result<OnlineValues> back = (*online)->Get(early_features, q_table, std::span<const int64_t>(&q.ts, 1));
        ASSERT_TRUE(back.ok()) << back.status().ToString();
        std::vector<FeatureValue> values;
        for (const auto& v : back->values) values.push_back(v[0]);
        early.push_back(q);
        early_got.push_back(std::move(values));
      }
    }
    EXPECT_EQ(in_order.compared(), static_cast<int64_t>(events.size() * features.size()));
    EXPECT_EQ((*online)->pushed_events(), pushes);
    EXPECT_EQ((*online)->dropped_too_late(), 0);

    ASSERT_FALSE(early.empty());
    Result<Table> early_offline = BackfillTables(*registry, early_features, ToTable(early), "time", {table}, {}, 1);
    ASSERT_TRUE(early_offline.ok()) << early_offline.status().ToString();
    Comparison earlier(*registry, fmt::format("{} seed {} (read at an earlier time)", GetParam(), seed));
    for (size_t q = 0; q < early.size(); ++q) {
      for (size_t f = 0; f < early_features.size(); ++f) {
        earlier.Check(early_features[f], early_got[q][f], *early_offline, static_cast<int64_t>(q),
                      fmt::format("read {} ({})", q, Describe(early[q])));
      }
    }
    if (HasFailure()) return;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Late events: pushed out of order (in batches of several rows), each arriving less than the lateness after
// the newest event before it; afterwards every read equals the backfill of the same events. Ties among
// equal timestamps count in arrival order on both paths (the backfill keeps file order among ties, so its
// input is the events in arrival order).
//
// The groups with a finite ttl are left out here: a late event can bridge a ttl gap, which the online
// state does not undo (see LateEventAcrossTtlGapMatchesBackfill).

TEST_P(OnlineBackendTest, LateEventsWithinLatenessEqualBackfill) {
  constexpr int kSeeds = 3;
  for (int seed = 1; seed <= kSeeds; ++seed) {
    SCOPED_TRACE(fmt::format("seed {}", seed));
    DefinitionOptions options;
    options.tag = UniqueTag();
    options.ttl_groups = false;
    Result<FeatureRegistry> registry = MakeRegistry(options);
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    RedisCleanup cleanup(url_, GroupNames(*registry));
    const std::vector<int> features = AllFeatures(*registry);

    Rng rng(static_cast<uint64_t>(100 + seed));
    std::vector<Row> events = GenerateEvents(rng);
    std::stable_sort(events.begin(), events.end(), [](const Row& a, const Row& b) { return a.ts < b.ts; });
    // Arrival order: by time plus a delay below the lateness minus a minute, so every event that arrived
    // before an event is newer than it by less than that.
    const int64_t jitter = kLateness - kStep;
    std::vector<std::pair<int64_t, size_t>> arrival;
    for (size_t i = 0; i < events.size(); ++i) arrival.emplace_back(events[i].ts + rng.Below(jitter), i);
    std::stable_sort(arrival.begin(), arrival.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Row> arrived;
    for (const auto& [key, i] : arrival) arrived.push_back(events[i]);
    Table table = ToTable(arrived);

    Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, url_, StateDir(), options_);
    ASSERT_TRUE(online.ok()) << online.status().ToString();
    // Reads while events are still arriving, at T = the oldest time still to come (minus up to a minute):
    // every event before T is in, and T is within the lateness of the newest one (they arrive in order of
    // time + jitter), so the read must already be exact.
    std::vector<int64_t> oldest_to_come(arrived.size() + 1, INT64_MAX);
    for (size_t k = arrived.size(); k > 0; --k) oldest_to_come[k - 1] = std::min(oldest_to_come[k], arrived[k - 1].ts);
    std::vector<Row> midway;                            // reads while pushing
    std::vector<std::vector<FeatureValue>> midway_got;  // [read][feature]
    int64_t late = 0;
    for (int64_t at = 0; at < table.num_rows();) {
      int64_t batch = std::min<int64_t>(rng.Between(1, 6), table.num_rows() - at);
      Result<PushResult> pushed = (*online)->Push(0, table.Slice(at, batch));
      ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
      EXPECT_EQ(pushed->rows, batch);
      EXPECT_EQ(pushed->too_late, 0) << "rows " << at << ".." << at + batch - 1;
      late += pushed->late;
      at += batch;
      if (at < table.num_rows() && rng.Chance(0.4)) {
        Row q = arrived[static_cast<size_t>(rng.Below(at))];  // the keys of an event already in
        FillValues(rng, q);
        q.ts = oldest_to_come[static_cast<size_t>(at)] - (rng.Chance(0.5) ? 0 : rng.Below(kStep));
        Result<OnlineValues> got = (*online)->Get(features, ToTable({q}), std::span<const int64_t>(&q.ts, 1));
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        std::vector<FeatureValue> values;
        for (const auto& v : got->values) values.push_back(v[0]);
        midway.push_back(q);
        midway_got.push_back(std::move(values));
      }
    }
    EXPECT_GT(late, 0) << "the arrival order has no late event: the test tests nothing";
    EXPECT_EQ((*online)->dropped_too_late(), 0);
    EXPECT_EQ((*online)->pushed_events(), table.num_rows());

    // Reads for every key (and keys never seen, and null keys) from the lateness before the newest event
    // to well after it.
    const int64_t latest = events.back().ts;
    const std::vector<int64_t> offsets = {-kLateness, -kLateness + kStep / 2 + 1, -kStep, -1, 0, 1, 3 * kStep,
                                          40 * kStep};
    std::vector<Row> spine;
    std::vector<std::optional<std::string>> users(kUsers.begin(), kUsers.end());
    users.push_back("ghost");
    users.push_back(std::nullopt);
    for (const auto& user : users) {
      for (int64_t offset : offsets) {
        Row q;
        q.user = user;
        q.device = rng.Chance(0.9) ? std::optional<std::string>(rng.Pick(kDevices)) : std::nullopt;
        FillValues(rng, q);
        q.ts = latest + offset;
        spine.push_back(std::move(q));
      }
    }
    Table spine_table = ToTable(spine);
    std::vector<int64_t> times;
    for (const Row& q : spine) times.push_back(q.ts);
    Result<OnlineValues> got = (*online)->Get(features, spine_table, times);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Result<Table> offline = BackfillTables(*registry, features, spine_table, "time", {table}, {}, 1);
    ASSERT_TRUE(offline.ok()) << offline.status().ToString();
    Comparison compare(*registry, fmt::format("{} seed {} (after late events)", GetParam(), 100 + seed));
    for (size_t q = 0; q < spine.size(); ++q) {
      for (size_t f = 0; f < features.size(); ++f) {
        compare.Check(features[f], got->values[f][q], *offline, static_cast<int64_t>(q),
                      fmt::format("read {} ({})", q, Describe(spine[q])));
      }
    }
    EXPECT_EQ(compare.compared(), static_cast<int64_t>(spine.size() * features.size()));
    // The same read as model inputs (float32, row-major, NaN for nulls and strings) gives the same values.
    Result<std::shared_ptr<const OnlineRead>> prepared = (*online)->Prepare(features, spine_table.schema());
    ASSERT_TRUE(prepared.ok()) << prepared.status().ToString();
    std::vector<float> floats(spine.size() * features.size());
    ASSERT_TRUE((*online)->GetFloats(**prepared, spine_table, times, floats).ok());
    for (size_t q = 0; q < spine.size(); ++q) {
      for (size_t f = 0; f < features.size(); ++f) {
        const FeatureValue& v = got->values[f][q];
        float x = floats[q * features.size() + f];
        if (v.null || !v.text.empty()) {
          EXPECT_TRUE(std::isnan(x)) << "read " << q << " feature " << f << ": " << x;
        } else {
          EXPECT_EQ(x, static_cast<float>(v.number)) << "read " << q << " feature " << f;
        }
      }
    }
    EXPECT_FALSE((*online)->GetFloats(**prepared, spine_table, times, std::span<float>(floats).first(1)).ok());

    ASSERT_FALSE(midway.empty());
    Result<Table> midway_offline = BackfillTables(*registry, features, ToTable(midway), "time", {table}, {}, 1);
    ASSERT_TRUE(midway_offline.ok()) << midway_offline.status().ToString();
    Comparison compare_midway(*registry, fmt::format("{} seed {} (while late events arrive)", GetParam(), 100 + seed));
    for (size_t q = 0; q < midway.size(); ++q) {
      for (size_t f = 0; f < features.size(); ++f) {
        compare_midway.Check(features[f], midway_got[q][f], *midway_offline, static_cast<int64_t>(q),
                             fmt::format("read {} ({})", q, Describe(midway[q])));
      }
    }
    if (HasFailure()) return;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Too late: events older than the key's newest by more than the lateness are dropped and counted, and
// change nothing.

// One group over a push-only source with a lateness of 1m.
const char* const kSmallYaml = R"yaml(
entities:
  user: {keys: [user]}
sources:
  ev:
    timestamp: time
    allowed_lateness: 1m
    columns: {time: timestamp, user: string, x: float64, s: string}
groups:
  g{TAG}:
    entity: user
    source: ev
    features:
      cnt: {agg: count}
      cnt_1m: {agg: count, windows: [1m]}
      sum_x: {agg: sum, of: x}
      last_s: {agg: last, of: s}
)yaml";

std::string WithTag(std::string yaml, const std::string& tag) {
  for (size_t at = yaml.find("{TAG}"); at != std::string::npos; at = yaml.find("{TAG}")) yaml.replace(at, 5, tag);
  return yaml;
}

struct SmallRow {
  int64_t ts;
  std::optional<std::string> user;
  std::optional<double> x;
  std::optional<std::string> s;
};

Table SmallTable(const std::vector<SmallRow>& rows) {
  TableBuilder b(Schema({{"time", ColumnType::kTimestamp},
                         {"user", ColumnType::kString},
                         {"x", ColumnType::kFloat64},
                         {"s", ColumnType::kString}}));
  for (const SmallRow& r : rows) {
    b.column(0).AppendTimestamp(r.ts);
    r.user ? b.column(1).AppendString(*r.user) : b.column(1).AppendNull();
    r.x ? b.column(2).AppendFloat64(*r.x) : b.column(2).AppendNull();
    r.s ? b.column(3).AppendString(*r.s) : b.column(3).AppendNull();
  }
  Result<Table> table = b.Finish();
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : Table();
}

TEST_P(OnlineBackendTest, TooLateEventsAreDroppedAndCounted) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  RedisCleanup cleanup(url_, GroupNames(*registry));
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, url_, StateDir(), options_);
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;
  const int64_t t = kT0 + Seconds(3600);

  std::vector<SmallRow> accepted;
  auto push = [&](const std::vector<SmallRow>& rows) {
    Result<PushResult> r = store.Push(0, SmallTable(rows));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : PushResult{-1, -1, -1, -1, {}, {}};
  };
  PushResult r = push({{t, "u", 1, "a"}, {t, "v", 10, "z"}});
  EXPECT_EQ(r.rows, 2);
  EXPECT_EQ(r.late, 0);
  EXPECT_EQ(r.too_late, 0);
  accepted.insert(accepted.end(), {{t, "u", 1, "a"}, {t, "v", 10, "z"}});

  // Exactly the lateness before u's newest: accepted (late). One microsecond more: dropped. v is
  // unaffected by u's events, and a null key updates nothing (neither late nor too late).
  r = push({{t - Seconds(60), "u", 2, "b"}});
  EXPECT_EQ(r.late, 1);
  EXPECT_EQ(r.too_late, 0);
  accepted.push_back({t - Seconds(60), "u", 2, "b"});
  r = push({{t - Seconds(60) - 1, "u", 4, "c"}});
  EXPECT_EQ(r.rows, 1);
  EXPECT_EQ(r.late, 0);
  EXPECT_EQ(r.too_late, 1);
  r = push({{t - Seconds(120), "u", 8, "d"},
            {t + Seconds(1), "u", 16, "e"},
            {t - Seconds(30), "v", 32, "f"},
            {t - Seconds(600), std::nullopt, 64, "g"},
            {t - Seconds(90), "u", 128, "h"}});
  EXPECT_EQ(r.rows, 5);
  EXPECT_EQ(r.late, 1);      // v at t - 30s
  EXPECT_EQ(r.too_late, 2);  // u at t - 120s; u at t - 90s (u's newest is t + 1s by then)
  accepted.insert(
      accepted.end(),
      {{t + Seconds(1), "u", 16, "e"}, {t - Seconds(30), "v", 32, "f"}, {t - Seconds(600), std::nullopt, 64, "g"}});
  EXPECT_EQ(store.dropped_too_late(), 3);
  EXPECT_EQ(store.pushed_events(), 2 + 1 + 1 + 5);

  // The dropped events changed nothing: values equal the backfill of the accepted ones.
  std::vector<int> features = AllFeatures(*registry);
  std::vector<SmallRow> reads = {
      {t + Seconds(2), "u", {}, {}},  {t + Seconds(2), "v", {}, {}},  {t, "u", {}, {}},
      {t - Seconds(30), "u", {}, {}}, {t + Seconds(50), "u", {}, {}}, {t - Seconds(29), "v", {}, {}}};
  Table spine = SmallTable(reads);
  std::vector<int64_t> times;
  for (const SmallRow& q : reads) times.push_back(q.ts);
  Result<OnlineValues> got = store.Get(features, spine, times);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Table events = SmallTable(accepted);
  Result<Table> offline = BackfillTables(*registry, features, spine, "time", {events}, {}, 1);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  Comparison compare(*registry, GetParam() + " too late");
  for (size_t q = 0; q < reads.size(); ++q) {
    for (size_t f = 0; f < features.size(); ++f) {
      compare.Check(features[f], got->values[f][q], *offline, static_cast<int64_t>(q), fmt::format("read {}", q));
    }
  }
  // And the numbers themselves: u at t + 2s has 1 + 2 + 16 (the dropped 4, 8 and 128 are not there).
  int sum_x = FeatureIndex(*registry, "sum_x");
  int cnt = FeatureIndex(*registry, "cnt");
  EXPECT_EQ(got->values[static_cast<size_t>(sum_x)][0], FeatureValue::Number(19));
  EXPECT_EQ(got->values[static_cast<size_t>(cnt)][0], FeatureValue::Number(3));
  EXPECT_EQ(got->values[static_cast<size_t>(sum_x)][1], FeatureValue::Number(42));
}

// `n` events 1-20 s apart from *t (left at the last one), half of them from three hot users u0-u2, the rest
// spread over u0..u<users-1>; 1 in 8 late by up to 50 s; x null 1 in 10; s one of five strings.
std::vector<SmallRow> HotUsersLateEvents(Rng& rng, int n, int64_t users, int64_t* t) {
  std::vector<SmallRow> events;
  for (int i = 0; i < n; ++i) {
    *t += Seconds(1) + rng.Below(Seconds(20));
    std::string user = "u" + std::to_string(rng.Chance(0.5) ? rng.Below(3) : rng.Below(users));
    int64_t ts = rng.Chance(0.125) ? *t - rng.Below(Seconds(50)) : *t;
    std::optional<double> x;
    if (!rng.Chance(0.1)) x = static_cast<double>(rng.Below(1000)) / 8;
    events.push_back({ts, user, x, "s" + std::to_string(rng.Below(5))});
  }
  return events;
}

// The stored value (snapshot + appended event records, rewritten as one snapshot now and then) gives back
// exactly the state that was cached: after a reopen of the RocksDB folder, and through a cache of one key
// per stripe (constant eviction) whose pushes commit the write queue themselves at every row, reads equal
// those of the store that saw every push, and the backfill's.
TEST(OnlineStoreTest, StoredStateReloadsExactlyAfterReopenAndEviction) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  const std::string state = dir.File("state");
  OnlineStoreOptions tiny;
  tiny.cache_keys = 1;
  tiny.write_queue = 1;
  Result<std::unique_ptr<OnlineStore>> first = OpenOnline(*registry, "rocksdb", state);
  Result<std::unique_ptr<OnlineStore>> evicting = OpenOnline(*registry, "memory", dir.path(), tiny);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_TRUE(evicting.ok()) << evicting.status().ToString();

  // 3000 events over 2000 users (three hot: hundreds of events each, well past every snapshot threshold;
  // the others more than the tiny cache holds).
  Rng rng(7);
  int64_t t = kT0;
  std::vector<SmallRow> events = HotUsersLateEvents(rng, 3000, 2000, &t);
  for (size_t at = 0; at < events.size();) {
    size_t batch = std::min<size_t>(1 + rng.Below(4), events.size() - at);
    Table rows = SmallTable(std::vector<SmallRow>(events.begin() + at, events.begin() + at + batch));
    for (OnlineStore* store : {first->get(), evicting->get()}) {
      Result<PushResult> pushed = store->Push(0, rows);
      ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
      EXPECT_EQ(pushed->too_late, 0);
    }
    at += batch;
  }
  EXPECT_GT((*evicting)->cache_misses(), 300) << "the tiny cache did not evict";

  std::vector<SmallRow> reads;
  for (int u = 0; u < 41; ++u) {
    reads.push_back({t + 1, "u" + std::to_string(u), {}, {}});
    reads.push_back({t + Seconds(30), "u" + std::to_string(u), {}, {}});
  }
  Table spine = SmallTable(reads);
  std::vector<int64_t> times;
  for (const SmallRow& q : reads) times.push_back(q.ts);
  const std::vector<int> features = AllFeatures(*registry);
  Result<OnlineValues> expected = (*first)->Get(features, spine, times);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  first->reset();  // closes the RocksDB folder

  Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open("rocksdb", state);
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  Result<std::unique_ptr<OnlineStore>> reopened = OnlineStore::Open(&*registry, std::move(*kv));
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  for (OnlineStore* store : {reopened->get(), evicting->get()}) {
    Result<OnlineValues> got = store->Get(features, spine, times);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->values, expected->values) << store->backend();
    EXPECT_EQ(got->statuses, expected->statuses) << store->backend();
  }
  Result<Table> offline = BackfillTables(*registry, features, spine, "time", {SmallTable(events)}, {}, 1);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  Comparison compare(*registry, "reloaded");
  for (size_t q = 0; q < reads.size(); ++q) {
    for (size_t f = 0; f < features.size(); ++f) {
      compare.Check(features[f], expected->values[f][q], *offline, static_cast<int64_t>(q), fmt::format("read {}", q));
    }
  }
}

// A KvStore that forwards to another (shared, so it can outlive this one, as a disk outlives a process) until
// told to refuse writes; it keeps the keys of the last batch written.
class RefusingKvStore final : public store::KvStore {
 public:
  explicit RefusingKvStore(std::shared_ptr<store::KvStore> inner) : inner_(std::move(inner)) {}
  std::atomic<bool> refuse{false};
  std::atomic<int> batches{0};
  std::atomic<int> syncs{0};
  std::atomic<bool> refuse_sync{false};
  std::atomic<int> sync_delay_ms{0};  // a slow disk
  std::vector<std::string> last_batch_keys;  // read when no push or fold runs
  Result<std::optional<std::string>> Get(std::string_view key) override { return inner_->Get(key); }
  Result<std::vector<std::optional<std::string>>> MultiGet(std::span<const std::string> keys) override {
    return inner_->MultiGet(keys);
  }
  Status Put(std::string_view key, std::string_view value, int64_t expires_at) override {
    return inner_->Put(key, value, expires_at);
  }
  Status Delete(std::string_view key) override { return inner_->Delete(key); }
  Status WriteBatch(std::span<const store::KvWrite> writes) override {
    ++batches;
    if (refuse) return Status::IOError("disk full (test)");
    last_batch_keys.clear();
    for (const store::KvWrite& w : writes) last_batch_keys.push_back(w.key);
    return inner_->WriteBatch(writes);
  }
  Status Sync() override {
    ++syncs;
    if (sync_delay_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(sync_delay_ms.load()));
    if (refuse_sync) return Status::IOError("fsync failed (test)");
    return inner_->Sync();
  }
  Status DeletePrefix(std::string_view prefix) override { return inner_->DeletePrefix(prefix); }
  std::string_view backend() const override { return "refusing"; }
  bool single_writer() const override { return true; }

 private:
  std::shared_ptr<store::KvStore> inner_;
};

// A memory KvStore that outlives the OnlineStores opened over it (each through its own RefusingKvStore), as
// a disk outlives a process.
std::shared_ptr<store::KvStore> SharedMemoryKv() {
  Result<std::unique_ptr<store::KvStore>> opened = store::KvStore::Open("memory", "");
  EXPECT_TRUE(opened.ok()) << opened.status().ToString();
  return opened.ok() ? std::shared_ptr<store::KvStore>(std::move(*opened)) : nullptr;
}

// Cached pushes reach the store through the background writer: Flush waits for them, a refused batch is
// reported by Flush and by every later Push (nothing silently lost), and reads then fall back to what the
// store has.
TEST(OnlineStoreTest, BackgroundWriterCommitsAndReportsFailures) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  Result<std::unique_ptr<store::KvStore>> memory = store::KvStore::Open("memory", dir.path());
  ASSERT_TRUE(memory.ok()) << memory.status().ToString();
  auto refusing = std::make_unique<RefusingKvStore>(std::move(*memory));
  RefusingKvStore* kv = refusing.get();
  Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&*registry, std::move(refusing));
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;
  const int64_t t = kT0 + Seconds(3600);
  const int cnt = FeatureIndex(*registry, "cnt");
  auto count_of = [&](const std::string& user) {
    const int64_t at = t + Seconds(100);
    Result<OnlineValues> got = store.Get({cnt}, SmallTable({{at, user, {}, {}}}), std::span<const int64_t>(&at, 1));
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? got->values[0][0] : FeatureValue();
  };

  for (int i = 0; i < 50; ++i) {
    Result<PushResult> pushed = store.Push(0, SmallTable({{t + i, "u", 1.0, "a"}, {t + i, "v", 2.0, "b"}}));
    ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  }
  EXPECT_TRUE(store.Flush().ok());
  EXPECT_GE(kv->batches.load(), 1);
  EXPECT_GE(store.write_batches(), 1);
  EXPECT_EQ(count_of("u"), FeatureValue::Number(50));
  // The state reached the store.
  Result<std::optional<std::string>> stored = kv->Get(std::string(registry->groups()[0].name) + '\x1f' + "1:u");
  ASSERT_TRUE(stored.ok() && stored->has_value());

  kv->refuse = true;
  Result<PushResult> refused = store.Push(0, SmallTable({{t + 60, "u", 1.0, "a"}}));
  ASSERT_TRUE(refused.ok()) << "queued before the writer knows: " << refused.status().ToString();
  Status flushed = store.Flush();
  EXPECT_EQ(flushed.code(), StatusCode::kUnavailable) << flushed.ToString();
  EXPECT_NE(flushed.message().find("disk full (test)"), std::string::npos) << flushed.ToString();
  Result<PushResult> after = store.Push(0, SmallTable({{t + 61, "v", 1.0, "a"}}));
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("online store writes failed"), std::string::npos) << after.status().ToString();
  // u's refused event left the cache with it: reads show what the store has (the 50 committed events).
  EXPECT_EQ(count_of("u"), FeatureValue::Number(50));
}

// The small definitions over a fresh memory store; the registry is held here too, so it outlives the store.
struct SmallStore {
  std::unique_ptr<FeatureRegistry> registry;
  std::unique_ptr<OnlineStore> store;
};
SmallStore OpenSmallStore() {
  SmallStore small;
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  EXPECT_TRUE(registry.ok()) << registry.status().ToString();
  if (!registry.ok()) return small;
  small.registry = std::make_unique<FeatureRegistry>(std::move(*registry));
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*small.registry, "memory", "");
  EXPECT_TRUE(online.ok()) << online.status().ToString();
  if (online.ok()) small.store = std::move(*online);
  return small;
}

// A lone push (far fewer writes than wake the writer by count) is journaled within the writer's short delay
// by itself, with nobody calling Persist or Flush: the first write wakes a parked writer. Twice, so the
// second push meets the writer parked again after its busy poll.
TEST(OnlineStoreTest, ALonePushIsJournaledWithoutBeingAskedTo) {
  SmallStore small = OpenSmallStore();
  ASSERT_NE(small.store, nullptr);
  OnlineStore& store = *small.store;
  const int64_t t = kT0 + Seconds(3600);
  for (int round = 1; round <= 2; ++round) {
    if (round == 2) std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the busy poll
    ASSERT_TRUE(store.Push(0, SmallTable({{t + round, "u", 1.0, "a"}})).ok());
    const auto pushed = std::chrono::steady_clock::now();
    while (store.write_batches() < round && std::chrono::steady_clock::now() < pushed + std::chrono::seconds(10)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    EXPECT_EQ(store.write_batches(), round) << "round " << round;
    // Within the delay (2 ms), with a wide margin for a loaded machine, but well before the fold (500 ms),
    // which would also journal what waits.
    EXPECT_LT(std::chrono::steady_clock::now() - pushed, std::chrono::milliseconds(300)) << "round " << round;
  }
}

// Editing a group's definition (here: a feature with a new value inserted before the others) must not read the
// keys stored under the old one as its own: they would parse into other features' values, or fail as corrupt
// (HTTP 500 on every scored event of such a key). They restart empty, counted; the other groups keep theirs.
TEST(OnlineStoreTest, KeysStoredUnderAnotherDefinitionRestartEmpty) {
  const std::string tag = UniqueTag();
  const std::string before = WithTag(kSmallYaml, tag) + R"yaml(
  other{TAG}:
    entity: user
    source: ev
    features:
      other_cnt: {agg: count}
)yaml";
  std::string after = before;
  const std::string anchor = "      cnt: {agg: count}\n";
  ASSERT_NE(after.find(anchor), std::string::npos);
  after.insert(after.find(anchor), "      min_2x: {agg: min, of: \"x * 2\", windows: [1m]}\n");
  Result<FeatureRegistry> old_registry = testing::ParseDefinitions(WithTag(before, tag));
  Result<FeatureRegistry> new_registry = testing::ParseDefinitions(WithTag(after, tag));
  ASSERT_TRUE(old_registry.ok()) << old_registry.status().ToString();
  ASSERT_TRUE(new_registry.ok()) << new_registry.status().ToString();
  TempDir dir;
  const std::string state = dir.path() + "/online";
  const int64_t t = kT0 + Seconds(3600);
  auto open = [&](const FeatureRegistry& registry) {
    Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open("rocksdb", state);
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&registry, std::move(*kv));
    EXPECT_TRUE(online.ok()) << online.status().ToString();
    return std::move(*online);
  };
  auto read_counts = [&](OnlineStore& store, const FeatureRegistry& registry, int64_t at) {
    std::vector<int> features = {*registry.FindFeature("cnt"), *registry.FindFeature("other_cnt")};
    Result<OnlineValues> got = store.Get(features, SmallTable({{at, "u", {}, {}}}), std::vector<int64_t>{at});
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::vector<double>{got->values[0][0].number, got->values[1][0].number} : std::vector<double>{};
  };
  {
    std::unique_ptr<OnlineStore> store = open(*old_registry);
    ASSERT_TRUE(store->Push(0, SmallTable({{t, "u", 1.0, "a"}, {t + 1, "u", 2.0, "b"}})).ok());
    EXPECT_EQ(read_counts(*store, *old_registry, t + 5), (std::vector<double>{2, 2}));
  }
  {
    std::unique_ptr<OnlineStore> store = open(*new_registry);
    EXPECT_EQ(read_counts(*store, *new_registry, t + 5), (std::vector<double>{0, 2}));
    EXPECT_EQ(store->definition_resets(), 1);
    ASSERT_TRUE(store->Push(0, SmallTable({{t + 10, "u", 3.0, "c"}})).ok());
    Result<OnlineValues> min = store->Get({*new_registry->FindFeature("min_2x_1m")}, SmallTable({{t + 20, "u", {}, {}}}),
                                          std::vector<int64_t>{t + 20});
    ASSERT_TRUE(min.ok()) << min.status().ToString();
    EXPECT_EQ(min->values[0][0].number, 6.0);
    EXPECT_EQ(read_counts(*store, *new_registry, t + 20), (std::vector<double>{1, 3}));
  }
  {
    // Written whole under the new definition: it reads back as it was (nothing reset this time).
    std::unique_ptr<OnlineStore> store = open(*new_registry);
    EXPECT_EQ(read_counts(*store, *new_registry, t + 20), (std::vector<double>{1, 3}));
    EXPECT_EQ(store->definition_resets(), 0);
  }
  {
    // And back: the old definition does not take the new one's bytes either.
    std::unique_ptr<OnlineStore> store = open(*old_registry);
    EXPECT_EQ(read_counts(*store, *old_registry, t + 20), (std::vector<double>{0, 3}));
    EXPECT_EQ(store->definition_resets(), 1);
  }
}

// Hits and misses are counted per key looked up, by pushes and reads alike (they are summed per call).
TEST(OnlineStoreTest, CacheHitsAndMissesAreCountedPerKey) {
  SmallStore small = OpenSmallStore();
  ASSERT_NE(small.store, nullptr);
  OnlineStore& store = *small.store;
  const int64_t t = kT0 + Seconds(3600);
  // Three rows, two users, one null key (no lookup): misses for u and v, then a hit for u.
  ASSERT_TRUE(store.Push(0, SmallTable({{t, "u", 1.0, "a"}, {t, "v", 2.0, "b"}, {t, std::nullopt, 3.0, "c"},
                                        {t + 1, "u", 4.0, "d"}})).ok());
  EXPECT_EQ(store.cache_misses(), 2);
  EXPECT_EQ(store.cache_hits(), 1);
  // A read of u, v and an unknown w: two hits, one miss (w is looked up in the store).
  std::vector<SmallRow> reads = {{t + 5, "u", {}, {}}, {t + 5, "v", {}, {}}, {t + 5, "w", {}, {}}};
  std::vector<int64_t> times = {t + 5, t + 5, t + 5};
  Result<OnlineValues> got = store.Get(AllFeatures(*small.registry), SmallTable(reads), times);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(store.cache_hits(), 3);
  EXPECT_EQ(store.cache_misses(), 3);
}

// Between folds a key's writes wait in the journal; the fold then writes each key once, however many events
// it had, together with the removal of the entries it folded.
TEST(OnlineStoreTest, AFoldWritesEachKeyOnce) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  std::shared_ptr<store::KvStore> memory = SharedMemoryKv();
  auto counting = std::make_unique<RefusingKvStore>(memory);
  RefusingKvStore* kv = counting.get();
  OnlineStoreOptions options;
  options.fold_interval_ms = 3'600'000;
  options.write_queue = 3;
  Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&*registry, std::move(counting), options);
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;
  const int64_t t = kT0 + Seconds(3600);
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(store.Push(0, SmallTable({{t + i, i % 3 == 0 ? "v" : "u", 1.0, "a"}})).ok());
  }
  ASSERT_TRUE(store.Persist().ok());
  const int journaled = kv->batches.load();
  EXPECT_GE(journaled, 1);
  EXPECT_EQ(store.write_batches(), journaled);
  EXPECT_EQ(store.folds(), 0);
  ASSERT_TRUE(store.Flush().ok());
  EXPECT_EQ(store.folds(), 1);
  EXPECT_EQ(kv->batches.load(), journaled + 1);
  std::vector<std::string> state_keys;
  int journal_keys = 0;
  for (const std::string& key : kv->last_batch_keys) {
    if (key[0] == '\0') {
      ++journal_keys;
    } else {
      state_keys.push_back(key);
    }
  }
  const std::string group = registry->groups()[0].name;
  EXPECT_THAT(state_keys, ::testing::UnorderedElementsAre(group + "\x1f" "1:u", group + "\x1f" "1:v"));
  EXPECT_EQ(journal_keys, journaled + 1) << "each folded entry removed, and the folded seq written";
  // What the fold wrote reads back as what the cache answered.
  const int64_t at = t + Seconds(200);
  const std::vector<int> features = AllFeatures(*registry);
  Table spine = SmallTable({{at, "u", {}, {}}, {at, "v", {}, {}}});
  const std::vector<int64_t> times = {at, at};
  Result<OnlineValues> cached = store.Get(features, spine, times);
  ASSERT_TRUE(cached.ok()) << cached.status().ToString();
  online->reset();
  Result<std::unique_ptr<OnlineStore>> reopened =
      OnlineStore::Open(&*registry, std::make_unique<RefusingKvStore>(memory), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Result<OnlineValues> stored = (*reopened)->Get(features, spine, times);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->values, cached->values);
  EXPECT_EQ(stored->values[0][0], Num(66)) << "u's count";
  EXPECT_EQ(stored->values[0][1], Num(34)) << "v's count";
}

// A crash (here a real one: a child process that dies without closing anything) loses nothing that was
// journaled: the next Open replays the journal into the keys' values, once.
TEST(OnlineStoreTest, ACrashLosesNothingJournaled) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  const std::string state = dir.File("state");
  // 2000 events over 300 users, a few hot (past every snapshot threshold).
  Rng rng(5);
  int64_t t = kT0;
  std::vector<SmallRow> events = HotUsersLateEvents(rng, 2000, 300, &t);
  auto push_all = [&](OnlineStore& store, const std::function<void(size_t)>& between) {
    for (size_t at = 0; at < events.size(); at += 4) {
      between(at);
      Table rows = SmallTable(std::vector<SmallRow>(events.begin() + at, events.begin() + std::min(at + 4, events.size())));
      if (!store.Push(0, rows).ok()) return false;
    }
    return true;
  };

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // Pushes, folds once after 1200 events, journals the rest and dies: no destructor, no fold, no RocksDB close.
    OnlineStoreOptions options;
    options.fold_interval_ms = 3'600'000;
    options.write_queue = 5;
    Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, "rocksdb", state, options);
    if (!online.ok()) _exit(2);
    bool flushed = true;
    if (!push_all(**online, [&](size_t at) { if (at == 1200) flushed = (*online)->Flush().ok(); })) _exit(3);
    _exit(flushed && (*online)->folds() == 1 && (*online)->Persist().ok() ? 0 : 4);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << "child status " << wait_status;

  auto journal_at = [&](bool expect_entries) -> uint64_t {
    Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open("rocksdb", state);
    EXPECT_TRUE(kv.ok()) << kv.status().ToString();
    if (!kv.ok()) return 0;
    Result<std::optional<std::string>> marker = (*kv)->Get(kFoldedKey);
    EXPECT_TRUE(marker.ok() && marker->has_value());
    if (!marker.ok() || !marker->has_value()) return 0;
    Result<uint64_t> seq = DecodeFoldedSeq(**marker);
    EXPECT_TRUE(seq.ok());
    Result<std::optional<std::string>> entry = (*kv)->Get(JournalKey(*seq));
    EXPECT_TRUE(entry.ok());
    EXPECT_EQ(entry.ok() && entry->has_value(), expect_entries) << "journal entry " << *seq;
    return *seq;
  };
  const uint64_t crashed_at = journal_at(true);
  EXPECT_GT(crashed_at, 0U) << "the child's fold moved the folded seq";

  Result<std::unique_ptr<OnlineStore>> reference = OpenOnline(*registry, "memory", dir.path());
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  ASSERT_TRUE(push_all(**reference, [](size_t) {}));
  std::vector<SmallRow> reads;
  for (int u = 0; u < 60; ++u) reads.push_back({t + Seconds(30), "u" + std::to_string(u), {}, {}});
  Table spine = SmallTable(reads);
  std::vector<int64_t> times(reads.size(), t + Seconds(30));
  const std::vector<int> features = AllFeatures(*registry);
  Result<OnlineValues> expected = (*reference)->Get(features, spine, times);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();

  for (int open = 0; open < 2; ++open) {
    Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open("rocksdb", state);
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    Result<std::unique_ptr<OnlineStore>> reopened = OnlineStore::Open(&*registry, std::move(*kv));
    ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
    EXPECT_EQ((*reopened)->folds(), open == 0 ? 1 : 0) << "open " << open << " replays what is left";
    Result<OnlineValues> got = (*reopened)->Get(features, spine, times);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(got->values, expected->values) << "open " << open;
    EXPECT_EQ(got->statuses, expected->statuses) << "open " << open;
    reopened->reset();
    EXPECT_GT(journal_at(false), crashed_at) << "the replay folded every entry";
  }
}

// Durability::kSync: a push returns only once its writes are journaled and fsynced, so a crash right after
// the last push returns (a child process that dies at once: no Persist, no destructor) loses none of them.
// The writer is given no chance to help: it would journal only after its 2 ms delay.
TEST(OnlineStoreTest, SyncDurabilityLosesNoAcknowledgedPushToACrash) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  const std::string state = dir.File("state");
  Rng rng(11);
  int64_t t = kT0;
  std::vector<SmallRow> events = HotUsersLateEvents(rng, 600, 40, &t);
  OnlineStoreOptions options;
  options.fold_interval_ms = 3'600'000;
  options.write_queue = 1'000'000;  // pushes never journal for being behind: only for durability
  options.durability = Durability::kSync;

  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, "rocksdb", state, options);
    if (!online.ok()) _exit(2);
    for (const SmallRow& event : events) {
      if (!(*online)->Push(0, SmallTable({event})).ok()) _exit(3);
    }
    _exit(0);
  }
  int wait_status = 0;
  ASSERT_EQ(waitpid(child, &wait_status, 0), child);
  ASSERT_TRUE(WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0) << "child status " << wait_status;

  Result<std::unique_ptr<OnlineStore>> reference = OpenOnline(*registry, "memory", dir.path());
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  ASSERT_TRUE((*reference)->Push(0, SmallTable(events)).ok());
  std::vector<SmallRow> reads;
  for (int u = 0; u < 40; ++u) reads.push_back({t + Seconds(30), "u" + std::to_string(u), {}, {}});
  Table spine = SmallTable(reads);
  std::vector<int64_t> times(reads.size(), t + Seconds(30));
  const std::vector<int> features = AllFeatures(*registry);
  Result<OnlineValues> expected = (*reference)->Get(features, spine, times);
  ASSERT_TRUE(expected.ok()) << expected.status().ToString();
  Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open("rocksdb", state);  // as it was left
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  Result<std::unique_ptr<OnlineStore>> reopened = OnlineStore::Open(&*registry, std::move(*kv), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  Result<OnlineValues> got = (*reopened)->Get(features, spine, times);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->values, expected->values);
  EXPECT_EQ(got->statuses, expected->statuses);
}

// Group commit: pushes that wait for an fsync meanwhile queue their writes, and the next journal entry and
// fsync take all of them, so a slow disk costs an fsync per round of waiting pushes, not per push.
TEST(OnlineStoreTest, SyncDurabilitySharesFsyncsAmongConcurrentPushes) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  auto counting = std::make_unique<RefusingKvStore>(SharedMemoryKv());
  RefusingKvStore* kv = counting.get();
  kv->sync_delay_ms = 2;
  OnlineStoreOptions options;
  options.durability = Durability::kSync;
  Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&*registry, std::move(counting), options);
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;
  constexpr int kThreads = 8, kPushes = 25;
  const int64_t t = kT0 + Seconds(3600);
  std::vector<std::thread> threads;
  std::atomic<int> failed{0};
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int i = 0; i < kPushes; ++i) {
        const int syncs_before = kv->syncs.load();
        if (!store.Push(0, SmallTable({{t + i, "u" + std::to_string(thread), 1.0, "a"}})).ok()) ++failed;
        // Journaled and fsynced before Push returned: at least one fsync began after this push started.
        if (kv->syncs.load() <= syncs_before) ++failed;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GE(kv->syncs.load(), 1);
  EXPECT_LE(kv->syncs.load(), kThreads * kPushes / 2) << "concurrent pushes shared fsyncs";
  ASSERT_TRUE(store.Flush().ok());
  const int64_t at = t + Seconds(100);
  Result<OnlineValues> got = store.Get({FeatureIndex(*registry, "cnt")}, SmallTable({{at, "u3", {}, {}}}),
                                       std::span<const int64_t>(&at, 1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->values[0][0], Num(kPushes));
}

// A refused fsync is a failed push (never an acknowledgement), and every later push reports it.
TEST(OnlineStoreTest, SyncDurabilityReportsARefusedFsync) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  auto refusing = std::make_unique<RefusingKvStore>(SharedMemoryKv());
  RefusingKvStore* kv = refusing.get();
  OnlineStoreOptions options;
  options.durability = Durability::kSync;
  Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&*registry, std::move(refusing), options);
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  const int64_t t = kT0 + Seconds(3600);
  ASSERT_TRUE((*online)->Push(0, SmallTable({{t, "u", 1.0, "a"}})).ok());
  kv->refuse_sync = true;
  Result<PushResult> refused = (*online)->Push(0, SmallTable({{t + 1, "u", 1.0, "a"}}));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("fsync failed (test)"), std::string::npos) << refused.status().ToString();
  EXPECT_FALSE((*online)->Push(0, SmallTable({{t + 2, "v", 1.0, "a"}})).ok());
}

TEST(OnlineStoreTest, DurabilityNames) {
  EXPECT_EQ(*ParseDurability("sync"), Durability::kSync);
  EXPECT_EQ(*ParseDurability("window"), Durability::kWindow);
  Result<Durability> bad = ParseDurability("fsync");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'fsync'"), std::string::npos) << bad.status().ToString();
}

// An append journaled while its key's value was alive, but folded only after the value expired (a restart
// long after a crash), must not leave event records without their snapshot: the key starts from nothing.
TEST(OnlineStoreTest, AnAppendFoldedAfterItsValueExpiredStartsFromNothing) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kSmallYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  std::shared_ptr<store::KvStore> memory = SharedMemoryKv();
  OnlineStoreOptions options;
  options.fold_interval_ms = 3'600'000;
  const int64_t t = kT0 + Seconds(3600);
  {
    auto refusing = std::make_unique<RefusingKvStore>(memory);
    RefusingKvStore* kv = refusing.get();
    Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&*registry, std::move(refusing), options);
    ASSERT_TRUE(online.ok()) << online.status().ToString();
    ASSERT_TRUE((*online)->Push(0, SmallTable({{t, "u", 1.0, "a"}, {t, "w", 1.0, "a"}})).ok());
    ASSERT_TRUE((*online)->Flush().ok());  // u's and w's values: a snapshot of one event
    ASSERT_TRUE((*online)->Push(0, SmallTable({{t + 1, "u", 2.0, "b"}, {t + 1, "w", 2.0, "b"}})).ok());
    ASSERT_TRUE((*online)->Persist().ok());  // appended records, journaled, not folded
    kv->refuse = true;                       // the closing fold fails: the journal keeps them, as after a crash
  }
  const std::string group = registry->groups()[0].name;
  ASSERT_TRUE(memory->Delete(group + "" "1:u").ok());  // u's value expires before anything replays

  Result<std::unique_ptr<OnlineStore>> reopened =
      OnlineStore::Open(&*registry, std::make_unique<RefusingKvStore>(memory), options);
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  const int64_t at = t + Seconds(10);
  Table spine = SmallTable({{at, "u", {}, {}}, {at, "w", {}, {}}});
  const std::vector<int64_t> times = {at, at};
  const std::vector<int> features = {FeatureIndex(*registry, "cnt"), FeatureIndex(*registry, "sum_x"),
                                     FeatureIndex(*registry, "last_s")};
  Result<OnlineValues> got = (*reopened)->Get(features, spine, times);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->values[0][0], Num(1)) << "u: the journaled event alone";
  EXPECT_EQ(got->values[1][0], Num(2.0));
  EXPECT_EQ(got->values[2][0], Text("b"));
  EXPECT_EQ(got->values[0][1], Num(2)) << "w: its value was alive, both events";
  EXPECT_EQ(got->values[1][1], Num(3.0));
}

// With several groups over one source, a row is judged per group (each group's key has its own newest
// event): too_late and late count (row, group) pairs, not rows.
TEST(OnlineStoreTest, TooLateIsCountedPerGroup) {
  DefinitionOptions options;
  options.ttl_groups = false;
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, "memory", dir.path());
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  const int64_t t = kT0 + Seconds(3600);
  Row a{t, "u", "d0", 1, 1.0, true, "a"};
  Row b{t - kLateness - 1, "u", "d1", 2, 2.0, true, "b"};  // too late for u; (u, d1) and (u, 2) are new keys
  Result<PushResult> r = (*online)->Push(0, ToTable({a}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->too_late, 0);
  r = (*online)->Push(0, ToTable({b}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  // Groups: pu and pu_age (key u: too late), pud (key u/d1: new), pun (key u/2: new).
  EXPECT_EQ(r->rows, 1);
  EXPECT_EQ(r->too_late, 2);
  EXPECT_EQ(r->late, 0);
  EXPECT_EQ((*online)->dropped_too_late(), 2);
}

// A finite ttl with late events. Offline, a key restarts after a gap of at least the ttl between its
// events in time order. Online, the restart happens when the event after the gap is appended; an event
// that arrives later (within the lateness) and falls inside that gap, or a read at a time inside it, must
// still see what the backfill sees. Minimal cases, ttl 1m and lateness 1m, events of one key:
//   (a) at 0 s and 100 s (a 100 s gap: restart), then the late event at 50 s: in time order the gaps are
//       50 s and 50 s, so nothing restarts: at 101 s the count is 3 and first_seen 101 s.
//   (b) at 0 s and 100 s, then a read at 50 s (50 s before the newest event, within the lateness): the
//       event at 0 s is 50 s old, under the ttl: count 1, first_seen 50 s.
const char* const kTtlLateYaml = R"yaml(
entities:
  user: {keys: [user]}
sources:
  ev:
    timestamp: time
    allowed_lateness: 1m
    columns: {time: timestamp, user: string, x: float64, s: string}
groups:
  g{TAG}:
    entity: user
    source: ev
    ttl: 1m
    features:
      cnt: {agg: count}
      fs: {agg: first_seen}
      sum_x: {agg: sum, of: x}
)yaml";

TEST(OnlineStoreTest, LateEventAcrossTtlGapMatchesBackfill) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kTtlLateYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;  // the bug is in KeyState, the same on every backend: memory is enough
  const std::vector<int> features = AllFeatures(*registry);
  const int cnt = FeatureIndex(*registry, "cnt");
  const int64_t t = kT0;
  struct Case {
    std::string what;
    std::vector<SmallRow> arrivals;  // in push order
    SmallRow read;
    double count;  // the backfill's (and the semantics') values at the read
    double first_seen_s;
  };
  const std::vector<Case> cases = {
      {"(a) late event inside the gap",
       {{t, "u", 1, "a"}, {t + Seconds(100), "u", 2, "b"}, {t + Seconds(50), "u", 4, "c"}},
       {t + Seconds(101), "u", {}, {}},
       3,
       101},
      {"(b) read inside the gap",
       {{t, "u", 1, "a"}, {t + Seconds(100), "u", 2, "b"}},
       {t + Seconds(50), "u", {}, {}},
       1,
       50},
  };
  for (const Case& c : cases) {
    Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, "memory", dir.path());
    ASSERT_TRUE(online.ok()) << online.status().ToString();
    for (const SmallRow& row : c.arrivals) {
      Result<PushResult> pushed = (*online)->Push(0, SmallTable({row}));
      ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
      EXPECT_EQ(pushed->too_late, 0) << c.what;
    }
    int64_t read_at = c.read.ts;
    Result<OnlineValues> got = (*online)->Get(features, SmallTable({c.read}), std::span<const int64_t>(&read_at, 1));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    Result<Table> offline =
        BackfillTables(*registry, features, SmallTable({c.read}), "time", {SmallTable(c.arrivals)}, {}, 1);
    ASSERT_TRUE(offline.ok()) << offline.status().ToString();
    ASSERT_EQ(OfflineValue(**offline->ColumnByName("cnt"), 0), Num(c.count)) << c.what << ": the backfill";
    ASSERT_EQ(OfflineValue(**offline->ColumnByName("fs"), 0), Num(c.first_seen_s)) << c.what << ": the backfill";
    Comparison compare(*registry, c.what);
    for (size_t f = 0; f < features.size(); ++f) {
      compare.Check(features[f], got->values[f][0], *offline, 0, "the read");
    }
    EXPECT_EQ(got->statuses[static_cast<size_t>(cnt)][0], ReadStatus::kPresent) << c.what;
  }
}

// Pushes from several threads at once to the same keys lose nothing: with distinct timestamps and a
// lateness covering the whole run, any arrival order gives the state of the time order.
TEST_P(OnlineBackendTest, ConcurrentPushesLoseNothing) {
  std::string yaml = WithTag(kSmallYaml, UniqueTag());
  yaml.replace(yaml.find("allowed_lateness: 1m"), 20, "allowed_lateness: 2h");
  Result<FeatureRegistry> registry = testing::ParseDefinitions(yaml);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  RedisCleanup cleanup(url_, GroupNames(*registry));
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, url_, StateDir(), options_);
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;

  constexpr int kThreads = 3;
  constexpr int kEvents = 240;
  Rng rng(31337);
  std::vector<SmallRow> events;
  for (int i = 0; i < kEvents; ++i) {
    events.push_back({kT0 + Seconds(i), rng.Pick(std::vector<std::string>{"u0", "u1", "u2"}),
                      static_cast<double>(rng.Between(-20, 30)) * 0.1, rng.Pick(kStrings)});
  }
  // Thread k pushes events k, k + kThreads, ... in a shuffled order, one or two rows at a time.
  std::vector<std::vector<SmallRow>> shares(kThreads);
  for (int i = 0; i < kEvents; ++i) shares[static_cast<size_t>(i % kThreads)].push_back(events[static_cast<size_t>(i)]);
  for (auto& share : shares) {
    for (size_t i = share.size(); i > 1; --i)
      std::swap(share[i - 1], share[static_cast<size_t>(rng.Below(static_cast<int64_t>(i)))]);
  }
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int k = 0; k < kThreads; ++k) {
    threads.emplace_back([&, k] {
      const std::vector<SmallRow>& share = shares[static_cast<size_t>(k)];
      for (size_t i = 0; i < share.size();) {
        size_t n = std::min<size_t>(1 + i % 2, share.size() - i);
        Result<PushResult> pushed =
            store.Push(0, SmallTable(std::vector<SmallRow>(share.begin() + static_cast<std::ptrdiff_t>(i),
                                                           share.begin() + static_cast<std::ptrdiff_t>(i + n))));
        if (!pushed.ok()) {
          errors[static_cast<size_t>(k)] = pushed.status().ToString();
          return;
        }
        if (pushed->too_late != 0) {
          errors[static_cast<size_t>(k)] = "too late";
          return;
        }
        i += n;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
  EXPECT_EQ(store.pushed_events(), kEvents);
  EXPECT_EQ(store.dropped_too_late(), 0);

  std::vector<int> features = AllFeatures(*registry);
  std::vector<SmallRow> reads;
  for (const char* user : {"u0", "u1", "u2"}) {
    for (int64_t at : {kEvents / 2, kEvents - 30, kEvents + 5}) reads.push_back({kT0 + Seconds(at) + 1, user, {}, {}});
  }
  std::vector<int64_t> times;
  for (const SmallRow& q : reads) times.push_back(q.ts);
  Table spine = SmallTable(reads);
  Result<OnlineValues> got = store.Get(features, spine, times);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Result<Table> offline = BackfillTables(*registry, features, spine, "time", {SmallTable(events)}, {}, 1);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  Comparison compare(*registry, GetParam() + " concurrent pushes");
  for (size_t q = 0; q < reads.size(); ++q) {
    for (size_t f = 0; f < features.size(); ++f) {
      compare.Check(features[f], got->values[f][q], *offline, static_cast<int64_t>(q), fmt::format("read {}", q));
    }
  }
  int cnt = FeatureIndex(*registry, "cnt");
  double total = 0;
  for (size_t q = 2; q < reads.size(); q += 3) total += got->values[static_cast<size_t>(cnt)][q].number;
  EXPECT_EQ(total, kEvents) << "events lost or doubled";
}

// Composite keys are distinct keys whatever their parts contain: ("a\x1fb", "c") and ("a", "b\x1fc") are
// two keys offline (parts hashed one by one); online they must not share a state either. (The online key
// joins the parts with '\x1f' unescaped, so today they do.)
TEST(OnlineStoreTest, CompositeKeyPartsWithTheSeparatorStayDistinct) {
  DefinitionOptions options;
  options.ttl_groups = false;
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, "memory", dir.path());
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  std::vector<Row> events = {Row{kT0,
                                 "a\x1f"
                                 "b",
                                 "c", 1, 1.0, true, "s"}};
  Result<PushResult> pushed = (*online)->Push(0, ToTable(events));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  std::vector<Row> reads = {Row{kT0 + 1, "a",
                                "b\x1f"
                                "c",
                                1, 1.0, true, "s"},
                            Row{kT0 + 1,
                                "a\x1f"
                                "b",
                                "c", 1, 1.0, true, "s"}};
  std::vector<int> features = {FeatureIndex(*registry, "ud_cnt"), FeatureIndex(*registry, "ud_sum_x")};
  std::vector<int64_t> times = {kT0 + 1, kT0 + 1};
  Result<OnlineValues> got = (*online)->Get(features, ToTable(reads), times);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  Result<Table> offline = BackfillTables(*registry, features, ToTable(reads), "time", {ToTable(events)}, {}, 1);
  ASSERT_TRUE(offline.ok()) << offline.status().ToString();
  EXPECT_EQ(OfflineValue(**offline->ColumnByName("ud_cnt"), 0), Num(0));
  EXPECT_EQ(OfflineValue(**offline->ColumnByName("ud_cnt"), 1), Num(1));
  Comparison compare(*registry, "separator inside a key part");
  for (size_t q = 0; q < reads.size(); ++q) {
    for (size_t f = 0; f < features.size(); ++f) {
      compare.Check(features[f], got->values[f][q], *offline, static_cast<int64_t>(q),
                    fmt::format("read {} (user {:?}, device {:?})", q, *reads[q].user, *reads[q].device));
    }
  }
  EXPECT_EQ(got->statuses[0][0], ReadStatus::kNotFound);
}

// ---------------------------------------------------------------------------------------------------------
// Statuses: NOT_FOUND (values of an empty history), OUTSIDE_MAX_AGE (nulls), PRESENT; ttl in event time.

const char* const kStatusYaml = R"yaml(
entities:
  user: {keys: [user]}
sources:
  ev:
    timestamp: time
    allowed_lateness: 1m
    columns: {time: timestamp, user: string, x: float64, s: string}
groups:
  plain{TAG}:
    entity: user
    source: ev
    features:
      p_cnt: {agg: count}
      p_sum: {agg: sum, of: x}
      p_mean: {agg: mean, of: x}
      p_min: {agg: min, of: x}
      p_std: {agg: stddev, of: x}
      p_cd: {agg: count_distinct, of: s}
      p_acd: {agg: approx_count_distinct, of: s}
      p_ratio: {agg: ratio, filter: "x > 0"}
      p_last: {agg: last, of: s}
      p_tsl: {agg: time_since_last}
      p_fs: {agg: first_seen}
      p_new: {agg: is_new, of: s, horizon: 1h}
  aged{TAG}:
    entity: user
    source: ev
    max_age: 10s
    features:
      a_cnt: {agg: count}
      a_last: {agg: last, of: x}
  expiring{TAG}:
    entity: user
    source: ev
    ttl: 1h
    features:
      t_cnt: {agg: count}
      t_fs: {agg: first_seen}
derived:
  d_plus: {source: ev, expr: "p_cnt + 1"}
  d_aged: {source: ev, expr: "coalesce(a_cnt, -1)"}
)yaml";

// Reads every feature of the registry for one row; fails the test on an error.
std::map<std::string, std::pair<FeatureValue, ReadStatus>> ReadAll(OnlineStore& store, const FeatureRegistry& registry,
                                                                   const SmallRow& row) {
  std::map<std::string, std::pair<FeatureValue, ReadStatus>> out;
  std::vector<int> features = AllFeatures(registry);
  int64_t t = row.ts;
  Result<OnlineValues> got = store.Get(features, SmallTable({row}), std::span<const int64_t>(&t, 1));
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  if (!got.ok()) return out;
  for (size_t f = 0; f < features.size(); ++f) {
    out[registry.features()[features[f]].name] = {got->values[f][0], got->statuses[f][0]};
  }
  return out;
}

void ExpectRead(const std::map<std::string, std::pair<FeatureValue, ReadStatus>>& got, const std::string& feature,
                const FeatureValue& value, ReadStatus status, const std::string& where) {
  auto it = got.find(feature);
  ASSERT_NE(it, got.end()) << feature;
  EXPECT_EQ(it->second.first, value) << where << ": " << feature << " is " << Show(it->second.first) << ", want "
                                     << Show(value);
  EXPECT_EQ(it->second.second, status) << where << ": " << feature << " is " << ReadStatusName(it->second.second)
                                       << ", want " << ReadStatusName(status);
}

TEST_P(OnlineBackendTest, StatusesAndEmptyValues) {
  Result<FeatureRegistry> registry = testing::ParseDefinitions(WithTag(kStatusYaml, UniqueTag()));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  RedisCleanup cleanup(url_, GroupNames(*registry));
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, url_, StateDir(), options_);
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;
  const auto kP = ReadStatus::kPresent, kNF = ReadStatus::kNotFound, kOld = ReadStatus::kOutsideMaxAge;
  const int64_t t = kT0;

  // A key never seen, and a null key: NOT_FOUND, with what an empty history gives (the training set's
  // values for such a row). is_new of a non-null value is 1; of a null value, null.
  for (const SmallRow& q : {SmallRow{t, "nobody", {}, "a"}, SmallRow{t, std::nullopt, {}, "a"}}) {
    std::string where = q.user ? "never-seen key" : "null key";
    auto got = ReadAll(store, *registry, q);
    ExpectRead(got, "p_cnt", Num(0), kNF, where);
    ExpectRead(got, "p_sum", Num(0), kNF, where);
    ExpectRead(got, "p_mean", kNull, kNF, where);
    ExpectRead(got, "p_min", kNull, kNF, where);
    ExpectRead(got, "p_std", kNull, kNF, where);
    ExpectRead(got, "p_cd", Num(0), kNF, where);
    ExpectRead(got, "p_acd", Num(0), kNF, where);
    ExpectRead(got, "p_ratio", kNull, kNF, where);
    ExpectRead(got, "p_last", kNull, kNF, where);
    ExpectRead(got, "p_tsl", kNull, kNF, where);
    ExpectRead(got, "p_fs", kNull, kNF, where);
    ExpectRead(got, "p_new", Num(1), kNF, where);
    ExpectRead(got, "a_cnt", Num(0), kNF, where);  // not OUTSIDE_MAX_AGE: there is no age
    ExpectRead(got, "a_last", kNull, kNF, where);
    ExpectRead(got, "t_cnt", Num(0), kNF, where);
    ExpectRead(got, "d_plus", Num(1), kP, where);  // a derived value over NOT_FOUND inputs is a value
    ExpectRead(got, "d_aged", Num(0), kP, where);
  }
  ExpectRead(ReadAll(store, *registry, {t, "nobody", {}, std::nullopt}), "p_new", kNull, kNF, "null is_new value");

  // u: events at t, t + 5s (and one of another key, which u never sees).
  Result<PushResult> pushed =
      store.Push(0, SmallTable({{t, "u", 2, "a"}, {t + Seconds(5), "u", -1, "b"}, {t + Seconds(5), "w", 100, "z"}}));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  auto got = ReadAll(store, *registry, {t + Seconds(10), "u", {}, "a"});
  ExpectRead(got, "p_cnt", Num(2), kP, "t+10s");
  ExpectRead(got, "p_sum", Num(1), kP, "t+10s");
  ExpectRead(got, "p_mean", Num(0.5), kP, "t+10s");
  ExpectRead(got, "p_min", Num(-1), kP, "t+10s");
  ASSERT_FALSE(got["p_std"].first.null);
  EXPECT_NEAR(got["p_std"].first.number, std::sqrt(4.5), 1e-15);  // sqrt is taken in long double
  ExpectRead(got, "p_cd", Num(2), kP, "t+10s");
  ExpectRead(got, "p_acd", Num(2), kP, "t+10s");
  ExpectRead(got, "p_ratio", Num(0.5), kP, "t+10s");
  ExpectRead(got, "p_last", Text("b"), kP, "t+10s");
  ExpectRead(got, "p_tsl", Num(5), kP, "t+10s");
  ExpectRead(got, "p_fs", Num(10), kP, "t+10s");
  ExpectRead(got, "p_new", Num(0), kP, "t+10s");
  ExpectRead(got, "a_cnt", Num(2), kP, "t+10s");
  ExpectRead(got, "a_last", Num(-1), kP, "t+10s");
  ExpectRead(got, "t_cnt", Num(2), kP, "t+10s");
  ExpectRead(got, "d_plus", Num(3), kP, "t+10s");
  ExpectRead(got, "d_aged", Num(2), kP, "t+10s");
  // Strictly before t: at t + 5s only the first event counts.
  got = ReadAll(store, *registry, {t + Seconds(5), "u", {}, "b"});
  ExpectRead(got, "p_cnt", Num(1), kP, "t+5s");
  ExpectRead(got, "p_new", Num(1), kP, "t+5s");
  // Exactly max_age after the newest event: still PRESENT; a microsecond more: OUTSIDE_MAX_AGE, with nulls
  // for that group (counts too) and the other groups unaffected.
  got = ReadAll(store, *registry, {t + Seconds(15), "u", {}, {}});
  ExpectRead(got, "a_cnt", Num(2), kP, "max_age exactly");
  got = ReadAll(store, *registry, {t + Seconds(15) + 1, "u", {}, {}});
  ExpectRead(got, "a_cnt", kNull, kOld, "past max_age");
  ExpectRead(got, "a_last", kNull, kOld, "past max_age");
  ExpectRead(got, "d_aged", Num(-1), kOld, "past max_age");  // derived: as fresh as its inputs
  ExpectRead(got, "p_cnt", Num(2), kP, "past max_age");
  ExpectRead(got, "t_cnt", Num(2), kP, "past max_age");
  // ttl (1h, event time): idle one microsecond less than the ttl: PRESENT; idle for the ttl: NOT_FOUND with
  // empty values; the other groups keep everything.
  got = ReadAll(store, *registry, {t + Seconds(5) + Seconds(3600) - 1, "u", {}, {}});
  ExpectRead(got, "t_cnt", Num(2), kP, "just under the ttl");
  got = ReadAll(store, *registry, {t + Seconds(5) + Seconds(3600), "u", {}, {}});
  ExpectRead(got, "t_cnt", Num(0), kNF, "idle for the ttl");
  ExpectRead(got, "t_fs", kNull, kNF, "idle for the ttl");
  ExpectRead(got, "p_cnt", Num(2), kP, "idle for the ttl");
  ExpectRead(got, "a_cnt", kNull, kOld, "idle for the ttl");
  // An event after the idle time starts the ttl group again from nothing.
  pushed = store.Push(0, SmallTable({{t + Seconds(7200), "u", 3, "c"}}));
  ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
  EXPECT_EQ(pushed->late, 0);
  got = ReadAll(store, *registry, {t + Seconds(7201), "u", {}, "a"});
  ExpectRead(got, "t_cnt", Num(1), kP, "after the restart");
  ExpectRead(got, "t_fs", Num(1), kP, "after the restart");
  ExpectRead(got, "p_cnt", Num(3), kP, "after the restart");
  ExpectRead(got, "p_fs", Num(7201), kP, "after the restart");
  ExpectRead(got, "p_new", Num(1), kP, "after the restart");  // 'a' was last seen more than 1h ago
  ExpectRead(got, "a_cnt", Num(3), kP, "after the restart");
}

// ttl is also a wall-clock expiry of the stored state (KvStore expires_at = now + ttl): with a ttl of 1 s, a
// key read at an event time within its ttl is PRESENT right after the push and gone (NOT_FOUND) once a
// second of wall-clock time has passed. All backends share the one sleep.
TEST(OnlineStoreTest, TtlExpiresStoredStateOnTheWallClock) {
  const std::string tag = UniqueTag();
  std::string yaml = WithTag(R"yaml(
entities:
  user: {keys: [user]}
sources:
  ev:
    timestamp: time
    columns: {time: timestamp, user: string, x: float64, s: string}
groups:
  short{TAG}:
    entity: user
    source: ev
    ttl: 1s
    features:
      cnt: {agg: count}
  long{TAG}:
    entity: user
    source: ev
    features:
      cnt_forever: {agg: count}
)yaml",
                             tag);
  Result<FeatureRegistry> registry = testing::ParseDefinitions(yaml);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  std::vector<std::string> urls = {"memory", "rocksdb"};
  if (RedisUrl() != nullptr) urls.push_back(RedisUrl());
  RedisCleanup cleanup(RedisUrl() != nullptr ? RedisUrl() : "", GroupNames(*registry));
  TempDir dir;
  std::vector<std::unique_ptr<OnlineStore>> stores;
  const int64_t t = kT0;
  const int64_t read_at = t + Seconds(1) / 2;  // within the ttl in event time
  const std::vector<int> features = {FeatureIndex(*registry, "cnt"), FeatureIndex(*registry, "cnt_forever")};
  auto counts = [&](OnlineStore& store) {
    Result<OnlineValues> got =
        store.Get(features, SmallTable({{read_at, "u", {}, {}}}), std::span<const int64_t>(&read_at, 1));
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? std::make_pair(got->values[0][0], got->statuses[0][0])
                    : std::make_pair(FeatureValue(), ReadStatus::kPresent);
  };
  for (const std::string& url : urls) {
    Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, url, dir.File("state_" + url.substr(0, 5)));
    ASSERT_TRUE(online.ok()) << online.status().ToString();
    Result<PushResult> pushed = (*online)->Push(0, SmallTable({{t, "u", 1, "a"}}));
    ASSERT_TRUE(pushed.ok()) << pushed.status().ToString();
    auto [value, status] = counts(**online);
    EXPECT_EQ(value, Num(1)) << url << ": right after the push";
    EXPECT_EQ(status, ReadStatus::kPresent) << url;
    stores.push_back(std::move(*online));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (size_t i = 0; i < stores.size(); ++i) {
    auto [value, status] = counts(*stores[i]);
    EXPECT_EQ(value, Num(0)) << urls[i] << ": a second later the state has expired";
    EXPECT_EQ(status, ReadStatus::kNotFound) << urls[i];
    int64_t t2 = read_at;
    Result<OnlineValues> both =
        stores[i]->Get(features, SmallTable({{read_at, "u", {}, {}}}), std::span<const int64_t>(&t2, 1));
    ASSERT_TRUE(both.ok()) << both.status().ToString();
    EXPECT_EQ(both->values[1][0], Num(1)) << urls[i] << ": a group without ttl keeps its state";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Bad input: errors name what is wrong.

TEST(OnlineStoreTest, BadInputIsInvalidArgumentNamingWhatIsWrong) {
  DefinitionOptions options;
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  TempDir dir;
  Result<std::unique_ptr<OnlineStore>> online = OpenOnline(*registry, "memory", dir.path());
  ASSERT_TRUE(online.ok()) << online.status().ToString();
  OnlineStore& store = **online;
  const int64_t t = kT0;

  // A pushed table whose schema differs from the source's: a column missing, and a column of another type.
  Table missing =
      *ToTable({Row{t, "u", "d0", 1, 1.0, true, "a"}}).SelectColumns({"time", "user", "device", "n", "x", "ok"});
  Result<PushResult> pushed = store.Push(0, missing);
  ASSERT_FALSE(pushed.ok());
  EXPECT_TRUE(pushed.status().IsInvalidArgument()) << pushed.status().ToString();
  EXPECT_THAT(pushed.status().message(), HasSubstr("'events'"));
  EXPECT_THAT(pushed.status().message(), HasSubstr("s:string"));
  EXPECT_THAT(pushed.status().message(),
              HasSubstr("time:timestamp, user:string, device:string, n:int64, x:float64, ok:bool)"));
  TableBuilder retyped(Schema({{"time", ColumnType::kTimestamp},
                               {"user", ColumnType::kString},
                               {"device", ColumnType::kString},
                               {"n", ColumnType::kString},
                               {"x", ColumnType::kFloat64},
                               {"ok", ColumnType::kBool},
                               {"s", ColumnType::kString}}));
  Result<Table> retyped_table = retyped.Finish();
  ASSERT_TRUE(retyped_table.ok());
  pushed = store.Push(0, *retyped_table);
  ASSERT_FALSE(pushed.ok());
  EXPECT_TRUE(pushed.status().IsInvalidArgument()) << pushed.status().ToString();
  EXPECT_THAT(pushed.status().message(), HasSubstr("n:string"));
  EXPECT_THAT(pushed.status().message(), HasSubstr("n:int64"));
  // A row without its event time.
  TableBuilder no_time(EventSchema());
  no_time.column(0).AppendNull();
  no_time.column(1).AppendString("u");
  for (int c = 2; c < 7; ++c) no_time.column(c).AppendNull();
  Result<Table> no_time_table = no_time.Finish();
  ASSERT_TRUE(no_time_table.ok()) << no_time_table.status().ToString();
  pushed = store.Push(0, *no_time_table);
  ASSERT_FALSE(pushed.ok());
  EXPECT_TRUE(pushed.status().IsInvalidArgument()) << pushed.status().ToString();
  EXPECT_THAT(pushed.status().message(), HasSubstr("row 0: 'time'"));
  EXPECT_EQ(store.pushed_events(), 0);

  // Get without an entity key column: names the column, its entity and group, and what the request has.
  int cnt = FeatureIndex(*registry, "cnt");
  int ud_cnt = FeatureIndex(*registry, "ud_cnt");
  Table full = ToTable({Row{t, "u", "d0", 1, 1.0, true, "a"}});
  Result<Table> no_user = full.SelectColumns({"time", "device", "n"});
  ASSERT_TRUE(no_user.ok());
  Result<OnlineValues> got = store.Get({cnt}, *no_user, std::span<const int64_t>(&t, 1));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsInvalidArgument()) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("'user'"));
  EXPECT_THAT(got.status().message(), HasSubstr("time, device, n"));
  Result<Table> no_device = full.SelectColumns({"user", "s"});
  ASSERT_TRUE(no_device.ok());
  got = store.Get({ud_cnt}, *no_device, std::span<const int64_t>(&t, 1));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsInvalidArgument()) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("'device'"));
  EXPECT_THAT(got.status().message(), HasSubstr("'ud'"));
  // The same request is fine for a feature that needs only the user.
  got = store.Get({cnt}, *no_device, std::span<const int64_t>(&t, 1));
  EXPECT_TRUE(got.ok()) << got.status().ToString();

  // is_new without the column its `of` reads.
  int new_s = FeatureIndex(*registry, "new_s");
  Result<Table> no_s = full.SelectColumns({"time", "user"});
  ASSERT_TRUE(no_s.ok());
  got = store.Get({cnt, new_s}, *no_s, std::span<const int64_t>(&t, 1));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsInvalidArgument()) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("new_s"));
  EXPECT_THAT(got.status().message(), HasSubstr("'s'"));
  // A derived feature without a column its expression reads.
  int derived = FeatureIndex(*registry, "d_mean_plus_n");
  got = store.Get({derived}, *no_s, std::span<const int64_t>(&t, 1));
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsInvalidArgument()) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("derived feature 'd_mean_plus_n' needs column 'n'"));
  // One time per row.
  std::vector<int64_t> two = {t, t};
  got = store.Get({cnt}, full, two);
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.status().IsInvalidArgument()) << got.status().ToString();
  EXPECT_THAT(got.status().message(), HasSubstr("1 rows but 2 timestamps"));
}

// ---------------------------------------------------------------------------------------------------------
// KeyState: serialization round trip, and corrupt bytes.

// Random events of one key for `program`'s source, mostly in order, some late (within the lateness), some
// ties, some gaps longer than the ttls.
std::vector<Row> KeyEvents(Rng& rng, int64_t count) {
  std::vector<Row> out;
  int64_t latest = kT0;
  for (int64_t i = 0; i < count; ++i) {
    Row r;
    r.user = "u";
    r.device = rng.Pick(kDevices);
    FillValues(rng, r);
    double p = static_cast<double>(rng.Below(100)) / 100;
    if (p < 0.2) {
      r.ts = latest - rng.Below(kLateness + 1);  // late (or a tie)
    } else if (p < 0.3) {
      r.ts = latest;  // a tie
    } else if (p < 0.35) {
      r.ts = latest + rng.Between(4, 12) * kStep;  // idle past the small ttls
    } else {
      r.ts = latest + rng.Between(1, 60) * Seconds(1);
    }
    latest = std::max(latest, r.ts);
    out.push_back(std::move(r));
  }
  return out;
}

// Per-accumulator is_new query bits: a random string or number value, or none.
std::vector<std::optional<uint64_t>> RandomIsNewBits(Rng& rng, const GroupProgram& program) {
  std::vector<std::optional<uint64_t>> bits(program.accumulators().size());
  for (auto& b : bits) {
    int64_t k = rng.Below(10);
    if (k < 5) {
      b = ValueBits(ExprValue::String(rng.Pick(kStrings)));
    } else if (k < 9) {
      b = ValueBits(ExprValue::Number(static_cast<double>(rng.Between(-3, 5))));
    }
  }
  return bits;
}

// Compares two states' Read at the times `ts`, in that order (each state is read in the same sequence).
void ExpectSameReads(KeyState& a, KeyState& b, const GroupProgram& program, const std::vector<int64_t>& ts, Rng& rng,
                     const std::string& what) {
  const size_t n = program.accumulators().size();
  std::vector<FeatureValue> va(n), vb(n);
  for (int64_t t : ts) {
    std::vector<std::optional<uint64_t>> bits = RandomIsNewBits(rng, program);
    ReadStatus sa = a.Read(t, bits, va);
    ReadStatus sb = b.Read(t, bits, vb);
    EXPECT_EQ(sa, sb) << what << " at t=+" << static_cast<double>(t - kT0) / 1e6 << "s";
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(va[i], vb[i]) << what << " at t=+" << static_cast<double>(t - kT0) / 1e6 << "s, accumulator " << i
                              << " (feature " << program.accumulators()[i].feature << "): " << Show(va[i]) << " vs "
                              << Show(vb[i]);
    }
  }
}

TEST(KeyStateTest, SerializeDeserializeRoundTrip) {
  DefinitionOptions options;
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  const Schema schema = EventSchema();
  ASSERT_EQ(registry->sources()[0].schema, schema);
  int checks = 0;
  for (int g = 0; g < static_cast<int>(registry->groups().size()); ++g) {
    Result<std::shared_ptr<const GroupProgram>> program = GroupProgram::Make(*registry, g);
    ASSERT_TRUE(program.ok()) << program.status().ToString();
    const std::string& group = registry->groups()[g].name;
    for (int seed = 1; seed <= 3; ++seed) {
      Rng rng(static_cast<uint64_t>(500 + 10 * g + seed));
      std::vector<Row> events = KeyEvents(rng, 160);
      Table table = ToTable(events);
      RowValues values(table, (*program)->used_columns());
      std::vector<ExprValue> slots(static_cast<size_t>(schema.size()));
      KeyState state(program->get());
      GroupEvent event;
      for (size_t i = 0; i < events.size(); ++i) {
        values.Fill(static_cast<int64_t>(i), slots);
        EncodeEvent(**program, slots, events[i].ts, &event);
        (void)state.Append(event);
        if (!rng.Chance(0.15) && i + 1 != events.size()) continue;
        std::string what = fmt::format("group {} seed {} after {} events", group, seed, i + 1);
        std::string bytes;
        state.Serialize(&bytes);
        Result<KeyState> copy = KeyState::Deserialize(program->get(), bytes);
        ASSERT_TRUE(copy.ok()) << what << ": " << copy.status().ToString();
        EXPECT_EQ(copy->latest_ts(), state.latest_ts()) << what;
        EXPECT_EQ(copy->empty(), state.empty()) << what;
        EXPECT_EQ(copy->buffered_events(), state.buffered_events()) << what;
        std::string again;
        copy->Serialize(&again);
        EXPECT_EQ(again, bytes) << what << ": serialization is not canonical";
        // Reads from the lateness before the newest event to long after it, in random order (so both
        // forward moves and rebuilds happen), on the original and the copy alike.
        std::vector<int64_t> ts;
        for (int k = 0; k < 12; ++k) {
          int64_t t = state.latest_ts() - kLateness + rng.Below(kLateness + 15 * kStep);
          if (rng.Chance(0.2)) t = state.latest_ts() - rng.Below(6) * kStep;
          ts.push_back(t);
        }
        if (rng.Chance(0.5)) std::sort(ts.begin(), ts.end());
        ExpectSameReads(state, *copy, **program, ts, rng, what);
        ++checks;
        if (HasFailure()) return;
      }
    }
  }
  EXPECT_GT(checks, 50);
}

// Concurrent requests for one key read it at times a moment apart, in any order: a read slightly back in time
// reuses the accumulators when no event lies in between (at either end of any window) and rebuilds otherwise.
// Either way it must equal a read of a state that never read before (rebuilt from scratch).
TEST(KeyStateTest, ReadsBackInTimeEqualReadsFromScratch) {
  DefinitionOptions options;
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  const size_t slots_size = static_cast<size_t>(EventSchema().size());
  int reads = 0;
  for (int g = 0; g < static_cast<int>(registry->groups().size()); ++g) {
    Result<std::shared_ptr<const GroupProgram>> program = GroupProgram::Make(*registry, g);
    ASSERT_TRUE(program.ok()) << program.status().ToString();
    const size_t n = (*program)->accumulators().size();
    for (int seed = 1; seed <= 4; ++seed) {
      Rng rng(static_cast<uint64_t>(900 + 10 * g + seed));
      std::vector<Row> events = KeyEvents(rng, 200);
      Table table = ToTable(events);
      RowValues values(table, (*program)->used_columns());
      std::vector<ExprValue> slots(slots_size);
      KeyState state(program->get());
      GroupEvent event;
      std::vector<FeatureValue> got(n), want(n);
      for (size_t i = 0; i < events.size(); ++i) {
        values.Fill(static_cast<int64_t>(i), slots);
        EncodeEvent(**program, slots, events[i].ts, &event);
        (void)state.Append(event);
        if (!rng.Chance(0.4)) continue;
        std::string bytes;
        state.Serialize(&bytes);
        // A burst of reads around the newest event: mostly small steps back, sometimes forward again; steps of
        // microseconds (nothing in between) up to minutes (window edges and events in between).
        int64_t t = state.latest_ts() + rng.Between(1, 90) * Seconds(1);
        for (int k = 0; k < 8; ++k) {
          Result<KeyState> fresh = KeyState::Deserialize(program->get(), bytes);
          ASSERT_TRUE(fresh.ok()) << fresh.status().ToString();
          std::vector<std::optional<uint64_t>> bits = RandomIsNewBits(rng, **program);
          ReadStatus got_status = state.Read(t, bits, got);
          ReadStatus want_status = fresh->Read(t, bits, want);
          std::string what = fmt::format("group {} seed {} after {} events, read {} at t=+{}s",
                                         registry->groups()[g].name, seed, i + 1, k,
                                         static_cast<double>(t - kT0) / 1e6);
          EXPECT_EQ(got_status, want_status) << what;
          for (size_t a = 0; a < n; ++a) {
            EXPECT_EQ(got[a], want[a]) << what << ", accumulator " << a << ": " << Show(got[a]) << " vs "
                                       << Show(want[a]);
          }
          if (HasFailure()) return;
          ++reads;
          int64_t step = rng.Chance(0.5) ? rng.Between(1, 1000) : rng.Between(1, 150) * Seconds(1);
          t += rng.Chance(0.8) ? -step : step;
        }
      }
    }
  }
  EXPECT_GT(reads, 1000);
}

// `count` events of one key (KeyEvents), encoded for `program` in arrival order.
std::vector<GroupEvent> EncodedKeyEvents(const GroupProgram& program, uint64_t seed, int64_t count) {
  Rng rng(seed);
  std::vector<Row> events = KeyEvents(rng, count);
  Table table = ToTable(events);
  RowValues values(table, program.used_columns());
  std::vector<ExprValue> slots(static_cast<size_t>(table.num_columns()));
  std::vector<GroupEvent> encoded(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    values.Fill(static_cast<int64_t>(i), slots);
    EncodeEvent(program, slots, events[i].ts, &encoded[i]);
  }
  return encoded;
}

// A state with history in every part of the format: evicted (archived) events of lifetime aggregations,
// distinct values, a sketch, buffered events with strings.
std::string SomeStateBytes(const GroupProgram& program, uint64_t seed) {
  KeyState state(&program);
  for (const GroupEvent& event : EncodedKeyEvents(program, seed, 120)) (void)state.Append(event);
  std::string bytes;
  state.Serialize(&bytes);
  return bytes;
}

// The online store's stored value: a snapshot, then event records. Loading replays the records to the state
// the appends built; a value cut anywhere loads the records before the cut or is Corruption; changed bytes
// never crash.
TEST(KeyStateTest, StoredValueReplaysRecordsAndSurvivesDamage) {
  DefinitionOptions options;
  options.ttl_groups = false;
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  Result<std::shared_ptr<const GroupProgram>> made = GroupProgram::Make(*registry, 0);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const GroupProgram& program = **made;
  const std::vector<GroupEvent> events = EncodedKeyEvents(program, 31, 150);
  KeyState state(&program);
  std::string stored;
  const int64_t expires_at = kT0 + Seconds(86400);
  int64_t records = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    const GroupEvent& event = events[i];
    if (state.Append(event) == KeyState::AppendResult::kTooLate) continue;
    if (i == 100) {
      state.AppendSnapshot(expires_at, &stored);
    } else if (i > 100) {
      KeyState::AppendEventRecord(program, event, expires_at + static_cast<int64_t>(i), &stored);
      ++records;
    }
  }
  ASSERT_GT(records, 20);
  Result<KeyState::Stored> loaded = KeyState::LoadStored(&program, stored);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->records, records);
  EXPECT_FALSE(loaded->legacy);
  EXPECT_EQ(loaded->expires_at, expires_at + static_cast<int64_t>(events.size() - 1));  // the last record's
  std::string want, got;
  state.Serialize(&want);
  loaded->state.Serialize(&got);
  EXPECT_EQ(got, want);

  // A bare snapshot (the format before appends) still loads, flagged legacy.
  Result<KeyState::Stored> legacy = KeyState::LoadStored(&program, want);
  ASSERT_TRUE(legacy.ok()) << legacy.status().ToString();
  EXPECT_TRUE(legacy->legacy);
  EXPECT_FALSE(legacy->definition_changed);
  // So does the format before fingerprints (version 2: no fingerprint after the version byte), flagged legacy;
  // one that does not parse is taken for another definition's, not reported corrupt.
  std::string unfingerprinted = std::string(1, '\x02') + stored.substr(9);
  Result<KeyState::Stored> v2 = KeyState::LoadStored(&program, unfingerprinted);
  ASSERT_TRUE(v2.ok()) << v2.status().ToString();
  EXPECT_TRUE(v2->legacy);
  EXPECT_FALSE(v2->definition_changed);
  EXPECT_EQ(v2->records, records);
  std::string v2_state;
  v2->state.Serialize(&v2_state);
  EXPECT_EQ(v2_state, want);
  Result<KeyState::Stored> v2_garbage = KeyState::LoadStored(&program, unfingerprinted.substr(0, 12));
  ASSERT_TRUE(v2_garbage.ok()) << v2_garbage.status().ToString();
  EXPECT_TRUE(v2_garbage->definition_changed);
  EXPECT_EQ(v2_garbage->state.buffered_events(), 0u);
  // A value carrying another program's fingerprint loads empty, flagged.
  std::string other = stored;
  other[1] = static_cast<char>(other[1] ^ 1);
  Result<KeyState::Stored> foreign = KeyState::LoadStored(&program, other);
  ASSERT_TRUE(foreign.ok()) << foreign.status().ToString();
  EXPECT_TRUE(foreign->definition_changed);
  EXPECT_TRUE(foreign->state.empty());

  for (size_t n = 0; n < stored.size(); ++n) {
    Result<KeyState::Stored> cut = KeyState::LoadStored(&program, std::string_view(stored).substr(0, n));
    if (cut.ok()) {
      EXPECT_LT(cut->records, records) << "prefix of " << n;
    } else {
      EXPECT_EQ(cut.status().code(), StatusCode::kCorruption) << cut.status().ToString();
    }
  }
  std::vector<FeatureValue> out(program.accumulators().size());
  std::vector<std::optional<uint64_t>> bits(program.accumulators().size());
  Rng rng(31);
  for (size_t at = 0; at < stored.size(); at += 3) {
    std::string changed = stored;
    changed[at] = static_cast<char>(changed[at] ^ static_cast<char>(rng.Between(1, 255)));
    Result<KeyState::Stored> damaged = KeyState::LoadStored(&program, changed);
    if (!damaged.ok()) {
      EXPECT_EQ(damaged.status().code(), StatusCode::kCorruption) << damaged.status().ToString();
      continue;
    }
    for (int64_t t : {kT0 + Seconds(7200), kT0}) (void)damaged->state.Read(t, bits, out);
  }
}

TEST(KeyStateTest, CorruptBytesAreCorruptionNeverACrash) {
  DefinitionOptions options;
  options.ttl_groups = false;  // the main group keeps lifetime archives, sketches and texts
  Result<FeatureRegistry> registry = MakeRegistry(options);
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  Result<std::shared_ptr<const GroupProgram>> made = GroupProgram::Make(*registry, 0);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  const GroupProgram& program = **made;
  ASSERT_EQ(program.def().name, "pu");
  const std::string bytes = SomeStateBytes(program, 77);
  ASSERT_GT(bytes.size(), 200u);
  ASSERT_TRUE(KeyState::Deserialize(&program, bytes).ok());

  auto expect_corruption = [&](std::string_view b, const std::string& what) {
    Result<KeyState> state = KeyState::Deserialize(&program, b);
    ASSERT_FALSE(state.ok()) << what << " decoded";
    EXPECT_EQ(state.status().code(), StatusCode::kCorruption) << what << ": " << state.status().ToString();
    EXPECT_THAT(state.status().message(), HasSubstr("online state of group 'pu' is corrupt")) << what;
  };
  // Every strict prefix (a truncated value) is Corruption.
  for (size_t n = 0; n < bytes.size(); ++n) {
    expect_corruption(std::string_view(bytes).substr(0, n), fmt::format("prefix of {} bytes", n));
    if (HasFailure()) return;
  }
  expect_corruption(bytes + '\0', "a trailing byte");
  std::string other_version = bytes;
  other_version[0] = 2;
  expect_corruption(other_version, "format version 2");

  // Garbage, and single-byte changes of a valid value: decoding never crashes (ASan/UBSan watch) and
  // either fails with Corruption or yields a state that can be written back and read (values undefined).
  int decoded = 0;
  auto must_not_crash = [&](const std::string& b, const std::string& what) {
    Result<KeyState> state = KeyState::Deserialize(&program, b);
    if (!state.ok()) {
      EXPECT_EQ(state.status().code(), StatusCode::kCorruption) << what << ": " << state.status().ToString();
      return;
    }
    ++decoded;
    std::string out;
    state->Serialize(&out);
    std::vector<FeatureValue> values(program.accumulators().size());
    std::vector<std::optional<uint64_t>> bits(program.accumulators().size(), ValueBits(ExprValue::String("a")));
    for (int64_t t : {kT0 + Seconds(7200), kT0 + Seconds(600), kT0}) (void)state->Read(t, bits, values);
  };
  Rng rng(4242);
  for (int i = 0; i < 3000; ++i) {
    std::string garbage(static_cast<size_t>(rng.Between(1, 120)), '\0');
    for (char& c : garbage) c = static_cast<char>(rng.Below(256));
    if (rng.Chance(0.8)) garbage[0] = 1;  // past the version check
    must_not_crash(garbage, fmt::format("garbage #{}", i));
  }
  for (size_t at = 0; at < bytes.size(); ++at) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ static_cast<char>(rng.Between(1, 255)));
    must_not_crash(changed, fmt::format("byte {} changed", at));
  }
  EXPECT_GT(decoded, 0) << "no changed value decoded: the read path of odd states went untested";
}

// ---------------------------------------------------------------------------------------------------------
// The consistency check on a small workspace (CSV sources + features.yaml).

TEST(ConsistencyCheckTest, SmallWorkspaceHasNoMismatches) {
  TempDir dir;
  Rng rng(9001);
  std::vector<Row> events = GenerateEvents(rng, 120, 150);
  // A second source read by a group of the set: its events are replayed too.
  std::string changes = "time,user,kind\n";
  int64_t change_count = 0;
  for (int i = 0; i < 40; ++i) {
    changes += fmt::format("{},{},{}\n", FormatTimestamp(kT0 + rng.Below(60) * kStep + rng.Below(2) * Seconds(30)),
                           rng.Pick(kUsers), rng.Pick(std::vector<std::string>{"email", "phone", "password"}));
    ++change_count;
  }
  testing::WriteTextFile(dir.File("data/events.csv"), ToCsv(events));
  testing::WriteTextFile(dir.File("data/changes.csv"), changes);
  DefinitionOptions options;
  options.tag = UniqueTag();
  options.events_path = "data/events.csv";
  options.changes_path = "data/changes.csv";
  options.feature_set = "everything";
  Result<FeatureRegistry> registry = MakeRegistry(options, dir.path());
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  const size_t num_features = registry->features().size();

  std::vector<std::string> urls = {"memory", "rocksdb"};
  if (RedisUrl() != nullptr) urls.push_back(RedisUrl());
  RedisCleanup cleanup(RedisUrl() != nullptr ? RedisUrl() : "", GroupNames(*registry));
  int64_t last_event = kT0;
  for (const Row& e : events) last_event = std::max(last_event, e.ts);
  for (const std::string& url : urls) {
    for (int64_t limit : {int64_t{0}, int64_t{50}}) {
      SCOPED_TRACE(fmt::format("{} limit {}", url.substr(0, 7), limit));
      CheckOptions check;
      check.feature_set = "everything";
      check.online_store = url;
      check.state_dir = dir.File("state");
      check.limit = limit;
      check.threads = 2;
      Result<CheckReport> report = CheckConsistency(*registry, check);
      ASSERT_TRUE(report.ok()) << report.status().ToString();
      EXPECT_EQ(report->total_mismatches, 0) << report->first_mismatch;
      EXPECT_EQ(report->too_late, 0);
      const int64_t compared = limit > 0 ? limit : static_cast<int64_t>(events.size());
      EXPECT_EQ(report->reads, compared);
      ASSERT_EQ(report->features.size(), num_features);
      for (const FeatureCheck& f : report->features) {
        EXPECT_EQ(f.compared, compared) << f.name;
        EXPECT_EQ(f.mismatches, 0) << f.name;
        EXPECT_EQ(f.bound_text, "exact") << f.name;
      }
      if (limit == 0) {
        EXPECT_EQ(report->events, static_cast<int64_t>(events.size()) + change_count);
      } else {
        EXPECT_GT(report->events, limit);
        EXPECT_LT(report->events, static_cast<int64_t>(events.size()) + change_count);
      }
    }
  }
  EXPECT_TRUE(std::filesystem::exists(dir.File("state/online")));
}

}  // namespace
}  // namespace gyre::features
