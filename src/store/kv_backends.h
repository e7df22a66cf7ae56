// Private to store/: the three KvStore backends' constructors and the pieces they share (URL parsing,
// the clock, key printing). KvStore::Open (kv_store.cc) is the only caller outside the backends and tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "store/kv_store.h"

namespace gyre::store {

// A parsed redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] URL.
struct RedisEndpoint {
  std::string host;  // a name or an IP address; an IPv6 address without its brackets
  int port = 6379;
  std::string user;      // empty = the default user (AUTH PASSWORD)
  std::string password;  // empty = no AUTH
  int db = 0;
  std::string display;  // "HOST:PORT", how every message names the server
};

// Percent-escapes in USER and PASSWORD are decoded. Errors are InvalidArgument naming the URL with its
// password masked.
Result<RedisEndpoint> ParseRedisUrl(std::string_view url);

// `url` with the password (if any) replaced by "****", for messages.
std::string MaskRedisPassword(std::string_view url);

std::unique_ptr<KvStore> NewMemoryKvStore();
// Opens (creating if missing) the RocksDB database in folder `dir`.
Result<std::unique_ptr<KvStore>> OpenRocksDbKvStore(const std::string& dir);
// Connects once (so a dead server fails here) and returns the pooled store.
Result<std::unique_ptr<KvStore>> OpenRedisKvStore(const RedisEndpoint& endpoint);

// Test hook: the number of entries a raw iterator sees in a "rocksdb" store (expired ones included,
// deleted ones not), after a full manual compaction when `compact_first`. InvalidArgument for another
// backend.
Result<int64_t> TEST_RocksDbRawCount(KvStore* store, bool compact_first);

// Wall-clock microseconds since the epoch: the clock expires_at is compared against.
inline int64_t KvNowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline bool KvExpired(int64_t expires_at, int64_t now) { return expires_at != 0 && expires_at <= now; }

// A key as messages show it: printable ASCII kept, other bytes as \xNN, cut after 64 bytes with "...".
std::string PrintableKey(std::string_view key);

}  // namespace gyre::store
