// store::KvStore: the online feature state's storage, a byte-string key/value map with per-key expiry,
// behind one small interface with three backends:
//   "memory"                an in-process map (tests, throw-away runs)
//   "rocksdb"               embedded RocksDB under <state_dir>/online (the default: survives restarts)
//   "rocksdb:///abs/path"   embedded RocksDB at that folder
//   "redis://host:port[/db]" a Redis server (hiredis)
//
// Contract:
// - Put() replaces the value; `expires_at` (microseconds since the epoch, UTC; 0 = never) makes the key
//   disappear after that wall-clock time: Get() never returns an expired value, and the backends reclaim
//   the space (Redis PEXPIREAT; RocksDB a compaction filter plus the check on read; memory a check on read
//   and a sweep on write).
// - WriteBatch() applies its puts and deletes atomically on RocksDB and memory and in one round trip
//   (MULTI/EXEC) on Redis.
// - MultiGet() returns one optional per key, in order, in one round trip where the backend allows.
// - Durability: RocksDB writes go through its WAL (no fsync per write: a process crash loses nothing, a
//   power loss may lose the last writes); Redis is as durable as the server is configured.
// - Errors: Unavailable when a server cannot be reached (the message names host:port), InvalidArgument for
//   a malformed URL (naming it), IOError/Internal for backend failures, all naming the operation.
// Thread-safety: every backend is safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gyre::store {

struct KvWrite {
  std::string key;
  std::optional<std::string> value;  // nullopt = delete
  int64_t expires_at = 0;            // µs since epoch; 0 = never
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // Opens the backend named by `url` (see above); `state_dir` is where "rocksdb" keeps its files.
  static Result<std::unique_ptr<KvStore>> Open(std::string_view url, const std::string& state_dir);

  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(std::span<const std::string> keys) = 0;
  virtual Status Put(std::string_view key, std::string_view value, int64_t expires_at = 0) = 0;
  virtual Status Delete(std::string_view key) = 0;
  virtual Status WriteBatch(std::span<const KvWrite> writes) = 0;
  // Removes every key starting with `prefix` (used when a feature group is redefined or in tests).
  virtual Status DeletePrefix(std::string_view prefix) = 0;
  // "memory", "rocksdb", "redis": for messages and metrics.
  virtual std::string_view backend() const = 0;
};

}  // namespace gyre::store
