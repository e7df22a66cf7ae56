// Deterministic random numbers for the synthetic data generators.
//
// Every stream is an xoshiro256** generator seeded through SplitMix64 from (seed, stream id), so a user, a
// campaign or the planner each own an independent stream and the output never depends on how work is
// split over threads. The distributions are written here rather than taken from <random>, whose
// distributions are implementation-defined: the same seed must give the same bytes with any standard
// library. Not thread-safe: one Rng per thread of use.
#pragma once

#include <cmath>
#include <cstdint>

namespace gyre::datagen {

// A strong 64-bit mix (SplitMix64's finaliser): used for seeding and for deriving stable ids.
inline uint64_t Mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

inline uint64_t HashCombine(uint64_t a, uint64_t b) { return Mix64(a ^ Mix64(b + 0x632be59bd9b4e019ULL)); }

class Rng {
 public:
  Rng() : Rng(0, 0) {}
  Rng(uint64_t seed, uint64_t stream) {
    uint64_t x = HashCombine(seed, stream);
    for (auto& s : s_) {
      x += 0x9e3779b97f4a7c15ULL;
      s = Mix64(x);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }

  // Uniform integer in [0, n), n > 0 (Lemire's multiply-shift; the tiny bias is irrelevant here).
  uint32_t Below(uint32_t n) { return static_cast<uint32_t>((static_cast<__uint128_t>(Next()) * n) >> 64); }
  int64_t Between(int64_t lo, int64_t hi) {  // inclusive
    return lo + static_cast<int64_t>((static_cast<__uint128_t>(Next()) * static_cast<uint64_t>(hi - lo + 1)) >> 64);
  }

  bool Bernoulli(double p) { return Uniform() < p; }

  double Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

  double Normal() {  // Box-Muller; one value per call keeps the stream simple
    double u1 = 1.0 - Uniform();
    double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  double LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }

  // Poisson by multiplication for small means, rounded normal above (means here stay well under 100).
  int Poisson(double mean) {
    if (mean <= 0) return 0;
    if (mean > 40) {
      double v = std::round(mean + std::sqrt(mean) * Normal());
      return v < 0 ? 0 : static_cast<int>(v);
    }
    double limit = std::exp(-mean), p = Uniform();
    int k = 0;
    while (p > limit) {
      ++k;
      p *= Uniform();
    }
    return k;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Picks an index from cumulative weights cdf[0..n) (cdf[n-1] is the total).
inline int PickCdf(Rng& rng, const double* cdf, int n) {
  double x = rng.Uniform() * cdf[n - 1];
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cdf[mid] > x)
      hi = mid;
    else
      lo = mid + 1;
  }
  return lo;
}

}  // namespace gyre::datagen
