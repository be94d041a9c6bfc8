// A small, portable, seeded random source. The standard library's
// distributions differ between implementations, so rackscale draws its own
// variates from xoshiro256** to keep outputs byte-identical everywhere for
// the same seed.
#pragma once

#include <cmath>
#include <cstdint>

namespace rackscale {

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    // SplitMix64 expands the seed into the 256-bit state.
    for (uint64_t& s : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      s = z ^ (z >> 31);
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
  // Uniform in (0, 1]: safe for log().
  double UniformOpen() { return 1.0 - Uniform(); }
  // Uniform integer in [0, n), n > 0 (Lemire's nearly-divisionless method).
  uint64_t Below(uint64_t n) {
    __uint128_t m = static_cast<__uint128_t>(Next()) * n;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < n) {
      const uint64_t threshold = -n % n;
      while (low < threshold) {
        m = static_cast<__uint128_t>(Next()) * n;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -mean * std::log(UniformOpen()); }
  // Standard normal by Box-Muller (one of the pair; simple and deterministic).
  double Normal() {
    return std::sqrt(-2.0 * std::log(UniformOpen())) * std::cos(6.283185307179586 * Uniform());
  }
  double LogNormal(double mu, double sigma) { return std::exp(mu + sigma * Normal()); }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace rackscale
