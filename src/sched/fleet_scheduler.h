// FleetScheduler: queues, tenants and dedicated clusters over a Fleet, with
// topology-aware gang placement (TopoIndex). The scheduler core for AI
// fleets, shared by the simulator (sim/fleet_sim) and the live control
// plane: no clock, no files, no threads; time is an argument.
//
// The contract. A caller
//   - adds jobs (AddJob) and gets a JobRef, stable until it removes the job
//     (RemoveJob, allowed whenever the job is not running; a removed ref may
//     be handed out again by a later AddJob). A job's queue position is the
//     order of AddJob calls (and priority under `priority`), not its ref;
//   - submits an added job to its queue (Submit), at most once per wait:
//     a job is added, waiting, running, or added again after it ran;
//   - tells the scheduler what happened outside it, at any time, with
//     non-decreasing `now`: Finish (a running job ended), Interrupt (a
//     running job lost its attempt; it waits again), Withdraw (a waiting job
//     leaves its queue), SetNodeDown, SetDomainOnline, tenant and dedicated
//     cluster changes (SetTenant, RemoveTenant, AddDedicated,
//     SetDedicatedWindow, RemoveDedicated) and ApplyWindows(now) at or after
//     NextWindowChange();
//   - may Restore(job, placement, start) after a restart, before the first
//     pass, to re-adopt a job that is running on those nodes;
//   - calls Schedule(now, &decisions) for a pass and acts on its result.
// It guarantees, after every call: no GPU (or core) is held twice, and no
// job runs on a node that is down or a domain out of service unless it
// was already running there; a job runs in at most one placement; a gang
// runs whole (all its GPUs within its topology scope) or not at all;
// dedicated capacity is used only by its tenant while the window is open,
// and by others' preemptible work only if it lends (and that work is
// preempted first when the owner needs it); a quota is exceeded only by
// borrowing within its cohort (or by Restore, which trusts the fleet); each
// pass lists every job whose state it changed once (Decisions), and every
// preemption in it was made for a job that started in the same pass.
// Same calls in the same order give the same decisions (deterministic).
//
// Queue policies, by name:
//   fifo       one queue in arrival order; start from the head while it fits.
//   fairshare  a queue per tenant (arrival order); the tenant with the lowest
//              weighted dominant share (max of its GPU, CPU and memory
//              shares of the fleet, divided by its weight) goes first; within a tenant the
//              queue is best-effort (Kueue's BestEffortFIFO): the first of its
//              first 16 waiting jobs that fits starts (and a job that joins a
//              queue which failed is tried on its own). A head
//              that has waited longer than `starve_after` is served first and
//              alone: if it does not fit, the capacity it can reach (the
//              shared fleet and its tenant's dedicated clusters) is held for
//              it -- nothing else starts there, so it drains -- while other
//              jobs may still start in dedicated clusters it cannot use. Only
//              a head that would fit its reachable capacity when empty (and
//              its quota) may hold capacity.
//   easy       one queue in arrival order; start from the head while it fits
//              (fifo); then, if the head waits, it gets a reservation, and
//              later jobs may backfill around it (below).
//   priority   one queue by (priority desc, arrival); the head goes first and
//              blocks the rest; if it does not fit, running preemptible jobs
//              of lower priority are preempted (lowest priority, latest start
//              first) when that can free enough GPUs.
//
// EASY backfilling on a topology (easy). The head's reservation is found as
// Slurm's backfill finds one: running jobs are taken in (estimated end, ref)
// order -- estimated end = start + requested wall time -- and released on a
// scratch copy of the free-capacity state until the head fits where it may
// run (its own active dedicated clusters, then the shared fleet). The
// estimated end that made it fit is the shadow time T; the placement it gets
// there is the reservation R (a set of nodes). Each later job, in queue order
// (the first kBackfillDepth of them), starts now if it fits now and either
// its own estimated end is <= T, or it fits without touching any node of R.
// A head that its quota holds back, or that cannot fit even when every
// running job has ended (it waits for a dedicated cluster to open), gets no
// reservation: later jobs start as they fit. Within one pass, a job shape
// that failed is not tried again (starts only take capacity).
//
// Quotas (any policy), in the manner of Kueue cohorts: a tenant with a
// nominal GPU quota runs at most its nominal plus what it may borrow: the
// unused nominal of the other tenants of its cohort (up to its borrowing
// limit). A tenant at or under its nominal whose job does not fit reclaims:
// jobs that cohort members started on borrowed quota (while above their
// nominal) are preempted, latest start first, when the job then fits.
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
// Gangs across sites (scope multi-site). Every other scope keeps a gang in
// one site (a pool). A multi-site gang is placed as scope any when some pool
// holds it now; only if none does, it takes ceil(G / D) whole domains of
// one type from as few sites as possible (the sites with the most fully
// free domains first, site order on ties; TopoIndex::FindAcross). In tier 1
// it tries each of its tenant's dedicated clusters in one site, then all of
// them together (one site if one has room, else across sites), then with
// their borrowers reclaimed. Under admit, each site gives at most the whole
// domains its cap has room for at full power, so the gang's share fits the
// cap of every site it touches. A gang placed in more than one site runs
// Fleet::cross_site_slowdown times longer (the simulator stretches each such
// attempt's remaining work; its estimated end here is start + walltime x
// that factor). CanEverRun counts the domains of the whole fleet for it.
//
// Fractional pods (a share of one GPU): a tenant's pods pack onto the GPUs
// that tenant holds for sharing -- the open GPU with the least share left
// that fits (best fit), in the tiers above -- and a pod that fits none opens
// a fresh GPU, found and counted (quota, fair share) as a 1-GPU job. The GPU
// goes back when its last pod ends. GPUs are not shared across tenants: GPU
// sharing without memory isolation is no security boundary. Fractional pods
// are never preempted to make room (they rarely free a GPU).
//
// A preempted job loses its progress and waits again in its queue.
//
// Costs. A placement holds a gang's whole domains as one part each
// (GangPart runs), so starting, finishing and interrupting a gang -- the
// TopoIndex commit or release, the power and GPU counts (AddLoad), the
// per-domain job lists -- cost O(its domains), not O(its nodes) (the power
// sum adds a run's term once per node where one addition would not give the
// same bits, a loop over one number). JobsOnNode costs O(parts of the jobs
// in the node's domain); the what-if releases and commits of preemption and
// of EASY's reservation cost O(parts) per job; the reservation R is kept
// as node ranges (a domain is one), and blocking it costs O(R's domains)
// for domains fully free, else O(R's nodes there).
// Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "model/ai_job.h"
#include "model/fleet.h"
#include "sched/topo_index.h"

namespace rackscale {

enum class FleetQueuePolicy { kFifo, kEasy, kFairshare, kPriority };

// Site power caps: ignored; `admit` (a job starts only where its site's
// facility draw stays under the cap); `throttle` (jobs start regardless; the
// simulator slows a site's work while its draw would pass the cap).
enum class PowerPolicy { kNone, kAdmit, kThrottle };
Result<PowerPolicy> ParsePowerPolicy(std::string_view name, const std::string& source);
const char* PowerPolicyName(PowerPolicy p);
Result<FleetQueuePolicy> ParseFleetQueuePolicy(std::string_view name, const std::string& source);
const char* FleetQueuePolicyName(FleetQueuePolicy p);

struct DedicatedCluster {
  TenantId tenant = 0;
  std::vector<int32_t> domains;
  Seconds start = 0, end = 0;  // active in [start, end)
  bool lend = true;            // idle domains may run others' preemptible jobs
};

// One dedicated cluster opening (active) or closing, as ApplyWindows made it.
struct WindowChange {
  size_t cluster = 0;
  bool active = false;
};

// Told around every placement decision (one job tried against the fleet);
// the simulator times decisions with it. The scheduler itself has no clock.
class DecisionObserver {
 public:
  virtual ~DecisionObserver() = default;
  virtual void Begin() = 0;
  virtual void End() = 0;
};

struct TenantQuota {
  int64_t nominal_gpus = -1;     // -1: no quota
  int32_t cohort = -1;           // tenants of one cohort lend unused quota
  int64_t borrowing_limit = -1;  // -1: no limit
};

// A tenant's settings: weight (fair share), quota, and the tie order between
// tenants of equal share (e.g. their names' order; -1: its id), so that
// results do not depend on the order tenants were first seen.
struct TenantSettings {
  double weight = 1;
  TenantQuota quota;
  int32_t rank = -1;
};

// One pass's outcome for one job: each job whose state the pass changed,
// once. `stopped`: the attempt it ran before the pass was preempted;
// `started`: it runs at the end of the pass on an attempt begun in it (a job
// may be both: preempted and started again elsewhere); `preemptions`: the
// attempts preempted in the pass, those begun in it included (a job started
// and preempted again within one pass is neither stopped nor started, but
// its preemption is counted; a live caller has nothing to do for it).
struct JobChange {
  uint32_t job = 0;
  bool stopped = false;
  bool started = false;
  int32_t preemptions = 0;
};
struct Decisions {
  std::vector<JobChange> changes;  // by job ref
};

struct FleetSchedulerOptions {
  FleetQueuePolicy policy = FleetQueuePolicy::kFairshare;
  // Tenants and dedicated clusters at the start (SetTenant and
  // AddDedicated in order; they may change later).
  std::vector<double> tenant_weights;  // by TenantId; missing = 1
  std::vector<TenantQuota> quotas;     // by TenantId; missing = none
  std::vector<int32_t> tenant_rank;   // by TenantId; missing = the id
  std::vector<DedicatedCluster> dedicated;
  Seconds starve_after = 12 * 3600;
  DecisionObserver* observer = nullptr;
  PowerPolicy power = PowerPolicy::kNone;
  // Domains out of service at the start (not delivered yet), by domain;
  // empty: all in service. SetDomainOnline changes it.
  std::vector<bool> offline;
};

class FleetScheduler {
 public:
  using JobRef = uint32_t;  // a job's handle, from AddJob until RemoveJob

  // Fails (InvalidInput) on a dedicated cluster that names a domain out of
  // range or already in another cluster.
  static Result<std::unique_ptr<FleetScheduler>> Create(const Fleet& fleet, FleetSchedulerOptions o);
  FleetScheduler(const FleetScheduler&) = delete;
  FleetScheduler& operator=(const FleetScheduler&) = delete;

  // Jobs. AddJob copies the job (its tenant's tables grow as needed);
  // RemoveJob fails on a running job and withdraws a waiting one.
  JobRef AddJob(const AiJob& job);
  Status RemoveJob(JobRef j);
  const AiJob& job(JobRef j) const { return jobs_[j]; }
  bool has_job(JobRef j) const { return j < live_.size() && live_[j]; }
  // Refs handed out so far (removed ones included): the bound of any ref.
  size_t job_slots() const { return jobs_.size(); }

  // Tenants: settings added or changed at any time (running work is not
  // preempted by a lower quota; it counts against it). RemoveTenant fails
  // while the tenant has jobs or dedicated clusters, and resets it.
  void SetTenant(TenantId t, const TenantSettings& s);
  Status RemoveTenant(TenantId t);
  size_t num_tenants() const { return tenants_; }
  const TenantSettings& tenant(TenantId t) const { return tenant_settings_[t]; }

  // Dedicated clusters: added (inactive until ApplyWindows finds its window
  // open), given a new window, or removed (its domains go back to the shared
  // fleet with whatever runs there) at any time. Fail on a bad index, or on
  // domains out of range or already dedicated.
  Result<size_t> AddDedicated(const DedicatedCluster& c);
  Status SetDedicatedWindow(size_t k, Seconds start, Seconds end);
  Status RemoveDedicated(size_t k);
  // The earliest window boundary not yet applied (INT64_MAX: none), and
  // applying every boundary at or before `now`: at one time closings before
  // openings, then by cluster. Appends what changed.
  Seconds NextWindowChange() const;
  void ApplyWindows(Seconds now, std::vector<WindowChange>* changed);
  bool dedicated_active(size_t k) const { return active_[k]; }
  const DedicatedCluster& dedicated(size_t k) const { return opts_.dedicated[k]; }

  // Could the job ever run on this fleet (empty, within its tenant's quota
  // plus all it may borrow)? False: reject it.
  bool CanEverRun(const AiJob& j) const;

  // Queues an added job that is neither waiting nor running.
  void Submit(JobRef j, Seconds now);
  // A running job ended normally at `now`.
  void Finish(JobRef j, Seconds now);
  // Takes a waiting job out of its queue (e.g. a replica no longer wanted).
  void Withdraw(JobRef j);
  bool waiting(JobRef j) const { return !run_[j].running && QueueOfConst(j).count(j) > 0; }
  // Re-adopts a job found running after a restart: `where` names its nodes
  // and units (parts, runs of nodes allowed; pool, domains, blocks and
  // sites are recomputed), for a fractional pod one part on the node of the
  // GPU it shares. Checked
  // before anything changes: the job is added and not running, the nodes
  // exist, are up, in service and have the units free, the units add up to
  // the job's GPUs (or cores), and the parts keep its topology scope (one
  // pool, unless multi-site). `started`: when its attempt began (its
  // expected end for backfilling is started + its wall time). A waiting job
  // leaves its queue.
  Status Restore(JobRef j, const Placement& where, Seconds started);
  // Puts domain d in or out of service (delivery, retirement). Jobs running
  // there when it goes out run to their end and nothing new starts there;
  // until the last of them ends the domain drains: it still counts in its
  // site's online GPUs and idle draw (so busy never exceeds online), and
  // leaves them when it is empty.
  void SetDomainOnline(int32_t d, bool online);
  // Failures: the running jobs with GPUs (or cores) on node n; Interrupt
  // ends a running job's attempt and queues it again (as a preemption does);
  // SetNodeDown takes a node with no running jobs out of service until it is
  // set up again.
  std::vector<JobRef> JobsOnNode(int32_t n) const;
  void Interrupt(JobRef j, Seconds now);
  void SetNodeDown(int32_t n, bool down);
  bool node_down(int32_t n) const { return node_down_[n]; }
  bool domain_online(int32_t d) const { return online_[d]; }
  // The site a running job runs in (a multi-site gang: the site giving it
  // the most domains), and whether it spans sites.
  int32_t site_of(JobRef j) const { return run_[j].site; }
  bool multi_site(JobRef j) const { return run_[j].where.sites > 1; }
  // Where a running job runs (a fractional pod: its GPU's node, 0 units);
  // a whole domain is one part of `nodes` nodes (GangPart).
  const Placement& placement(JobRef j) const { return run_[j].where; }
  // Does the running job run in its own tenant's dedicated cluster? On
  // capacity borrowed from another's (the cluster's index, else -1)?
  bool in_own_dedicated(JobRef j) const { return run_[j].own_dedicated; }
  int32_t borrowed_from(JobRef j) const { return run_[j].borrowed_from; }
  // Did the running job start above its tenant's nominal quota?
  bool on_borrowed_quota(JobRef j) const { return run_[j].on_borrowed_quota; }
  // The shared GPU a running fractional pod is on (-1: none).
  int32_t shared_gpu_of(JobRef j) const { return run_[j].shared_gpu; }

  // Power, in watts at the facility (IT x PUE): the draw of the site's
  // in-service nodes with everything running at full speed, its idle part,
  // and the cap (0: none).
  double site_draw_w(int32_t s) const { return (site_static_w_[s] + site_dyn_w_[s]) * pue_[s]; }
  double site_static_w(int32_t s) const { return site_static_w_[s] * pue_[s]; }
  double site_dynamic_w(int32_t s) const { return site_dyn_w_[s] * pue_[s]; }
  // GPUs by state per site: busy (held by running jobs), down (failed
  // nodes), in service (online).
  int64_t site_busy_gpus(int32_t s) const { return site_busy_gpus_[s]; }
  int64_t site_down_gpus(int32_t s) const { return site_down_gpus_[s]; }
  int64_t site_online_gpus(int32_t s) const { return site_online_gpus_[s]; }
  // GPU share that tenant t's shared GPUs at site s hold but its pods do not
  // use (a shared GPU is busy whole while any pod holds it), in GPUs.
  double shared_slack_gpus(TenantId t, int32_t s) const {
    return shared_slack_milli_[static_cast<size_t>(t) * fleet_.sites.size() + static_cast<size_t>(s)] / 1000.0;
  }
  // Per tenant: GPUs its running jobs hold in its own dedicated clusters,
  // and those held by its preemptible jobs elsewhere (for billing).
  int64_t used_gpus_own_dedicated(TenantId t) const { return used_own_[t]; }
  int64_t used_gpus_preemptible(TenantId t) const { return used_spot_[t]; }
  // One pass at `now`: starts what the policy starts, preempting where it
  // allows; `out` gets the net changes (replacing what it held).
  void Schedule(Seconds now, Decisions* out);

  // State for metrics.
  const TopoIndex& index() const { return index_; }
  bool running(JobRef j) const { return run_[j].running; }
  int64_t used_gpus(TenantId t) const { return t < used_gpus_.size() ? used_gpus_[t] : 0; }
  int64_t waiting() const { return waiting_; }
  int64_t waiting_gpu_jobs() const { return waiting_gpu_; }
  int64_t waiting_gpu_jobs(TenantId t) const {
    return t < waiting_gpu_by_tenant_.size() ? waiting_gpu_by_tenant_[t] : 0;
  }
  // The tenants with GPU jobs waiting, in no particular order (O(them), not
  // O(tenants), for per-event metrics).
  const std::vector<TenantId>& tenants_waiting_gpu() const { return waiting_gpu_tenants_; }
  // Free GPUs in tenant t's active dedicated clusters.
  int64_t dedicated_free_gpus(TenantId t) const;
  size_t num_dedicated() const { return opts_.dedicated.size(); }  // removed ones included
  // Placement decisions taken (for timing by the caller).
  int64_t decisions() const { return decisions_; }
  // easy: the current head's shadow time, or -1 if it has no reservation.
  Seconds shadow_time() const { return reservation_.valid ? reservation_.shadow : -1; }

  // easy: jobs after the head considered for backfill in one pass.
  static constexpr int kBackfillDepth = 256;
  // fairshare: jobs of a tenant's queue tried in one pass (best effort).
  static constexpr int kBestEffortDepth = 16;

 private:
  FleetScheduler(const Fleet& fleet, FleetSchedulerOptions o);
  // Grows every per-tenant table to n tenants.
  void EnsureTenants(size_t n);
  // Dedicated cluster k's partition in the TopoIndex (0: shared, 1: out of
  // service).
  static int32_t PartOf(size_t k) { return static_cast<int32_t>(k) + 2; }
  Status CheckDedicatedDomains(const std::vector<int32_t>& domains, size_t self) const;
  void SetDedicated(size_t k, bool active);
  // The pass's log: starts and preemptions in the order made.
  void LogStart(JobRef j) { pass_log_.push_back({j, false}); }
  void LogPreempt(JobRef j) { pass_log_.push_back({j, true}); }
  struct Running {
    Placement where;
    int32_t borrowed_from = -1;  // dedicated index when running as a borrower
    bool running = false;
    bool on_borrowed_quota = false;  // started above its tenant's nominal quota
    int32_t shared_gpu = -1;         // a fractional pod: the GPU it shares
    int32_t site = -1;
    bool own_dedicated = false;      // runs in its tenant's dedicated cluster
  };
  // GPUs held for a tenant's fractional pods.
  struct SharedGpu {
    int32_t node = -1, pool = -1;
    TenantId tenant = 0;
    int32_t left = 0;  // milli-GPU
    int32_t pods = 0;
  };
  using ShareKey = std::pair<int32_t, TenantId>;  // (pool, tenant)
  size_t SlackIndex(const SharedGpu& g) const;
  void JoinShared(int32_t id, int32_t milli);
  void LeaveShared(int32_t id, int32_t milli);
  bool TryStartObserved(JobRef j, Seconds now);
  bool TryStart(JobRef j, Seconds now);
  // may_open: a fractional pod may open a fresh GPU (else only join one).
  // across: a multi-site gang that no single pool holds may span sites.
  bool FindIn(const AiJob& job, const std::vector<int32_t>& pools, Placement* best,
              bool may_open = true, bool across = true) const;
  bool ModelAllowedIn(const AiJob& job, int32_t pool) const;
  // A multi-site gang that no single pool of `pools` holds now: whole
  // domains of one type from as few sites as possible (TopoIndex::FindAcross),
  // each site giving at most what its power cap has room for.
  bool FindAcrossSites(const AiJob& job, const std::vector<int32_t>& pools, Placement* best) const;
  // admit: the most whole domains of `pool` at full power that its site's
  // cap still has room for (INT64_MAX: no limit).
  int64_t PowerRoomDomains(int32_t pool) const;
  // The pools of tenant t's active dedicated clusters (not held, if
  // skip_held), in order.
  std::vector<int32_t> OwnDedicatedPools(TenantId t, bool skip_held = true) const;
  void StartOn(JobRef j, Seconds now, const Placement& p, int32_t borrowed_from);
  void Release(JobRef j);
  // Power and GPU counts of placement parts starting (+1) or ending (-1).
  void AddLoad(const Placement& p, int sign);
  int32_t PartitionOf(int32_t d) const;
  // Moves domain d to the partition its state calls for, shared GPUs too.
  void Rehome(int32_t d);
  void AddOnline(int32_t d, int sign);
  bool PowerAdmits(const AiJob& job, int32_t pool) const;
  // easy: one pass of fifo then backfilling around the head's reservation.
  void ScheduleEasy(Seconds now);
  void SchedulePass(Seconds now);
  // easy: finds the head's shadow time and reserved nodes.
  void Reserve(JobRef head, Seconds now);
  // easy: takes (or gives back) the free capacity of the reserved nodes so
  // that placements found meanwhile avoid them.
  void BlockReservation(bool block);
  void Preempt(JobRef j, Seconds now);
  size_t QueueIndexOf(JobRef j) const;
  double Share(TenantId t) const;
  // Could the job fit its own dedicated clusters or the shared fleet if they
  // were empty? Only such a head may hold the fleet for itself.
  bool FitsReachableWhenEmpty(const AiJob& job) const;
  // Queue order: priority (under `priority`), then the order of AddJob.
  struct QueueOrder {
    const FleetScheduler* s;
    bool by_priority;
    bool operator()(JobRef a, JobRef b) const {
      if (by_priority && s->jobs_[a].priority != s->jobs_[b].priority) {
        return s->jobs_[a].priority > s->jobs_[b].priority;
      }
      return s->order_[a] < s->order_[b];
    }
  };
  using Queue = std::set<JobRef, QueueOrder>;
  Queue& QueueOf(JobRef j);
  // Adds j to / removes it from its queue, keeping active_queues_ (the
  // queues that hold jobs) and waiting_gpu_tenants_ in step, so that a pass
  // costs O(queues with jobs), not O(tenants).
  void Enqueue(JobRef j);
  size_t Dequeue(JobRef j);
  const Queue& QueueOfConst(JobRef j) const { return queues_[QueueIndexOf(j)]; }
  // Quota: may tenant t start `gpus` more now? Is it within its nominal?
  bool QuotaAllows(const AiJob& job) const;
  bool WithinNominal(const AiJob& job) const;
  // The most GPUs tenant t may ever hold under its quota (-1: no limit).
  int64_t QuotaCeiling(TenantId t) const;
  // If `j` would fit `pools` with all `victims` gone, preempts the victims
  // on the nodes it would take (then others, in order, if need be) and
  // starts it; otherwise preempts nothing and returns false.
  bool PreemptAndStart(JobRef j, Seconds now, const std::vector<JobRef>& victims,
                       const std::vector<int32_t>& pools, bool across = true);
  // A placement's nodes as ranges [first, end), sorted (a whole domain is
  // one range), and whether any of them holds a node of part x.
  struct NodeRange {
    int32_t first, end;
  };
  static std::vector<NodeRange> NodeRanges(const Placement& p);
  static bool Overlaps(const std::vector<NodeRange>& sorted, const GangPart& x);
  // Restore's checks and canonical placement.
  Status CheckRestore(JobRef j, const Placement& where, Placement* canon, int32_t* borrowed) const;

  const Fleet& fleet_;
  FleetSchedulerOptions opts_;
  // Jobs: the job, whether the ref is in use, its AddJob order; refs free
  // for reuse.
  std::vector<AiJob> jobs_;
  std::vector<bool> live_;
  std::vector<uint64_t> order_;
  std::vector<JobRef> free_refs_;
  uint64_t next_order_ = 0;
  // Tenants: settings, and jobs added per tenant.
  size_t tenants_ = 0;
  std::vector<TenantSettings> tenant_settings_;
  std::vector<int64_t> tenant_jobs_;
  // Dedicated clusters removed (their index stays taken); window boundaries
  // not yet applied: (time, 0 closing / 1 opening, cluster).
  std::vector<bool> removed_;
  std::set<std::tuple<Seconds, int, size_t>> windows_;
  Seconds windows_now_ = INT64_MIN;  // the latest ApplyWindows time
  struct LogEntry {
    JobRef job;
    bool preempt;
  };
  std::vector<LogEntry> pass_log_;
  // Passes so far, and the pass in which each job was last preempted: a
  // job is preempted at most once per pass, so that two mechanisms that
  // each preempt for the other (priority, reclaim) cannot cycle for ever.
  uint64_t pass_ = 0;
  std::vector<uint64_t> preempted_in_;
  TopoIndex index_;
  std::vector<Running> run_;
  std::vector<Queue> queues_;  // fifo, priority: one; fairshare: by tenant
  std::vector<uint32_t> active_queues_;  // queues with jobs, any order
  std::vector<int32_t> active_pos_;      // by queue: its place in active_queues_, or -1
  std::vector<TenantId> waiting_gpu_tenants_;  // tenants with waiting GPU jobs, any order
  std::vector<int32_t> waiting_gpu_pos_;       // by tenant: place in waiting_gpu_tenants_, or -1
  void WaitingGpu(TenantId t, int delta);
  // Running jobs by (start sequence, ref): per tenant, for quota reclaim.
  std::vector<std::set<std::pair<int64_t, JobRef>>> running_by_tenant_;
  bool track_running_ = true;
  std::vector<int64_t> start_seq_;
  std::map<int32_t, int64_t> preemptible_gpus_by_priority_;  // running
  int64_t next_seq_ = 0;
  std::vector<std::vector<JobRef>> domain_jobs_;  // running jobs per domain
  std::vector<std::set<JobRef>> borrowers_;       // by dedicated index
  std::vector<int64_t> borrowed_preemptible_gpus_;  // by dedicated index
  std::vector<bool> active_;
  std::vector<std::vector<size_t>> tenant_dedicated_;
  std::vector<int64_t> used_gpus_, used_cpu_, used_mem_;
  std::vector<SharedGpu> shared_gpus_;
  std::vector<int32_t> free_shared_ids_;
  std::map<ShareKey, std::set<std::pair<int32_t, int32_t>>> open_shares_;  // (left, id)
  std::vector<std::vector<int32_t>> domain_shared_;  // per domain: shared GPU ids
  std::vector<Seconds> since_;                     // submit (or requeue) time per job
  std::vector<uint64_t> failed_epoch_;             // by queue: epoch of the last failed head
  std::vector<bool> held_;                         // by partition: held for a starving head
  std::vector<std::vector<JobRef>> fresh_;         // by queue: joined since it last failed
  uint64_t epoch_ = 1;                             // bumped whenever capacity frees
  int64_t waiting_ = 0, waiting_gpu_ = 0, decisions_ = 0;
  std::vector<int64_t> waiting_gpu_by_tenant_;
  double total_gpus_ = 1, total_cpu_ = 1, total_mem_ = 1;
  // Service state and power.
  int32_t offline_partition_ = 0;
  std::vector<bool> online_, node_down_;
  std::vector<bool> draining_;
  std::vector<int64_t> shared_slack_milli_;  // [tenant x sites + site]  // out of service, jobs still running: counted online until empty
  std::vector<int32_t> dedicated_of_;  // by domain: dedicated index, -1 none
  std::vector<double> node_static_w_, node_dyn_w_per_unit_;  // IT watts, by node type
  std::vector<double> site_static_w_, site_dyn_w_, pue_, cap_w_;
  std::vector<int64_t> site_busy_gpus_, site_down_gpus_, site_online_gpus_;
  std::vector<int64_t> used_own_, used_spot_;
  int64_t max_cpu_node_milli_ = 0;
  std::vector<int64_t> domains_of_type_;        // most in one site
  std::vector<int64_t> fleet_domains_of_type_;  // in the whole fleet
  std::vector<int32_t> max_block_of_type_;
  // easy: running jobs by (estimated end, ref); the head's reservation.
  std::vector<Seconds> est_end_;
  std::set<std::pair<Seconds, JobRef>> by_end_;
  struct Reservation {
    bool valid = false;
    // To recompute: a job ended before its estimate, a job was preempted, a
    // dedicated cluster changed hands. Jobs ending on time and arrivals
    // leave the shadow time and the reserved nodes as they were.
    bool dirty = true;
    bool quota_held = false;  // no reservation for want of quota: look again each pass
    JobRef head = 0;
    Seconds shadow = 0;
    std::vector<NodeRange> nodes;  // R, sorted
    Placement block;             // the free capacity of R taken while blocked
    bool blocked = false;
  } reservation_;
};

}  // namespace rackscale
