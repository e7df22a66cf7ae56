// The online store's write journal: how a push becomes durable without touching its keys' values.
//
// Updating three keys' values per scored event (user, IP, device) cost the server more than anything else
// it does per request: every write is an insert at a random place of RocksDB's memtable. The journal turns
// them into one sequential record per batch of writes. The online store (features/online_store.h):
//   1. commits each batch of queued writes as ONE journal entry, key JournalKey(seq) (seq = 0, 1, 2, ...
//      with no holes), whose value is EncodeBatch(writes);
//   2. every so often folds the journaled writes into the keys' values: a FoldedWrites coalesces them into
//      one write per key, and a single KvStore::WriteBatch holds those writes, the deletion of the folded
//      entries and kFoldedKey = the next seq to fold. That batch is atomic (memory, RocksDB), so after a
//      crash either the entries are still there and unfolded, or they are gone and folded: never both;
//   3. on open, replays the entries from the seq in kFoldedKey (0 when missing) up to the first missing
//      one, and folds them before serving.
// The journal keys start with a NUL byte, which no online state key does (those start with a group name).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/kv_store.h"

namespace gyre::features {

inline constexpr std::string_view kFoldedKey{"\0gyre-journal-folded", 20};
std::string JournalKey(uint64_t seq);
std::string EncodeFoldedSeq(uint64_t seq);
// Corruption naming the key when `bytes` is not an EncodeFoldedSeq value.
Result<uint64_t> DecodeFoldedSeq(std::string_view bytes);

// Appends the writes to `out`, each as: flags (1 byte: bit 0 append, bit 1 delete), expires_at (8 bytes
// little-endian), key length and value length (varints), key bytes, value bytes.
void EncodeBatch(std::span<const store::KvWrite> writes, std::string* out);
// The writes of one journal entry; Corruption naming `key` and the byte offset when the bytes are damaged.
Result<std::vector<store::KvWrite>> DecodeBatch(std::string_view key, std::string_view bytes);

// Writes coalesced into one per key, with the effect the writes in order would have had (bytes appended to a
// value land after it; expiry is the last write's). Equal, that is, except at an expiry boundary: applying
// an append later than it was decided judges "had the value expired?" at the later time, which is why the
// online store folds well within its expiry margin.
class FoldedWrites {
 public:
  void Add(store::KvWrite write);
  bool empty() const { return writes_.empty(); }
  // Writes added since the last Take (before coalescing).
  int64_t added() const { return added_; }
  // One write per key, in the order keys were first written, with how many writes each one folds.
  struct Folded {
    std::vector<store::KvWrite> writes;
    std::vector<int64_t> counts;
  };
  Folded Take();

 private:
  std::vector<store::KvWrite> writes_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, size_t> index_;  // key -> position in writes_
  int64_t added_ = 0;
};

}  // namespace gyre::features
