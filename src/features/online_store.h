// OnlineStore: the features of live traffic. Events pushed per source update each entity key's KeyState
// (the same code as the backfill) kept in a store::KvStore (RocksDB by default, Redis, or memory); reads
// return the features of entity keys as of a time, with Feast's statuses.
//
// Contract:
// - Push(source, rows): rows have the source's columns (by name; missing ones are null) and a timestamp.
//   Each group over the source appends the event to its key's state. Events older than the key's newest by
//   more than the allowed lateness are dropped and counted (PushResult::too_late), never silently. A row's
//   writes (one per group) go to the KvStore in one batch. An error (a stored state that cannot be decoded,
//   the store failing) stops the push there: rows before it, and groups of its row before the failing one,
//   are applied.
// - Exactly once, for a source that declares an event id (SourceDef::event_id_column): a row whose id was
//   pushed before is acknowledged and counted in no group again (PushResult::duplicates, duplicate_rows),
//   whether the first copy came in an earlier push, an earlier row of the same push, or before a restart or
//   a crash. The source's event index (one KvStore key per id, EventIndexPrefix) records each id with the
//   caller's receipt for that row (opaque bytes, e.g. the first scoring decision), in the SAME store write
//   as the row's key-state writes: the same journal entry and fold with the cache, the same WriteBatch
//   without. So a crash keeps both or neither, never a counted event without its id nor the reverse, and an
//   event is counted once as long as its id is remembered: event_id_retention of wall clock after the first
//   push (default allowed_lateness + 1 h), then the index entry expires in the KvStore like a state. Ids are
//   checked and recorded under the stripe lock of the id, so two threads pushing one id count it once (on a
//   Redis shared by several servers, two copies reaching two servers within the same ~millisecond may both
//   count: the check and the write are two round trips). A row with a null id is counted, as are rows of a
//   source without ids. A push limited to some groups (a rebuild) neither consults nor records the index.
//   LookupEvents tells, per row, whether its id is recorded, and returns its receipt.
// - Get(features, rows, times): per row, the feature values as of its time (strictly before it). Rows carry
//   the entity keys of the features' groups, and the columns is_new and derived features read. A key with no
//   state reads as NOT_FOUND with the values of an empty history (count 0, null means, ...), the values the
//   training set has for such a row; a key idle longer than its group's max_age reads as OUTSIDE_MAX_AGE
//   with nulls. Prepare() compiles a read once for rows of one schema (what a server does per deployment).
// - State of a key idle for its group's ttl expires (KvStore expiry, wall clock) and restarts (event time).
//   So does a key stored under another definition of its group (KeyState::LoadStored: the layout fingerprint
//   differs); definition_resets() counts those.
// - Thread-safe. Pushes to one key are serialised by a striped lock; a read sees a key's state before or
//   after a concurrent push, never a torn one.
// - Durability. With the cache (below), a push is applied to the cached states at once, visible to every
//   read from then on, and its writes are queued for a background writer. The writer journals the queue in
//   batches, each one KvStore write of one sequential key (within ~2 ms, or once half of Options::write_queue
//   writes wait), and folds the journal into the keys' values every Options::fold_interval_ms (or fold_writes
//   writes): one atomic batch per fold with one write per key touched, however many events it saw
//   (features/write_journal.h). Open replays and folds what a crash left in the journal. So a push costs no
//   random write of the store on the scoring path. Push returns once queued. The writer runs at a low priority
//   (core/background_thread.h); when it falls behind (Options::write_queue writes queued), pushes journal the
//   queue themselves, so the queue stays short and nothing is dropped. A process crash loses the writes
//   still queued (Persist() waits until they are journaled; Flush() also folds them; the destructor does
//   both). If the store refuses a journal entry, its keys leave the cache, and every later Push returns that
//   error; if it refuses a fold, the cache keeps answering for those keys and a restart replays them. Without
//   the cache (Redis, cache_keys: 0) a push is written to the keys' values before Push returns.
//   That is Durability::kWindow, the default: a process crash (kill -9) loses the pushes of the last ~2 ms
//   (those not journaled yet), a power loss also what the OS had not written to disk. Durability::kSync
//   makes "returned" mean "durable": Push journals its rows' writes and fsyncs the journal (KvStore::Sync)
//   before it returns, so nothing acknowledged is lost to a crash or a power loss. Concurrent pushes share
//   one journal entry and one fsync (group commit: whoever finds the queue not yet journaled writes all of
//   it while the others wait for that write), so throughput grows with the pushes waiting at once; a push
//   takes at least one fsync. A push that finds its event id already recorded, and a LookupEvents that
//   finds one, also wait until that id is durable, so no answer depends on a write a crash could undo.
//
// Storage and cache, for reads and pushes in microseconds whatever a key's history: a key's stored value is
// a snapshot followed by one appended record per event since (KeyState::AppendSnapshot/AppendEventRecord),
// rewritten whole only when the records outnumber the snapshot's events, so a push writes O(1) bytes
// amortised. When this process is the store's only writer (KvStore::single_writer: memory, RocksDB) decoded
// states are also kept in an LRU cache of Options::cache_keys keys (keys with writes not folded yet stay
// in it): a read or push of a cached key does not touch the KvStore's read path or decode anything. Redis
// is shared by every server, so there each read and push loads the value (one MultiGet per read).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "core/table.h"
#include "features/definitions.h"
#include "features/key_state.h"
#include "store/kv_store.h"

namespace gyre::features {

// `late` and `too_late` count (row, group) pairs: a row refused by two groups of its source counts twice.
struct PushResult {
  int64_t rows = 0;
  int64_t late = 0;      // accepted out of order
  int64_t too_late = 0;  // dropped: older than the allowed lateness
  // Rows whose event id was already recorded (by an earlier push or an earlier row of this one): acknowledged,
  // counted nowhere, their receipts not stored. Their row indices, ascending (empty, unallocated, when none).
  int64_t duplicates = 0;
  std::vector<int64_t> duplicate_rows;
  // When the push gives receipts: beside each duplicate row, the receipt its id's first push stored (empty if
  // that push gave none). Checked under the same lock that records ids, so of two concurrent copies of an
  // event exactly one is counted and the other gets its receipt.
  std::vector<std::string> duplicate_receipts;
};

// What the event index holds for one row's id.
struct EventLookup {
  bool seen = false;    // the id is recorded: its event was counted (unless too late) and will not be again
  std::string receipt;  // the bytes given with the first push of the id (empty if none were)
};

// The prefix of every event index key of source `source_name` (e.g. to remove them with KvStore::DeletePrefix).
// It starts with a byte (0x01) no group name or journal key starts with.
std::string EventIndexPrefix(std::string_view source_name);

struct OnlineValues {
  std::vector<int> features;  // indices into the registry's features, in request order
  // values[f][row] and statuses[f][row], feature-major (Feast's layout).
  std::vector<std::vector<FeatureValue>> values;
  std::vector<std::vector<ReadStatus>> statuses;
};

// When a push is durable (see Durability above).
enum class Durability {
  kWindow,  // journaled within ~2 ms after Push returns; on disk when the OS writes it back (seconds)
  kSync,    // before Push returns: journaled and fsynced, with group commit
};
// "window" and "sync" (gyre.yaml's online.durability); InvalidArgument naming the value otherwise.
Result<Durability> ParseDurability(std::string_view text);

struct OnlineStoreOptions {
  // Decoded key states kept in memory (when the KvStore is single-writer); 0 turns the cache off.
  int64_t cache_keys = 200'000;
  // Writes queued for the background writer before pushes journal the queue themselves (with the cache).
  int64_t write_queue = 256;
  // How long journaled writes wait before they are folded into the keys' values, and how many may wait
  // (capped at half the cache, whose keys they pin). Longer folds more writes of a key into one; the wait is
  // also capped at half the shortest expiry margin of the groups (see write_journal.h).
  int64_t fold_interval_ms = 500;
  int64_t fold_writes = 131'072;
  // Refuse pushed events further in the future than their source's future_skew. Off only for stores that
  // replay recorded history apart from the live state (features check).
  bool refuse_future_events = true;
  Durability durability = Durability::kWindow;
};

// A read compiled for rows of one schema: which groups, entity key columns, is_new queries and derived
// expressions. Immutable; share it between threads.
class OnlineRead;

class OnlineStore {
 public:
  // `registry` must outlive the store.
  static Result<std::unique_ptr<OnlineStore>> Open(const FeatureRegistry* registry, std::unique_ptr<store::KvStore> kv,
                                                   OnlineStoreOptions options = {});
  ~OnlineStore();

  const FeatureRegistry& registry() const { return *registry_; }
  std::string_view backend() const { return kv_->backend(); }

  // `rows` must have the source's schema (features::SourceDef::schema), e.g. built with MakeSourceTable.
  // `only_groups` (indices into the registry's groups) limits the push to those groups of the source, and
  // skips the event index (a rebuild replays events already recorded). `receipts`: empty, or one per row,
  // stored with each new event id and returned by LookupEvents (ignored for rows without an id, duplicates,
  // and sources without ids); keep them small (they are stored per event for the retention).
  //
  // A scoring server answering a retried request with its first decision:
  //   auto seen = store.LookupEvents(source, rows);           // before reading features
  //   if (seen.ok() && (*seen)[0].seen) return Decode((*seen)[0].receipt);   // the retry: first answer
  //   Decision d = Score(...);                                 // features as of the event, the model
  //   std::string receipt = Encode(d);
  //   auto pushed = store.Push(source, rows, {}, std::span<const std::string>(&receipt, 1));
  //   if (pushed.ok() && pushed->duplicates > 0) { /* a concurrent copy won: LookupEvents gives its receipt */ }
  Result<PushResult> Push(int source, const Table& rows, std::span<const int> only_groups = {},
                          std::span<const std::string> receipts = {});
  // Per row of `rows` (which need only the source's event id column, by name; other columns are ignored):
  // whether its id is recorded, with its receipt. Sees every push that returned before it (cached or
  // stored). A null id reads as not seen. FailedPrecondition for a source without an event id,
  // InvalidArgument when `rows` lacks the id column. One MultiGet for ids not in memory.
  Result<std::vector<EventLookup>> LookupEvents(int source, const Table& rows);
  // Whether `source` declares an event id (LookupEvents works, pushes drop repeats).
  bool has_event_ids(int source) const { return registry_->sources()[source].event_id_index >= 0; }
  // Deletes every stored key of `group` (after writing what is queued), so it starts from an empty history.
  // For a store nothing else reads or pushes meanwhile (a rebuild; features/rebuild.h).
  Status ClearGroup(int group);
  // `rows` holds the entity key columns (and what is_new / derived features read); `times` one per row.
  // The read is compiled once per shape of request (features and columns) and kept.
  Result<OnlineValues> Get(const std::vector<int>& features, const Table& rows, std::span<const int64_t> times);

  // Compiles a read of `features` for rows of `schema` (errors name `rows_name`, e.g. "the request").
  Result<std::shared_ptr<const OnlineRead>> Prepare(const std::vector<int>& features, const Schema& schema,
                                                    std::string_view rows_name = "the request") const;
  // `rows` must have the schema the read was prepared for.
  Result<OnlineValues> Get(const OnlineRead& read, const Table& rows, std::span<const int64_t> times);
  // The same values as model inputs, without building OnlineValues: `out` is row-major, rows × the read's
  // features, float32, NaN where a value is null (or a string).
  Status GetFloats(const OnlineRead& read, const Table& rows, std::span<const int64_t> times, std::span<float> out);

  // Waits until every write queued so far is journaled (durable); its error if the writer failed.
  Status Persist();
  // Waits until every write queued so far is in the keys' values in the KvStore (journaled and folded).
  Status Flush();

  // Totals since Open (exported as metrics).
  int64_t pushed_events() const { return pushed_.load(); }
  int64_t duplicate_events() const { return duplicates_.load(); }  // rows acknowledged as repeats
  int64_t dropped_too_late() const { return too_late_.load(); }
  int64_t cache_hits() const { return cache_hits_.load(); }
  int64_t cache_misses() const { return cache_misses_.load(); }
  int64_t write_batches() const { return write_batches_.load(); }  // journal entries
  int64_t folds() const { return folds_.load(); }
  // Stored keys found written under another definition of their group, and restarted empty.
  int64_t definition_resets() const { return definition_resets_.load(); }

 private:
  struct Cached;
  struct Stripe;
  struct Writer;
  void WriterLoop();
  // Queues a row's writes, decided at `decided_at` (the stripes of their keys locked, so a key's writes queue
  // in order).
  void Enqueue(std::vector<store::KvWrite>& writes, int64_t decided_at);
  // Takes the whole queue and journals it as one entry (fsynced in kSync), unless the queue's first
  // `through` writes are journaled already (a concurrent push's group commit took them). No stripe may be
  // locked (nor below: no lock held).
  void JournalQueued(uint64_t through = UINT64_MAX);
  // kSync: journals (if no one else has) every write queued so far and waits for its fsync; the writer's
  // failure if the store refused it. Without the cache: one KvStore::Sync.
  Status MakeQueuedDurable();
  // Folds every journaled write into the keys' values, one batch.
  void Fold();
  Status WriteFold(std::vector<store::KvWrite>& writes, uint64_t from, uint64_t to, int64_t since,
                   std::vector<std::string>* reload);
  // Reads what a crash left in the journal and folds it (at Open).
  Status ReplayJournal();
  // Drops the keys from the cache, so reads load them from the store again.
  void ForgetCached(std::span<const std::string> keys);
  // The group whose state `key` is, or -1.
  int GroupOfKey(std::string_view key) const;
  OnlineStore(const FeatureRegistry* registry, std::unique_ptr<store::KvStore> kv, OnlineStoreOptions options);
  // Reads the values of `read` for each row and hands each (feature index in the read, row) to `sink`.
  using ValueSink = std::function<void(size_t feature, int64_t row, const FeatureValue& value, ReadStatus status)>;
  Status Read(const OnlineRead& read, const Table& rows, std::span<const int64_t> times, const ValueSink& sink);
  // Sets *key to the store key of `group` for the row's entity key; false (and *key unspecified) when a part is
  // null. Callers reuse one string, so a cached read allocates no key.
  bool KeyOf(int group, const Table& rows, std::span<const int> key_columns, int64_t row, std::string* key) const;
  // A key's name in the cache: its 128-bit hash (XXH3), so a lookup compares 16 bytes held in the map's node
  // instead of a string held elsewhere in memory (a cache miss per lookup). Two keys with one hash are about
  // 2^-128 likely; the KvStore still holds values under the full key.
  struct CacheKey {
    uint64_t low = 0, high = 0;
    bool operator==(const CacheKey&) const = default;
  };
  struct CacheKeyHash {
    size_t operator()(const CacheKey& key) const { return key.low; }
  };
  static CacheKey CacheKeyOf(std::string_view key);
  Stripe& StripeFor(CacheKey key);
  // The cached state of `key`, or nullptr (not cached, cache off, or expired: then dropped). Stripe locked.
  Cached* Lookup(Stripe& stripe, CacheKey key, int64_t now);
  // Inserts (replacing) and evicts the stripe's least recently used keys beyond its share; the pointer is valid
  // until the stripe's next Insert. Stripe locked.
  Cached* Insert(Stripe& stripe, CacheKey key, Cached value);
  Result<Cached> Decode(int group, const std::optional<std::string>& bytes) const;
  // Sets *key to the event index key of row `row`'s id in `ids` (a column of `source`'s id); false when null.
  static bool EventKeyOf(const SourceDef& source, const Column& ids, int64_t row, std::string* key);
  // Whether the event index holds `key` (cache_key = CacheKeyOf(key)), and its receipt into *receipt (if not
  // null): the ids pushed but not folded yet are in the stripe, the rest in the KvStore. Stripe locked.
  Result<bool> EventSeen(Stripe& stripe, CacheKey cache_key, const std::string& key, int64_t now,
                         std::string* receipt);

  const FeatureRegistry* registry_;
  std::unique_ptr<store::KvStore> kv_;
  const bool caching_;
  const size_t keys_per_stripe_;
  const int64_t fold_writes_;
  const bool refuse_future_events_;
  const bool sync_;  // Durability::kSync
  int64_t expiry_margin_ = INT64_MAX / 4;  // the shortest of the groups' expiry margins (µs)
  int64_t fold_interval_ = 0;              // µs
  std::vector<std::shared_ptr<const GroupProgram>> programs_;  // per group
  struct SourceGroup {
    int group;
    std::vector<int> key_columns;  // in the source's schema
  };
  std::vector<std::vector<SourceGroup>> groups_of_source_;
  // What a push rebuilds per call, kept per thread so a push allocates only what it hands to the writer.
  struct PushScratch;
  struct ReadScratch;
  static constexpr size_t kStripes = 256;
  std::unique_ptr<Stripe[]> stripes_;
  std::atomic<int64_t> pushed_{0};
  std::atomic<int64_t> too_late_{0};
  std::atomic<int64_t> duplicates_{0};
  std::atomic<int64_t> cache_hits_{0};
  std::atomic<int64_t> cache_misses_{0};
  std::atomic<int64_t> write_batches_{0};
  std::atomic<int64_t> folds_{0};
  mutable std::atomic<int64_t> definition_resets_{0};
  std::unique_ptr<Writer> writer_;  // with the cache only
  static constexpr size_t kMaxPreparedShapes = 1024;
  std::mutex prepared_mu_;
  std::unordered_map<std::string, std::shared_ptr<const OnlineRead>> prepared_;  // by request shape
};

}  // namespace gyre::features
