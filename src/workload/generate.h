// Synthetic workload generators (`rackscale gen`).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "workload/trace.h"

namespace rackscale {

// A rigid-job workload for a flat pool of `slots`, shaped like the HPC logs
// of the Parallel Workloads Archive:
//  - sizes: 20% serial; the rest log-uniform-squared in [1, slots] (most jobs
//    small, a heavy tail up to the whole machine), 75% rounded to a power of 2;
//  - runtimes: log-normal, median 15 min, sigma 1.8 (mean ~75 min), clamped
//    to [1 s, 14 days];
//  - requested time: runtime x (1 + Exp(1)), rounded up to whole minutes
//    (users over-estimate, as in every archived log);
//  - arrivals: Poisson, with the rate that makes the offered load
//    sum(size x runtime) / (slots x span) equal `load`.
// Deterministic: the same parameters and seed give the same jobs.
struct FlatGenParams {
  int64_t jobs = 10000;
  SlotCount slots = 1024;
  double load = 0.9;
  uint64_t seed = 1;
};

// Returns an InvalidInput error naming the bad parameter (field = flag name).
Result<Workload> GenerateFlat(const FlatGenParams& p);

}  // namespace rackscale
