#include "features/online_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <list>
#include <set>
#include <thread>
#include <unordered_map>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/background_thread.h"
#include "core/time.h"
#include "features/row_values.h"
#include "features/write_journal.h"

namespace gyre::features {
namespace {

constexpr char kKeySeparator = '\x1f';  // ends the group name (group names are identifiers)
// Starts every event index key: no group name (an identifier) nor journal key (NUL) starts with it.
constexpr char kEventIndexByte = '\x01';
// A stored value this close to its expiry (1 s, or a tenth of a shorter ttl) is treated as gone, and the
// next write replaces it instead of appending: an append landing just after the backend expired the value
// would leave records without their snapshot (Redis may expire a key up to 1 ms early; clocks drift).
constexpr int64_t kExpiryMarginMicros = 1'000'000;
// Records appended before the value is rewritten as one snapshot: at least this many, and as many as the
// snapshot holds events, so loading replays at most as many events as it decodes.
constexpr int64_t kMinRecordsBeforeSnapshot = 16;
// How much longer the write queue may grow while a fold is written before pushes journal it themselves.
constexpr size_t kAssistSlackWhileFolding = 64;
// How long a queued write may wait for more before the writer journals the queue (unless half of
// write_queue is waiting first). A journal entry per push cost a store write and a wake-up each; this bounds
// what a crash can lose to about this long a stretch of pushes.
constexpr int64_t kJournalDelayMicros = 2'000;
// Feature values a thread keeps allocated between reads (a scored event needs ~30).
constexpr size_t kMaxKeptScratchValues = 4096;

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t ExpiryFor(const GroupDef& group, int64_t now) { return group.ttl == kLifetime ? 0 : now + group.ttl; }

// When a value expiring at `expires_at` (0: never) stops being used.
int64_t StaleAt(const GroupDef& group, int64_t expires_at) {
  if (expires_at == 0) return INT64_MAX;
  return expires_at - std::min(kExpiryMarginMicros, group.ttl / 10);
}

// How far an event is ahead of the clock, in words a person reads at a glance.
std::string AheadText(int64_t micros) {
  const double seconds = static_cast<double>(micros) / 1e6;
  if (seconds >= 2 * 86400) return fmt::format("{:.0f} days", seconds / 86400);
  if (seconds >= 3600) return fmt::format("{:.1f} h", seconds / 3600);
  return fmt::format("{:.0f} s", seconds);
}

}  // namespace

std::string EventIndexPrefix(std::string_view source_name) {
  std::string prefix(1, kEventIndexByte);
  prefix += source_name;
  prefix += kKeySeparator;
  return prefix;
}

class OnlineRead {
 public:
  struct Group {
    int group;
    std::vector<int> key_columns;
    IsNewQueries is_new;
    std::vector<int> held_slot;  // per accumulator of the group: its feature's index in `needed`, or -1
  };
  Schema schema;
  std::vector<int> features;
  std::vector<int> needed;     // aggregated features read: those asked for and the inputs of derived ones
  std::vector<int> held_slot;  // per registry feature: its index in `needed`, or -1
  std::vector<Group> groups;
  std::vector<std::optional<Expr>> derived;  // per requested feature
  std::vector<int> all_columns;              // 0..n-1: derived expressions may read any column of the rows
};

struct OnlineStore::Cached {
  KeyState state;
  int64_t stale_at = INT64_MAX;  // StaleAt of the stored value's expiry, as last written
  int64_t snapshot_events = 0;  // events in the stored snapshot
  int64_t records = 0;          // event records appended after it
  bool needs_snapshot = true;   // nothing usable stored (missing, legacy format, about to expire): rewrite whole
  int64_t pending = 0;          // writes queued or journaled, not folded yet: the entry must stay cached
};

// Locks are taken in the order fold_mu, commit_mu, a stripe's mu, mu.
struct OnlineStore::Writer {
  std::mutex fold_mu;    // held while a fold is taken and written, so folds reach the store in journal order
  std::mutex commit_mu;  // held while a batch is taken from the queue and journaled; guards the journal state
  std::mutex mu;         // guards the queue and what follows it
  std::condition_variable has_work;
  std::vector<store::KvWrite> queue;
  uint64_t queued_total = 0;     // writes ever queued (the last one's ticket)
  uint64_t journaled_total = 0;  // of those, the first this many are journaled (and fsynced, in kSync)
  // kSync's group commit: one push journals and fsyncs the queue while the others wait on `durable` (not on
  // commit_mu, which the next round's push may already hold for its fsync).
  bool committing = false;
  std::condition_variable durable;
  int64_t queue_since = 0;          // when the oldest queued write was decided (µs), while the queue is not empty
  size_t assist_at = 0;             // queue length from which pushers journal the queue themselves
  size_t journal_at = 0;            // queue length at which a push wakes the writer (half of assist_at)
  bool parked = false;              // the writer waits without watching the queue: a first write must wake it
  int64_t fold_due_at = INT64_MAX;  // when the journaled writes are to be folded; INT64_MAX: none are waiting
  int64_t unfolded_writes = 0;      // journaled writes not folded yet
  Status failure;                   // the first write the store refused; nothing is journaled after it
  bool fold_failed = false;         // a fold was refused: nothing is folded after it (the journal keeps the rest)
  bool folding = false;             // a fold is being written
  bool stop = false;
  std::thread thread;
  // The journal (features/write_journal.h), guarded by commit_mu.
  uint64_t next_seq = 0;                // the next entry's seq
  uint64_t fold_from = 0;               // the first entry not folded yet
  FoldedWrites unfolded;                // the writes of entries [fold_from, next_seq)
  int64_t unfolded_since = INT64_MAX;   // when the oldest of them was decided (INT64_MIN: replayed, unknown)
};

struct OnlineStore::PushScratch {
  std::vector<RowValues> values;  // per group of the source
  std::vector<ExprValue> slots;
  std::vector<GroupEvent> events;
  std::vector<std::string> keys;
  std::vector<char> has_key;
  std::vector<CacheKey> cache_keys;
  std::vector<Stripe*> stripes;
  std::vector<store::KvWrite> writes;
  std::string event_key;
};

struct OnlineStore::ReadScratch {
  std::vector<FeatureValue> held;
  std::vector<ReadStatus> held_status;
  std::vector<ExprValue> slots;
  std::vector<FeatureValue> values;
  std::vector<std::optional<uint64_t>> is_new_bits;
  std::string key;
};

struct OnlineStore::Stripe {
  struct Node {
    Cached value;
    std::list<CacheKey>::iterator lru;
  };
  std::mutex mu;
  std::unordered_map<CacheKey, Node, CacheKeyHash> map;
  std::list<CacheKey> lru;  // most recently used first
  // Event ids pushed and not folded yet (with the cache): the KvStore does not have them until the fold, so
  // the stripe answers for them. Removed by the fold that writes them.
  struct PendingEvent {
    std::string receipt;
    int64_t expires_at = 0;
    int64_t pending = 0;  // writes of the id queued or journaled
  };
  std::unordered_map<CacheKey, PendingEvent, CacheKeyHash> events;
  // Bumped by every push to a key of this stripe: a state loaded without the lock is cached only if no push
  // came in between (it would be older than what the push wrote).
  uint64_t writes = 0;
};

OnlineStore::OnlineStore(const FeatureRegistry* registry, std::unique_ptr<store::KvStore> kv,
                         OnlineStoreOptions options)
    : registry_(registry),
      kv_(std::move(kv)),
      caching_(options.cache_keys > 0 && kv_->single_writer()),
      keys_per_stripe_(static_cast<size_t>(std::max<int64_t>(1, options.cache_keys / static_cast<int64_t>(kStripes)))),
      fold_writes_(std::min(options.fold_writes, std::max<int64_t>(1024, options.cache_keys / 2))),
      refuse_future_events_(options.refuse_future_events),
      sync_(options.durability == Durability::kSync),
      stripes_(new Stripe[kStripes]) {}

OnlineStore::~OnlineStore() {
  if (writer_ == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(writer_->mu);
    writer_->stop = true;
  }
  writer_->has_work.notify_one();
  writer_->thread.join();  // the writer journals the queue before it stops
  Fold();                  // and a clean stop leaves nothing to replay
}

Result<std::unique_ptr<OnlineStore>> OnlineStore::Open(const FeatureRegistry* registry,
                                                       std::unique_ptr<store::KvStore> kv, OnlineStoreOptions options) {
  if (options.cache_keys < 0) return Status::InvalidArgument("online store cache_keys must be >= 0");
  if (options.fold_interval_ms <= 0 || options.fold_writes <= 0) {
    return Status::InvalidArgument("online store fold_interval_ms and fold_writes must be > 0");
  }
  std::unique_ptr<OnlineStore> store(new OnlineStore(registry, std::move(kv), options));
  store->groups_of_source_.resize(registry->sources().size());
  for (size_t g = 0; g < registry->groups().size(); ++g) {
    GYRE_ASSIGN_OR_RETURN(std::shared_ptr<const GroupProgram> program,
                          GroupProgram::Make(*registry, static_cast<int>(g)));
    store->programs_.push_back(std::move(program));
    const GroupDef& group = registry->groups()[g];
    SourceGroup pushed{static_cast<int>(g), {}};
    for (const std::string& k : registry->entities()[group.entity].keys) {
      pushed.key_columns.push_back(registry->sources()[group.source].schema.IndexOf(k));
    }
    store->groups_of_source_[group.source].push_back(std::move(pushed));
    if (group.ttl != kLifetime) {
      store->expiry_margin_ = std::min(store->expiry_margin_, std::min(kExpiryMarginMicros, group.ttl / 10));
    }
  }
  // Appends are decided while the value they extend has at least expiry_margin_ to live; folding them within
  // half of it keeps them landing on a live value (WriteFold checks the folds that come later than that).
  store->fold_interval_ = std::max<int64_t>(1, std::min(options.fold_interval_ms * 1000, store->expiry_margin_ / 2));
  if (store->caching_) {
    store->writer_ = std::make_unique<Writer>();
    store->writer_->assist_at = static_cast<size_t>(std::max<int64_t>(1, options.write_queue));
    store->writer_->journal_at = std::max<size_t>(1, store->writer_->assist_at / 2);
    GYRE_RETURN_IF_ERROR(store->ReplayJournal());
    store->writer_->thread = std::thread([s = store.get()] { s->WriterLoop(); });
  }
  return store;
}

bool OnlineStore::KeyOf(int group, const Table& rows, std::span<const int> key_columns, int64_t row,
                        std::string* key) const {
  // group name, separator, then each part as <length>:<bytes>, so no part's content can fake a boundary.
  const std::string& name = registry_->groups()[group].name;
  key->assign(name);
  *key += kKeySeparator;
  std::string formatted;
  for (int c : key_columns) {
    const Column& column = rows.column(c);
    if (column.IsNull(row)) return false;
    std::string_view part;
    if (column.type() == ColumnType::kString) {
      part = column.String(row);
    } else {
      formatted = column.ValueToString(row);
      part = formatted;
    }
    fmt::format_int size(part.size());
    key->append(size.data(), size.size());
    *key += ':';
    *key += part;
  }
  return true;
}

OnlineStore::CacheKey OnlineStore::CacheKeyOf(std::string_view key) {
  const XXH128_hash_t hash = XXH3_128bits(key.data(), key.size());
  return {hash.low64, hash.high64};
}

OnlineStore::Stripe& OnlineStore::StripeFor(CacheKey key) { return stripes_[key.high % kStripes]; }

OnlineStore::Cached* OnlineStore::Lookup(Stripe& stripe, CacheKey key, int64_t now) {
  if (!caching_) return nullptr;
  auto it = stripe.map.find(key);
  if (it == stripe.map.end()) return nullptr;
  if (now >= it->second.value.stale_at && it->second.value.pending == 0) {
    stripe.lru.erase(it->second.lru);
    stripe.map.erase(it);
    return nullptr;
  }
  stripe.lru.splice(stripe.lru.begin(), stripe.lru, it->second.lru);
  return &it->second.value;
}

OnlineStore::Cached* OnlineStore::Insert(Stripe& stripe, CacheKey key, Cached value) {
  auto [it, inserted] = stripe.map.try_emplace(key, Stripe::Node{std::move(value), {}});
  if (inserted) {
    stripe.lru.push_front(key);
    it->second.lru = stripe.lru.begin();
  } else {
    it->second.value = std::move(value);
    stripe.lru.splice(stripe.lru.begin(), stripe.lru, it->second.lru);
  }
  // Evict from the cold end, never the key just inserted (the caller uses it next) nor keys with writes still
  // queued (a read would load an outdated value from the store): those go back to the warm end.
  for (size_t tries = stripe.map.size(); stripe.map.size() > keys_per_stripe_ && tries > 0; --tries) {
    auto victim = stripe.map.find(stripe.lru.back());
    if (victim == it || victim->second.value.pending > 0) {
      stripe.lru.splice(stripe.lru.begin(), stripe.lru, victim->second.lru);
      continue;
    }
    stripe.map.erase(victim);
    stripe.lru.pop_back();
  }
  return &it->second.value;
}

Result<OnlineStore::Cached> OnlineStore::Decode(int group, const std::optional<std::string>& bytes) const {
  const GroupProgram* program = programs_[group].get();
  if (!bytes) return Cached{KeyState(program)};
  GYRE_ASSIGN_OR_RETURN(KeyState::Stored stored, KeyState::LoadStored(program, *bytes));
  if (stored.definition_changed) {
    // The group's definition changed since this key was written: its history restarts (the next push writes
    // it whole under the new definition), and the metrics count it.
    ++definition_resets_;
    return Cached{KeyState(program)};
  }
  const int64_t stale_at = StaleAt(program->def(), stored.expires_at);
  if (NowMicros() >= stale_at) return Cached{KeyState(program)};
  return Cached{std::move(stored.state), stale_at, stored.snapshot_events, stored.records, stored.legacy};
}

Status OnlineStore::ClearGroup(int group) {
  GYRE_RETURN_IF_ERROR(Flush());
  for (size_t i = 0; i < kStripes; ++i) {  // nothing is pending after the flush: cached keys reload when read
    std::lock_guard<std::mutex> lock(stripes_[i].mu);
    stripes_[i].map.clear();
    stripes_[i].lru.clear();
  }
  return kv_->DeletePrefix(registry_->groups()[group].name + kKeySeparator);
}

bool OnlineStore::EventKeyOf(const SourceDef& source, const Column& ids, int64_t row, std::string* key) {
  if (ids.IsNull(row)) return false;
  key->assign(1, kEventIndexByte);
  *key += source.name;
  *key += kKeySeparator;
  if (ids.type() == ColumnType::kString) {
    *key += ids.String(row);
  } else {
    fmt::format_int text(ids.Int64(row));  // ids are strings or integers (definitions.cc)
    key->append(text.data(), text.size());
  }
  return true;
}

Result<bool> OnlineStore::EventSeen(Stripe& stripe, CacheKey cache_key, const std::string& key, int64_t now,
                                    std::string* receipt) {
  if (caching_) {
    auto it = stripe.events.find(cache_key);
    // The latest write of this id: the stored value, if any, is older (an expired first push).
    if (it != stripe.events.end()) {
      if (now >= it->second.expires_at) return false;
      if (receipt != nullptr) *receipt = it->second.receipt;
      return true;
    }
  }
  GYRE_ASSIGN_OR_RETURN(std::optional<std::string> stored, kv_->Get(key));
  if (!stored) return false;
  if (receipt != nullptr) *receipt = std::move(*stored);
  return true;
}

Result<std::vector<EventLookup>> OnlineStore::LookupEvents(int source, const Table& rows) {
  const SourceDef& def = registry_->sources()[source];
  if (def.event_id_index < 0) {
    return Status::FailedPrecondition(fmt::format("source '{}' declares no event_id, so its events have no ids "
                                                  "to look up", def.name));
  }
  const int column = rows.schema().IndexOf(def.event_id_column);
  if (column < 0) {
    return Status::InvalidArgument(fmt::format("looking up events of source '{}' needs its id column '{}'; the rows "
                                               "have: {}", def.name, def.event_id_column, rows.schema().NameList()));
  }
  const Column& ids = rows.column(column);
  if (ids.type() != def.schema.column(def.event_id_index).type) {
    return Status::InvalidArgument(fmt::format("column '{}' holds {} values; source '{}' has {} ids",
                                               def.event_id_column, ColumnTypeName(ids.type()), def.name,
                                               ColumnTypeName(def.schema.column(def.event_id_index).type)));
  }
  std::vector<EventLookup> out(static_cast<size_t>(rows.num_rows()));
  std::vector<std::string> missed;  // keys the stripes do not hold, read in one MultiGet
  std::vector<size_t> missed_rows;
  const int64_t now = NowMicros();
  std::string key;
  bool seen_pending = false;  // an id answered by the stripes: pushed, maybe not journaled yet
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    if (!EventKeyOf(def, ids, r, &key)) continue;
    if (caching_) {
      const CacheKey cache_key = CacheKeyOf(key);
      Stripe& stripe = StripeFor(cache_key);
      std::lock_guard<std::mutex> lock(stripe.mu);
      auto it = stripe.events.find(cache_key);
      if (it != stripe.events.end()) {
        if (now < it->second.expires_at) {
          out[static_cast<size_t>(r)] = {true, it->second.receipt};
          seen_pending = true;
        }
        continue;
      }
    }
    // Not pending here, so the store has it if anyone pushed it: a fold writes the id before the stripe
    // forgets it.
    missed.push_back(key);
    missed_rows.push_back(static_cast<size_t>(r));
  }
  if (sync_ && seen_pending) {
    // Those writes may be queued still, and "seen" must not rest on a write a crash could undo.
    GYRE_RETURN_IF_ERROR(MakeQueuedDurable());
  }
  if (missed.empty()) return out;
  GYRE_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored, kv_->MultiGet(missed));
  for (size_t i = 0; i < missed.size(); ++i) {
    if (stored[i]) out[missed_rows[i]] = {true, std::move(*stored[i])};
  }
  return out;
}

Result<Durability> ParseDurability(std::string_view text) {
  if (text == "window") return Durability::kWindow;
  if (text == "sync") return Durability::kSync;
  return Status::InvalidArgument(fmt::format("online durability '{}': expected 'window' (acknowledged pushes are "
                                             "journaled within ~2 ms) or 'sync' (fsynced before acknowledged)", text));
}

Result<PushResult> OnlineStore::Push(int source, const Table& rows, std::span<const int> only_groups,
                                     std::span<const std::string> receipts) {
  const SourceDef& def = registry_->sources()[source];
  if (!(rows.schema() == def.schema)) {
    return Status::InvalidArgument(fmt::format("rows pushed to source '{}' must have its columns ({}), got ({})",
                                               def.name, def.schema.ToString(), rows.schema().ToString()));
  }
  if (!receipts.empty() && static_cast<int64_t>(receipts.size()) != rows.num_rows()) {
    return Status::InvalidArgument(fmt::format("{} receipts for {} rows pushed to source '{}' (give one per row, or "
                                               "none)", receipts.size(), rows.num_rows(), def.name));
  }
  // A rebuild (some groups only) replays events the index already holds, into groups that lost them.
  const Column* ids = def.event_id_index >= 0 && only_groups.empty() ? &rows.column(def.event_id_index) : nullptr;
  const Column& ts = rows.column(def.timestamp_index);
  const int64_t latest_allowed = refuse_future_events_ && def.future_skew != SourceDef::kNoFutureLimit
                                     ? NowMicros() + def.future_skew
                                     : INT64_MAX;
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    if (ts.IsNull(r)) {
      return Status::InvalidArgument(fmt::format("row {}: '{}' (the event time) is missing", r, def.timestamp_column));
    }
    if (ts.Timestamp(r) > latest_allowed) {
      return Status::InvalidArgument(fmt::format(
          "row {}: '{}' {} is {} ahead of this server's clock; source '{}' takes events at most {} ahead "
          "(future_skew in features.yaml); nothing was pushed", r, def.timestamp_column, FormatTimestamp(ts.Timestamp(r)),
          AheadText(ts.Timestamp(r) - (latest_allowed - def.future_skew)), def.name, FormatDuration(def.future_skew)));
    }
  }
  std::vector<SourceGroup> chosen;  // a rebuild's push to some groups of the source
  if (!only_groups.empty()) {
    for (const SourceGroup& g : groups_of_source_[source]) {
      if (std::find(only_groups.begin(), only_groups.end(), g.group) != only_groups.end()) chosen.push_back(g);
    }
  }
  const std::vector<SourceGroup>& groups = only_groups.empty() ? groups_of_source_[source] : chosen;
  // Reused by this thread's next push (a scored login pushes once per request): cleared, never trusted.
  thread_local PushScratch scratch;
  std::vector<RowValues>& values = scratch.values;
  values.clear();
  for (const SourceGroup& g : groups) values.emplace_back(rows, programs_[g.group]->used_columns());

  PushResult result;
  result.rows = rows.num_rows();
  std::vector<ExprValue>& slots = scratch.slots;
  slots.assign(static_cast<size_t>(rows.num_columns()), ExprValue());
  std::vector<GroupEvent>& events = scratch.events;
  if (events.size() < groups.size()) events.resize(groups.size());
  std::vector<std::string>& keys = scratch.keys;
  keys.resize(groups.size());
  std::vector<char>& has_key = scratch.has_key;
  has_key.assign(groups.size(), 0);
  std::vector<CacheKey>& cache_keys = scratch.cache_keys;
  cache_keys.resize(groups.size());
  std::vector<Stripe*>& stripes = scratch.stripes;
  std::vector<store::KvWrite>& writes = scratch.writes;
  std::string& event_key = scratch.event_key;
  // Not in the scratch: an early return must unlock.
  std::vector<std::unique_lock<std::mutex>> locks;
  locks.reserve(groups.size());
  std::vector<Cached> uncached;
  if (!caching_) uncached.reserve(groups.size());  // states read in `apply_row` live here until the row is done
  int64_t hits = 0, misses = 0;  // added to the shared counters once per push
  auto count = [&] {
    if (hits > 0) cache_hits_ += hits;
    if (misses > 0) cache_misses_ += misses;
  };
  for (int64_t r = 0; r < rows.num_rows(); ++r) {
    if (writer_ != nullptr) {
      // A long queue means the background writer (at a low priority) is behind: commit it here, with no key
      // locked, so the queue stays short and pushes never wait on a starved thread.
      bool behind, fold_overdue;
      {
        std::lock_guard<std::mutex> lock(writer_->mu);
        // While a fold is being written, a journal entry would wait behind it in the store: let the queue grow.
        behind = writer_->queue.size() >= writer_->assist_at * (writer_->folding ? kAssistSlackWhileFolding : 1);
        fold_overdue = writer_->unfolded_writes >= 4 * fold_writes_;  // the writer is starved: keep memory bounded
        if (!writer_->failure.ok()) {
          count();
          return writer_->failure;
        }
      }
      if (behind) JournalQueued();
      if (fold_overdue) Fold();
    }
    stripes.clear();
    const bool has_id = ids != nullptr && EventKeyOf(def, *ids, r, &event_key);
    CacheKey event_cache_key;
    if (has_id) {
      event_cache_key = CacheKeyOf(event_key);
      stripes.push_back(&StripeFor(event_cache_key));  // locked with the row's keys: check and record as one
    }
    for (size_t i = 0; i < groups.size(); ++i) {
      has_key[i] = KeyOf(groups[i].group, rows, groups[i].key_columns, r, &keys[i]);
      if (!has_key[i]) continue;  // a null entity key updates no state
      values[i].Fill(r, slots);
      EncodeEvent(*programs_[groups[i].group], slots, ts.Timestamp(r), &events[i]);
      cache_keys[i] = CacheKeyOf(keys[i]);
      stripes.push_back(&StripeFor(cache_keys[i]));
    }
    // The row's keys are locked together (in address order, so pushes never deadlock): their writes go to the
    // store in one batch, in the order their states changed.
    std::sort(stripes.begin(), stripes.end());
    stripes.erase(std::unique(stripes.begin(), stripes.end()), stripes.end());
    for (Stripe* s : stripes) locks.emplace_back(s->mu);

    const int64_t now = NowMicros();
    if (has_id) {
      std::string receipt;
      Result<bool> seen = EventSeen(StripeFor(event_cache_key), event_cache_key, event_key, now,
                                    receipts.empty() ? nullptr : &receipt);
      if (!seen.ok()) {
        count();
        return seen.status();
      }
      if (*seen) {
        ++result.duplicates;
        result.duplicate_rows.push_back(r);
        if (!receipts.empty()) result.duplicate_receipts.push_back(std::move(receipt));
        locks.clear();
        continue;
      }
    }
    writes.clear();
    uncached.clear();
    auto apply_row = [&]() -> Status {
      for (size_t i = 0; i < groups.size(); ++i) {
        if (!has_key[i]) continue;
        const GroupProgram& program = *programs_[groups[i].group];
        Stripe& stripe = StripeFor(cache_keys[i]);
        Cached* state = Lookup(stripe, cache_keys[i], now);
        if (state != nullptr) {
          ++hits;
        } else {
          ++misses;
          GYRE_ASSIGN_OR_RETURN(std::optional<std::string> bytes, kv_->Get(keys[i]));
          GYRE_ASSIGN_OR_RETURN(Cached loaded, Decode(groups[i].group, bytes));
          state = caching_ ? Insert(stripe, cache_keys[i], std::move(loaded))
                           : &uncached.emplace_back(std::move(loaded));
        }
        KeyState::AppendResult appended = state->state.Append(events[i]);
        if (appended == KeyState::AppendResult::kTooLate) {
          ++result.too_late;
          continue;
        }
        result.late += appended == KeyState::AppendResult::kLate;
        const int64_t expires_at = ExpiryFor(program.def(), now);
        store::KvWrite& w = writes.emplace_back();
        w.key = keys[i];
        w.expires_at = expires_at;
        w.value.emplace();
        if (state->needs_snapshot || now >= state->stale_at ||
            state->records >= std::max(kMinRecordsBeforeSnapshot, state->snapshot_events)) {
          state->state.AppendSnapshot(expires_at, &*w.value);
          state->snapshot_events = static_cast<int64_t>(state->state.buffered_events());
          state->records = 0;
          state->needs_snapshot = false;
        } else {
          KeyState::AppendEventRecord(program, events[i], expires_at, &*w.value);
          w.append = true;
          ++state->records;
        }
        state->stale_at = StaleAt(program.def(), expires_at);
        if (caching_) ++state->pending;
        ++stripe.writes;
      }
      if (has_id) {
        // In the row's batch, so the store never holds the row's states without its id, nor the reverse.
        store::KvWrite& w = writes.emplace_back();
        w.key = event_key;
        w.expires_at = now + def.event_id_retention;
        w.value.emplace(receipts.empty() ? std::string_view() : std::string_view(receipts[static_cast<size_t>(r)]));
        if (caching_) {
          Stripe::PendingEvent& pending = StripeFor(event_cache_key).events[event_cache_key];
          pending.receipt = *w.value;
          pending.expires_at = w.expires_at;
          ++pending.pending;
        }
      }
      if (!caching_) return kv_->WriteBatch(writes);
      Enqueue(writes, now);
      return Status::OK();
    };
    Status applied = apply_row();
    if (!applied.ok()) {
      // A group's state could not be loaded: the groups before it took the event (cached) and their writes are
      // built, so they go to the store too, keeping it equal to the cache.
      if (caching_) Enqueue(writes, now);
      count();
      return applied;
    }
    locks.clear();
  }
  count();
  // Also after a push of duplicates only: what it answers rests on the first copies' writes.
  if (sync_) GYRE_RETURN_IF_ERROR(MakeQueuedDurable());
  pushed_ += result.rows;
  if (result.too_late > 0) too_late_ += result.too_late;
  if (result.duplicates > 0) duplicates_ += result.duplicates;
  return result;
}

void OnlineStore::Enqueue(std::vector<store::KvWrite>& writes, int64_t decided_at) {
  if (writes.empty()) return;
  Writer& w = *writer_;
  bool wake;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    const size_t before = w.queue.size();
    if (before == 0) w.queue_since = decided_at;
    for (store::KvWrite& write : writes) w.queue.push_back(std::move(write));
    w.queued_total += writes.size();
    // The writer, unless parked, wakes by itself when the oldest write has waited kJournalDelayMicros.
    wake = (before == 0 && w.parked) || (before < w.journal_at && w.queue.size() >= w.journal_at);
  }
  if (wake) w.has_work.notify_one();
}

void OnlineStore::JournalQueued(uint64_t through) {
  Writer& w = *writer_;
  std::vector<store::KvWrite> batch;
  Status written;
  {
    // Batches are taken from the queue and journaled under commit_mu, so they reach the journal in queue order
    // (and a key's writes in the order its state changed). In kSync the pushes waiting here meanwhile find
    // their writes in the next batch: one entry and one fsync for all of them (group commit).
    std::lock_guard<std::mutex> commit(w.commit_mu);
    int64_t since;
    uint64_t taken_through;
    {
      std::lock_guard<std::mutex> lock(w.mu);
      if (w.queue.empty() || w.journaled_total >= through) return;
      batch.swap(w.queue);
      since = w.queue_since;
      taken_through = w.queued_total;
      written = w.failure;
    }
    // Once a write failed nothing more is journaled: later records would follow a hole in their key's history.
    if (written.ok()) {
      store::KvWrite entry{JournalKey(w.next_seq), std::string(), 0, false};
      EncodeBatch(batch, &*entry.value);
      written = kv_->WriteBatch(std::span<const store::KvWrite>(&entry, 1));
      if (written.ok() && sync_) written = kv_->Sync();
    }
    ++write_batches_;
    if (written.ok()) {
      ++w.next_seq;
      w.unfolded_since = std::min(w.unfolded_since, since);
      for (store::KvWrite& write : batch) w.unfolded.Add(std::move(write));
      std::lock_guard<std::mutex> lock(w.mu);
      w.journaled_total = taken_through;
      w.unfolded_writes = w.unfolded.added();
      w.fold_due_at = w.unfolded_writes >= fold_writes_ ? 0 : w.unfolded_since + fold_interval_;
      return;
    }
    std::lock_guard<std::mutex> lock(w.mu);
    if (w.failure.ok()) {
      w.failure = Status::Unavailable("online store writes failed (restart the server once the store is fixed; "
                                      "pushes since are lost): " + written.message());
    }
  }
  // The batch is lost, so its keys' cached states are ahead of what is stored, and the store is the truth:
  // fold what the journal has, then drop those keys so reads load them again.
  Fold();
  std::vector<std::string> keys;
  for (store::KvWrite& write : batch) keys.push_back(std::move(write.key));
  ForgetCached(keys);
}

void OnlineStore::Fold() {
  Writer& w = *writer_;
  std::lock_guard<std::mutex> fold(w.fold_mu);
  FoldedWrites taken;
  uint64_t from, to;
  int64_t since;
  {
    // Only swapped here: the writer runs at a low priority, and a lock it holds while preempted stalls requests.
    std::lock_guard<std::mutex> commit(w.commit_mu);
    std::lock_guard<std::mutex> lock(w.mu);
    if (w.unfolded.empty() || w.fold_failed) return;
    std::swap(taken, w.unfolded);
    from = w.fold_from;
    to = w.next_seq;
    since = w.unfolded_since;
    w.fold_from = to;
    w.unfolded_since = INT64_MAX;
    w.unfolded_writes = 0;
    w.fold_due_at = INT64_MAX;
    w.folding = true;
  }
  FoldedWrites::Folded folded = taken.Take();
  std::vector<std::string> reload;
  Status written = WriteFold(folded.writes, from, to, since, &reload);
  ++folds_;
  {
    std::lock_guard<std::mutex> lock(w.mu);
    w.folding = false;
  }
  if (!written.ok()) {
    std::lock_guard<std::mutex> lock(w.mu);
    w.fold_failed = true;
    if (w.failure.ok()) {
      w.failure = Status::Unavailable("online store writes failed (restart the server once the store is fixed; "
                                      "it replays what was journaled): " + written.message());
    }
  }
  for (size_t i = 0; i < folded.writes.size(); ++i) {
    const CacheKey key = CacheKeyOf(folded.writes[i].key);
    Stripe& stripe = StripeFor(key);
    std::lock_guard<std::mutex> lock(stripe.mu);
    if (!folded.writes[i].key.empty() && folded.writes[i].key[0] == kEventIndexByte) {
      auto event = stripe.events.find(key);
      if (event == stripe.events.end()) continue;
      event->second.pending -= folded.counts[i];
      // Now in the store, which answers for it; not folded, the stripe keeps answering until a restart replays it.
      if (event->second.pending <= 0 && written.ok()) stripe.events.erase(event);
      continue;
    }
    auto it = stripe.map.find(key);
    if (it == stripe.map.end()) continue;
    Cached& cached = it->second.value;
    cached.pending = std::max<int64_t>(0, cached.pending - folded.counts[i]);
    // Not folded: the journal has the writes, the keys' stored values lack them; reads load them again after a
    // restart, which replays the journal. Until then the cache answers for these keys.
    if (!written.ok()) cached.pending = std::max<int64_t>(cached.pending, 1);
  }
  ForgetCached(reload);
}

void OnlineStore::ForgetCached(std::span<const std::string> keys) {
  for (const std::string& name : keys) {
    const CacheKey key = CacheKeyOf(name);
    Stripe& stripe = StripeFor(key);
    std::lock_guard<std::mutex> lock(stripe.mu);
    stripe.events.erase(key);  // an event id whose write was lost: the store, without it, is the truth
    auto it = stripe.map.find(key);
    if (it == stripe.map.end()) continue;
    stripe.lru.erase(it->second.lru);
    stripe.map.erase(it);
  }
}

Status OnlineStore::WriteFold(std::vector<store::KvWrite>& writes, uint64_t from, uint64_t to, int64_t since,
                              std::vector<std::string>* reload) {
  // An append decided at `since` or later extends a value that lives at least expiry_margin_ after that. A fold
  // later than most of that margin (the writer starved, or entries replayed after a restart) could land an
  // append after its value expired, leaving event records without their snapshot: then each append is
  // rewritten here as a whole value, from the value stored now or, when it has expired, an empty state.
  const bool late = since == INT64_MIN || NowMicros() >= since + expiry_margin_ - expiry_margin_ / 4;
  if (late) {
    std::vector<size_t> appends;
    std::vector<std::string> keys;
    for (size_t i = 0; i < writes.size(); ++i) {
      if (!writes[i].append) continue;
      appends.push_back(i);
      keys.push_back(writes[i].key);
    }
    GYRE_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> stored, kv_->MultiGet(keys));
    for (size_t a = 0; a < appends.size(); ++a) {
      store::KvWrite& w = writes[appends[a]];
      std::string whole;
      if (stored[a]) {
        whole = std::move(*stored[a]);
      } else {
        const int group = GroupOfKey(w.key);
        if (group < 0) continue;  // not a state key of this registry: left as written
        KeyState(programs_[group].get()).AppendSnapshot(w.expires_at, &whole);
        reload->push_back(w.key);  // the cached state still holds the expired history
      }
      whole += *w.value;
      w.value = std::move(whole);
      w.append = false;
    }
  }
  for (uint64_t seq = from; seq < to; ++seq) writes.push_back({JournalKey(seq), std::nullopt, 0, false});
  writes.push_back({std::string(kFoldedKey), EncodeFoldedSeq(to), 0, false});
  Status written = kv_->WriteBatch(writes);
  writes.resize(writes.size() - (to - from) - 1);  // the caller reads the keys' writes only
  return written;
}

int OnlineStore::GroupOfKey(std::string_view key) const {
  const size_t end = key.find(kKeySeparator);
  if (end == std::string_view::npos) return -1;
  Result<int> group = registry_->FindGroup(key.substr(0, end));
  return group.ok() ? *group : -1;
}

Status OnlineStore::ReplayJournal() {
  Writer& w = *writer_;
  GYRE_ASSIGN_OR_RETURN(std::optional<std::string> marker, kv_->Get(kFoldedKey));
  uint64_t seq = 0;
  if (marker) {
    GYRE_ASSIGN_OR_RETURN(seq, DecodeFoldedSeq(*marker));
  }
  w.fold_from = seq;
  for (;; ++seq) {
    const std::string key = JournalKey(seq);
    GYRE_ASSIGN_OR_RETURN(std::optional<std::string> entry, kv_->Get(key));
    if (!entry) break;
    GYRE_ASSIGN_OR_RETURN(std::vector<store::KvWrite> writes, DecodeBatch(key, *entry));
    for (store::KvWrite& write : writes) w.unfolded.Add(std::move(write));
  }
  w.next_seq = seq;
  if (w.unfolded.empty()) return Status::OK();
  w.unfolded_since = INT64_MIN;  // decided at a time nobody knows: every append is checked
  Fold();
  std::lock_guard<std::mutex> lock(w.mu);
  return w.failure;
}

void OnlineStore::WriterLoop() {
  MarkBackgroundThread("gyre-online-wr");
  Writer& w = *writer_;
  bool journaled = false;  // in the last round: pushes are coming, so look at the queue again soon
  for (;;) {
    bool fold_due;
    {
      std::unique_lock<std::mutex> lock(w.mu);
      for (;;) {
        if (w.stop) break;
        const int64_t now = NowMicros();
        if (now >= w.fold_due_at) break;
        int64_t deadline = w.fold_due_at;
        if (!w.queue.empty()) {
          // Journal when enough writes wait, or the oldest has waited long enough.
          if (w.queue.size() >= w.journal_at) break;
          deadline = std::min(deadline, w.queue_since + kJournalDelayMicros);
          if (now >= deadline) break;
        } else if (journaled) {
          // Busy: check the queue after the delay rather than have the next push wake this thread.
          deadline = std::min(deadline, now + kJournalDelayMicros);
          journaled = false;
        }
        w.parked = w.queue.empty() && deadline == w.fold_due_at;
        if (deadline == INT64_MAX) {
          w.has_work.wait(lock);
        } else {
          w.has_work.wait_for(lock, std::chrono::microseconds(deadline - now));
        }
        w.parked = false;
      }
      if (w.stop && w.queue.empty()) return;  // everything is journaled; the destructor folds
      journaled = !w.queue.empty();
    }
    JournalQueued();
    {
      std::lock_guard<std::mutex> lock(w.mu);
      fold_due = NowMicros() >= w.fold_due_at;
    }
    if (fold_due) Fold();
  }
}

Status OnlineStore::MakeQueuedDurable() {
  if (writer_ == nullptr) return kv_->Sync();
  Writer& w = *writer_;
  std::unique_lock<std::mutex> lock(w.mu);
  const uint64_t through = w.queued_total;
  while (w.journaled_total < through && w.failure.ok()) {
    if (w.committing) {
      w.durable.wait(lock);
      continue;
    }
    w.committing = true;
    lock.unlock();
    JournalQueued(through);
    lock.lock();
    w.committing = false;
    w.durable.notify_all();
  }
  if (w.journaled_total >= through) return Status::OK();
  return w.failure;
}

Status OnlineStore::Persist() {
  if (writer_ == nullptr) return Status::OK();
  JournalQueued();
  std::lock_guard<std::mutex> lock(writer_->mu);
  return writer_->failure;
}

Status OnlineStore::Flush() {
  if (writer_ == nullptr) return Status::OK();
  JournalQueued();
  Fold();
  std::lock_guard<std::mutex> lock(writer_->mu);
  return writer_->failure;
}

Result<std::shared_ptr<const OnlineRead>> OnlineStore::Prepare(const std::vector<int>& features, const Schema& schema,
                                                               std::string_view rows_name) const {
  auto read = std::make_shared<OnlineRead>();
  read->schema = schema;
  read->features = features;
  std::set<int> needed;
  for (int f : features) {
    const FeatureDef& def = registry_->features()[f];
    if (def.derived >= 0) {
      for (int input : registry_->derived()[def.derived].inputs) needed.insert(input);
    } else {
      needed.insert(f);
    }
  }
  read->needed.assign(needed.begin(), needed.end());
  read->held_slot.assign(registry_->features().size(), -1);
  for (size_t i = 0; i < read->needed.size(); ++i) read->held_slot[read->needed[i]] = static_cast<int>(i);
  std::set<int> groups;
  for (int f : needed) groups.insert(registry_->features()[f].group);
  for (int g : groups) {
    const GroupDef& group = programs_[g]->def();
    const EntityDef& entity = registry_->entities()[group.entity];
    OnlineRead::Group read_group;
    read_group.group = g;
    for (const std::string& k : entity.keys) {
      int c = schema.IndexOf(k);
      if (c < 0) {
        return Status::InvalidArgument(fmt::format("entity '{}' needs '{}' (for group '{}'); {} has: {}", entity.name,
                                                   k, group.name, rows_name, schema.NameList()));
      }
      read_group.key_columns.push_back(c);
    }
    GYRE_ASSIGN_OR_RETURN(read_group.is_new,
                          IsNewQueries::Compile(*registry_, *programs_[g], schema, rows_name,
                                                [&](int feature) { return needed.count(feature) != 0; }));
    for (const GroupProgram::Accumulator& a : programs_[g]->accumulators()) {
      read_group.held_slot.push_back(read->held_slot[a.feature]);
    }
    read->groups.push_back(std::move(read_group));
  }
  for (int f : features) {
    const FeatureDef& def = registry_->features()[f];
    if (def.derived < 0) {
      read->derived.emplace_back();
      continue;
    }
    Result<Expr> expr = registry_->CompileDerived(def.derived, schema, std::string(rows_name));
    if (!expr.ok()) return Status::InvalidArgument(expr.status().message());
    read->derived.emplace_back(std::move(*expr));
  }
  for (int c = 0; c < schema.size(); ++c) read->all_columns.push_back(c);
  return std::shared_ptr<const OnlineRead>(std::move(read));
}

Result<OnlineValues> OnlineStore::Get(const std::vector<int>& features, const Table& rows,
                                      std::span<const int64_t> times) {
  // Requests of one shape (the same features, the same columns) come again and again: compile each shape once.
  std::string shape = rows.schema().ToString();
  for (int f : features) shape += fmt::format(",{}", f);
  std::shared_ptr<const OnlineRead> read;
  {
    std::lock_guard<std::mutex> lock(prepared_mu_);
    auto it = prepared_.find(shape);
    if (it != prepared_.end()) read = it->second;
  }
  if (read == nullptr) {
    GYRE_ASSIGN_OR_RETURN(read, Prepare(features, rows.schema()));
    std::lock_guard<std::mutex> lock(prepared_mu_);
    if (prepared_.size() >= kMaxPreparedShapes) prepared_.clear();  // clients sending ever new shapes
    prepared_.emplace(std::move(shape), read);
  }
  return Get(*read, rows, times);
}

Status OnlineStore::Read(const OnlineRead& read, const Table& rows, std::span<const int64_t> times,
                         const ValueSink& sink) {
  if (static_cast<int64_t>(times.size()) != rows.num_rows()) {
    return Status::InvalidArgument(fmt::format("{} rows but {} timestamps", rows.num_rows(), times.size()));
  }
  const Schema& schema = rows.schema();
  if (!(schema == read.schema)) {
    return Status::InvalidArgument(fmt::format("rows have columns ({}), the read was prepared for ({})",
                                               schema.ToString(), read.schema.ToString()));
  }
  const int64_t n = rows.num_rows();

  // Reused by this thread's next read (a scored login reads once per request): reset, never trusted. What a
  // big batch grew is released on the way out, so a thread does not hold it for good.
  thread_local ReadScratch scratch;
  struct TrimOnExit {
    ReadScratch& s;
    ~TrimOnExit() {
      if (s.held.capacity() > kMaxKeptScratchValues) {
        std::vector<FeatureValue>().swap(s.held);
        std::vector<ReadStatus>().swap(s.held_status);
      }
    }
  } trim{scratch};
  // Values of the aggregated features: row r of needed feature k at k * n + r.
  std::vector<FeatureValue>& held = scratch.held;
  held.assign(read.needed.size() * static_cast<size_t>(n), FeatureValue());
  std::vector<ReadStatus>& held_status = scratch.held_status;
  held_status.assign(held.size(), ReadStatus::kPresent);
  auto at = [n](int slot, int64_t r) {
    return static_cast<size_t>(slot) * static_cast<size_t>(n) + static_cast<size_t>(r);
  };
  std::vector<ExprValue>& slots = scratch.slots;
  slots.assign(static_cast<size_t>(schema.size()) + registry_->features().size(), ExprValue());
  std::vector<FeatureValue>& values = scratch.values;
  std::vector<std::optional<uint64_t>>& is_new_bits = scratch.is_new_bits;
  // Reads one row's state of one group into `held`.
  auto read_state = [&](size_t g, int64_t r, KeyState& state) {
    const OnlineRead::Group& group = read.groups[g];
    const auto& accumulators = programs_[group.group]->accumulators();
    values.resize(accumulators.size());
    is_new_bits.assign(accumulators.size(), std::nullopt);
    RowValues(rows, group.is_new.columns()).Fill(r, slots);
    group.is_new.Evaluate(slots, is_new_bits);
    ReadStatus status = state.Read(times[r], is_new_bits, values);
    for (size_t i = 0; i < accumulators.size(); ++i) {
      int slot = group.held_slot[i];
      if (slot < 0) continue;  // not read
      held[at(slot, r)] = std::move(values[i]);
      held_status[at(slot, r)] = status;
    }
  };

  // Cached keys are read at once; the rest come in one MultiGet (one round trip on Redis).
  struct Miss {
    size_t group;
    int64_t row;
    std::string key;
    uint64_t stripe_writes;
  };
  std::vector<Miss> misses;
  const int64_t now = NowMicros();
  std::string& key = scratch.key;
  int64_t hits = 0;
  for (size_t g = 0; g < read.groups.size(); ++g) {
    const OnlineRead::Group& group = read.groups[g];
    for (int64_t r = 0; r < n; ++r) {
      if (!KeyOf(group.group, rows, group.key_columns, r, &key)) {
        KeyState empty(programs_[group.group].get());
        read_state(g, r, empty);
        continue;
      }
      uint64_t stripe_writes = 0;
      if (caching_) {
        const CacheKey cache_key = CacheKeyOf(key);
        Stripe& stripe = StripeFor(cache_key);
        std::lock_guard<std::mutex> lock(stripe.mu);
        if (Cached* cached = Lookup(stripe, cache_key, now)) {
          ++hits;
          read_state(g, r, cached->state);
          continue;
        }
        stripe_writes = stripe.writes;
      }
      misses.push_back({g, r, key, stripe_writes});
    }
  }
  // Counted once per read: both request threads bumping shared counters per key moved their cache line
  // between the cores several times a request.
  if (hits > 0) cache_hits_ += hits;
  if (!misses.empty()) cache_misses_ += static_cast<int64_t>(misses.size());
  if (!misses.empty()) {
    std::vector<std::string> keys;
    keys.reserve(misses.size());
    for (const Miss& m : misses) keys.push_back(m.key);
    GYRE_ASSIGN_OR_RETURN(std::vector<std::optional<std::string>> blobs, kv_->MultiGet(keys));
    for (size_t i = 0; i < misses.size(); ++i) {
      const Miss& m = misses[i];
      GYRE_ASSIGN_OR_RETURN(Cached loaded, Decode(read.groups[m.group].group, blobs[i]));
      if (!caching_) {
        read_state(m.group, m.row, loaded.state);
        continue;
      }
      const CacheKey key = CacheKeyOf(m.key);
      Stripe& stripe = StripeFor(key);
      std::lock_guard<std::mutex> lock(stripe.mu);
      Cached* cached = Lookup(stripe, key, now);
      if (cached == nullptr && stripe.writes == m.stripe_writes) cached = Insert(stripe, key, std::move(loaded));
      read_state(m.group, m.row, cached != nullptr ? cached->state : loaded.state);
    }
  }

  for (size_t i = 0; i < read.features.size(); ++i) {
    int f = read.features[i];
    if (!read.derived[i]) {
      for (int64_t r = 0; r < n; ++r) sink(i, r, held[at(read.held_slot[f], r)], held_status[at(read.held_slot[f], r)]);
      continue;
    }
    const FeatureDef& def = registry_->features()[f];
    for (int64_t r = 0; r < n; ++r) {
      RowValues(rows, read.all_columns).Fill(r, slots);
      ReadStatus status = ReadStatus::kPresent;
      for (int input : registry_->derived()[def.derived].inputs) {
        const size_t h = at(read.held_slot[input], r);
        slots[schema.size() + input] = FeatureExprValue(held[h], registry_->features()[input].type);
        if (held_status[h] != ReadStatus::kPresent && status == ReadStatus::kPresent) status = held_status[h];
      }
      // A derived feature is as fresh as its inputs; NOT_FOUND inputs still give a value (e.g. no history).
      sink(i, r, FromExprValue(read.derived[i]->Evaluate(slots)),
           status == ReadStatus::kOutsideMaxAge ? status : ReadStatus::kPresent);
    }
  }
  return Status::OK();
}

Result<OnlineValues> OnlineStore::Get(const OnlineRead& read, const Table& rows, std::span<const int64_t> times) {
  OnlineValues out;
  out.features = read.features;
  out.values.assign(read.features.size(), std::vector<FeatureValue>(static_cast<size_t>(rows.num_rows())));
  out.statuses.assign(read.features.size(), std::vector<ReadStatus>(static_cast<size_t>(rows.num_rows())));
  GYRE_RETURN_IF_ERROR(Read(read, rows, times, [&](size_t feature, int64_t row, const FeatureValue& value,
                                                   ReadStatus status) {
    out.values[feature][static_cast<size_t>(row)] = value;
    out.statuses[feature][static_cast<size_t>(row)] = status;
  }));
  return out;
}

Status OnlineStore::GetFloats(const OnlineRead& read, const Table& rows, std::span<const int64_t> times,
                              std::span<float> out) {
  const size_t d = read.features.size();
  if (out.size() != d * static_cast<size_t>(rows.num_rows())) {
    return Status::InvalidArgument(fmt::format("{} floats for {} rows of {} features", out.size(), rows.num_rows(), d));
  }
  return Read(read, rows, times, [&](size_t feature, int64_t row, const FeatureValue& value, ReadStatus) {
    out[static_cast<size_t>(row) * d + feature] =
        value.null || !value.text.empty() ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(value.number);
  });
}

}  // namespace gyre::features
