// SlidingHyperLogLog: approximate count of distinct values over a sliding time window, in memory that
// does not grow with the number of events.
//
// A HyperLogLog with 2^precision registers where each register keeps, instead of one maximum, the
// (timestamp, rank) pairs that can still be the maximum of some window starting later (older pairs with a
// rank not above a newer one's are dropped). Estimate() over the pairs at or after a window start is the
// HyperLogLog estimate (with the small-range correction) of the values added in that window.
//
// Contract:
// - Add() takes the 64-bit hash of a value (well mixed, e.g. XXH3) and its timestamp; timestamps must be
//   non-decreasing across calls (the feature engine feeds events in time order).
// - ExpireBefore(t) drops what no window starting at or after t needs; Estimate() counts what is left.
// - The estimate is deterministic: it depends only on the set of (hash, timestamp) added and not expired.
// - RelativeStandardError() is 1.04 / sqrt(2^precision): the documented error bound.
// - Serialize()/Deserialize() round-trip exactly (the online store keeps the state as bytes).
// Not thread-safe; one instance per entity key and window.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace gyre::features {

class SlidingHyperLogLog {
 public:
  static constexpr int kMinPrecision = 4;
  static constexpr int kMaxPrecision = 14;

  explicit SlidingHyperLogLog(int precision = 10);

  int precision() const;
  void Add(uint64_t hash, int64_t timestamp);
  void ExpireBefore(int64_t timestamp);
  double Estimate() const;
  void Clear();
  static double RelativeStandardError(int precision);

  void Serialize(std::string* out) const;  // appends
  // Reads one state from the front of `in` and advances it; Corruption on malformed bytes.
  static Result<SlidingHyperLogLog> Deserialize(std::string_view* in);

  // Bytes held (for memory accounting in benches).
  size_t MemoryUsage() const;

 private:
  int precision_;
  // (see approx_distinct.cc for the representation)
  std::vector<uint64_t> entries_;
};

}  // namespace gyre::features
