// OnlineStore: the features of live traffic. Events pushed per source update each entity key's KeyState
// (the same code as the backfill) kept in a store::KvStore (RocksDB by default, Redis, or memory); reads
// return the features of entity keys as of a time, with Feast's statuses.
//
// Contract:
// - Push(source, rows): rows have the source's columns (by name; missing ones are null) and a timestamp.
//   Each group over the source appends the event to its key's state. Events older than the key's newest by
//   more than the allowed lateness are dropped and counted (PushResult::too_late), never silently.
// - Get(features, rows, times): per row, the feature values as of its time (strictly before it). Rows carry
//   the entity keys of the features' groups, and the columns is_new and derived features read. A key with no
//   state reads as NOT_FOUND with the values of an empty history (count 0, null means, ...), the values the
//   training set has for such a row; a key idle longer than its group's max_age reads as OUTSIDE_MAX_AGE
//   with nulls.
// - State of a key idle for its group's ttl expires (KvStore expiry, wall clock) and restarts (event time).
// - Thread-safe. Pushes to one key are serialised by a striped lock; reads take no lock (a read sees a state
//   before or after a concurrent push, never a torn one).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
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
};

struct OnlineValues {
  std::vector<int> features;  // indices into the registry's features, in request order
  // values[f][row] and statuses[f][row], feature-major (Feast's layout).
  std::vector<std::vector<FeatureValue>> values;
  std::vector<std::vector<ReadStatus>> statuses;
};

class OnlineStore {
 public:
  // `registry` must outlive the store.
  static Result<std::unique_ptr<OnlineStore>> Open(const FeatureRegistry* registry,
                                                   std::unique_ptr<store::KvStore> kv);
  ~OnlineStore();

  const FeatureRegistry& registry() const { return *registry_; }
  std::string_view backend() const { return kv_->backend(); }

  // `rows` must have the source's schema (features::SourceDef::schema), e.g. built with MakeSourceTable.
  Result<PushResult> Push(int source, const Table& rows);
  // `rows` holds the entity key columns (and what is_new / derived features read); `times` one per row.
  Result<OnlineValues> Get(const std::vector<int>& features, const Table& rows, std::span<const int64_t> times);

  // Totals since Open (exported as metrics).
  int64_t pushed_events() const { return pushed_.load(); }
  int64_t dropped_too_late() const { return too_late_.load(); }

 private:
  OnlineStore(const FeatureRegistry* registry, std::unique_ptr<store::KvStore> kv);
  std::string KeyOf(int group, const Table& rows, const std::vector<int>& key_columns, int64_t row) const;
  std::mutex& StripeFor(const std::string& key);

  const FeatureRegistry* registry_;
  std::unique_ptr<store::KvStore> kv_;
  std::vector<std::shared_ptr<const GroupProgram>> programs_;  // per group
  std::vector<std::vector<int>> groups_of_source_;
  static constexpr size_t kStripes = 256;
  std::unique_ptr<std::mutex[]> stripes_;
  std::atomic<int64_t> pushed_{0};
  std::atomic<int64_t> too_late_{0};
};

}  // namespace gyre::features
