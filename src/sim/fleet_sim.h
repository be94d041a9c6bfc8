// The discrete-event simulation of an AI fleet: jobs arrive, queue per the
// FleetScheduler's policy, run on topology-aware placements, end or are
// preempted; dedicated clusters open and close at their dates.
//
// At each distinct event time: jobs ending then free their GPUs; dedicated
// clusters whose window ends or starts then change hands; jobs submitted
// then join the queues in (submit, id) order; one scheduling pass runs.
// Deterministic: the same inputs give the same outputs.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "model/fleet.h"
#include "sched/fleet_scheduler.h"
#include "sim/flat_sim.h"
#include "workload/ai_trace.h"

namespace rackscale {

struct FleetSimOptions {
  FleetQueuePolicy policy = FleetQueuePolicy::kFairshare;
  TenantsConfig tenants;
  Seconds starve_after = 12 * 3600;
  bool time_decisions = false;  // record each placement decision's wall time
  std::function<void(const SimProgress&)> progress;
};

struct FleetJobOutcome {
  JobStatus status = JobStatus::kInvalid;
  Seconds first_start = -1;  // first time it started
  Seconds start = -1;        // start of the attempt that completed
  Seconds end = -1;
  int32_t preemptions = 0;
  double lost_gpu_seconds = 0;  // GPU time of preempted attempts
};

struct TenantStats {
  std::string name;
  double weight = 1;
  int64_t jobs = 0, done = 0, rejected = 0, invalid = 0, unfinished = 0, preemptions = 0;
  double gpu_seconds = 0;        // completed attempts
  double lost_gpu_seconds = 0;   // preempted attempts
  double wait_sum = 0, jct_sum = 0;
  int64_t dedicated_gpus = 0;
  double stranded_gpu_seconds = 0;  // idle GPUs of its active dedicated clusters
  // Free GPUs it could reach (shared + own dedicated) while it had GPU jobs
  // waiting that none of them could take: its view of fragmentation.
  double fragmented_gpu_seconds = 0;
};

struct FleetSimResult {
  std::vector<FleetJobOutcome> outcomes;  // parallel to AiWorkload::jobs
  std::vector<TenantStats> tenants;       // by TenantId
  int64_t events = 0, passes = 0, decisions = 0;
  std::vector<uint32_t> decision_ns;      // when timed
  int64_t fleet_gpus = 0;
  double busy_gpu_seconds = 0;
  double fragmented_gpu_seconds = 0;  // free GPUs while GPU jobs waited
  Seconds first_submit = 0, last_end = 0;
};

// Resolves the tenants' dedicated clusters onto the fleet and runs. Tenants
// named in options.tenants but absent from the workload are added to its
// table. Fails on a dedicated cluster that the fleet cannot supply.
Result<FleetSimResult> SimulateFleet(const Fleet& fleet, AiWorkload* w,
                                     const FleetSimOptions& options);

}  // namespace rackscale
