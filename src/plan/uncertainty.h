// The uncertain inputs of a scenario (`[uncertainty]`, docs/scenario.md):
// each a `--vary` key (SetScenarioValue) with a distribution that
// `rackscale plan --monte-carlo N` draws from (plan/monte_carlo.h).
//
// Draws are reproducible: draw i of seed S uses its own generator,
// DrawRng(S, i), and takes the inputs' values in the order of the
// scenario's [uncertainty] table (keys sorted byte-wise), one or more
// variates each, so draw i is the same in any slice of draws and on any
// number of workers.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "base/random.h"

namespace rackscale {

struct Distribution {
  enum class Kind { kUniform, kTriangular, kNormal, kLogNormal, kDiscrete };
  Kind kind = Kind::kUniform;
  // uniform and triangular: the support [low, high] (and the mode);
  // normal and lognormal: the truncation (draws outside are drawn again).
  double low = 0, mode = 0, high = 0;
  double mean = 0, sd = 0;        // normal
  double median = 0, sigma = 0;   // lognormal: median x exp(sigma x N(0, 1))
  std::vector<double> values;     // discrete
  std::vector<double> weights;    // discrete, as given (any positive scale)

  double Sample(Rng& rng) const;
  // "triangular(low 0.9, mode 1, high 1.25)": for reports and errors.
  std::string Describe() const;
  const char* Name() const;
};

struct UncertainInput {
  std::string key;   // a --vary key: "hardware.*.usd_per_domain_scale"
  Distribution dist;
  int64_t line = 0;  // in the scenario file
};

// The generator of draw `draw` of a run seeded `seed`: depends on nothing
// else (SplitMix64 of the seed and the draw's index).
Rng DrawRng(uint64_t seed, int64_t draw);

// The values a key may take: [lo, hi], as the scenario file allows for the
// field it sets (a price >= 0, a PUE >= 1, a share in [0, 1], ...).
struct KeyBounds {
  double lo = -1e15, hi = 1e15;
};
KeyBounds BoundsOfKey(const std::string& key);

// Checks a distribution's parameters against each other and against the
// key's bounds; the message says what is wrong ("" when fine).
std::string CheckDistribution(const Distribution& d, const KeyBounds& b);

// P(x in [low, high]) for a normal(mean, sd) or lognormal(median, sigma).
double TruncatedMass(const Distribution& d);

}  // namespace rackscale
