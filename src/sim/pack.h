// `rackscale pack`: the FGD paper's packing experiment, run as its public
// simulator runs it (docs/placement.md):
//   1. the workload's pods, sorted by name and shuffled with the seed;
//   2. then pods drawn uniformly with replacement from the workload until one
//      more would take the requested GPUs past `tune` x GPU capacity;
//   3. placed one by one under the policy; a pod that fits nowhere is dropped;
//      pods never leave.
// After each pod: arrived = GPU milli requested so far (placed or not) over
// capacity; allocated = GPU milli allocated over capacity; fragmented = the
// cluster's fragmentation against the workload's task types over capacity.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "sched/gpu_share.h"
#include "workload/openb.h"

namespace rackscale {

// A pod's request as the GPU-sharing policies see it.
ShareRequest ShareRequestOf(const PodSpec& p);

struct PackOptions {
  SharePolicy policy = SharePolicy::kFgd;
  uint64_t seed = 42;
  double tune = 1.3;
};

struct PackRow {
  int arrived_pct = 0;  // the integer arrived value this row stands for
  double arrived = 0, allocated = 0, fragmented = 0;  // percent of GPU capacity
};

struct PackResult {
  // One row per integer arrived percent 0..ceil(100 * tune): the state just
  // after the first pod that brought arrived to that value or beyond; a value
  // never reached holds the final state.
  std::vector<PackRow> rows;
  int64_t trace_pods = 0, tuned_pods = 0, placed = 0, failed = 0;
  int64_t gpu_capacity_milli = 0;
  double final_allocated = 0, final_fragmented = 0;
  // 100 - allocated at the row for 100 % arrived.
  double unallocated_at_100 = 0;
};

// Fails if the cluster has no GPUs, the workload is empty, tune is not in
// (0, 10], or a node has too many GPUs.
Result<PackResult> RunPack(const NodeList& nodes, const std::vector<PodSpec>& pods,
                           const PackOptions& options);

}  // namespace rackscale
