#include "features/approx_distinct.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gyre::features {
namespace {

// Callers hash the value's bytes with XXH3; the tests hash integers the same way.
uint64_t Hash(uint64_t value) { return XXH3_64bits(&value, sizeof(value)); }

std::string Bytes(const SlidingHyperLogLog& hll) {
  std::string out;
  hll.Serialize(&out);
  return out;
}

SlidingHyperLogLog RoundTrip(const SlidingHyperLogLog& hll) {
  const std::string bytes = Bytes(hll);
  std::string_view in = bytes;
  Result<SlidingHyperLogLog> restored = SlidingHyperLogLog::Deserialize(&in);
  EXPECT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_TRUE(in.empty());
  return restored.ok() ? std::move(restored).value() : SlidingHyperLogLog(hll.precision());
}

// Decodes the varints of a serialized state (format documented in approx_distinct.cc).
std::vector<uint64_t> Varints(std::string_view bytes) {
  std::vector<uint64_t> values;
  uint64_t v = 0;
  int shift = 0;
  for (char c : bytes) {
    v |= static_cast<uint64_t>(static_cast<uint8_t>(c) & 0x7F) << shift;
    shift += 7;
    if ((static_cast<uint8_t>(c) & 0x80) == 0) {
      values.push_back(v);
      v = 0;
      shift = 0;
    }
  }
  return values;
}

TEST(SlidingHyperLogLog, EmptyIsZeroAndPrecisionIsClamped) {
  SlidingHyperLogLog hll;
  EXPECT_EQ(hll.precision(), 10);
  EXPECT_EQ(hll.Estimate(), 0.0);
  EXPECT_EQ(hll.MemoryUsage(), sizeof(SlidingHyperLogLog));
  EXPECT_EQ(SlidingHyperLogLog(1).precision(), SlidingHyperLogLog::kMinPrecision);
  EXPECT_EQ(SlidingHyperLogLog(99).precision(), SlidingHyperLogLog::kMaxPrecision);
  EXPECT_DOUBLE_EQ(SlidingHyperLogLog::RelativeStandardError(10), 1.04 / 32);
  EXPECT_DOUBLE_EQ(SlidingHyperLogLog::RelativeStandardError(4), 1.04 / 4);
}

TEST(SlidingHyperLogLog, SmallCountsAreExactWithinRounding) {
  for (int n = 0; n <= 20; ++n) {
    SlidingHyperLogLog hll(10);
    for (int i = 0; i < n; ++i) hll.Add(Hash(1000 + i), i);
    EXPECT_LE(std::abs(hll.Estimate() - n), 1.0) << "n=" << n;
  }
  SlidingHyperLogLog one(10);
  one.Add(Hash(7), 0);
  EXPECT_NEAR(one.Estimate(), 1024 * std::log(1024.0 / 1023.0), 1e-12);  // linear counting, one register set
}

TEST(SlidingHyperLogLog, RegisterIsTheTopBitsAndRankTheLeadingZerosOfTheRest) {
  // Serialized pairs carry register << 6 | rank in their low bits; a single pair has time step 0.
  struct Case {
    uint64_t hash;
    uint64_t reg;
    uint64_t rank;
  };
  const Case cases[] = {
      // The rest all zero: the largest rank, 64 - 10 + 1.
      {0xFFC0000000000000ull, 1023, 55},
      {0x0000000000000000ull, 0, 55},
      // The first bit after the register set, then the second.
      {0x0020000000000000ull, 0, 1},
      {0x0010000000000000ull, 0, 2},
      // Only the last bit of the rest set.
      {0x8000000000000001ull, 512, 54},
  };
  for (const Case& c : cases) {
    SlidingHyperLogLog hll(10);
    hll.Add(c.hash, 123);
    const std::string bytes = Bytes(hll);
    const std::vector<uint64_t> pairs = Varints(bytes.substr(11));
    ASSERT_EQ(pairs.size(), 1u);
    EXPECT_EQ(pairs[0] >> 6, c.reg) << std::hex << c.hash;
    EXPECT_EQ(pairs[0] & 63, c.rank) << std::hex << c.hash;
  }
  // Two hashes of one register count once; of two registers, twice.
  SlidingHyperLogLog same(10), different(10), single(10);
  same.Add(0x0020000000000000ull, 0);
  same.Add(0x0010000000000000ull, 0);
  different.Add(0x0020000000000000ull, 0);
  different.Add(0x0060000000000000ull, 0);
  single.Add(0x0020000000000000ull, 0);
  EXPECT_EQ(same.Estimate(), single.Estimate());
  EXPECT_GT(different.Estimate(), single.Estimate() + 0.9);
}

TEST(SlidingHyperLogLog, AccurateOnRandomStreams) {
  std::mt19937_64 rng(42);
  for (int p : {8, 10, 12}) {
    for (int n : {1000, 10000, 100000}) {
      SlidingHyperLogLog hll(p);
      for (int i = 0; i < n; ++i) hll.Add(Hash(rng()), i);
      const double bound = 4 * SlidingHyperLogLog::RelativeStandardError(p) * n;
      EXPECT_NEAR(hll.Estimate(), n, bound) << "p=" << p << " n=" << n;
    }
  }
}

// Over many trials at the small precisions (each with its own alpha_m): the mean is unbiased within 4
// standard errors of the mean, and the spread is the documented relative standard error.
TEST(SlidingHyperLogLog, SmallPrecisionsAreUnbiasedWithTheDocumentedSpread) {
  constexpr int kTrials = 1500;
  constexpr int kDistinct = 500;
  std::mt19937_64 rng(17);
  for (int p : {4, 5, 6}) {
    double sum = 0, sum_squares = 0;
    for (int t = 0; t < kTrials; ++t) {
      SlidingHyperLogLog hll(p);
      for (int i = 0; i < kDistinct; ++i) hll.Add(rng(), 0);
      const double error = hll.Estimate() / kDistinct - 1;
      sum += error;
      sum_squares += error * error;
    }
    const double rse = SlidingHyperLogLog::RelativeStandardError(p);
    const double mean = sum / kTrials;
    const double spread = std::sqrt(sum_squares / kTrials - mean * mean);
    EXPECT_NEAR(mean, 0, 4 * rse / std::sqrt(kTrials)) << "p=" << p;
    EXPECT_NEAR(spread, rse, 0.15 * rse) << "p=" << p;
  }
}

TEST(SlidingHyperLogLog, DuplicatesDoNotChangeTheEstimate) {
  SlidingHyperLogLog hll(10);
  for (int i = 0; i < 3000; ++i) hll.Add(Hash(i), 10 * i);
  const double before = hll.Estimate();
  for (int i = 0; i < 3000; ++i) hll.Add(Hash(i), 30000);   // again, later
  for (int i = 2999; i >= 0; --i) hll.Add(Hash(i), 30000);  // and again, same time, reversed
  for (int i = 0; i < 100; ++i) hll.Add(Hash(5), 30001);    // one value, repeated
  EXPECT_EQ(hll.Estimate(), before);
  hll.ExpireBefore(30000);  // only the re-adds are left: still the same 3000 values
  EXPECT_EQ(hll.Estimate(), before);
}

TEST(SlidingHyperLogLog, EstimateDependsOnlyOnTheSet) {
  std::vector<uint64_t> hashes;
  for (int i = 0; i < 20000; ++i) hashes.push_back(Hash(i));
  SlidingHyperLogLog in_order(12);
  for (uint64_t h : hashes) in_order.Add(h, 5);
  std::shuffle(hashes.begin(), hashes.end(), std::mt19937_64(7));
  SlidingHyperLogLog shuffled(12);
  for (uint64_t h : hashes) shuffled.Add(h, 5);
  EXPECT_EQ(in_order.Estimate(), shuffled.Estimate());
  EXPECT_EQ(RoundTrip(in_order).Estimate(), RoundTrip(shuffled).Estimate());
}

// A stream whose window holds between a few dozen and a few thousand distinct values. At 50 checkpoints the
// sliding estimate must equal a plain HyperLogLog of exactly the window's events, and be within 4 standard
// errors of the exact distinct count. One instance expires before every event (as the feature engine
// does when it reads per event), one only at the checkpoints.
TEST(SlidingHyperLogLog, SlidingWindowMatchesExactCounts) {
  constexpr int kEvents = 60000;
  constexpr int64_t kStep = 1000;  // 1 ms between events
  constexpr int64_t kWindow = 4000 * kStep;
  constexpr int kCheckpoints = 50;
  std::mt19937_64 rng(3);
  std::vector<std::pair<int64_t, uint64_t>> events;  // (timestamp, value)
  for (int i = 0; i < kEvents; ++i) {
    // The pool of values breathes between 40 and ~16k, so the window's distinct count rises and falls.
    const double phase = 2 * M_PI * i / 20000.0;
    const uint64_t pool = 40 + static_cast<uint64_t>(8000 * (1 + std::sin(phase)));
    events.emplace_back((i / 2) * kStep, rng() % pool);  // two events per timestamp
  }
  SlidingHyperLogLog eager(10), lazy(10);
  int checked = 0;
  size_t next = 0;
  for (int c = 1; c <= kCheckpoints; ++c) {
    const int64_t t = static_cast<int64_t>(kEvents / 2) * kStep * c / kCheckpoints;  // read at t: events < t
    for (; next < events.size() && events[next].first < t; ++next) {
      eager.ExpireBefore(events[next].first - kWindow);
      eager.Add(Hash(events[next].second), events[next].first);
      lazy.Add(Hash(events[next].second), events[next].first);
    }
    eager.ExpireBefore(t - kWindow);
    lazy.ExpireBefore(t - kWindow);
    std::unordered_set<uint64_t> exact;
    SlidingHyperLogLog fresh(10);
    for (const auto& [ts, value] : events) {
      if (ts >= t - kWindow && ts < t) {
        exact.insert(value);
        fresh.Add(Hash(value), ts);
      }
    }
    const double n = static_cast<double>(exact.size());
    EXPECT_EQ(eager.Estimate(), fresh.Estimate()) << "checkpoint " << c;
    EXPECT_EQ(lazy.Estimate(), fresh.Estimate()) << "checkpoint " << c;
    EXPECT_NEAR(eager.Estimate(), n, 4 * SlidingHyperLogLog::RelativeStandardError(10) * n)
        << "checkpoint " << c << " exact " << n;
    ++checked;
  }
  EXPECT_EQ(checked, kCheckpoints);
}

TEST(SlidingHyperLogLog, ExpiryDropsMemory) {
  SlidingHyperLogLog hll(10);
  for (int i = 0; i < 100000; ++i) hll.Add(Hash(i), i);
  const size_t full = hll.MemoryUsage();
  EXPECT_GT(full, 20000u);
  hll.ExpireBefore(99990);  // ten values left
  EXPECT_NEAR(hll.Estimate(), 10, 1);
  EXPECT_LE(hll.MemoryUsage(), sizeof(SlidingHyperLogLog) + 32 * sizeof(uint64_t));
  hll.ExpireBefore(100000);
  EXPECT_EQ(hll.Estimate(), 0.0);
  EXPECT_EQ(hll.MemoryUsage(), sizeof(SlidingHyperLogLog));
  hll.Add(Hash(1), 100001);  // usable again
  EXPECT_NEAR(hll.Estimate(), 1, 0.01);
  hll.Clear();
  EXPECT_EQ(hll.MemoryUsage(), sizeof(SlidingHyperLogLog));
  EXPECT_EQ(hll.Estimate(), 0.0);
}

TEST(SlidingHyperLogLog, MemoryFollowsTheWindowNotTheEvents) {
  // One value repeated: one pair, whatever the number of events.
  SlidingHyperLogLog repeated(10);
  for (int i = 0; i < 100000; ++i) repeated.Add(Hash(9), i);
  EXPECT_LE(repeated.MemoryUsage(), sizeof(SlidingHyperLogLog) + 4 * sizeof(uint64_t));
  // Values cycling through 50 (never consecutive repeats): bounded by the 50 registers' pairs.
  SlidingHyperLogLog cycling(10);
  for (int i = 0; i < 100000; ++i) cycling.Add(Hash(i % 50), i);
  EXPECT_LE(cycling.MemoryUsage(), sizeof(SlidingHyperLogLog) + 200 * sizeof(uint64_t));
  EXPECT_NEAR(cycling.Estimate(), 50, 2);
  // A window sliding over 200k events of 2000 values: the memory stays that of the window.
  SlidingHyperLogLog sliding(10);
  std::mt19937_64 rng(11);
  size_t peak_late = 0, at_10k = 0;
  for (int i = 0; i < 200000; ++i) {
    sliding.ExpireBefore(i - 5000);
    sliding.Add(Hash(rng() % 2000), i);
    if (i == 10000) at_10k = sliding.MemoryUsage();
    if (i > 100000) peak_late = std::max(peak_late, sliding.MemoryUsage());
  }
  EXPECT_LE(peak_late, 2 * at_10k);
  EXPECT_LE(peak_late, 64u * 1024);
}

TEST(SlidingHyperLogLog, SerializationRoundTripMidStreamContinuesIdentically) {
  std::mt19937_64 rng(5);
  SlidingHyperLogLog uninterrupted(10);
  SlidingHyperLogLog restarted(10);
  for (int i = 0; i < 40000; ++i) {
    const int64_t ts = 1700000000000000 + int64_t{i} * 250;
    const uint64_t h = Hash(rng() % 5000);
    uninterrupted.ExpireBefore(ts - 2000000);
    restarted.ExpireBefore(ts - 2000000);
    uninterrupted.Add(h, ts);
    restarted.Add(h, ts);
    if (i % 997 == 0) {
      const std::string bytes = Bytes(restarted);
      restarted = RoundTrip(restarted);
      ASSERT_EQ(Bytes(restarted), bytes) << "event " << i;
      ASSERT_EQ(restarted.Estimate(), uninterrupted.Estimate()) << "event " << i;
    }
    if (i % 101 == 0) {
      ASSERT_EQ(restarted.Estimate(), uninterrupted.Estimate()) << "event " << i;
    }
  }
  EXPECT_EQ(restarted.Estimate(), uninterrupted.Estimate());
  EXPECT_EQ(Bytes(restarted), Bytes(uninterrupted));
}

TEST(SlidingHyperLogLog, DeserializeReadsOneStateAndAdvances) {
  SlidingHyperLogLog a(6), b(12), empty(10);
  for (int i = 0; i < 500; ++i) a.Add(Hash(i), -1000 + i);  // negative timestamps too
  for (int i = 0; i < 900; ++i) b.Add(Hash(i * 3), i);
  std::string bytes;
  a.Serialize(&bytes);
  empty.Serialize(&bytes);
  b.Serialize(&bytes);
  EXPECT_EQ(Bytes(empty).size(), 3u);  // version, precision, count 0
  std::string_view in = bytes;
  Result<SlidingHyperLogLog> ra = SlidingHyperLogLog::Deserialize(&in);
  Result<SlidingHyperLogLog> re = SlidingHyperLogLog::Deserialize(&in);
  Result<SlidingHyperLogLog> rb = SlidingHyperLogLog::Deserialize(&in);
  ASSERT_TRUE(ra.ok() && re.ok() && rb.ok());
  EXPECT_TRUE(in.empty());
  EXPECT_EQ(ra->precision(), 6);
  EXPECT_EQ(rb->precision(), 12);
  EXPECT_EQ(ra->Estimate(), a.Estimate());
  EXPECT_EQ(re->Estimate(), 0.0);
  EXPECT_EQ(rb->Estimate(), b.Estimate());
  ra->ExpireBefore(-600);
  a.ExpireBefore(-600);
  EXPECT_EQ(ra->Estimate(), a.Estimate());
  EXPECT_NEAR(a.Estimate(), 100, 100 * 4 * SlidingHyperLogLog::RelativeStandardError(6));
}

TEST(SlidingHyperLogLog, DeserializeRejectsEveryTruncation) {
  SlidingHyperLogLog hll(8);
  for (int i = 0; i < 300; ++i) hll.Add(Hash(i), int64_t{i} * 1000003);
  const std::string bytes = Bytes(hll);
  for (size_t len = 0; len < bytes.size(); ++len) {
    std::string_view in(bytes.data(), len);
    Result<SlidingHyperLogLog> r = SlidingHyperLogLog::Deserialize(&in);
    ASSERT_FALSE(r.ok()) << "prefix of " << len << " bytes";
    EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find("corrupt approx_distinct state: byte "), std::string::npos)
        << r.status().message();
    EXPECT_EQ(in.size(), len);  // not advanced on error
  }
}

TEST(SlidingHyperLogLog, DeserializeRejectsMalformedFields) {
  auto error = [](std::string bytes) {
    std::string_view in = bytes;
    Result<SlidingHyperLogLog> r = SlidingHyperLogLog::Deserialize(&in);
    return r.ok() ? std::string("OK") : r.status().message();
  };
  EXPECT_NE(error(std::string("\x02\x0a\x00", 3)).find("unknown format version 2"), std::string::npos);
  EXPECT_NE(error(std::string("\x01\x03\x00", 3)).find("precision 3 outside [4, 14]"), std::string::npos);
  EXPECT_NE(error(std::string("\x01\x0f\x00", 3)).find("precision 15"), std::string::npos);
  EXPECT_EQ(error(std::string("\x01\x0a\x00", 3)), "OK");
  EXPECT_NE(error(std::string("\x01\x0a\x80\x00", 4)).find("overlong"), std::string::npos);
  // A count far beyond the bytes that follow must not allocate.
  EXPECT_NE(error(std::string("\x01\x0a\xff\xff\xff\xff\x0f", 7)).find("pair count"), std::string::npos);
  const std::string ts(8, '\0');
  EXPECT_NE(error(std::string("\x01\x0a\x01", 3) + ts + std::string("\x00", 1)).find("rank 0"), std::string::npos);
  EXPECT_NE(error(std::string("\x01\x0a\x01", 3) + ts + "\x38").find("rank 56"), std::string::npos);
  EXPECT_EQ(error(std::string("\x01\x0a\x01", 3) + ts + "\x37"), "OK");  // rank 55, register 0
  // The first pair's time step must be 0: 1 << 16 | rank 1 is a step of 1 at precision 10.
  EXPECT_NE(error(std::string("\x01\x0a\x01", 3) + ts + "\x81\x80\x04").find("time step 0"), std::string::npos);
  // Two pairs of register 0, the older with the lower rank: not what Serialize() writes.
  EXPECT_NE(error(std::string("\x01\x0a\x02", 3) + ts + "\x01\x02").find("dominated"), std::string::npos);
  EXPECT_EQ(error(std::string("\x01\x0a\x02", 3) + ts + "\x02\x01"), "OK");
  // Timestamps past INT64_MAX.
  const std::string max_ts("\xff\xff\xff\xff\xff\xff\xff\x7f", 8);
  EXPECT_EQ(error(std::string("\x01\x0a\x01", 3) + max_ts + "\x01"), "OK");
  EXPECT_NE(error(std::string("\x01\x0a\x02", 3) + max_ts + "\x02\x81\x80\x04").find("overflows"), std::string::npos);
}

// Random bytes, and every single-bit flip of a real state: Deserialize() either rejects them or returns a
// state that re-serializes to exactly the bytes it consumed. It never crashes (ASan/UBSan watch).
TEST(SlidingHyperLogLog, DeserializeSurvivesGarbage) {
  std::mt19937_64 rng(99);
  int accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes(rng() % 48, '\0');
    for (char& c : bytes) c = static_cast<char>(rng());
    if (trial % 2 == 0 && bytes.size() >= 2) {  // a plausible header makes the fuzz reach the pairs
      bytes[0] = 1;
      bytes[1] = static_cast<char>(4 + rng() % 11);
    }
    std::string_view in = bytes;
    Result<SlidingHyperLogLog> r = SlidingHyperLogLog::Deserialize(&in);
    if (!r.ok()) continue;
    ++accepted;
    const size_t consumed = bytes.size() - in.size();
    EXPECT_EQ(Bytes(*r), bytes.substr(0, consumed));
    r->Add(rng(), 0);  // and it stays usable
    (void)r->Estimate();
  }
  EXPECT_GT(accepted, 0);  // the header-shaped inputs with a zero count are valid

  SlidingHyperLogLog hll(6);
  for (int i = 0; i < 200; ++i) hll.Add(Hash(i), int64_t{i} * 77);
  const std::string bytes = Bytes(hll);
  for (size_t bit = 0; bit < bytes.size() * 8; ++bit) {
    std::string flipped = bytes;
    flipped[bit / 8] = static_cast<char>(flipped[bit / 8] ^ (1 << (bit % 8)));
    std::string_view in = flipped;
    Result<SlidingHyperLogLog> r = SlidingHyperLogLog::Deserialize(&in);
    if (!r.ok()) continue;
    EXPECT_EQ(Bytes(*r), flipped.substr(0, flipped.size() - in.size())) << "bit " << bit;
    r->ExpireBefore(5000);
    (void)r->Estimate();
  }
}

TEST(SlidingHyperLogLog, OutOfOrderTimestampsAreTakenAsTheLatest) {
  SlidingHyperLogLog hll(10);
  hll.Add(Hash(1), 100);
  hll.Add(Hash(2), 50);  // taken as 100
  hll.ExpireBefore(100);
  EXPECT_NEAR(hll.Estimate(), 2, 0.01);
  hll.ExpireBefore(101);
  EXPECT_EQ(hll.Estimate(), 0.0);
}

TEST(SlidingHyperLogLog, TimestampSpansBeyondTheOffsetBits) {
  // At precision 14 offsets have 44 bits (203 days): a lifetime state spanning longer keeps counting.
  SlidingHyperLogLog hll(14);
  hll.Add(Hash(1), 0);
  hll.Add(Hash(2), int64_t{1} << 45);
  hll.Add(Hash(3), int64_t{1} << 46);
  EXPECT_NEAR(hll.Estimate(), 3, 0.01);
  SlidingHyperLogLog restored = RoundTrip(hll);
  EXPECT_EQ(restored.Estimate(), hll.Estimate());
  hll.ExpireBefore((int64_t{1} << 46) + 1);
  EXPECT_EQ(hll.Estimate(), 0.0);
  // The whole int64 range.
  SlidingHyperLogLog extremes(10);
  extremes.Add(Hash(1), std::numeric_limits<int64_t>::min());
  extremes.Add(Hash(2), std::numeric_limits<int64_t>::max());
  EXPECT_NEAR(extremes.Estimate(), 2, 0.01);
  EXPECT_EQ(RoundTrip(extremes).Estimate(), extremes.Estimate());
  extremes.ExpireBefore(std::numeric_limits<int64_t>::max());
  EXPECT_NEAR(extremes.Estimate(), 1, 0.01);
  // Within the offset bits nothing moves: an expiry at the exact boundary is exact.
  SlidingHyperLogLog exact(10);
  exact.Add(Hash(1), -5);
  exact.Add(Hash(2), int64_t{1} << 40);
  exact.ExpireBefore(-5);
  EXPECT_NEAR(exact.Estimate(), 2, 0.01);
  exact.ExpireBefore(-4);
  EXPECT_NEAR(exact.Estimate(), 1, 0.01);
}

}  // namespace
}  // namespace gyre::features
