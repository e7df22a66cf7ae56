// store::KvStore: one suite run against every backend (memory, RocksDB, and a real Redis whose URL
// `make test` provides in GYRE_TEST_REDIS_URL; without it the Redis cases are skipped, saying why), then
// what only one backend has: RocksDB's persistence, folder lock and compaction filter; Redis's URL
// parsing, error messages, timeouts and reconnection.
#include "store/kv_store.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "store/kv_backends.h"

namespace gyre::store {
namespace {

using std::chrono::milliseconds;
using Values = std::vector<std::optional<std::string>>;

const char* RedisUrl() {
  const char* url = std::getenv("GYRE_TEST_REDIS_URL");
  return url != nullptr && *url != '\0' ? url : nullptr;
}

std::filesystem::path NewTempDir() {
  static int counter = 0;
  auto dir = std::filesystem::temp_directory_path() /
             ("gyre_kv_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------------------
// The suite every backend passes.

class KvStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = NewTempDir();
    std::string url = GetParam();
    if (GetParam() == "redis") {
      if (RedisUrl() == nullptr) GTEST_SKIP() << "GYRE_TEST_REDIS_URL not set (make test sets it)";
      url = RedisUrl();
      // The Redis server is shared with tests running in parallel: every key of this test starts with
      // prefix_, and TearDown deletes the prefix.
      prefix_ = "gyre_kv_test:" + std::to_string(::getpid()) + ":";
    }
    auto kv = KvStore::Open(url, dir_.string());
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    kv_ = std::move(kv).value();
  }
  void TearDown() override {
    if (kv_ && !prefix_.empty()) {
      EXPECT_TRUE(kv_->DeletePrefix(prefix_).ok());
    }
    kv_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string K(std::string_view key) const { return prefix_ + std::string(key); }
  std::optional<std::string> Get(std::string_view key) {
    auto r = kv_->Get(K(key));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : std::nullopt;
  }
  void Put(std::string_view key, std::string_view value, int64_t expires_at = 0) {
    Status s = kv_->Put(K(key), value, expires_at);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::filesystem::path dir_;
  std::string prefix_;
  std::unique_ptr<KvStore> kv_;
};

TEST_P(KvStoreTest, PutGetOverwriteDelete) {
  EXPECT_EQ(kv_->backend(), GetParam());
  EXPECT_EQ(Get("a"), std::nullopt);
  Put("a", "1");
  EXPECT_EQ(Get("a"), "1");
  Put("a", "twenty-two");
  EXPECT_EQ(Get("a"), "twenty-two");
  Put("a", "3");  // shorter than before: no stale tail
  EXPECT_EQ(Get("a"), "3");
  ASSERT_TRUE(kv_->Delete(K("a")).ok());
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_TRUE(kv_->Delete(K("never-written")).ok());
}

TEST_P(KvStoreTest, BinaryKeysAndValues) {
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  const std::string key(std::string_view("k\0\xff\r\n*?[", 9));
  const std::string value(std::string_view("\0\0v\0\xff\r\n", 7));
  Put(key, value);
  Put(all_bytes, all_bytes + all_bytes);
  Put("empty", "");
  EXPECT_EQ(Get(key), value);
  EXPECT_EQ(Get(std::string_view("k\0\xff", 3)), std::nullopt);  // a NUL does not end the key
  EXPECT_EQ(Get(all_bytes), all_bytes + all_bytes);
  EXPECT_EQ(Get("empty"), "");  // present and empty, not missing
}

TEST_P(KvStoreTest, MultiGetReturnsOnePerKeyInOrder) {
  Put("a", "1");
  Put("b", "2");
  std::vector<std::string> keys = {K("a"), K("missing"), K("b"), K("a")};
  auto r = kv_->MultiGet(keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Values{"1", std::nullopt, "2", "1"}));
  auto empty = kv_->MultiGet({});
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->empty());
}

TEST_P(KvStoreTest, WriteBatchAppliesPutsAndDeletesInOrder) {
  Put("doomed", "x");
  Put("kept", "k");
  std::vector<KvWrite> batch = {
      {K("x"), "1", 0}, {K("doomed"), std::nullopt, 0}, {K("y"), std::string("\0y", 2), 0},
      {K("x"), "2", 0},  // a later write to the same key wins
      {K("z"), "z", 0}, {K("z"), std::nullopt, 0},
  };
  Status s = kv_->WriteBatch(batch);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Get("x"), "2");
  EXPECT_EQ(Get("doomed"), std::nullopt);
  EXPECT_EQ(Get("y"), std::string("\0y", 2));
  EXPECT_EQ(Get("z"), std::nullopt);
  EXPECT_EQ(Get("kept"), "k");
  EXPECT_TRUE(kv_->WriteBatch({}).ok());
}

// A reader never sees half of a batch: two keys always written together always read equal.
TEST_P(KvStoreTest, ReadersNeverSeeHalfABatch) {
  Put("left", "0");
  Put("right", "0");
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 1; i <= 300; ++i) {
      std::string v = std::to_string(i);
      std::vector<KvWrite> batch = {{K("left"), v, 0}, {K("right"), v, 0}};
      Status s = kv_->WriteBatch(batch);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (!s.ok()) break;
    }
    done = true;
  });
  std::vector<std::string> keys = {K("left"), K("right")};
  int reads = 0;
  while (!done || reads == 0) {
    auto r = kv_->MultiGet(keys);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) break;
    EXPECT_EQ((*r)[0], (*r)[1]) << "after " << reads << " reads";
    if ((*r)[0] != (*r)[1]) break;
    ++reads;
  }
  writer.join();
  EXPECT_EQ(Get("left"), "300");
}

KvWrite AppendOf(std::string key, std::string value, int64_t expires_at = 0) {
  KvWrite w{std::move(key), std::move(value), expires_at};
  w.append = true;
  return w;
}

TEST_P(KvStoreTest, AppendGrowsTheValueAndSetsTheExpiry) {
  const int64_t far = KvNowMicros() + 600'000'000;
  std::vector<KvWrite> first = {AppendOf(K("log"), std::string("a\0", 2), far)};
  ASSERT_TRUE(kv_->WriteBatch(first).ok());  // a missing key starts empty
  EXPECT_EQ(Get("log"), std::string("a\0", 2));
  std::vector<KvWrite> more = {AppendOf(K("log"), "bc", far), {K("other"), "x", 0}, AppendOf(K("log"), "d", far)};
  ASSERT_TRUE(kv_->WriteBatch(more).ok());
  EXPECT_EQ(Get("log"), std::string("a\0bcd", 5));
  EXPECT_EQ(Get("other"), "x");

  Put("log", "snapshot", far);  // a put replaces everything appended so far
  std::vector<KvWrite> after_put = {AppendOf(K("log"), "+1", far)};
  ASSERT_TRUE(kv_->WriteBatch(after_put).ok());
  EXPECT_EQ(Get("log"), "snapshot+1");

  // The append's expiry replaces the key's: a past one hides the whole value, a later append starts anew.
  std::vector<KvWrite> expire = {AppendOf(K("log"), "+2", KvNowMicros() - 1'000'000)};
  ASSERT_TRUE(kv_->WriteBatch(expire).ok());
  EXPECT_EQ(Get("log"), std::nullopt);
  std::vector<KvWrite> anew = {AppendOf(K("log"), "fresh", 0)};
  ASSERT_TRUE(kv_->WriteBatch(anew).ok());
  EXPECT_EQ(Get("log"), "fresh");
  std::vector<std::string> keys = {K("log"), K("other")};
  auto r = kv_->MultiGet(keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Values{"fresh", "x"}));
}

TEST_P(KvStoreTest, ConcurrentAppendsLoseNothing) {
  constexpr int kThreads = 4, kAppends = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppends; ++i) {
        std::vector<KvWrite> w = {AppendOf(K("shared"), std::string(1, static_cast<char>('a' + t)), 0)};
        ASSERT_TRUE(kv_->WriteBatch(w).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  std::optional<std::string> value = Get("shared");
  ASSERT_TRUE(value.has_value());
  ASSERT_EQ(value->size(), size_t{kThreads * kAppends});
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(std::count(value->begin(), value->end(), 'a' + t), kAppends);
}

TEST_P(KvStoreTest, ExpiredKeysDisappear) {
  const int64_t now = KvNowMicros();
  const int64_t soon = now + 50'000;  // 50 ms ahead
  Put("soon", "s", soon);
  Put("later", "l", now + 600'000'000);  // ten minutes ahead
  Put("never", "n");
  Put("past", "p", now - 1'000'000);
  Put("negative", "n", -5);
  std::vector<KvWrite> batch = {{K("batch-soon"), "b", soon}, {K("batch-past"), "b", now - 1}};
  ASSERT_TRUE(kv_->WriteBatch(batch).ok());

  if (KvNowMicros() < soon - 10'000) {  // unless this machine stalled for 40 ms since the Put
    EXPECT_EQ(Get("soon"), "s");
    EXPECT_EQ(Get("batch-soon"), "b");
  }
  EXPECT_EQ(Get("past"), std::nullopt);
  EXPECT_EQ(Get("negative"), std::nullopt);
  EXPECT_EQ(Get("batch-past"), std::nullopt);

  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::microseconds(soon + 5'000)));
  EXPECT_EQ(Get("soon"), std::nullopt);
  EXPECT_EQ(Get("batch-soon"), std::nullopt);
  EXPECT_EQ(Get("later"), "l");
  EXPECT_EQ(Get("never"), "n");
  std::vector<std::string> keys = {K("soon"), K("later"), K("past"), K("never")};
  auto r = kv_->MultiGet(keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Values{std::nullopt, "l", std::nullopt, "n"}));

  Put("soon", "again");  // an expired key written again without expiry lives
  EXPECT_EQ(Get("soon"), "again");
}

TEST_P(KvStoreTest, DeletePrefixRemovesExactlyThePrefix) {
  for (const char* k : {"p:", "p:1", "p:2", "p;", "p", "q:1", "o", "g*[1", "gx[1", "g*x"}) Put(k, k);
  Put(std::string_view("p:\0\xff", 4), "binary");
  ASSERT_TRUE(kv_->DeletePrefix(K("p:")).ok());
  ASSERT_TRUE(kv_->DeletePrefix(K("g*[")).ok());  // glob characters are literal
  ASSERT_TRUE(kv_->DeletePrefix(K("nothing-here")).ok());
  for (const char* k : {"p:", "p:1", "p:2", "g*[1"}) EXPECT_EQ(Get(k), std::nullopt) << k;
  EXPECT_EQ(Get(std::string_view("p:\0\xff", 4)), std::nullopt);
  for (const char* k : {"p;", "p", "q:1", "o", "gx[1", "g*x"}) EXPECT_EQ(Get(k), k) << k;
}

TEST_P(KvStoreTest, DeletePrefixOfManyKeys) {
  std::vector<KvWrite> batch;
  for (int i = 0; i < 2500; ++i) batch.push_back({K("many:" + std::to_string(i)), "v", 0});
  ASSERT_TRUE(kv_->WriteBatch(batch).ok());
  Put("many", "survives");
  ASSERT_TRUE(kv_->DeletePrefix(K("many:")).ok());
  std::vector<std::string> keys;
  for (const KvWrite& w : batch) keys.push_back(w.key);
  auto r = kv_->MultiGet(keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(std::count(r->begin(), r->end(), std::nullopt), 2500);
  EXPECT_EQ(Get("many"), "survives");
}

// The all-0xff prefix has no successor (RocksDB's range delete then ends at the last key), and the empty
// prefix removes everything. Not on Redis: other tests share that server.
TEST_P(KvStoreTest, DeletePrefixAtTheEndsOfTheKeySpace) {
  if (GetParam() == "redis") GTEST_SKIP() << "would delete other tests' keys on the shared server";
  for (std::string_view k : {"\xff\xff", "\xff\xff\x01", "\xff\xff\xff\xff", "\xff\xfe", "a"}) Put(k, "v");
  ASSERT_TRUE(kv_->DeletePrefix("\xff\xff").ok());
  EXPECT_EQ(Get("\xff\xff"), std::nullopt);
  EXPECT_EQ(Get("\xff\xff\x01"), std::nullopt);
  EXPECT_EQ(Get("\xff\xff\xff\xff"), std::nullopt);
  EXPECT_EQ(Get("\xff\xfe"), "v");
  ASSERT_TRUE(kv_->DeletePrefix("").ok());
  EXPECT_EQ(Get("\xff\xfe"), std::nullopt);
  EXPECT_EQ(Get("a"), std::nullopt);
}

TEST_P(KvStoreTest, ConcurrentAccessFromFourThreads) {
  constexpr int kThreads = 4;
  constexpr int kKeys = 200;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::string mine = K("t" + std::to_string(t) + ":");
      for (int i = 0; i < kKeys; ++i) {
        std::string key = mine + std::to_string(i);
        if (!kv_->Put(key, key + "=v").ok()) ++failures;
        if (!kv_->Put(K("shared"), mine).ok()) ++failures;  // contended key
        auto got = kv_->Get(key);
        if (!got.ok() || *got != key + "=v") ++failures;
        if (i % 2 == 1 && !kv_->Delete(key).ok()) ++failures;
      }
      std::vector<std::string> keys;
      for (int i = 0; i < kKeys; ++i) keys.push_back(mine + std::to_string(i));
      auto all = kv_->MultiGet(keys);
      if (!all.ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kKeys; ++i) {
        if ((*all)[i] != (i % 2 == 1 ? std::nullopt : std::optional<std::string>(keys[i] + "=v"))) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto shared = Get("shared");
  ASSERT_TRUE(shared.has_value());
  EXPECT_TRUE(shared->starts_with(K("t"))) << *shared;
}

INSTANTIATE_TEST_SUITE_P(Backends, KvStoreTest, ::testing::Values("memory", "rocksdb", "redis"), [](const auto& info) {
  return info.param == "memory" ? "Memory" : info.param == "rocksdb" ? "RocksDb" : "Redis";
});

// ---------------------------------------------------------------------------------------------------------
// Opening by URL.

TEST(KvStoreOpenTest, UnknownUrlIsInvalidArgumentNamingIt) {
  auto r = KvStore::Open("mongodb://x", "/tmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "online store 'mongodb://x': expected memory, rocksdb, rocksdb:///PATH or "
            "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]");
  EXPECT_EQ(KvStore::Open("rocksdb", "").status().code(), StatusCode::kInvalidArgument);
  auto tls = KvStore::Open("rediss://:secret@h:1", "/tmp");
  EXPECT_EQ(tls.status().code(), StatusCode::kUnimplemented);
  EXPECT_EQ(tls.status().message().find("secret"), std::string::npos) << tls.status().message();
}

// ---------------------------------------------------------------------------------------------------------
// RocksDB only.

class RocksDbKvStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = NewTempDir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Url() const { return "rocksdb://" + (dir_ / "kv").string(); }

  std::filesystem::path dir_;
};

TEST_F(RocksDbKvStoreTest, DefaultUrlLivesUnderStateDirOnline) {
  auto kv = KvStore::Open("rocksdb", dir_.string());
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "online" / "CURRENT"));
  auto rel = KvStore::Open("rocksdb://sub/kv", dir_.string());
  ASSERT_TRUE(rel.ok()) << rel.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(dir_ / "sub" / "kv" / "CURRENT"));
}

TEST_F(RocksDbKvStoreTest, DataSurvivesReopen) {
  const int64_t far = KvNowMicros() + 3'600'000'000;
  {
    auto kv = KvStore::Open(Url(), "");
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    ASSERT_TRUE((*kv)->Put("a", std::string("\0a", 2)).ok());
    ASSERT_TRUE((*kv)->Put("b", "b", far).ok());
    ASSERT_TRUE((*kv)->Put("gone", "g", KvNowMicros() - 1).ok());
    ASSERT_TRUE((*kv)->Put("deleted", "d").ok());
    std::vector<KvWrite> batch = {{"c", "c", 0}, {"deleted", std::nullopt, 0}};
    ASSERT_TRUE((*kv)->WriteBatch(batch).ok());
  }
  auto kv = KvStore::Open(Url(), "");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  std::vector<std::string> keys = {"a", "b", "c", "gone", "deleted"};
  auto r = (*kv)->MultiGet(keys);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Values{std::string("\0a", 2), "b", "c", std::nullopt, std::nullopt}));
}

TEST_F(RocksDbKvStoreTest, AppendsSurviveReopenAndCompaction) {
  const int64_t far = KvNowMicros() + 3'600'000'000;
  {
    auto kv = KvStore::Open(Url(), "");
    ASSERT_TRUE(kv.ok()) << kv.status().ToString();
    ASSERT_TRUE((*kv)->Put("k", "base", far).ok());
    for (int i = 0; i < 50; ++i) {
      std::vector<KvWrite> w = {AppendOf("k", std::to_string(i % 10), far)};
      ASSERT_TRUE((*kv)->WriteBatch(w).ok());
    }
    // An append to a value that expired before it was written starts from empty, also when compaction (at
    // any later time) is what merges it.
    ASSERT_TRUE((*kv)->Put("stale", "old", KvNowMicros() + 1'000).ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::vector<KvWrite> w = {AppendOf("stale", "new", far)};
    ASSERT_TRUE((*kv)->WriteBatch(w).ok());
  }
  std::string expected = "base";
  for (int i = 0; i < 50; ++i) expected += std::to_string(i % 10);
  auto kv = KvStore::Open(Url(), "");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  EXPECT_EQ((*kv)->Get("k").value(), expected);
  EXPECT_EQ((*kv)->Get("stale").value(), "new");
  ASSERT_TRUE(TEST_RocksDbRawCount(kv->get(), true).ok());  // merges the operands into the values
  EXPECT_EQ((*kv)->Get("k").value(), expected);
  EXPECT_EQ((*kv)->Get("stale").value(), "new");
}

TEST_F(RocksDbKvStoreTest, SecondOpenInThisProcessFailsClearly) {
  auto first = KvStore::Open(Url(), "");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto second = KvStore::Open(Url(), "");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(second.status().message(),
            "online store " + (dir_ / "kv").string() + " is in use: it is already open in this gyre process");
  first.value().reset();
  EXPECT_TRUE(KvStore::Open(Url(), "").ok());  // the lock goes with the store
}

// Another process holding RocksDB's LOCK file (as a running `gyre server` does) makes Open fail with a
// message that says so. The child takes the same fcntl lock RocksDB takes, with nothing but system calls.
TEST_F(RocksDbKvStoreTest, OpenWhileAnotherProcessHoldsTheFolderFailsClearly) {
  const std::filesystem::path folder = dir_ / "kv";
  std::filesystem::create_directories(folder);
  const std::string lock_path = (folder / "LOCK").string();
  int ready[2], release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
    struct flock f = {};
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    char ok = (fd >= 0 && ::fcntl(fd, F_SETLK, &f) == 0) ? 'y' : 'n';
    (void)!::write(ready[1], &ok, 1);
    char c;
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  char ok = 0;
  ASSERT_EQ(::read(ready[0], &ok, 1), 1);
  ASSERT_EQ(ok, 'y');
  auto kv = KvStore::Open(Url(), "");
  (void)!::write(release[1], "x", 1);
  int status = 0;
  ::waitpid(child, &status, 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
  ASSERT_FALSE(kv.ok());
  EXPECT_EQ(kv.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(
      kv.status().message().starts_with("online store " + folder.string() + " is in use by another gyre process"))
      << kv.status().message();
  EXPECT_TRUE(KvStore::Open(Url(), "").ok());  // the child is gone, and its lock with it
}

TEST_F(RocksDbKvStoreTest, CompactionDropsExpiredValues) {
  auto kv = KvStore::Open(Url(), "");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  const int64_t soon = KvNowMicros() + 20'000;
  std::vector<KvWrite> batch;
  for (int i = 0; i < 1000; ++i) batch.push_back({"e" + std::to_string(i), std::string(100, 'x'), soon});
  for (int i = 0; i < 10; ++i) batch.push_back({"k" + std::to_string(i), "v", 0});
  ASSERT_TRUE((*kv)->WriteBatch(batch).ok());
  auto before = TEST_RocksDbRawCount(kv->get(), false);
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  EXPECT_EQ(*before, 1010);
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::microseconds(soon + 1'000)));
  auto after = TEST_RocksDbRawCount(kv->get(), true);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(*after, 10);
  EXPECT_EQ((*kv)->Get("k3").value(), "v");
}

// ---------------------------------------------------------------------------------------------------------
// Redis only.

TEST(RedisUrlTest, ParsesEveryPart) {
  auto a = ParseRedisUrl("redis://127.0.0.1:6380");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 6380);
  EXPECT_EQ(a->db, 0);
  EXPECT_EQ(a->password, "");
  EXPECT_EQ(a->display, "127.0.0.1:6380");

  auto b = ParseRedisUrl("redis://:p%40ss/w:rd@cache.internal/3");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->host, "cache.internal");
  EXPECT_EQ(b->port, 6379);
  EXPECT_EQ(b->user, "");
  EXPECT_EQ(b->password, "p@ss/w:rd");
  EXPECT_EQ(b->db, 3);

  auto c = ParseRedisUrl("redis://gyre:pw@[::1]:7000/");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 7000);
  EXPECT_EQ(c->user, "gyre");
  EXPECT_EQ(c->password, "pw");
  EXPECT_EQ(c->display, "[::1]:7000");
}

TEST(RedisUrlTest, BadUrlsAreInvalidArgumentWithThePasswordMasked) {
  struct Case {
    const char* url;
    const char* message;
  };
  const char* kExpect = " (expected redis://[[USER]:PASSWORD@]HOST[:PORT][/DB])";
  for (const Case& c : {
           Case{"redis://", "online store 'redis://': no host"},
           Case{"redis://h:port", "online store 'redis://h:port': port 'port' is not a number in 1..65535"},
           Case{"redis://h:0", "online store 'redis://h:0': port '0' is not a number in 1..65535"},
           Case{"redis://h:70000", "online store 'redis://h:70000': port '70000' is not a number in 1..65535"},
           Case{"redis://h:", "online store 'redis://h:': empty port"},
           Case{"redis://:s3cret@h:1/x",
                "online store 'redis://:****@h:1/x': DB 'x' is not a number (query parameters are not supported)"},
           Case{"redis://h:1/0?timeout=1",
                "online store 'redis://h:1/0?timeout=1': DB '0?timeout=1' is not a number (query parameters are "
                "not supported)"},
           Case{"redis://s3cret@h", "online store 'redis://****@h': expected [USER]:PASSWORD before '@'"},
           Case{"redis://u:%zz@h", "online store 'redis://u:****@h': malformed %-escape in the user or password"},
           Case{"redis://[::1:6379", "online store 'redis://[::1:6379': unclosed '[' in the host"},
       }) {
    auto r = KvStore::Open(c.url, "/tmp");
    ASSERT_FALSE(r.ok()) << c.url;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.url;
    EXPECT_EQ(r.status().message(), std::string(c.message) + kExpect);
  }
}

// A loopback port nothing listens on (bound, read, released).
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(RedisKvStoreTest, RefusedPortIsUnavailableNamingTheServer) {
  int port = UnusedPort();
  auto r = KvStore::Open("redis://127.0.0.1:" + std::to_string(port), "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "redis 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

// A server that accepts connections but never answers (hung, or a black-holing proxy): Open gives up
// after the 2 s timeout instead of hanging.
TEST(RedisKvStoreTest, SilentServerTimesOut) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 8), 0);  // the kernel completes handshakes; nobody reads
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string display = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  auto start = std::chrono::steady_clock::now();
  auto r = KvStore::Open("redis://" + display, "");
  auto elapsed = std::chrono::steady_clock::now() - start;
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(), "redis " + display + ": connect: no answer within 2 s");
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

// A raw RESP client for what the store does not expose: CLIENT LIST / CLIENT KILL.
class RawRedis {
 public:
  explicit RawRedis(const RedisEndpoint& ep) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(ep.port));
    ::inet_pton(AF_INET, ep.host == "localhost" ? "127.0.0.1" : ep.host.c_str(), &addr.sin_addr);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    if (connected_ && !ep.password.empty()) {
      connected_ = Command(ep.user.empty() ? std::vector<std::string>{"AUTH", ep.password}
                                           : std::vector<std::string>{"AUTH", ep.user, ep.password}) == "+OK";
    }
    if (connected_ && ep.db != 0) connected_ = Command({"SELECT", std::to_string(ep.db)}) == "+OK";
  }
  ~RawRedis() { ::close(fd_); }
  bool connected() const { return connected_; }

  // Sends one command; returns a bulk reply's content, or a simple/integer/error reply's line.
  std::string Command(const std::vector<std::string>& args) {
    std::string out = "*" + std::to_string(args.size()) + "\r\n";
    for (const auto& a : args) out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    EXPECT_EQ(::write(fd_, out.data(), out.size()), static_cast<ssize_t>(out.size()));
    std::string in;
    char buf[4096];
    for (;;) {
      size_t eol = in.find("\r\n");
      if (eol != std::string::npos) {
        if (in[0] != '$') return in.substr(0, eol);
        long n = std::stol(in.substr(1, eol - 1));
        if (n < 0) return "";
        if (in.size() >= eol + 2 + n + 2) return in.substr(eol + 2, n);
      }
      ssize_t got = ::read(fd_, buf, sizeof buf);
      if (got <= 0) return "(read failed)";
      in.append(buf, got);
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Kills every connection this process's stores hold (they are named gyre-<pid>); returns how many.
int KillOurConnections(RawRedis& raw) {
  std::string list = raw.Command({"CLIENT", "LIST"});
  const std::string name = "name=gyre-" + std::to_string(::getpid()) + " ";
  int killed = 0;
  size_t pos = 0;
  while (pos < list.size()) {
    size_t end = list.find('\n', pos);
    if (end == std::string::npos) end = list.size();
    std::string line = list.substr(pos, end - pos);
    pos = end + 1;
    if (line.find(name) == std::string::npos) continue;
    size_t id = line.find("id=");
    std::string client_id = line.substr(id + 3, line.find(' ', id) - id - 3);
    if (raw.Command({"CLIENT", "KILL", "ID", client_id}) == ":1") ++killed;
  }
  return killed;
}

TEST(RedisKvStoreTest, RecoversWhenTheServerDropsItsConnections) {
  if (RedisUrl() == nullptr) GTEST_SKIP() << "GYRE_TEST_REDIS_URL not set (make test sets it)";
  auto ep = ParseRedisUrl(RedisUrl());
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  RawRedis raw(*ep);
  ASSERT_TRUE(raw.connected());
  auto kv = KvStore::Open(RedisUrl(), "");
  ASSERT_TRUE(kv.ok()) << kv.status().ToString();
  const std::string prefix = "gyre_kv_reconnect:" + std::to_string(::getpid()) + ":";

  auto hammer = [&] {  // four threads at once: the pool then holds several connections
    std::vector<std::thread> threads;
    std::atomic<int> failures{0};
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 20; ++i) {
          std::string key = prefix + std::to_string(t);
          if (!(*kv)->Put(key, std::to_string(i)).ok()) ++failures;
          auto got = (*kv)->Get(key);
          if (!got.ok() || *got != std::to_string(i)) ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    return failures.load();
  };
  EXPECT_EQ(hammer(), 0);
  EXPECT_GE(KillOurConnections(raw), 2);
  EXPECT_EQ(hammer(), 0);  // every thread's first call meets a dead connection and retries on a new one
  EXPECT_GE(KillOurConnections(raw), 1);
  auto got = (*kv)->Get(prefix + "0");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "19");

  // A batch larger than the socket buffer takes several write()s; on a killed connection the first one
  // draws a reset and the next raises SIGPIPE, which must not kill the process.
  EXPECT_GE(KillOurConnections(raw), 1);
  std::vector<KvWrite> big;
  for (int i = 0; i < 64; ++i) big.push_back({prefix + "big" + std::to_string(i), std::string(64 << 10, 'b'), 0});
  Status s = (*kv)->WriteBatch(big);
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto last = (*kv)->Get(prefix + "big63");
  ASSERT_TRUE(last.ok()) << last.status().ToString();
  EXPECT_EQ(last->value_or("").size(), size_t{64} << 10);
  EXPECT_TRUE((*kv)->DeletePrefix(prefix).ok());
}

TEST(RedisKvStoreTest, WrongPasswordAndDbAreClearErrors) {
  if (RedisUrl() == nullptr) GTEST_SKIP() << "GYRE_TEST_REDIS_URL not set (make test sets it)";
  auto ep = ParseRedisUrl(RedisUrl());
  ASSERT_TRUE(ep.ok()) << ep.status().ToString();
  auto auth = KvStore::Open("redis://:not-the-password@" + ep->display, "");
  ASSERT_FALSE(auth.ok());
  EXPECT_EQ(auth.status().code(), StatusCode::kPermissionDenied);
  EXPECT_TRUE(auth.status().message().starts_with("redis " + ep->display + ": AUTH: ")) << auth.status().message();
  EXPECT_EQ(auth.status().message().find("not-the-password"), std::string::npos);

  auto db = KvStore::Open("redis://" + ep->display + "/100000", "");
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(db.status().message().starts_with("redis " + ep->display + ": SELECT 100000: ERR"))
      << db.status().message();
}

}  // namespace
}  // namespace gyre::store
