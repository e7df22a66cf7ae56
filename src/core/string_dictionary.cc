#include "core/string_dictionary.h"

#include <cstring>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gyre {

uint64_t StringDictionary::Hash(std::string_view value) { return XXH3_64bits(value.data(), value.size()); }

// Returns the code of `value`, or -1 with *empty_slot set to the slot where it would go.
int32_t StringDictionary::Probe(std::string_view value, uint64_t hash, size_t* empty_slot) const {
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 32;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    uint64_t slot = slots_[i];
    if (slot == 0) {
      *empty_slot = i;
      return -1;
    }
    if ((slot >> 32) == tag) {
      int32_t code = static_cast<int32_t>(static_cast<uint32_t>(slot) - 1);
      int64_t begin = offsets_[code];
      if (offsets_[code + 1] - begin == static_cast<int64_t>(value.size()) &&
          (value.empty() || std::memcmp(arena_.data() + begin, value.data(), value.size()) == 0)) {
        return code;
      }
    }
  }
}

int32_t StringDictionary::Find(std::string_view value) const {
  if (slots_.empty()) return -1;
  size_t unused;
  return Probe(value, Hash(value), &unused);
}

int32_t StringDictionary::Insert(std::string_view value) {
  if (slots_.empty()) Rehash(64);
  uint64_t hash = Hash(value);
  size_t slot;
  int32_t code = Probe(value, hash, &slot);
  if (code >= 0) return code;

  code = size();
  slots_[slot] = (hash >> 32) << 32 | (static_cast<uint64_t>(code) + 1);
  arena_.insert(arena_.end(), value.begin(), value.end());
  offsets_.push_back(static_cast<int64_t>(arena_.size()));
  if (static_cast<size_t>(size()) * 2 > slots_.size()) Rehash(slots_.size() * 2);
  return code;
}

void StringDictionary::Reserve(int32_t strings, int64_t bytes) {
  arena_.reserve(static_cast<size_t>(bytes));
  offsets_.reserve(static_cast<size_t>(strings) + 1);
  size_t capacity = slots_.empty() ? 64 : slots_.size();
  while (capacity < static_cast<size_t>(strings) * 2) capacity *= 2;
  if (capacity != slots_.size()) Rehash(capacity);
}

void StringDictionary::Rehash(size_t capacity) {
  slots_.assign(capacity, 0);
  const size_t mask = capacity - 1;
  for (int32_t code = 0; code < size(); ++code) {
    // The slot keeps only the hash's upper half; the probe start needs the lower bits, so rehash the
    // string. Growth doubles, so this costs O(1) amortised per insert.
    uint64_t hash = Hash(Get(code));
    size_t i = hash & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = (hash >> 32) << 32 | (static_cast<uint64_t>(code) + 1);
  }
}

}  // namespace gyre
