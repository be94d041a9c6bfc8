// Time-based simulation of GPU-sharing pods on nodes (the openb trace with
// its creation and deletion times), under a GPU-sharing placement policy
// (sched/gpu_share.h: first, random, bestfit, dotprod, gpupacking,
// gpuclustering, fgd).
//
// A pod arrives at creation_time and runs for deletion_time - creation_time
// seconds once placed. At each distinct event time: pods ending then leave;
// pods created then join the queue (creation time, then file order); one
// pass tries every waiting pod in queue order (best effort, as the
// Kubernetes scheduler retries unschedulable pods); a pod kind that found no
// node is not tried again in the pass. Pods with no positive lifetime are
// invalid; pods no empty node could hold are rejected.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "model/job.h"
#include "sched/gpu_share.h"
#include "sim/flat_sim.h"
#include "workload/openb.h"

namespace rackscale {

struct ShareSimOptions {
  SharePolicy policy = SharePolicy::kFgd;
  uint64_t seed = 1;  // for the random policy
  // Record each placement decision's wall time (Choose, and Commit when it
  // placed): every decision up to 2^21, then a uniform sample of 2^21.
  bool time_decisions = false;
  std::function<void(const SimProgress&)> progress;
};

struct SharePodOutcome {
  JobStatus status = JobStatus::kInvalid;
  Seconds start = -1, end = -1;
  int32_t node = -1;  // index into the node list
};

struct ShareSimResult {
  std::vector<SharePodOutcome> outcomes;  // parallel to the pods
  int64_t events = 0, passes = 0;
  int64_t decisions = 0;              // Choose calls (pods tried against the cluster)
  double decision_total_ns = 0;       // when timed: all decisions together
  std::vector<uint32_t> decision_ns;  // when timed: each decision (or a sample)
  int64_t gpu_capacity_milli = 0;
  double allocated_milli_seconds = 0;   // integral of allocated milli-GPU
  double fragmented_milli_seconds = 0;  // integral of fragmentation
  double pending_pod_seconds = 0;       // integral of waiting pods
  Seconds first = 0, last = 0;
};

Result<ShareSimResult> SimulateShare(const NodeList& nodes, const std::vector<PodSpec>& pods,
                                     const ShareSimOptions& options);

}  // namespace rackscale
