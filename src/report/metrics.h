// Summary metrics of a flat-pool simulation (docs/semantics.md):
//   wait              = start - submit
//   bounded slowdown  = max(1, (wait + runtime) / max(runtime, 10))
//   utilization       = sum(size * runtime) / (N * (last end - first submit))
//   makespan          = last end - first submit
// over the jobs that ran (status done). Percentiles use the nearest-rank
// method: the value at rank ceil(p/100 * n) of the sorted waits.
#pragma once

#include <cstdint>

#include "sim/flat_sim.h"
#include "workload/trace.h"

namespace rackscale {

// The 0-based index of the nearest-rank p-th percentile in n sorted values
// (rank ceil(p * n / 100), at least 1). Requires n > 0 and 0 <= p <= 100.
inline size_t NearestRankIndex(size_t n, int p) {
  const size_t k = (static_cast<size_t>(p) * n + 99) / 100;
  return (k < 1 ? 1 : k) - 1;
}

struct FlatSummary {
  int64_t jobs = 0, done = 0, invalid = 0, rejected = 0, bad_lines = 0;
  SlotCount slots = 0;
  Seconds first_submit = 0, last_end = 0, makespan = 0;
  double utilization = 0;
  double mean_wait = 0;
  Seconds p50_wait = 0, p95_wait = 0, p99_wait = 0, max_wait = 0;
  double mean_bounded_slowdown = 0;
  int64_t events = 0, passes = 0, backfilled = 0;
};

FlatSummary Summarize(const Workload& w, const FlatSimResult& r, SlotCount slots);

}  // namespace rackscale
