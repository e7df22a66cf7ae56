// The "memory" KvStore: 16 shards, each an unordered_map under its own mutex. Calls that touch several
// keys (MultiGet, WriteBatch, DeletePrefix) lock every shard they need in index order, so they are atomic
// with respect to each other and cannot deadlock.
//
// Expiry: an expired entry is invisible on read and erased when a read finds it. A shard that holds
// expiring entries is also swept whole once its writes since the last sweep reach its size (at least
// 1024): a sweep costs O(size), so that is O(1) per write amortised. Expired entries nobody reads are
// thus reclaimed only while writes come in; a store nobody writes to keeps them (invisible) until read.
#include <algorithm>
#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/kv_backends.h"

namespace gyre::store {
namespace {

constexpr size_t kShards = 16;
constexpr size_t kMinSweepInterval = 1024;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Entry {
  std::string value;
  int64_t expires_at = 0;
};

// All members are guarded by mu.
struct Shard {
  std::mutex mu;
  std::unordered_map<std::string, Entry, StringHash, std::equal_to<>> map;
  size_t expiring = 0;  // entries with expires_at != 0
  size_t writes_since_sweep = 0;
};

class MemoryKvStore final : public KvStore {
 public:
  Result<std::optional<std::string>> Get(std::string_view key) override {
    Shard& shard = ShardOf(key);
    std::lock_guard<std::mutex> lock(shard.mu);
    return Lookup(shard, key);
  }

  Result<std::vector<std::optional<std::string>>> MultiGet(std::span<const std::string> keys) override {
    std::vector<size_t> shard_of(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) shard_of[i] = ShardIndex(keys[i]);
    auto locks = LockShards(shard_of);
    std::vector<std::optional<std::string>> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) out.push_back(Lookup(shards_[shard_of[i]], keys[i]));
    return out;
  }

  Status Put(std::string_view key, std::string_view value, int64_t expires_at) override {
    Shard& shard = ShardOf(key);
    std::lock_guard<std::mutex> lock(shard.mu);
    Set(shard, key, value, expires_at);
    MaybeSweep(shard);
    return Status::OK();
  }

  Status Delete(std::string_view key) override {
    Shard& shard = ShardOf(key);
    std::lock_guard<std::mutex> lock(shard.mu);
    Erase(shard, key);
    return Status::OK();
  }

  Status WriteBatch(std::span<const KvWrite> writes) override {
    std::vector<size_t> shard_of(writes.size());
    for (size_t i = 0; i < writes.size(); ++i) shard_of[i] = ShardIndex(writes[i].key);
    auto locks = LockShards(shard_of);
    for (size_t i = 0; i < writes.size(); ++i) {
      Shard& shard = shards_[shard_of[i]];
      if (writes[i].value && writes[i].append) {
        Append(shard, writes[i].key, *writes[i].value, writes[i].expires_at);
      } else if (writes[i].value) {
        Set(shard, writes[i].key, *writes[i].value, writes[i].expires_at);
      } else {
        Erase(shard, writes[i].key);
      }
    }
    for (const auto& lock : locks) MaybeSweep(shards_[lock.first]);
    return Status::OK();
  }

  Status Sync() override { return Status::OK(); }  // nothing to make durable: the map dies with the process

  Status DeletePrefix(std::string_view prefix) override {
    for (Shard& shard : shards_) {  // one shard at a time: the contract does not promise atomicity here
      std::lock_guard<std::mutex> lock(shard.mu);
      for (auto it = shard.map.begin(); it != shard.map.end();) {
        if (it->first.starts_with(prefix)) {
          if (it->second.expires_at != 0) --shard.expiring;
          it = shard.map.erase(it);
        } else {
          ++it;
        }
      }
    }
    return Status::OK();
  }

  std::string_view backend() const override { return "memory"; }
  bool single_writer() const override { return true; }

 private:
  static size_t ShardIndex(std::string_view key) {
    // The high bits: the maps inside a shard bucket by the same hash modulo a prime.
    return (StringHash{}(key) >> 40) % kShards;
  }
  Shard& ShardOf(std::string_view key) { return shards_[ShardIndex(key)]; }

  // Locks the distinct shards in `shard_of` in ascending order; returns (index, lock) pairs.
  std::vector<std::pair<size_t, std::unique_lock<std::mutex>>> LockShards(const std::vector<size_t>& shard_of) {
    std::array<bool, kShards> needed{};
    for (size_t s : shard_of) needed[s] = true;
    std::vector<std::pair<size_t, std::unique_lock<std::mutex>>> locks;
    for (size_t s = 0; s < kShards; ++s) {
      if (needed[s]) locks.emplace_back(s, std::unique_lock<std::mutex>(shards_[s].mu));
    }
    return locks;
  }

  // The helpers below require shard.mu held.
  static std::optional<std::string> Lookup(Shard& shard, std::string_view key) {
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return std::nullopt;
    if (it->second.expires_at != 0 && KvExpired(it->second.expires_at, KvNowMicros())) {
      --shard.expiring;
      shard.map.erase(it);
      return std::nullopt;
    }
    return it->second.value;
  }

  static void Set(Shard& shard, std::string_view key, std::string_view value, int64_t expires_at) {
    auto it = shard.map.find(key);
    if (it == shard.map.end()) {
      it = shard.map.emplace(std::string(key), Entry{}).first;
    } else if (it->second.expires_at != 0) {
      --shard.expiring;
    }
    it->second.value.assign(value);
    it->second.expires_at = expires_at;
    if (expires_at != 0) ++shard.expiring;
    ++shard.writes_since_sweep;
  }

  static void Append(Shard& shard, std::string_view key, std::string_view value, int64_t expires_at) {
    auto it = shard.map.find(key);
    if (it == shard.map.end() || KvExpired(it->second.expires_at, KvNowMicros())) {
      Set(shard, key, value, expires_at);
      return;
    }
    if (it->second.expires_at != 0) --shard.expiring;
    it->second.value.append(value);
    it->second.expires_at = expires_at;
    if (expires_at != 0) ++shard.expiring;
    ++shard.writes_since_sweep;
  }

  static void Erase(Shard& shard, std::string_view key) {
    auto it = shard.map.find(key);
    if (it == shard.map.end()) return;
    if (it->second.expires_at != 0) --shard.expiring;
    shard.map.erase(it);
  }

  static void MaybeSweep(Shard& shard) {
    if (shard.expiring == 0 || shard.writes_since_sweep < std::max(kMinSweepInterval, shard.map.size())) return;
    shard.writes_since_sweep = 0;
    int64_t now = KvNowMicros();
    for (auto it = shard.map.begin(); it != shard.map.end();) {
      if (KvExpired(it->second.expires_at, now)) {
        --shard.expiring;
        it = shard.map.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::array<Shard, kShards> shards_;
};

}  // namespace

std::unique_ptr<KvStore> NewMemoryKvStore() { return std::make_unique<MemoryKvStore>(); }

}  // namespace gyre::store
