// The discrete-event simulation of an AI fleet over time: jobs arrive, queue
// per the FleetScheduler's policy, run on topology-aware placements, end, are
// preempted or lose their attempt to a node failure and restart from their
// last checkpoint; dedicated clusters open and close, domains come into and
// go out of service at their dates; sites draw power against their caps; the
// fleet earns and spends money. docs/semantics.md has the exact rules.
//
// At each distinct event time (integer seconds): jobs ending then free their
// GPUs; failed nodes repaired then come back; nodes failing then take their
// jobs down; domains come into or go out of service; dedicated clusters whose
// window ends or starts change hands; jobs submitted then join the queues in
// (submit, id) order; one scheduling pass runs.
//
// Work runs on a clock per site: a job's attempt ends when its site's clock
// has advanced by the attempt's length. The clock runs at the site's speed,
// 1 unless the power policy `throttle` slows the site to keep it under its
// cap. Deterministic: the same inputs and seed give the same outputs.
#pragma once

#include <climits>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "model/fleet.h"
#include "sched/admission.h"
#include "sched/fleet_scheduler.h"
#include "sim/flat_sim.h"
#include "sim/inference.h"
#include "sim/reliability.h"
#include "workload/llm_trace.h"
#include "workload/ai_trace.h"

namespace rackscale {

// An inference service in the fleet: its replicas are jobs of its tenant
// (k GPUs in one domain) that its autoscaler asks for and gives back every
// service step; its demand curve repeats every day.
struct FleetService {
  ServiceSpec spec;
  DemandCurve demand;
};

struct FleetSimOptions {
  FleetQueuePolicy policy = FleetQueuePolicy::kFairshare;
  TenantsConfig tenants;
  Seconds starve_after = 12 * 3600;
  bool time_decisions = false;  // record each placement decision's wall time
  std::function<void(const SimProgress&)> progress;

  PowerPolicy power = PowerPolicy::kNone;
  // Node failures: a GPU node fails at its accelerators' failures_per_year
  // times its GPUs (default_failure_rate for types that give none), takes
  // down every job on it, and is back after `repair`.
  bool failures = false;
  double default_failure_rate = kH100FailuresPerAcceleratorYear;
  Seconds repair = 8 * 3600;
  uint64_t seed = 1;
  // Checkpoints of GPU jobs: every `checkpoint_interval` seconds of work (0:
  // none; kAutoCheckpoint: Young/Daly from the job's MTBF), each costing
  // `checkpoint_cost`; an interrupted job restarts after `restart_cost`.
  double checkpoint_interval = 0;
  double checkpoint_cost = 0;
  double restart_cost = 0;
  // The time series' step (0: none).
  Seconds timeseries_step = 3600;
  // Inference services, stepped every service_step. They run while the
  // workload does (arrivals to come, jobs waiting or running) and at least
  // until `horizon` (0: no minimum).
  std::vector<FleetService> services;
  Seconds service_step = 60;
  Seconds horizon = 0;
  // Services, failures, capacity dates and windows stop this long after the
  // last arrival (jobs still running then run to their end).
  Seconds settle = 365 * 86400;
  // The measured window [window_start, window_end): utilization is the GPU
  // time held by jobs and replicas over the GPU time of the GPUs in service
  // (delivered, not retired, not held as spares; down or up), both inside
  // it. Defaults: from the first event to the last.
  Seconds window_start = INT64_MIN;
  Seconds window_end = INT64_MAX;
};

inline constexpr double kAutoCheckpoint = kCheckpointAuto;

// The time series' rows at most (~120 bytes each in memory, ~150 in
// timeseries.csv): a run that would need more is refused with the estimate.
inline constexpr double kMaxTimeseriesRows = 4e6;

struct FleetJobOutcome {
  JobStatus status = JobStatus::kInvalid;
  Seconds first_start = -1;  // first time it started
  Seconds start = -1;        // start of the attempt that completed
  Seconds end = -1;
  int32_t preemptions = 0;
  int32_t interruptions = 0;    // attempts ended by node failures
  double lost_gpu_seconds = 0;  // GPU time not turned into kept work
  double held_gpu_seconds = 0;  // GPU time its attempts held, all of them (its share of a shared GPU)
  double checkpoint_interval = 0;  // used by its last attempt (0: none)
};

struct TenantStats {
  std::string name;
  double weight = 1;
  int64_t jobs = 0, done = 0, rejected = 0, invalid = 0, unfinished = 0, preemptions = 0;
  int64_t interruptions = 0;
  // Done GPU jobs: GPU-seconds of work, and of wall time from first start to
  // end (their ratio is the tenant's effective training time ratio).
  double ettr_work_gpu_seconds = 0, ettr_wall_gpu_seconds = 0;
  // Money: revenue at its contract prices, the cost of the GPU-hours it used
  // and reserved (the sites' cost per GPU-hour), and of those it reserved
  // and left idle.
  double revenue_usd = 0, cost_usd = 0, idle_reserved_cost_usd = 0;
  double used_gpu_seconds = 0, reserved_gpu_seconds = 0, idle_reserved_gpu_seconds = 0;
  double gpu_seconds = 0;        // completed attempts
  double lost_gpu_seconds = 0;   // preempted attempts
  double wait_sum = 0, jct_sum = 0;
  int64_t dedicated_gpus = 0;
  double stranded_gpu_seconds = 0;  // idle GPUs of its active dedicated clusters
  // Free GPUs it could reach (shared + own dedicated) while it had GPU jobs
  // waiting that none of them could take: its view of fragmentation.
  double fragmented_gpu_seconds = 0;
};

// GPU-seconds inside the measured window (FleetSimOptions::window_*).
struct WindowGpuSeconds {
  double online = 0, busy = 0, down = 0;
  double Utilization() const { return online > 0 ? busy / online : 0; }
};

struct SiteStats {
  std::string name;
  WindowGpuSeconds window;
  double power_cap_mw = 0, pue = 1;
  double energy_mwh = 0, energy_usd = 0, depreciation_usd = 0, revenue_usd = 0;
  double peak_mw = 0;             // highest facility draw
  double over_cap_seconds = 0;    // time its idle draw alone passed the cap
  double throttled_seconds = 0;   // time it ran below full speed
  double online_gpu_seconds = 0, busy_gpu_seconds = 0, down_gpu_seconds = 0;
  int64_t failures = 0;
};

struct ServiceStats {
  std::string name, tenant;
  int32_t gpus_per_replica = 0, min_replicas = 0, max_replicas = 0;
  double slo_attainment = 1;  // demand-weighted
  double demand_tokens = 0, replica_hours = 0, gpu_hours = 0, mean_replicas = 0;
  int32_t peak_replicas = 0;
  double starved_replica_hours = 0;  // wanted but not placed (the fleet was full)
};

// One step of the time series: averages over the step (GPUs, MW, speed,
// replicas, tokens/s) and totals in it (USD, tokens).
enum class TimeScope : uint8_t { kSite, kTenant, kService };
struct TimeRow {
  int64_t step = 0;
  TimeScope scope = TimeScope::kSite;
  int32_t id = 0;
  double gpus_online = 0, gpus_busy = 0, gpus_failed = 0, gpus_reserved = 0, gpus_reserved_idle = 0;
  double power_mw = 0, speed = 0, revenue_usd = 0, cost_usd = 0;
  double replicas = 0, demand_tokens = 0, attained_tokens = 0;  // integrals
  double covered_s = 0;  // seconds of the step simulated
};

struct FleetSimResult {
  std::vector<FleetJobOutcome> outcomes;  // parallel to AiWorkload::jobs
  std::vector<TenantStats> tenants;       // by TenantId
  int64_t events = 0, passes = 0, decisions = 0;
  std::vector<uint32_t> decision_ns;      // when timed
  int64_t fleet_gpus = 0;
  double busy_gpu_seconds = 0;
  std::vector<SiteStats> sites;
  std::vector<TimeRow> timeseries;  // by step, then sites, tenants, services
  std::vector<ServiceStats> services;
  Seconds timeseries_step = 0;
  int64_t failures = 0, repairs = 0;
  double fragmented_gpu_seconds = 0;  // free GPUs while GPU jobs waited
  // GPU time of shared GPUs held but not used by their pods' shares: the
  // fleet counts a shared GPU busy whole, a pod's GPU-hours count its share.
  double shared_slack_gpu_seconds = 0;
  Seconds first_submit = 0, last_end = 0;
  // The measured window as simulated (clipped to the first and last event)
  // and the fleet's GPU-seconds in it.
  Seconds window_start = 0, window_end = 0;
  WindowGpuSeconds window;
};

// DedicatedDomains (how dedicated entries get their domains): sched/admission.h.

// Resolves the tenants' dedicated clusters onto the fleet and runs. Tenants
// named in options.tenants but absent from the workload are added to its
// table. Fails on a dedicated cluster that the fleet cannot supply.
Result<FleetSimResult> SimulateFleet(const Fleet& fleet, AiWorkload* w,
                                     const FleetSimOptions& options);

}  // namespace rackscale
