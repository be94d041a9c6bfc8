// FleetScheduler: queues, tenants and dedicated clusters over a Fleet, with
// topology-aware gang placement (TopoIndex). The scheduler core for AI
// fleets: no clock, no files; the simulator (and later the control plane)
// drives it with Submit / Finish / SetDedicated / Schedule.
//
// Queue policies, by name:
//   fifo       one queue in arrival order; start from the head while it fits.
//   fairshare  a queue per tenant (arrival order); the tenant with the lowest
//              weighted dominant share (max of its GPU and CPU shares of the
//              fleet, divided by its weight) goes first; a tenant's head that
//              does not fit is skipped for the pass (others go on). A head
//              that has waited longer than `starve_after` is served first and
//              alone (the pass stops there: the fleet drains for it), so that
//              large gangs are not starved by a stream of small jobs; only a
//              head that would fit its reachable capacity when empty may
//              drain the fleet.
//
// Where a job may run, in order:
//   1. its tenant's active dedicated clusters; if they are full and hold
//      borrowed preemptible work, that work is preempted (reclaim);
//   2. the shared fleet;
//   3. for preemptible jobs only: other tenants' active dedicated clusters
//      that allow lending (the job is then a borrower).
// Within a tier, the pool (domain type) giving the fewest domains, then the
// fewest blocks, wins.
//
// A preempted job loses its progress and waits again in its queue.
// Not thread-safe.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/ai_job.h"
#include "model/fleet.h"
#include "sched/topo_index.h"

namespace rackscale {

enum class FleetQueuePolicy { kFifo, kFairshare };
Result<FleetQueuePolicy> ParseFleetQueuePolicy(std::string_view name, const std::string& source);
const char* FleetQueuePolicyName(FleetQueuePolicy p);

struct DedicatedCluster {
  TenantId tenant = 0;
  std::vector<int32_t> domains;
  Seconds start = 0, end = 0;  // active in [start, end)
  bool lend = true;            // idle domains may run others' preemptible jobs
};

// Told around every placement decision (one job tried against the fleet);
// the simulator times decisions with it. The scheduler itself has no clock.
class DecisionObserver {
 public:
  virtual ~DecisionObserver() = default;
  virtual void Begin() = 0;
  virtual void End() = 0;
};

struct FleetSchedulerOptions {
  FleetQueuePolicy policy = FleetQueuePolicy::kFairshare;
  std::vector<double> tenant_weights;  // by TenantId; missing = 1
  std::vector<DedicatedCluster> dedicated;
  Seconds starve_after = 12 * 3600;
  DecisionObserver* observer = nullptr;
};

class FleetScheduler {
 public:
  using JobRef = uint32_t;  // index into the jobs vector given at construction

  // `jobs` must outlive the scheduler; refs are indexes into it, and must be
  // submitted in increasing order (arrival order).
  FleetScheduler(const Fleet& fleet, const std::vector<AiJob>& jobs, FleetSchedulerOptions o);

  // Could the job ever run on this fleet (empty)? False: reject it.
  bool CanEverRun(const AiJob& j) const;

  void Submit(JobRef j, Seconds now);
  // A running job ended normally.
  void Finish(JobRef j);
  // Starts or ends dedicated cluster `k`.
  void SetDedicated(size_t k, bool active);
  // One pass at `now`: appends started and preempted jobs.
  void Schedule(Seconds now, std::vector<JobRef>* started, std::vector<JobRef>* preempted);

  // State for metrics.
  const TopoIndex& index() const { return index_; }
  int64_t used_gpus(TenantId t) const { return t < used_gpus_.size() ? used_gpus_[t] : 0; }
  int64_t waiting() const { return waiting_; }
  int64_t waiting_gpu_jobs() const { return waiting_gpu_; }
  // Free GPUs in tenant t's active dedicated clusters.
  int64_t dedicated_free_gpus(TenantId t) const;
  size_t num_dedicated() const { return opts_.dedicated.size(); }
  bool dedicated_active(size_t k) const { return active_[k]; }
  // Placement decisions taken (for timing by the caller).
  int64_t decisions() const { return decisions_; }

 private:
  struct Running {
    Placement where;
    int32_t borrowed_from = -1;  // dedicated index when running as a borrower
    bool running = false;
  };
  bool TryStartObserved(JobRef j, Seconds now, std::vector<JobRef>* started,
                        std::vector<JobRef>* preempted);
  bool TryStart(JobRef j, Seconds now, std::vector<JobRef>* started, std::vector<JobRef>* preempted);
  bool FindIn(const AiJob& job, const std::vector<int32_t>& pools, Placement* best) const;
  void StartOn(JobRef j, const Placement& p, int32_t borrowed_from);
  void Preempt(JobRef j, std::vector<JobRef>* preempted);
  double Share(TenantId t) const;
  // Could the job fit its own dedicated clusters or the shared fleet if they
  // were empty? Only such a head may hold the fleet for itself.
  bool FitsReachableWhenEmpty(const AiJob& job) const;
  std::set<JobRef>& QueueOf(JobRef j);

  const Fleet& fleet_;
  const std::vector<AiJob>& jobs_;
  FleetSchedulerOptions opts_;
  TopoIndex index_;
  std::vector<Running> run_;
  std::vector<std::set<JobRef>> queues_;  // fifo: one; fairshare: by tenant
  std::vector<std::vector<JobRef>> domain_jobs_;  // running jobs per domain
  std::vector<std::set<JobRef>> borrowers_;       // by dedicated index
  std::vector<int64_t> borrowed_preemptible_gpus_;  // by dedicated index
  std::vector<bool> active_;
  std::vector<int32_t> partition_of_;             // dedicated index -> partition
  std::vector<std::vector<size_t>> tenant_dedicated_;
  std::vector<int64_t> used_gpus_, used_cpu_;
  std::vector<Seconds> since_;                     // submit (or requeue) time per job
  std::vector<uint64_t> failed_epoch_;             // by queue: epoch of the last failed head
  uint64_t epoch_ = 1;                             // bumped whenever capacity frees
  int64_t waiting_ = 0, waiting_gpu_ = 0, decisions_ = 0;
  double total_gpus_ = 1, total_cpu_ = 1;
};

}  // namespace rackscale
