#include "workload/generate.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/random.h"

namespace rackscale {

Result<Workload> GenerateFlat(const FlatGenParams& p) {
  if (p.jobs < 1 || p.jobs > 100'000'000) {
    return Error::InvalidInput("gen flat", 0, "--jobs", "expected 1 to 100,000,000 jobs");
  }
  if (p.slots < 1 || p.slots > (int64_t{1} << 40)) {
    return Error::InvalidInput("gen flat", 0, "--slots", "expected 1 to 2^40 slots");
  }
  if (!(p.load > 0.0 && p.load <= 100.0)) {
    return Error::InvalidInput("gen flat", 0, "--load", "expected an offered load in (0, 100]");
  }
  Rng rng(p.seed);
  Workload w;
  w.format = TraceFormat::kCsv;
  w.tenants.emplace_back();
  w.jobs.resize(static_cast<size_t>(p.jobs));

  const double log2_slots = std::log2(static_cast<double>(p.slots));
  const double mu = std::log(900.0);
  constexpr double kSigma = 1.8;
  constexpr double kMaxRuntime = 14 * 86400.0;
  double work = 0;  // sum of size x runtime
  for (int64_t i = 0; i < p.jobs; ++i) {
    Job& j = w.jobs[static_cast<size_t>(i)];
    j.id = i + 1;
    if (rng.Bernoulli(0.2) || p.slots == 1) {
      j.size = 1;
    } else {
      double u = rng.Uniform();
      double l = u * u * log2_slots;
      if (rng.Bernoulli(0.75)) l = std::round(l);
      j.size = std::clamp<SlotCount>(static_cast<SlotCount>(std::llround(std::exp2(l))), 1,
                                     p.slots);
    }
    double rt = std::clamp(rng.LogNormal(mu, kSigma), 1.0, kMaxRuntime);
    j.runtime = static_cast<Seconds>(std::llround(rt));
    double req = static_cast<double>(j.runtime) * (1.0 + rng.Exponential(1.0));
    j.requested = static_cast<Seconds>(std::ceil(req / 60.0)) * 60;
    work += static_cast<double>(j.size) * static_cast<double>(j.runtime);
  }
  // Offered load = work / (slots * span) => mean inter-arrival time.
  const double span = work / (static_cast<double>(p.slots) * p.load);
  const double mean_gap = span / static_cast<double>(p.jobs);
  double t = 0;
  for (Job& j : w.jobs) {
    t += rng.Exponential(mean_gap);
    j.submit = static_cast<Seconds>(t);
  }
  return w;
}

}  // namespace rackscale
