// StringDictionary: the unique strings of a dictionary-encoded column, and the code of each.
//
// Codes are dense int32 values 0, 1, 2, ... in order of first insertion, so a column's codes can index
// plain arrays (counts per value, per-category statistics) without any lookup. The strings live in one
// contiguous byte arena; nothing is allocated per string.
//
// Up to kLinearMax strings (over at most kLinearInserts inserts) are kept without a table and found by comparing
// each. From then on, lookups hash a string_view with XXH3 and probe an open-addressing table (linear probing,
// at most 3/4 full), in the manner of Abseil's SwissTable: a control array holds one byte per slot (7 bits of
// the hash, or 0 for empty) and is scanned 16 slots at a time with SIMD compares, so even a lookup of a new
// string reads one cache line of control bytes. Each 32-byte slot holds the full hash, the length and either the
// whole string (up to 16 bytes: ids, IPs, country codes) or its first 8 bytes and arena offset, so a hit on a
// short string reads one slot and never the arena. This matters because dictionaries of ids outgrow the CPU
// caches. Callers that look up many strings (a CSV column) can Hash() and Prefetch() ahead so the remaining
// cache misses overlap, then call Insert(value, hash).
//
// Contract: Get() returns a view into the arena that stays valid until the next Insert() (which may grow
// the arena); a dictionary that is no longer modified (e.g. inside a built Table) hands out stable views.
// At most 2^31 - 1 distinct strings, each shorter than 4 GiB. Running out of memory throws std::bad_alloc,
// as the standard containers do. Not thread-safe for writers; concurrent const use is safe. A moved-from
// dictionary is empty and usable. An empty one allocates nothing.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace gyre {

class StringDictionary {
 public:
  StringDictionary() = default;
  StringDictionary(const StringDictionary& other);
  StringDictionary& operator=(const StringDictionary& other);
  StringDictionary(StringDictionary&& other) noexcept;
  StringDictionary& operator=(StringDictionary&& other) noexcept;
  ~StringDictionary();

  static uint64_t Hash(std::string_view value);

  // The code of `value`, inserting it first if it is new. `hash` must be Hash(value).
  int32_t Insert(std::string_view value, uint64_t hash);
  int32_t Insert(std::string_view value) { return Insert(value, Hash(value)); }

  // The code of `value`, or -1 if it is not in the dictionary.
  int32_t Find(std::string_view value) const;

  // Hints that a lookup of a string with this hash is coming.
  void Prefetch(uint64_t hash) const {
    if (capacity_ == 0) return;
    size_t i = hash & (capacity_ - 1);
    __builtin_prefetch(control_ + i);
    __builtin_prefetch(slots_ + i);
  }

  // The string for `code` (0 <= code < size()); see the lifetime note above.
  std::string_view Get(int32_t code) const {
    return {arena_.data() + offsets_[code], static_cast<size_t>(offsets_[code + 1] - offsets_[code])};
  }

  int32_t size() const { return offsets_.empty() ? 0 : static_cast<int32_t>(offsets_.size() - 1); }
  // Total bytes of all distinct strings.
  int64_t byte_size() const { return offsets_.empty() ? 0 : offsets_.back(); }

  // Makes room for `strings` distinct values totalling `bytes` without rehashing or reallocating.
  void Reserve(int32_t strings, int64_t bytes);

 private:
  static constexpr size_t kInline = 16;
  struct Slot {
    uint64_t hash;
    uint32_t code_plus_1;  // 0 = empty
    uint32_t size;
    uint64_t head;  // bytes 0-7 of the string, zero-padded
    uint64_t tail;  // bytes 8-15 if size <= 16, else the string's offset in arena_
  };
  static_assert(sizeof(Slot) == 32);

  static constexpr size_t kGroup = 16;  // control bytes compared at once

  // Up to this many strings are found by comparing each (no table): a one-row table's dictionaries (a scored
  // event's fields) then cost two small allocations instead of four and a zeroed table.
  static constexpr int32_t kLinearMax = 8;
  // ... and for this many Insert calls at most: comparing each costs more than one probe once they repeat.
  static constexpr int32_t kLinearInserts = 32;
  int32_t FindLinear(std::string_view value) const;
  // Adds `value` to the arena and offsets (not to the table); returns its code.
  int32_t Append(std::string_view value);
  int32_t Probe(std::string_view value, uint64_t hash, uint64_t head, uint64_t tail, size_t* empty) const;
  void SetControl(size_t i, uint8_t control);
  // Puts a slot in its probe run's first empty place.
  void Place(const Slot& slot);
  // Makes the table (at least `capacity` slots) for the strings held so far, which were found linearly.
  void BuildTable(size_t capacity);
  void Rehash(size_t capacity);
  // One zeroed block for the control bytes (capacity + kGroup: the first kGroup are mirrored at the end,
  // so a group can be loaded at any index) and the slots. Large tables are mapped with huge pages where
  // the OS allows it: lookups are random, and with 4 KiB pages nearly every one would also miss the TLB.
  void Allocate(size_t capacity, uint8_t** control, Slot** slots) const;
  static size_t BlockBytes(size_t capacity) { return capacity * sizeof(Slot) + capacity + kGroup; }
  static void Free(Slot* slots, size_t capacity);

  std::vector<char> arena_;
  // String i is arena_[offsets_[i], offsets_[i + 1]); empty (no allocation) until the first string, so the
  // dictionary every Column carries costs nothing for columns that are not strings.
  std::vector<int64_t> offsets_;
  Slot* slots_ = nullptr;            // capacity_ slots, a power of two >= kGroup (or none)
  uint8_t* control_ = nullptr;       // right after the slots, in the same block
  size_t capacity_ = 0;
  int32_t linear_inserts_ = 0;  // Insert calls made without a table
};

}  // namespace gyre
