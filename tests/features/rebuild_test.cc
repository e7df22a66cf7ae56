#include "features/rebuild.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "features/online_store.h"
#include "store/kv_store.h"
#include "tests/features/testing_util.h"

namespace gyre::features {
namespace {

using testing::kT0;
using testing::Row;
using testing::Seconds;

// Two groups over one source file: rebuilding one must leave the other's counts as they were (pushing the
// source again would double them).
std::string Yaml(const std::string& csv, bool edited) {
  return fmt::format(R"yaml(
entities:
  user: {{keys: [user]}}
  device: {{keys: [device]}}
sources:
  ev:
    path: {}
    timestamp: time
    allowed_lateness: 1m
    columns: {}
groups:
  by_user:
    entity: user
    source: ev
    features:
{}      user_events: {{agg: count, windows: [1h]}}
      user_all: {{agg: count}}
      user_x: {{agg: sum, of: x, windows: [1h]}}
      user_last_s: {{agg: last, of: s}}
      user_first: {{agg: first_seen}}
  by_device:
    entity: device
    source: ev
    features:
      device_events: {{agg: count}}
)yaml",
                     csv, testing::kSourceColumnsYaml,
                     edited ? "      user_max_n: {agg: max, of: \"n * 3\", windows: [1h]}\n" : "");
}

std::vector<Row> Events(int count) {
  std::mt19937_64 rng(11);
  std::vector<Row> rows;
  int64_t t = kT0;
  for (int i = 0; i < count; ++i) {
    t += Seconds(static_cast<int64_t>(rng() % 300));
    Row r;
    r.ts = t;
    r.user = "u" + std::to_string(rng() % 5);
    r.device = "d" + std::to_string(rng() % 3);
    r.n = static_cast<int64_t>(rng() % 10);
    r.x = static_cast<double>(rng() % 100) / 4;
    r.s = "s" + std::to_string(i);
    rows.push_back(r);
  }
  return rows;
}

std::unique_ptr<OnlineStore> Open(const FeatureRegistry& registry, const std::string& dir) {
  Result<std::unique_ptr<store::KvStore>> kv = store::KvStore::Open("rocksdb", dir);
  EXPECT_TRUE(kv.ok()) << kv.status().ToString();
  if (!kv.ok()) return nullptr;
  Result<std::unique_ptr<OnlineStore>> online = OnlineStore::Open(&registry, std::move(*kv));
  EXPECT_TRUE(online.ok()) << online.status().ToString();
  return online.ok() ? std::move(*online) : nullptr;
}

// Every feature of the registry for every user and device, at a few times after the events.
std::vector<std::vector<FeatureValue>> ReadAll(OnlineStore& online, int64_t end) {
  const FeatureRegistry& registry = online.registry();
  std::vector<int> features;
  for (size_t f = 0; f < registry.features().size(); ++f) features.push_back(static_cast<int>(f));
  TableBuilder b(Schema({{"user", ColumnType::kString}, {"device", ColumnType::kString}}));
  std::vector<int64_t> times;
  for (int64_t at : {end + 1, end + Seconds(1800), end + Seconds(7200)}) {
    for (int k = 0; k < 5; ++k) {
      b.column(0).AppendString("u" + std::to_string(k));
      b.column(1).AppendString("d" + std::to_string(k % 3));
      times.push_back(at);
    }
  }
  Result<Table> rows = b.Finish();
  EXPECT_TRUE(rows.ok());
  Result<OnlineValues> got = online.Get(features, *rows, times);
  EXPECT_TRUE(got.ok()) << got.status().ToString();
  return got.ok() ? got->values : std::vector<std::vector<FeatureValue>>{};
}

TEST(RebuildTest, AnEditedGroupGetsItsHistoryBackAndTheOthersAreNotCountedTwice) {
  testing::TempDir dir;
  std::vector<Row> events = Events(400);
  const int64_t end = events.back().ts;
  // The file is not in time order: the rebuild sorts (ties keep file order).
  std::vector<Row> shuffled = events;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(5));
  const std::string csv = dir.File("ev.csv");
  testing::WriteTextFile(csv, testing::ToCsv(shuffled));
  Result<FeatureRegistry> before = testing::ParseDefinitions(Yaml(csv, false));
  Result<FeatureRegistry> after = testing::ParseDefinitions(Yaml(csv, true));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();

  // What pushing every event under the edited definition gives: the rebuild must reach it.
  std::vector<std::vector<FeatureValue>> want;
  {
    std::unique_ptr<OnlineStore> fresh = Open(*after, dir.File("fresh"));
    ASSERT_NE(fresh, nullptr);
    ASSERT_TRUE(fresh->Push(0, testing::ToTable(events)).ok());
    want = ReadAll(*fresh, end);
  }
  {
    std::unique_ptr<OnlineStore> served = Open(*before, dir.File("state"));
    ASSERT_NE(served, nullptr);
    ASSERT_TRUE(served->Push(0, testing::ToTable(events)).ok());
  }
  std::unique_ptr<OnlineStore> edited = Open(*after, dir.File("state"));
  ASSERT_NE(edited, nullptr);
  std::vector<std::vector<FeatureValue>> reset = ReadAll(*edited, end);
  EXPECT_NE(reset, want) << "the edited group should read empty before the rebuild";
  EXPECT_GT(edited->definition_resets(), 0);

  Result<RebuildReport> report = RebuildGroup(*edited, "by_user");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_EQ(report->events, 400);
  EXPECT_EQ(report->too_late, 0);
  EXPECT_EQ(report->from, events.front().ts);
  EXPECT_EQ(report->to, end);
  EXPECT_EQ(ReadAll(*edited, end), want);
  // A second rebuild starts from nothing again: still equal, nothing counted twice.
  ASSERT_TRUE(RebuildGroup(*edited, "by_user").ok());
  EXPECT_EQ(ReadAll(*edited, end), want);

  // --since replays the last stretch only: windowed features agree, lifetime ones count less.
  Result<RebuildReport> recent = RebuildGroup(*edited, "by_user", Seconds(3 * 3600));
  ASSERT_TRUE(recent.ok()) << recent.status().ToString();
  EXPECT_LT(recent->events, 400);
  EXPECT_EQ(recent->from, end - Seconds(3 * 3600));
}

TEST(RebuildTest, BadRequestsNameWhatIsWrong) {
  testing::TempDir dir;
  testing::WriteTextFile(dir.File("ev.csv"), testing::ToCsv(Events(3)));
  Result<FeatureRegistry> registry = testing::ParseDefinitions(Yaml(dir.File("ev.csv"), false));
  ASSERT_TRUE(registry.ok()) << registry.status().ToString();
  std::unique_ptr<OnlineStore> online = Open(*registry, dir.File("state"));
  ASSERT_NE(online, nullptr);
  Result<RebuildReport> unknown = RebuildGroup(*online, "by_ip");
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.status().message(), ::testing::HasSubstr("no feature group 'by_ip' (groups: by_user, by_device)"));
  EXPECT_EQ(RebuildGroup(*online, "by_user", -1).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gyre::features
