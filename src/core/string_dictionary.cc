#include "core/string_dictionary.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#define XXH_INLINE_ALL
#include <xxhash.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace gyre {
namespace {

constexpr size_t kHugePage = 2 << 20;

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// The first 8 bytes of a string of n < 8 bytes, zero-padded, from loads that stay inside it.
inline uint64_t ShortWord(const char* p, size_t n) {
  if (n >= 4) return Load32(p) | Load32(p + n - 4) << (8 * (n - 4));  // the two loads overlap; OR is exact
  if (n == 0) return 0;
  return static_cast<uint64_t>(static_cast<uint8_t>(p[0])) |
         static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << (8 * (n / 2)) |
         static_cast<uint64_t>(static_cast<uint8_t>(p[n - 1])) << (8 * (n - 1));
}

// The first 16 bytes of `value`, zero-padded, as two little-endian words. Built from whole-word loads
// rather than a variable-length memcpy to the stack, which would stall on store forwarding when read back.
inline void Words(std::string_view value, uint64_t* head, uint64_t* tail) {
  const char* p = value.data();
  const size_t n = value.size();
  if (n >= 16) {
    *head = Load64(p);
    *tail = Load64(p + 8);
  } else if (n >= 8) {
    *head = Load64(p);
    *tail = n == 8 ? 0 : Load64(p + n - 8) >> (8 * (16 - n));
  } else {
    *head = ShortWord(p, n);
    *tail = 0;
  }
}

// Control byte of a full slot: 7 bits of the hash (not the bits that pick the slot) with the top bit set,
// so that it is never 0, the empty marker.
inline uint8_t ControlByte(uint64_t hash) { return static_cast<uint8_t>(0x80 | (hash >> 57)); }

// Bit i set where group[i] == byte, for the 16 bytes at `group`.
inline unsigned MatchBytes(const uint8_t* group, uint8_t byte) {
#if defined(__SSE2__)
  __m128i g = _mm_loadu_si128(reinterpret_cast<const __m128i*>(group));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(g, _mm_set1_epi8(static_cast<char>(byte)))));
#else
  unsigned mask = 0;
  for (int i = 0; i < 16; ++i) mask |= static_cast<unsigned>(group[i] == byte) << i;
  return mask;
#endif
}

}  // namespace

void StringDictionary::Allocate(size_t capacity, uint8_t** control, Slot** slots) const {
  size_t bytes = BlockBytes(capacity);
  void* p;
  if (bytes >= kHugePage) {
    p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();  // as std::vector would on exhaustion
#ifdef MADV_HUGEPAGE
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without it the table still works, only slower
#endif
  } else {
    p = std::calloc(bytes, 1);
    if (p == nullptr) throw std::bad_alloc();
  }
  *slots = static_cast<Slot*>(p);
  *control = reinterpret_cast<uint8_t*>(*slots + capacity);
}

void StringDictionary::Free(Slot* slots, size_t capacity) {
  if (slots == nullptr) return;
  size_t bytes = BlockBytes(capacity);
  if (bytes >= kHugePage) {
    ::munmap(slots, bytes);
  } else {
    std::free(slots);
  }
}

StringDictionary::StringDictionary(const StringDictionary& other)
    : arena_(other.arena_), offsets_(other.offsets_), capacity_(other.capacity_), linear_inserts_(other.linear_inserts_) {
  if (capacity_ != 0) {
    Allocate(capacity_, &control_, &slots_);
    std::memcpy(static_cast<void*>(slots_), other.slots_, BlockBytes(capacity_));
  }
}

StringDictionary& StringDictionary::operator=(const StringDictionary& other) {
  if (this != &other) *this = StringDictionary(other);
  return *this;
}

StringDictionary::StringDictionary(StringDictionary&& other) noexcept
    : arena_(std::move(other.arena_)),
      offsets_(std::move(other.offsets_)),
      slots_(std::exchange(other.slots_, nullptr)),
      control_(std::exchange(other.control_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      linear_inserts_(std::exchange(other.linear_inserts_, 0)) {
  other.arena_.clear();
  other.offsets_.clear();
}

StringDictionary& StringDictionary::operator=(StringDictionary&& other) noexcept {
  if (this != &other) {
    Free(slots_, capacity_);
    arena_ = std::move(other.arena_);
    offsets_ = std::move(other.offsets_);
    other.arena_.clear();
    other.offsets_.clear();
    slots_ = std::exchange(other.slots_, nullptr);
    control_ = std::exchange(other.control_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    linear_inserts_ = std::exchange(other.linear_inserts_, 0);
  }
  return *this;
}

StringDictionary::~StringDictionary() { Free(slots_, capacity_); }

uint64_t StringDictionary::Hash(std::string_view value) { return XXH3_64bits(value.data(), value.size()); }

void StringDictionary::SetControl(size_t i, uint8_t control) {
  control_[i] = control;
  if (i < kGroup) control_[capacity_ + i] = control;  // the mirror read by groups that wrap around
}

// The code of `value`, or -1 with *empty set to the slot where it would go. Linear probing, 16 control
// bytes at a time: a string is always found before the first empty slot after its home slot.
int32_t StringDictionary::Probe(std::string_view value, uint64_t hash, uint64_t head, uint64_t tail,
                                size_t* empty) const {
  const size_t mask = capacity_ - 1;
  const uint8_t control = ControlByte(hash);
  const bool inline_value = value.size() <= kInline;
  for (size_t group = hash & mask;; group = (group + kGroup) & mask) {
    const uint8_t* bytes = control_ + group;
    unsigned empties = MatchBytes(bytes, 0);
    // Candidates past the first empty slot belong to other probe runs: skip them.
    unsigned candidates = MatchBytes(bytes, control) & (empties == 0 ? 0xFFFFu : (1u << __builtin_ctz(empties)) - 1);
    for (; candidates != 0; candidates &= candidates - 1) {
      const Slot& s = slots_[(group + __builtin_ctz(candidates)) & mask];
      if (s.hash != hash || s.size != value.size() || s.head != head) continue;
      if (inline_value ? s.tail == tail
                       : std::memcmp(arena_.data() + s.tail + 8, value.data() + 8, value.size() - 8) == 0) {
        return static_cast<int32_t>(s.code_plus_1 - 1);
      }
    }
    if (empties != 0) {
      *empty = (group + __builtin_ctz(empties)) & mask;
      return -1;
    }
  }
}

int32_t StringDictionary::FindLinear(std::string_view value) const {
  for (int32_t code = 0; code < size(); ++code) {
    if (Get(code) == value) return code;
  }
  return -1;
}

int32_t StringDictionary::Find(std::string_view value) const {
  if (capacity_ == 0) return FindLinear(value);
  uint64_t head, tail;
  Words(value, &head, &tail);
  size_t unused;
  return Probe(value, Hash(value), head, tail, &unused);
}

int32_t StringDictionary::Append(std::string_view value) {
  if (offsets_.empty()) {
    offsets_.reserve(kLinearMax + 1);
    arena_.reserve(std::max<size_t>(64, value.size()));
    offsets_.push_back(0);
  }
  const int32_t code = size();
  const size_t offset = arena_.size();
  arena_.resize(offset + value.size());
  if (!value.empty()) std::memcpy(arena_.data() + offset, value.data(), value.size());
  offsets_.push_back(static_cast<int64_t>(arena_.size()));
  return code;
}

int32_t StringDictionary::Insert(std::string_view value, uint64_t hash) {
  if (capacity_ == 0) {
    // A dictionary fed many values (a CSV column with few distinct ones) is better served by hashing.
    if (++linear_inserts_ <= kLinearInserts) {
      const int32_t code = FindLinear(value);
      if (code >= 0) return code;
      if (size() < kLinearMax) return Append(value);
    }
    BuildTable(kGroup);
  }
  uint64_t head, tail;
  Words(value, &head, &tail);
  size_t empty;
  int32_t code = Probe(value, hash, head, tail, &empty);
  if (code >= 0) return code;

  const uint64_t offset = arena_.size();
  code = Append(value);
  slots_[empty] = {hash, static_cast<uint32_t>(code) + 1, static_cast<uint32_t>(value.size()), head,
                   value.size() <= kInline ? tail : offset};
  SetControl(empty, ControlByte(hash));
  if (static_cast<size_t>(size()) * 4 > capacity_ * 3) Rehash(capacity_ * 2);
  return code;
}

void StringDictionary::Reserve(int32_t strings, int64_t bytes) {
  arena_.reserve(static_cast<size_t>(bytes));
  offsets_.reserve(static_cast<size_t>(strings) + 1);
  if (capacity_ == 0) {
    if (strings <= kLinearMax) return;
    BuildTable(kGroup);
  }
  size_t capacity = capacity_;
  while (capacity * 3 < static_cast<size_t>(strings) * 4) capacity *= 2;
  if (capacity != capacity_) Rehash(capacity);
}

void StringDictionary::Place(const Slot& slot) {
  const size_t mask = capacity_ - 1;
  size_t group = slot.hash & mask;
  unsigned empties;
  while ((empties = MatchBytes(control_ + group, 0)) == 0) group = (group + kGroup) & mask;
  const size_t i = (group + __builtin_ctz(empties)) & mask;
  slots_[i] = slot;
  SetControl(i, ControlByte(slot.hash));
}

void StringDictionary::BuildTable(size_t capacity) {
  while (static_cast<size_t>(size()) * 4 > capacity * 3) capacity *= 2;
  Allocate(capacity, &control_, &slots_);
  capacity_ = capacity;
  for (int32_t code = 0; code < size(); ++code) {
    const std::string_view value = Get(code);
    uint64_t head, tail;
    Words(value, &head, &tail);
    Place({Hash(value), static_cast<uint32_t>(code) + 1, static_cast<uint32_t>(value.size()), head,
           value.size() <= kInline ? tail : static_cast<uint64_t>(offsets_[code])});
  }
}

void StringDictionary::Rehash(size_t capacity) {
  Slot* old_slots = slots_;
  uint8_t* old_control = control_;
  const size_t old_capacity = capacity_;
  Allocate(capacity, &control_, &slots_);
  capacity_ = capacity;
  for (size_t j = 0; j < old_capacity; ++j) {
    if (old_control[j] != 0) Place(old_slots[j]);
  }
  Free(old_slots, old_capacity);
}

}  // namespace gyre
