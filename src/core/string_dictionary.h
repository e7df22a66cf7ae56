// StringDictionary: the unique strings of a dictionary-encoded column, and the code of each.
//
// Codes are dense int32 values 0, 1, 2, ... in order of first insertion, so a column's codes can index
// plain arrays (counts per value, per-category statistics) without any lookup. The strings live in one
// contiguous byte arena; lookups hash a string_view with XXH3 and probe an open-addressing table whose
// slots carry 32 bits of the hash, so a miss rarely touches the arena. Nothing is allocated per string.
//
// Contract: Get() returns a view into the arena that stays valid until the next Insert() (which may grow
// the arena); a dictionary that is no longer modified (e.g. inside a built Table) hands out stable views.
// At most 2^31 - 1 distinct strings. Not thread-safe for writers; concurrent const use is safe.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace gyre {

class StringDictionary {
 public:
  StringDictionary() = default;

  // The code of `value`, inserting it first if it is new.
  int32_t Insert(std::string_view value);

  // The code of `value`, or -1 if it is not in the dictionary.
  int32_t Find(std::string_view value) const;

  // The string for `code` (0 <= code < size()); see the lifetime note above.
  std::string_view Get(int32_t code) const {
    return {arena_.data() + offsets_[code], static_cast<size_t>(offsets_[code + 1] - offsets_[code])};
  }

  int32_t size() const { return static_cast<int32_t>(offsets_.size() - 1); }
  // Total bytes of all distinct strings.
  int64_t byte_size() const { return offsets_.back(); }

  // Makes room for `strings` distinct values totalling `bytes` without rehashing or reallocating.
  void Reserve(int32_t strings, int64_t bytes);

 private:
  static uint64_t Hash(std::string_view value);
  int32_t Probe(std::string_view value, uint64_t hash, size_t* empty_slot) const;
  void Rehash(size_t capacity);

  std::vector<char> arena_;
  std::vector<int64_t> offsets_{0};  // string i is arena_[offsets_[i], offsets_[i + 1])
  // 0 = empty; otherwise (upper 32 bits of the hash) << 32 | (code + 1). Capacity is a power of two and
  // at most half full, so linear probing stays short.
  std::vector<uint64_t> slots_;
};

}  // namespace gyre
