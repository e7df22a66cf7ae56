// KeyState: everything one entity key of one feature group remembers, and the single piece of code that turns
// events into feature values. The offline backfill and the online store both run it, which is why they agree.
//
// Semantics (docs/features.md):
// - Read(t) answers for the window [t - w, t): only events with time < t count, so events at the same
//   timestamp never see each other, whatever order they arrived in. Among events at one timestamp, `last`
//   takes the one that arrived (offline: appears in the file) last.
// - Events are appended in time order; an event older than the newest one for this key ("late") is accepted
//   if it is within the source's allowed lateness and placed where it belongs; older ones are refused (the
//   caller counts them).
// - A key idle for the group's ttl (in event time) starts again from nothing, offline and online alike. A
//   read more than max_age after the key's latest event reports OUTSIDE_MAX_AGE and null values.
//
// Representation. The raw events of the last `horizon` (longest window + allowed lateness) are kept in time
// order, with the values the aggregations need (numbers as doubles, strings as 64-bit XXH3 hashes, text only
// for `last` of a string). Each (aggregation, window) keeps a running accumulator over the events in
// [begin, end) of that buffer; reading at a later t moves `end` forward (adding) and `begin` forward
// (removing), so a read costs O(1) amortised per event. Sums are kept in 128-bit fixed point (2^-40 units),
// which makes adding and removing exact and order-independent: a value computed incrementally equals the same
// value recomputed from scratch, bit for bit. Aggregations that never forget (lifetime windows, last,
// first_seen, time_since_last) fold evicted events into an archive, so a late event or a read at an earlier
// time rebuilds the accumulators exactly from archive + buffer (a read a moment earlier with no event in
// between, at either end of any window, reuses them as they are). Memory per key is bounded by the events in
// its horizon plus the distinct values of its count_distinct / is_new windows.
//
// Not thread-safe: one KeyState is owned by one thread (offline) or guarded by the online store's lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "features/approx_distinct.h"
#include "features/definitions.h"

namespace gyre::features {

// One feature value: null, a number (bools as 0/1, timestamps as microseconds) or a string (`last` of a
// string column).
struct FeatureValue {
  bool null = true;
  double number = 0;
  std::string text;

  static FeatureValue Number(double v) {
    FeatureValue r;
    r.null = false;
    r.number = v;
    return r;
  }
  bool operator==(const FeatureValue& o) const {
    return null == o.null && (null || (number == o.number && text == o.text));
  }
};

enum class ReadStatus : uint8_t { kPresent, kNotFound, kOutsideMaxAge };
std::string_view ReadStatusName(ReadStatus status);  // "PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"

// An event reduced to what a group needs.
struct GroupEvent {
  int64_t ts = 0;
  uint64_t filters = 0;    // bit a: aggregation a's filter passed (all bits set when there is no filter)
  uint64_t nulls = 0;      // bit s: value slot s is null
  std::vector<uint64_t> bits;     // per slot: double bits (numbers, bools, timestamps) or XXH3 (strings)
  std::vector<std::string> texts;  // per string-keeping slot
};

// A group compiled for its source's schema: which values and filters an event carries. Shared (read-only)
// by every KeyState of the group.
class GroupProgram {
 public:
  static Result<std::shared_ptr<const GroupProgram>> Make(const FeatureRegistry& registry, int group);

  const GroupDef& def() const { return *def_; }
  const SourceDef& source() const { return *source_; }
  int num_slots() const { return static_cast<int>(slot_expr_.size()); }
  int num_string_slots() const { return num_string_slots_; }
  int64_t lateness() const { return source_->allowed_lateness; }
  // Columns of the source that filters and values read (to fill only those ExprValues per event).
  const std::vector<int>& used_columns() const { return used_columns_; }

  struct Accumulator {
    AggKind kind;
    int aggregation;
    int feature;  // index into FeatureRegistry::features()
    int slot;     // value slot, -1 if none
    int string_slot;
    int64_t window;
    bool forgets;  // removes events leaving its window (finite windows of count/sum/min/max/distinct/ratio)
    int precision;
  };
  const std::vector<Accumulator>& accumulators() const { return accumulators_; }
  const Expr& slot_expr(int slot) const { return slot_expr_[slot]; }
  ExprType slot_type(int slot) const { return slot_type_[slot]; }
  const std::optional<Expr>& filter(int aggregation) const { return def_->aggregations[aggregation].filter; }
  // What a stored state's bytes mean: the value slots, the filters and the accumulators, in their order. Two
  // programs with one fingerprint read each other's stored states; a changed definition (a feature added,
  // removed or moved, a window or filter changed) changes it, and its old states are not read as its own.
  uint64_t fingerprint() const { return fingerprint_; }

 private:
  const GroupDef* def_ = nullptr;
  const SourceDef* source_ = nullptr;
  std::vector<Expr> slot_expr_;
  std::vector<ExprType> slot_type_;
  std::vector<int> slot_string_index_;  // per slot: index among string-keeping slots or -1
  int num_string_slots_ = 0;
  std::vector<int> used_columns_;
  std::vector<Accumulator> accumulators_;
  uint64_t fingerprint_ = 0;
  friend void EncodeEvent(const GroupProgram& program, std::span<const ExprValue> row, int64_t ts, GroupEvent* out);
};

// is_new compares the scored event's own value of `of` with the key's history, so its expression is also
// compiled for the scored rows' schema (a spine, a request, another source). Built per batch of rows.
class IsNewQueries {
 public:
  // Compiles `of` of the is_new accumulators whose feature `wanted` accepts; a column the rows lack is
  // InvalidArgument naming the feature, the column and `rows_name` (e.g. "the spine").
  static Result<IsNewQueries> Compile(const FeatureRegistry& registry, const GroupProgram& program,
                                      const Schema& rows, std::string_view rows_name,
                                      const std::function<bool(int feature)>& wanted);
  // The row columns the expressions read (to fill only those ExprValues).
  const std::vector<int>& columns() const { return columns_; }
  // Per accumulator: the value bits to look up (nullopt for null values and for other accumulators).
  void Evaluate(std::span<const ExprValue> row, std::span<std::optional<uint64_t>> out) const;

 private:
  std::vector<std::optional<Expr>> of_;  // per accumulator
  std::vector<int> columns_;
};

// Turns a source row (its columns as ExprValues, indexed by column) into a GroupEvent.
void EncodeEvent(const GroupProgram& program, std::span<const ExprValue> row, int64_t ts, GroupEvent* out);
// The 64-bit representation of a value as stored in slots (used for is_new queries too).
uint64_t ValueBits(const ExprValue& value);

class KeyState {
 public:
  // `program` must outlive the state (the offline runner and the online store own it).
  explicit KeyState(const GroupProgram* program);
  KeyState(KeyState&&) noexcept;
  KeyState& operator=(KeyState&&) noexcept;
  ~KeyState();

  enum class AppendResult { kAccepted, kLate, kTooLate };
  // Adds an event. kLate: accepted out of order; kTooLate: older than the allowed lateness, dropped.
  AppendResult Append(const GroupEvent& event);

  // Values of the group's features (in the order of program.accumulators()) as of time t. `is_new_bits`
  // holds, per accumulator, the query's value bits for is_new (ignored for others; nullopt = null value).
  ReadStatus Read(int64_t t, std::span<const std::optional<uint64_t>> is_new_bits, std::span<FeatureValue> out);

  bool empty() const;
  int64_t latest_ts() const { return latest_ts_; }
  // Raw events held (for memory accounting).
  size_t buffered_events() const;

  // A bare snapshot of the state (exact: Deserialize gives back a state that reads and appends alike).
  void Serialize(std::string* out) const;
  static Result<KeyState> Deserialize(const GroupProgram* program, std::string_view bytes);

  // The online store's stored value: a snapshot, then one record per event accepted since (appended with
  // store::KvWrite::append, so a push does not rewrite the key's whole history). Each part carries the
  // expiry the value was written with, so the value's expiry is that of its last part.
  void AppendSnapshot(int64_t expires_at, std::string* out) const;
  static void AppendEventRecord(const GroupProgram& program, const GroupEvent& event, int64_t expires_at,
                                std::string* out);
  struct Stored;
  // Parses a stored value and replays its records. A value written under another definition of the group (its
  // program's fingerprint differs) loads as an empty state with `definition_changed` set: its bytes would read
  // as other features' values. Values from before fingerprints were stored load with `legacy` set (the next
  // write rewrites them whole): a bare snapshot (Serialize, the format before appends) with expiry unknown (0),
  // or a snapshot with records; one that does not parse is taken for a changed definition too (Corruption is
  // kept for values that carry a fingerprint).
  static Result<Stored> LoadStored(const GroupProgram* program, std::string_view bytes);

 private:
  void SerializeBody(std::string* out) const;
  static Result<KeyState> ParseBody(const GroupProgram* program, std::string_view* in);
  // The snapshot and event records of a stored value, after its header.
  static Result<Stored> ReplayStored(const GroupProgram* program, std::string_view* in, int64_t expires_at);

  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t latest_ts_ = INT64_MIN;  // newest event held (INT64_MIN when none)
};

struct KeyState::Stored {
  KeyState state;
  int64_t expires_at = 0;       // as last written; 0: never (or unknown for a legacy value)
  int64_t snapshot_events = 0;  // events held by the snapshot
  int64_t records = 0;          // event records after it
  bool legacy = false;
  bool definition_changed = false;  // written under another definition of the group: dropped, state empty
};

}  // namespace gyre::features
