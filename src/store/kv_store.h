// store::KvStore: the online feature state's storage, a byte-string key/value map with per-key expiry,
// behind one small interface with three backends:
//   "memory"                an in-process map (tests, throw-away runs)
//   "rocksdb" (or "")       embedded RocksDB under <state_dir>/online (the default: survives restarts)
//   "rocksdb:///abs/path"   embedded RocksDB at that folder ("rocksdb://rel/path" is relative to state_dir)
//   "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]"   a Redis server (hiredis; PORT defaults to 6379, DB to 0)
//
// Contract:
// - Keys and values are arbitrary bytes (NULs included); the empty key is a valid key.
// - Put() replaces the value; `expires_at` (microseconds since the epoch, UTC; 0 = never) makes the key
//   disappear from that wall-clock time on: Get() never returns a value once now >= expires_at (an
//   expires_at already past, negative included, stores a value nobody will read), and the backends reclaim
//   the space (Redis PXAT, on the server's clock and to the millisecond, so a key may vanish up to 1 ms
//   early; RocksDB a compaction filter plus the check on read; memory a check on read and a sweep on
//   write).
// - An append write (KvWrite::append) adds its value at the end of the key's current value (a missing or
//   expired key starts empty) and sets the key's expiry to its expires_at, atomically: concurrent appends
//   to one key never interleave or lose bytes. It lets a value grow by a small record without rewriting
//   it (the online store appends one event to a key's state). On RocksDB it is a merge operand, merged on
//   read and by compaction; on Redis APPEND + PEXPIREAT (PERSIST for 0) inside the batch's MULTI/EXEC.
// - WriteBatch() applies its puts, appends and deletes in order (a later write to the same key wins). On memory
//   and RocksDB it is atomic: readers see all of it or none (and on RocksDB, one WAL record, a crash
//   keeps all or none). On Redis it is one MULTI/EXEC round trip: no other client sees half of it, but
//   Redis has no rollback, so a command the server rejects inside EXEC (e.g. out of memory) leaves the
//   others applied; the error is returned.
// - MultiGet() returns one optional per key, in order, in one round trip where the backend allows (RocksDB
//   batched MultiGet, Redis MGET, memory under one lock set, so it never sees half of a WriteBatch).
// - DeletePrefix() is not atomic against concurrent writers: a key written under the prefix while it
//   runs may survive. On Redis it walks the keyspace with SCAN (cost grows with the whole database).
// - Durability: RocksDB writes go through its WAL (no fsync per write: a process crash loses nothing, a
//   power loss may lose the last writes); Sync() fsyncs the WAL, making every write returned before it
//   survive a power loss too. Redis is as durable as the server is configured (appendfsync always makes each
//   write durable before Redis answers it; Sync() does nothing); memory is not (Sync() does nothing).
// - A RocksDB folder is open in one KvStore at a time: a second Open fails with FailedPrecondition
//   "online store <dir> is in use by another gyre process (...)" (or "... is in use: it is already open in
//   this gyre process").
// - Errors: Unavailable when a server cannot be reached or does not answer within 2 s (the message names
//   host:port, e.g. "redis 127.0.0.1:6399: Connection refused"), InvalidArgument for a malformed URL
//   (naming it, password masked), PermissionDenied for a refused Redis AUTH, IOError for disk failures,
//   Corruption for RocksDB files or stored values that cannot be decoded, Internal for other failures,
//   all naming the operation and key. A write that fails on a lost Redis connection may or may not have
//   been applied (the server may have run it before the connection went); a failed DeletePrefix may have
//   removed some of the keys.
// - Redis connections: a pool keeps up to 64 idle connections, in practice one per thread that calls at
//   the same time. A call that finds its pooled connection broken (server restarted, idle timeout)
//   retries once on a fresh one; every command but APPEND is idempotent, so the retry is safe except that
//   an append batch may be applied twice if the server ran it and then lost the connection before
//   replying (a restart mid-request). A timeout is not retried. SIGPIPE is blocked in the calling thread
//   around each exchange (as libpq does), so a
//   socket the server closed never kills the process.
// Thread-safety: every backend is safe to call from many threads at once. Destroying the store while
// another thread still calls it is a bug.
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
  int64_t expires_at = 0;            // µs since epoch; 0 = never; ignored for a delete
  bool append = false;               // add `value` at the end of the current value instead of replacing it
};

class KvStore {
 public:
  virtual ~KvStore() = default;

  // Opens the backend named by `url` (see above); `state_dir` is where "rocksdb" keeps its files (the
  // folder is created if missing). A Redis store connects once here, so a wrong address fails at Open.
  static Result<std::unique_ptr<KvStore>> Open(std::string_view url, const std::string& state_dir);

  // The value of `key`, or nullopt when it is missing or expired (a miss is not an error).
  virtual Result<std::optional<std::string>> Get(std::string_view key) = 0;
  // One entry per key, in the order of `keys` (duplicates allowed); nullopt for missing or expired.
  virtual Result<std::vector<std::optional<std::string>>> MultiGet(std::span<const std::string> keys) = 0;
  virtual Status Put(std::string_view key, std::string_view value, int64_t expires_at = 0) = 0;
  // Deleting a missing key is OK.
  virtual Status Delete(std::string_view key) = 0;
  // An empty batch is OK and does nothing.
  virtual Status WriteBatch(std::span<const KvWrite> writes) = 0;
  // Makes every write that returned before the call durable on disk (see Durability above). Concurrent callers
  // may share one fsync.
  virtual Status Sync() = 0;
  // Removes every key starting with `prefix` (used when a feature group is redefined or in tests). The
  // empty prefix removes every key (of the Redis DB, for Redis).
  virtual Status DeletePrefix(std::string_view prefix) = 0;
  // "memory", "rocksdb", "redis": for messages and metrics.
  virtual std::string_view backend() const = 0;
  // True when no other process can write this store (memory; RocksDB, which one process holds open), so a
  // cache of its values in this process stays exact. False for Redis, shared by every server.
  virtual bool single_writer() const = 0;
};

}  // namespace gyre::store
