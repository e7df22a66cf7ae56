#include "features/approx_distinct.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace gyre::features {
namespace {

// A pair packs (offset << (kRankBits + precision)) | register << kRankBits | rank. Ranks go up to
// 64 - kMinPrecision + 1 = 61, so 6 bits hold them.
constexpr int kRankBits = 6;
constexpr uint64_t kRankMask = (uint64_t{1} << kRankBits) - 1;
constexpr size_t kMaxRegisters = size_t{1} << SlidingHyperLogLog::kMaxPrecision;
// Marks a register already counted in Estimate(); above every rank.
constexpr uint8_t kCounted = 0xFF;
// 2^-k, exact.
constexpr auto kInversePowersOfTwo = [] {
  std::array<double, 64> powers{};
  double v = 1;
  for (double& power : powers) {
    power = v;
    v /= 2;
  }
  return powers;
}();
// The smallest buffer worth allocating: a few repeats of one value compact back into it.
constexpr size_t kMinCapacity = 4;

// Serialized state, version 1:
//   byte 0      kFormatV1
//   byte 1      precision
//   varint      n, the number of pairs (only non-expired, non-dominated ones are written)
//   8 bytes     if n > 0: the first pair's timestamp, int64 little-endian
//   n varints   (dt << (6 + precision)) | register << 6 | rank, in time order, dt = timestamp minus the
//               previous pair's (0 for the first)
// Deserialize() accepts exactly what Serialize() can write, so a state re-serializes to the same bytes.
constexpr uint8_t kFormatV1 = 1;

int ClampPrecision(int precision) {
  return std::clamp(precision, SlidingHyperLogLog::kMinPrecision, SlidingHyperLogLog::kMaxPrecision);
}

int Shift(int precision) { return kRankBits + precision; }
// The largest timestamp offset a pair can hold: 58 - precision bits.
uint64_t MaxOffset(int precision) { return ~uint64_t{0} >> Shift(precision); }
// The largest rank: every bit below the register bits zero.
uint64_t MaxRank(int precision) { return 64 - precision + 1; }

// The bias correction of the harmonic mean, from the HyperLogLog paper (Flajolet et al. 2007).
double Alpha(uint32_t m) {
  if (m == 16) return 0.673;
  if (m == 32) return 0.697;
  if (m == 64) return 0.709;
  return 0.7213 / (1.0 + 1.079 / m);
}

struct Pair {
  uint32_t reg;
  uint32_t rank;
};

inline Pair Unpack(uint64_t entry, int precision) {
  return {static_cast<uint32_t>((entry >> kRankBits) & ((uint64_t{1} << precision) - 1)),
          static_cast<uint32_t>(entry & kRankMask)};
}

// Writes the pairs of [begin, end) that no later pair of the same register dominates (rank <= a later
// rank) backwards, ending just before `out_end`, keeping their order; returns how many. `out_end` may be
// `end` itself: a backward pass never writes over a pair it has not read yet.
size_t KeepUndominated(const uint64_t* begin, const uint64_t* end, uint64_t* out_end, int precision) {
  uint8_t later_max[kMaxRegisters];  // only the bytes of registers present are written, then read
  for (const uint64_t* p = begin; p != end; ++p) later_max[Unpack(*p, precision).reg] = 0;
  uint64_t* out = out_end;
  for (const uint64_t* p = end; p != begin;) {
    --p;
    const Pair pair = Unpack(*p, precision);
    if (pair.rank > later_max[pair.reg]) {
      later_max[pair.reg] = static_cast<uint8_t>(pair.rank);
      *--out = *p;
    }
  }
  return static_cast<size_t>(out_end - out);
}

void AppendVarint(uint64_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(static_cast<uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

Status Corrupt(size_t offset, std::string_view what) {
  return Status::Corruption(fmt::format("corrupt approx_distinct state: byte {}: {}", offset, what));
}

// Reads a minimal LEB128 varint at *pos; rejects truncation, more than 64 bits and overlong encodings.
Status ReadVarint(std::string_view in, size_t* pos, std::string_view what, uint64_t* value) {
  const size_t start = *pos;
  uint64_t v = 0;
  for (int i = 0; i < 10; ++i) {
    if (*pos >= in.size()) return Corrupt(start, fmt::format("{} truncated", what));
    const uint8_t byte = static_cast<uint8_t>(in[(*pos)++]);
    if (i == 9 && byte > 1) return Corrupt(start, fmt::format("{} overflows 64 bits", what));
    v |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) {
      if (byte == 0 && i > 0) return Corrupt(start, fmt::format("{} has an overlong encoding", what));
      *value = v;
      return Status::OK();
    }
  }
  return Corrupt(start, fmt::format("{} overflows 64 bits", what));
}

}  // namespace

SlidingHyperLogLog::SlidingHyperLogLog(int precision) : precision_(static_cast<uint8_t>(ClampPrecision(precision))) {}

double SlidingHyperLogLog::RelativeStandardError(int precision) { return 1.04 / std::sqrt(std::ldexp(1.0, precision)); }

size_t SlidingHyperLogLog::MemoryUsage() const { return sizeof(*this) + entries_.capacity() * sizeof(uint64_t); }

void SlidingHyperLogLog::Clear() {
  std::vector<uint64_t>().swap(entries_);
  base_ = 0;
  head_ = 0;
}

void SlidingHyperLogLog::Add(uint64_t hash, int64_t timestamp) {
  const int p = precision_;
  const int shift = Shift(p);
  const uint64_t reg = hash >> (64 - p);
  // std::countl_zero(0) is 64: an all-zero remainder gets the largest rank, 64 - p + 1.
  const uint64_t rank = static_cast<uint64_t>(std::min(std::countl_zero(hash << p), 64 - p)) + 1;
  const uint64_t low = reg << kRankBits | rank;

  if (head_ == entries_.size()) {  // nothing held: start the offsets at this timestamp
    entries_.clear();
    head_ = 0;
    base_ = timestamp;
  }
  // The common repeat of the same value (or another of its register with no higher rank) right after
  // itself: the new pair dominates the last one, so it takes its place.
  const bool replace_last = entries_.size() > head_ &&
                            (entries_.back() & ((uint64_t{1} << shift) - 1)) >> kRankBits == reg &&
                            (entries_.back() & kRankMask) <= rank;
  // Before the offset is computed: Compact() re-bases the offsets.
  if (!replace_last && entries_.size() == entries_.capacity()) Compact();

  // Unsigned subtraction: the exact distance even when it does not fit an int64.
  const uint64_t last = entries_.empty() ? 0 : entries_.back() >> shift;
  uint64_t offset =
      timestamp < base_ ? last : std::max(last, static_cast<uint64_t>(timestamp) - static_cast<uint64_t>(base_));
  if (offset > MaxOffset(p)) {
    Compact();  // re-bases on the oldest pair held, which may be enough
    offset = static_cast<uint64_t>(timestamp) - static_cast<uint64_t>(base_);
    if (offset > MaxOffset(p)) {
      // The held pairs span more than the offset bits: move the oldest forward (see the header's
      // Limitation). Offsets stay sorted, as max(o - excess, 0) is monotone.
      const uint64_t excess = offset - MaxOffset(p);
      for (uint64_t& e : entries_) {
        const uint64_t o = e >> shift;
        e = (o > excess ? o - excess : 0) << shift | (e & ((uint64_t{1} << shift) - 1));
      }
      base_ = static_cast<int64_t>(static_cast<uint64_t>(base_) + excess);
      offset = MaxOffset(p);
    }
  }
  const uint64_t entry = offset << shift | low;
  if (replace_last) {
    entries_.back() = entry;
  } else {
    entries_.push_back(entry);
  }
}

void SlidingHyperLogLog::ExpireBefore(int64_t timestamp) {
  if (head_ == entries_.size() || timestamp <= base_) return;
  const int shift = Shift(precision_);
  const uint64_t limit = static_cast<uint64_t>(timestamp) - static_cast<uint64_t>(base_);
  if (limit > MaxOffset(precision_)) {
    head_ = static_cast<uint32_t>(entries_.size());
  } else {
    while (head_ < entries_.size() && (entries_[head_] >> shift) < limit) ++head_;
  }
  // Moving the rest down costs no more than the pairs expired since the last move.
  if (head_ > 0 && size_t{head_} * 2 >= entries_.size()) Compact();
}

void SlidingHyperLogLog::Compact() {
  const int p = precision_;
  const int shift = Shift(p);
  uint64_t* data = entries_.data();
  const size_t size = entries_.size();
  const size_t kept = KeepUndominated(data + head_, data + size, data + size, p);
  const uint64_t* from = data + (size - kept);
  if (kept > 0) {
    const uint64_t first = from[0] >> shift;
    base_ = static_cast<int64_t>(static_cast<uint64_t>(base_) + first);
    const uint64_t rebase = first << shift;
    for (size_t i = 0; i < kept; ++i) data[i] = from[i] - rebase;  // i <= source index: a safe forward copy
  }
  entries_.resize(kept);
  head_ = 0;
  const size_t capacity = entries_.capacity();
  // Keep between 1.25 and 3 slots per pair (1.5 after a reallocation): the next Compact() is then at least
  // a fifth of the buffer's adds away, which pays for it, and the memory stays proportional to the pairs.
  if (kept * 5 > capacity * 4 || kept * 3 < capacity) {
    Reallocate(kept == 0 ? 0 : std::max(kMinCapacity, kept + kept / 2));
  }
}

void SlidingHyperLogLog::Reallocate(size_t capacity) {
  std::vector<uint64_t> resized;
  resized.reserve(capacity);
  resized.assign(entries_.begin() + head_, entries_.end());
  entries_.swap(resized);
  head_ = 0;
}

double SlidingHyperLogLog::Estimate() const {
  const int p = precision_;
  const uint32_t m = uint32_t{1} << p;
  const uint64_t* begin = entries_.data() + head_;
  const uint64_t* end = entries_.data() + entries_.size();
  const size_t n = static_cast<size_t>(end - begin);
  // Per-register maxima in a stack scratch, then a histogram of them: histogram[0] counts the empty
  // registers. Both ways below build the same integer histogram, so the estimate does not depend on
  // which one runs (nor on the order of the pairs).
  uint8_t max_rank[kMaxRegisters];
  uint32_t histogram[64] = {};
  if (n * 4 < m) {
    // Few pairs: only the registers present are touched, so the cost follows n, not 2^p.
    for (const uint64_t* e = begin; e != end; ++e) max_rank[Unpack(*e, p).reg] = 0;
    for (const uint64_t* e = begin; e != end; ++e) {
      const Pair pair = Unpack(*e, p);
      max_rank[pair.reg] = std::max(max_rank[pair.reg], static_cast<uint8_t>(pair.rank));
    }
    uint32_t nonzero = 0;
    for (const uint64_t* e = begin; e != end; ++e) {
      uint8_t& r = max_rank[Unpack(*e, p).reg];
      if (r == kCounted) continue;
      ++histogram[r];
      ++nonzero;
      r = kCounted;
    }
    histogram[0] = m - nonzero;
  } else {
    // Many pairs: every register, with four histograms so that runs of equal maxima do not serialise
    // the increments on one counter.
    std::memset(max_rank, 0, m);
    for (const uint64_t* e = begin; e != end; ++e) {
      const Pair pair = Unpack(*e, p);
      max_rank[pair.reg] = std::max(max_rank[pair.reg], static_cast<uint8_t>(pair.rank));
    }
    uint32_t lanes[4][64] = {};
    for (uint32_t j = 0; j < m; j += 4) {  // m >= 16
      ++lanes[0][max_rank[j]];
      ++lanes[1][max_rank[j + 1]];
      ++lanes[2][max_rank[j + 2]];
      ++lanes[3][max_rank[j + 3]];
    }
    for (int k = 0; k < 64; ++k) histogram[k] = lanes[0][k] + lanes[1][k] + lanes[2][k] + lanes[3][k];
  }

  const uint32_t zeros = histogram[0];
  double sum = zeros;
  for (int k = 1; k < 64; ++k) {
    if (histogram[k] != 0) sum += histogram[k] * kInversePowersOfTwo[k];
  }
  const double md = m;
  const double raw = Alpha(m) * md * md / sum;
  if (raw <= 2.5 * md && zeros > 0) return md * std::log(md / zeros);
  return raw;
}

void SlidingHyperLogLog::Serialize(std::string* out) const {
  const int p = precision_;
  const int shift = Shift(p);
  const size_t held = entries_.size() - head_;
  std::vector<uint64_t> kept(held);
  const size_t n = KeepUndominated(entries_.data() + head_, entries_.data() + entries_.size(), kept.data() + held, p);
  const uint64_t* pairs = kept.data() + (held - n);

  out->push_back(static_cast<char>(kFormatV1));
  out->push_back(static_cast<char>(p));
  AppendVarint(n, out);
  if (n == 0) return;
  const uint64_t first = pairs[0] >> shift;
  const uint64_t first_timestamp = static_cast<uint64_t>(base_) + first;
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>(first_timestamp >> (8 * i)));
  uint64_t previous = first;
  for (size_t i = 0; i < n; ++i) {
    const uint64_t offset = pairs[i] >> shift;
    AppendVarint((offset - previous) << shift | (pairs[i] & ((uint64_t{1} << shift) - 1)), out);
    previous = offset;
  }
}

Result<SlidingHyperLogLog> SlidingHyperLogLog::Deserialize(std::string_view* in) {
  const std::string_view s = *in;
  size_t pos = 0;
  if (s.size() < 2) return Corrupt(s.size(), "truncated header");
  if (static_cast<uint8_t>(s[0]) != kFormatV1) {
    return Corrupt(0, fmt::format("unknown format version {}", static_cast<uint8_t>(s[0])));
  }
  const int p = static_cast<uint8_t>(s[1]);
  if (p < kMinPrecision || p > kMaxPrecision) {
    return Corrupt(1, fmt::format("precision {} outside [{}, {}]", p, kMinPrecision, kMaxPrecision));
  }
  pos = 2;
  uint64_t n = 0;
  GYRE_RETURN_IF_ERROR(ReadVarint(s, &pos, "pair count", &n));
  // Each pair takes at least one byte, and a register holds at most one pair per rank: both bounds keep
  // a garbage count from allocating.
  const uint64_t max_pairs = (uint64_t{1} << p) * MaxRank(p);
  if (n > max_pairs || n > s.size() - pos) {
    return Corrupt(2, fmt::format("pair count {} exceeds what the {} remaining bytes can hold", n, s.size() - pos));
  }

  SlidingHyperLogLog result(p);
  if (n > 0) {
    if (s.size() - pos < 8) return Corrupt(pos, "truncated first timestamp");
    uint64_t first_timestamp = 0;
    for (int i = 0; i < 8; ++i) first_timestamp |= static_cast<uint64_t>(static_cast<uint8_t>(s[pos + i])) << (8 * i);
    pos += 8;
    result.base_ = static_cast<int64_t>(first_timestamp);
    // The offsets may reach MaxOffset(p) but no timestamp past INT64_MAX.
    const uint64_t max_offset =
        result.base_ < 0 ? MaxOffset(p)
                         : std::min<uint64_t>(
                               MaxOffset(p), static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - result.base_));
    const int shift = Shift(p);
    result.entries_.reserve(n + 1);  // room for the next Add() without a Compact()
    uint64_t offset = 0;
    for (uint64_t i = 0; i < n; ++i) {
      const size_t at = pos;
      uint64_t v = 0;
      GYRE_RETURN_IF_ERROR(ReadVarint(s, &pos, fmt::format("pair {}", i), &v));
      const uint64_t dt = v >> shift;
      const uint64_t rank = v & kRankMask;
      if (rank == 0 || rank > MaxRank(p)) {
        return Corrupt(at, fmt::format("pair {}: rank {} outside [1, {}]", i, rank, MaxRank(p)));
      }
      if (i == 0 && dt != 0) return Corrupt(at, "pair 0: the first pair must have time step 0");
      if (dt > max_offset - offset) {
        return Corrupt(at, fmt::format("pair {}: time step {} overflows the timestamp range", i, dt));
      }
      offset += dt;
      result.entries_.push_back(offset << shift | (v & ((uint64_t{1} << shift) - 1)));
    }
    // Serialize() writes only pairs no later pair dominates; anything else is not its output.
    std::vector<uint64_t> kept(n);
    const uint64_t* data = result.entries_.data();
    if (KeepUndominated(data, data + n, kept.data() + n, p) != n) {
      return Corrupt(pos, "a pair is dominated by a later pair of its register");
    }
  }
  *in = s.substr(pos);
  return result;
}

}  // namespace gyre::features
