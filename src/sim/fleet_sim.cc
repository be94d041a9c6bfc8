#include "sim/fleet_sim.h"

#include <algorithm>
#include <iterator>
#include <set>
#include <unordered_map>
#include <map>
#include <chrono>
#include <cmath>
#include <numeric>
#include <queue>

#include <fmt/format.h>

#include "sched/admission.h"
#include "sched/fleet_policy.h"
#include "sim/fleet_ledger.h"
#include "sim/fleet_parts.h"

namespace rackscale {
namespace {

struct EndEvent {
  Seconds t;
  uint32_t ref;
  int32_t attempt;
  bool operator>(const EndEvent& o) const { return t != o.t ? t > o.t : ref > o.ref; }
};


// Times placement decisions: every fourth one (a systematic sample: reading
// the clock twice costs as much as a small placement), keeping every time up
// to kKeep of them, then a uniform sample of kKeep (reservoir sampling with
// a fixed-seed generator), so that a run of billions of decisions still has
// sound percentiles in bounded memory.
class Timer : public DecisionObserver {
 public:
  static constexpr size_t kKeep = size_t{1} << 21;
  explicit Timer(std::vector<uint32_t>* out) : out_(out), rng_(0x5eed) {}
  void Begin() override {
    timing_ = (count_++ & 3) == 0;
    if (timing_) t0_ = std::chrono::steady_clock::now();
  }
  void End() override {
    if (!timing_) return;
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - t0_)
                  .count();
    const uint32_t x = static_cast<uint32_t>(std::min<int64_t>(ns, UINT32_MAX));
    ++seen_;
    if (out_->size() < kKeep) {
      out_->push_back(x);
    } else if (const uint64_t k = rng_.Below(seen_); k < kKeep) {
      (*out_)[k] = x;
    }
  }

 private:
  std::vector<uint32_t>* out_;
  Rng rng_;
  uint64_t seen_ = 0, count_ = 0;
  bool timing_ = false;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

Result<FleetSimResult> SimulateFleet(const Fleet& fleet, AiWorkload* w,
                                     const FleetSimOptions& options) {
  // Tenants: the workload's names, then those only in the tenants file
  // (sched/admission.h resolves the file into the core's settings); equal
  // shares go in name order of the tenants known before the services'.
  TenantDirectory dir(w->tenants);
  auto resolved = ResolveTenants(fleet, options.tenants, &dir);
  if (!resolved.ok()) return resolved.error();
  RankByName(dir, &resolved->settings);
  w->tenants = dir.names();
  auto tenant_id = [&](const std::string& name) {
    const TenantId id = dir.Resolve(name);
    if (w->tenants.size() < dir.size()) w->tenants = dir.names();
    return id;
  };
  FleetSchedulerOptions so;
  so.policy = options.policy;
  so.starve_after = options.starve_after;
  for (const TenantSettings& ts : resolved->settings) {
    so.tenant_weights.push_back(ts.weight);
    so.quotas.push_back(ts.quota);
    so.tenant_rank.push_back(ts.rank);
  }
  so.dedicated = std::move(resolved->dedicated);
  // Arrival order (submit, id); refs index `jobs`.
  const size_t n = w->jobs.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const AiJob& x = w->jobs[a];
    const AiJob& y = w->jobs[b];
    return x.submit != y.submit ? x.submit < y.submit : x.id < y.id;
  });
  // GPU-model constraints name models in the workload's own table; map
  // them to the fleet's accelerator indexes by name (unknown names match
  // nothing, so a job asking only for them is rejected).
  std::vector<GpuModelMask> to_fleet(w->models.size(), 0);
  for (size_t m = 0; m < w->models.size(); ++m) {
    for (size_t a = 0; a < fleet.accelerators.size(); ++a) {
      if (fleet.accelerators[a].name == w->models.name(static_cast<GpuModelId>(m))) {
        to_fleet[m] = GpuModelMask{1} << a;
      }
    }
  }
  // Jobs: first every inference replica (refs [0, R): ahead of the trace in
  // a queue's order), then the trace's jobs in arrival order.
  const size_t nsvc = options.services.size();
  std::vector<size_t> first_replica(nsvc + 1, 0);
  for (size_t k = 0; k < nsvc; ++k) {
    const ServiceSpec& sp = options.services[k].spec;
    if (Status st = ValidateServiceSpec(sp); !st) return st.error();
    first_replica[k + 1] = first_replica[k] + static_cast<size_t>(sp.max_replicas);
  }
  const size_t R = first_replica[nsvc];
  std::vector<AiJob> jobs(R + n);
  for (size_t k = 0; k < nsvc; ++k) {
    const ServiceSpec& sp = options.services[k].spec;
    const TenantId owner = tenant_id(sp.tenant);
    for (size_t i = first_replica[k]; i < first_replica[k + 1]; ++i) {
      AiJob& j = jobs[i];
      j.id = -static_cast<JobId>(i + 1);
      j.tenant = owner;
      j.runtime = Seconds{1} << 50;  // runs until the autoscaler lets it go
      j.gpus = sp.gpus_per_replica;
      j.topology = sp.scope;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    AiJob& j = jobs[R + i];
    j = w->jobs[order[i]];
    if (j.models != kAnyGpuModel) {
      GpuModelMask mask = 0;
      for (size_t m = 0; m < to_fleet.size(); ++m) {
        if ((j.models >> m) & 1u) mask |= to_fleet[m];
      }
      j.models = mask;
    }
  }

  FleetSimResult r;
  r.outcomes.resize(n);
  r.fleet_gpus = fleet.TotalGpus();
  const size_t tenants = std::max(w->tenants.size(), so.tenant_weights.size());
  r.tenants.resize(tenants);
  for (size_t t = 0; t < tenants; ++t) {
    r.tenants[t].name = t < w->tenants.size() ? w->tenants[t] : "";
    r.tenants[t].weight = t < so.tenant_weights.size() ? so.tenant_weights[t] : 1.0;
  }
  for (const DedicatedCluster& c : so.dedicated) {
    for (int32_t d : c.domains) r.tenants[c.tenant].dedicated_gpus += fleet.domains[static_cast<size_t>(d)].gpus;
  }
  Timer timer(&r.decision_ns);
  if (options.time_decisions) so.observer = &timer;
  // Capacity over time: domains delivered later (and spares) start out of
  // service.
  CapacityCalendar capacity(fleet);
  so.offline = capacity.offline_at_start();
  SparePool spares(fleet);
  so.power = options.power;
  auto created = FleetScheduler::Create(fleet, so);
  if (!created.ok()) return created.error();
  FleetScheduler& sched = **created;
  // Every job is added up front, so that its ref is its index here: the
  // replicas first (they lead their queues), then the trace in arrival
  // order. The scheduler keeps the only copy.
  for (size_t i = 0; i < R + n; ++i) sched.AddJob(jobs[i]);
  jobs.clear();
  jobs.shrink_to_fit();

  const size_t S = fleet.sites.size();
  r.sites.resize(S);
  for (size_t s = 0; s < fleet.sites.size(); ++s) {
    r.sites[s].name = fleet.sites[s].name;
    r.sites[s].power_cap_mw = fleet.sites[s].power_cap_mw;
    r.sites[s].pue = fleet.sites[s].pue;
  }
  auto site_of_domain = [&](int32_t d) {
    return static_cast<size_t>(fleet.site_of_domain(d));
  };
  // Work clocks, speeds and attempt ends per site.
  struct SiteEnd {
    double target;
    uint32_t ref;
    int32_t attempt;
    bool operator>(const SiteEnd& o) const { return target != o.target ? target > o.target : ref > o.ref; }
  };
  std::vector<double> clock(S, 0), speed(S, 1.0);
  std::vector<std::priority_queue<SiteEnd, std::vector<SiteEnd>, std::greater<SiteEnd>>> ends(S);
  // Per job: its checkpointed work, and the attempt it is in.
  struct JobRun {
    double committed = 0;  // work kept by checkpoints
    double w0 = 0;         // its site's clock at the attempt's start
    double interval = 0;   // checkpoint interval of the attempt
    int32_t site = 0;      // of the attempt
    bool restart = false;  // the next attempt starts with a restart
    bool running = false;  // an attempt is under way
    bool multi = false;    // the attempt spans sites (its clock: multi_clock)
    double factor = 1;     // the attempt's slowdown: cross_site_slowdown if multi
  };
  // Multi-site attempts: each on its own work clock, which runs at the speed
  // of the slowest site it touches (a synchronous gang waits for its slowest
  // part); and, for revenue, the share of its GPUs at each site.
  struct MultiClock {
    int32_t attempt;
    double clock, target;
    std::vector<int32_t> sites;
  };
  std::map<uint32_t, MultiClock> multi_clock;
  // A multi-site attempt's share of its GPUs at each site, from its start to
  // the ledger.
  std::vector<std::pair<int32_t, double>> pending_share;
  int64_t running_jobs = 0;
  std::vector<JobRun> run(R + n);
  std::vector<int32_t> attempt(R + n, 0);
  std::vector<FleetJobOutcome> out(R + n);
  Decisions decisions;
  std::vector<WindowChange> window_changes;
  int64_t finished = 0, total = 0;
  std::vector<TenantId> dedicated_tenants;
  for (const DedicatedCluster& c : so.dedicated) {
    if (std::find(dedicated_tenants.begin(), dedicated_tenants.end(), c.tenant) == dedicated_tenants.end()) {
      dedicated_tenants.push_back(c.tenant);
    }
  }
  Seconds t = 0;  // the simulated clock
  // Services: their state, and per replica whether it is asked for.
  std::vector<InferenceService> svc;
  for (const FleetService& fs : options.services) svc.emplace_back(fs.spec, 0);
  std::vector<ReplicaSet> replica_sets;
  for (size_t k = 0; k < nsvc; ++k) {
    replica_sets.emplace_back(static_cast<uint32_t>(first_replica[k]),
                              static_cast<int32_t>(first_replica[k + 1] - first_replica[k]));
  }
  std::vector<int32_t> service_of(R, 0), held_by(nsvc, 0);
  for (size_t k = 0; k < nsvc; ++k) {
    for (size_t i = first_replica[k]; i < first_replica[k + 1]; ++i) service_of[i] = static_cast<int32_t>(k);
  }
  int64_t replicas_running = 0, replicas_wanted = 0;
  r.services.resize(nsvc);
  std::vector<double> starved(nsvc, 0);
  std::vector<int32_t> svc_peak(nsvc, 0);
  const Seconds svc_step = std::max<Seconds>(1, options.service_step);
  Seconds next_service = nsvc > 0 ? 0 : INT64_MAX;

  // Failures: a Poisson process over all GPU nodes, thinned for nodes that
  // are down or out of service.
  FailureProcess failures(fleet, options.failures, options.default_failure_rate, options.repair, options.seed);
  const CheckpointSettings checkpoints{options.checkpoint_interval, options.checkpoint_cost,
                                       options.default_failure_rate};

  // One place keeps the counts of running attempts (all, replicas, per
  // service) in step with each job's flag.
  auto set_running = [&](uint32_t ref, bool on) {
    run[ref].running = on;
    const int d = on ? 1 : -1;
    running_jobs += d;
    if (ref < R) {
      replicas_running += d;
      const size_t k = static_cast<size_t>(service_of[ref]);
      held_by[k] += d;
      svc_peak[k] = std::max(svc_peak[k], held_by[k]);
    }
  };
  auto policy_of = [&](uint32_t ref) {
    CheckpointPolicy p;
    const AiJob& j = sched.job(ref);
    if (j.gpus == 0) return p;  // CPU-only jobs neither checkpoint nor fail
    p.cost_s = options.checkpoint_cost;
    p.restart_s = options.restart_cost;
    p.interval_s = run[ref].interval;
    return p;
  };
  // Ends the attempt of a running job (a failure or a preemption at now):
  // keeps its checkpointed work, counts what it lost.
  // A multi-site attempt does its work `factor` times slower: its timeline
  // is the Attempt of factor x the work, checkpoints every `interval` of
  // its clock and restarts as usual; what it saves is work / factor.
  auto end_attempt = [&](uint32_t ref) {
    JobRun& jr = run[ref];
    const AiJob& j = sched.job(ref);
    FleetJobOutcome& o = out[ref];
    const double f = jr.factor;
    Attempt a(policy_of(ref), static_cast<double>(j.runtime) * f, jr.committed * f, jr.restart, 0.0);
    double now_clock;
    if (jr.multi) {
      now_clock = multi_clock.at(ref).clock;
      multi_clock.erase(ref);
      jr.multi = false;
    } else {
      now_clock = clock[static_cast<size_t>(jr.site)];
    }
    const AttemptUsage u = a.Usage(now_clock - jr.w0);
    const double lost = j.gpu_share() * u.lost_s();
    o.lost_gpu_seconds += lost;
    r.tenants[j.tenant].lost_gpu_seconds += lost;
    jr.committed = std::min(u.committed_work_s / f, static_cast<double>(j.runtime));
    jr.restart = true;
    set_running(ref, false);
    ++attempt[ref];  // its pending end is void
  };
  r.first_submit = n ? sched.job(static_cast<uint32_t>(R)).submit : 0;
  FleetLedger ledger(fleet, options, &r, R + n, dedicated_tenants, so.offline);
  for (const TenantSpec& ts : options.tenants.tenants) ledger.SetPrices(tenant_id(ts.name), ts);
  // A running attempt's revenue and held GPUs go to the ledger at its start
  // (the scheduler's placement) and come back at its end (as recorded then).
  auto add_rate = [&](uint32_t ref, int sign) {
    const AiJob& j = sched.job(ref);
    if (sign > 0) {
      ledger.Started(ref, j, run[ref].site, sched.in_own_dedicated(ref), std::move(pending_share), t);
      pending_share.clear();
    } else {
      out[ref].held_gpu_seconds += ledger.Ended(ref, j, run[ref].site, t);
    }
  };

  SimProgress prog{0, n ? sched.job(R).submit : 0, n ? sched.job(static_cast<uint32_t>(R + n - 1)).submit : 0, 0, 0};
  int64_t next_report = 1 << 14;
  const Seconds last_arrival = n ? sched.job(static_cast<uint32_t>(R + n - 1)).submit : 0;
  size_t next = R;
  if (n > 0) {
    if (Status st = ledger.CheckRows(std::max(last_arrival, options.horizon)); !st) return st.error();
  }
  bool have_t = false;
  auto end_time = [&](size_t s) {
    auto& h = ends[s];
    while (!h.empty() && h.top().attempt != attempt[h.top().ref]) h.pop();
    if (h.empty() || speed[s] <= 0) return INT64_MAX;
    const double dt = (h.top().target - clock[s]) / speed[s];
    return t + std::max<Seconds>(0, static_cast<Seconds>(std::ceil(dt - 1e-9)));
  };
  auto multi_speed = [&](const MultiClock& m) {
    double v = 1;
    for (int32_t s : m.sites) v = std::min(v, speed[static_cast<size_t>(s)]);
    return v;
  };
  auto multi_end_time = [&]() {
    Seconds e = INT64_MAX;
    for (const auto& [ref, m] : multi_clock) {
      const double v = multi_speed(m);
      if (v <= 0) continue;
      const double dt = (m.target - m.clock) / v;
      e = std::min(e, t + std::max<Seconds>(0, static_cast<Seconds>(std::ceil(dt - 1e-9))));
    }
    return e;
  };
  while (true) {
    // The workload is live while trace jobs are to come, wait or run; the
    // services' replicas alone do not keep the simulation going.
    const int64_t replicas_waiting = replicas_wanted - replicas_running;
    // A preemptible job that a daily service preempts every day before it
    // can finish would keep a simulation with services going forever: past
    // `settle` after the last arrival, services, failures and dates stop,
    // and the jobs left run to their end or are reported unfinished.
    const bool active = t < options.horizon ||
                        ((next < R + n || sched.waiting() - replicas_waiting > 0 ||
                          running_jobs - replicas_running > 0) &&
                         t < last_arrival + options.settle);
    Seconds nt = INT64_MAX;
    if (next < R + n) nt = std::min(nt, sched.job(next).submit);
    if (active) nt = std::min(nt, next_service);
    for (size_t s = 0; s < S; ++s) nt = std::min(nt, end_time(s));
    if (!multi_clock.empty()) nt = std::min(nt, multi_end_time());
    if (active) {
      nt = std::min(nt, sched.NextWindowChange());
      nt = std::min({nt, capacity.next(), failures.next_repair(), failures.next_failure()});
    }
    if (nt == INT64_MAX) break;
    if (have_t && nt > t) {
      // Integrate the state held over [t, nt), then advance the work clocks.
      if (Status st = ledger.Integrate(t, nt, sched, speed, held_by); !st) return st.error();
      const double dt = static_cast<double>(nt - t);
      for (auto& [ref, m] : multi_clock) m.clock += multi_speed(m) * dt;
      for (size_t s = 0; s < S; ++s) clock[s] += speed[s] * dt;
    }
    t = nt;
    have_t = true;
    // 1. Attempts that end now, in job order.
    std::vector<uint32_t> ending;
    for (size_t s = 0; s < S; ++s) {
      auto& h = ends[s];
      while (!h.empty() && (h.top().attempt != attempt[h.top().ref] || h.top().target <= clock[s] + 1e-6)) {
        if (h.top().attempt == attempt[h.top().ref]) ending.push_back(h.top().ref);
        h.pop();
      }
    }
    for (auto it = multi_clock.begin(); it != multi_clock.end();) {
      if (it->second.target <= it->second.clock + 1e-6) {
        ending.push_back(it->first);
        run[it->first].multi = false;
        it = multi_clock.erase(it);
      } else {
        ++it;
      }
    }
    std::sort(ending.begin(), ending.end());
    for (uint32_t ref : ending) {
      const AiJob& j = sched.job(ref);
      add_rate(ref, -1);
      sched.Finish(ref, t);
      set_running(ref, false);
      out[ref].end = t;
      r.tenants[j.tenant].gpu_seconds += j.gpu_share() * static_cast<double>(j.runtime);
      ++finished;
      ++r.events;
    }
    // 2. Repairs, then failures.
    while (failures.next_repair() == t) {
      const int32_t node = failures.TakeRepair();
      sched.SetNodeDown(node, false);
      // A spare that stood in goes back if it is idle now.
      if (const int32_t sd = spares.OnRepair(node, sched); sd >= 0) sched.SetDomainOnline(sd, false);
      ++r.repairs;
      ++r.events;
    }
    while (failures.next_failure() == t) {
      const int32_t node = failures.TakeFailure();
      if (node < 0 || sched.node_down(node) || !sched.domain_online(fleet.nodes[static_cast<size_t>(node)].domain)) {
        continue;  // thinning: that node cannot fail now
      }
      for (uint32_t ref : sched.JobsOnNode(node)) {
        const AiJob& j = sched.job(ref);
        end_attempt(ref);
        add_rate(ref, -1);
        sched.Interrupt(ref, t);
        ++out[ref].interruptions;
        ++r.tenants[j.tenant].interruptions;
      }
      sched.SetNodeDown(node, true);
      if (const int32_t sd = spares.OnFailure(node); sd >= 0) sched.SetDomainOnline(sd, true);
      failures.ScheduleRepair(node, t);
      ++r.sites[site_of_domain(fleet.nodes[static_cast<size_t>(node)].domain)].failures;
      ++r.failures;
      ++r.events;
    }
    // 3. Domains into and out of service.
    for (const CapacityCalendar::Change& c : capacity.Take(t)) {
      if (sched.domain_online(c.domain) != c.online) {
        sched.SetDomainOnline(c.domain, c.online);
        ledger.DomainService(c.domain, c.online);
      }
      ++r.events;
    }
    // 4. Dedicated windows.
    if (sched.NextWindowChange() <= t) {
      window_changes.clear();
      sched.ApplyWindows(t, &window_changes);
      for (const WindowChange& wc : window_changes) {
        const DedicatedCluster& c = sched.dedicated(wc.cluster);
        int64_t g = 0;
        for (int32_t d : c.domains) g += fleet.domains[static_cast<size_t>(d)].gpus;
        ledger.Reserved(c.tenant, wc.active ? g : -g);
        ++r.events;
      }
    }
    // 5. Arrivals.
    // 6. Services: score the step that starts now, then ask for replicas.
    if (t == next_service) {
      next_service = t + svc_step;
      for (size_t k = 0; k < nsvc; ++k) {
        InferenceService& sv = svc[k];
        const int32_t held = held_by[k];
        sv.Resize(static_cast<double>(t), held);
        const double demand = options.services[k].demand.At(static_cast<double>(t));
        const ServiceSample x = sv.Serve(static_cast<double>(t), static_cast<double>(svc_step), demand);
        const int32_t want = sv.Desired(static_cast<double>(t), demand);
        ReplicaSet& rs = replica_sets[k];
        starved[k] += static_cast<double>(std::max(0, rs.asked() - held)) * static_cast<double>(svc_step);
        const ReplicaSet::Actions act = rs.Plan(want, [&](uint32_t i) { return run[i].running; });
        for (uint32_t i : act.submit) sched.Submit(i, t);
        for (uint32_t i : act.withdraw) sched.Withdraw(i);
        for (uint32_t i : act.stop) {
          add_rate(i, -1);
          sched.Finish(i, t);
          set_running(i, false);
          ++attempt[i];
        }
        replicas_wanted += static_cast<int64_t>(act.submit.size()) - static_cast<int64_t>(act.withdraw.size()) -
                           static_cast<int64_t>(act.stop.size());
        ledger.ServiceScored(k, demand, x.slo_attainment);
      }
      ++r.events;
    }
    while (next < R + n && sched.job(next).submit == t) {
      const AiJob& j = sched.job(next);
      FleetJobOutcome& o = out[next];
      TenantStats& ts = r.tenants[j.tenant];
      ++ts.jobs;
      const Verdict verdict = Admit(sched, j).verdict;
      if (verdict == Verdict::kInvalid) {
        o.status = JobStatus::kInvalid;
        ++ts.invalid;
      } else if (verdict == Verdict::kRejected) {
        o.status = JobStatus::kRejected;
        ++ts.rejected;
      } else {
        o.status = JobStatus::kDone;
        sched.Submit(static_cast<FleetScheduler::JobRef>(next), t);
        ++total;
      }
      ++next;
      ++r.events;
    }
    // 6. One pass.
    sched.Schedule(t, &decisions);
    ++r.passes;
    // Preempted attempts keep their checkpointed work and lose the rest; a
    // job started and preempted within the pass lost nothing but counts its
    // preemptions.
    for (const JobChange& c : decisions.changes) {
      if (c.preemptions == 0) continue;
      const FleetScheduler::JobRef ref = c.job;
      FleetJobOutcome& o = out[ref];
      if (c.stopped) {
        add_rate(ref, -1);
        end_attempt(ref);
        o.start = t;
      }
      o.preemptions += c.preemptions;
      r.tenants[sched.job(ref).tenant].preemptions += c.preemptions;
    }
    for (const JobChange& c : decisions.changes) {
      if (!c.started) continue;
      const FleetScheduler::JobRef ref = c.job;
      const AiJob& j = sched.job(ref);
      FleetJobOutcome& o = out[ref];
      JobRun& jr = run[ref];
      o.start = t;
      if (o.first_start < 0) o.first_start = t;
      const size_t s = static_cast<size_t>(sched.site_of(ref));
      jr.site = static_cast<int32_t>(s);
      jr.interval = CheckpointInterval(fleet, j, sched.placement(ref).parts.front().node, checkpoints,
                                       /*replica=*/ref < R);
      o.checkpoint_interval = jr.interval;
      jr.multi = sched.multi_site(ref);
      jr.factor = jr.multi ? fleet.cross_site_slowdown : 1.0;
      Attempt a(policy_of(ref), static_cast<double>(j.runtime) * jr.factor, jr.committed * jr.factor, jr.restart,
                0.0);
      set_running(ref, true);
      ++attempt[ref];
      if (jr.multi) {
        // Its own work clock, and the share of its GPUs at each site.
        MultiClock m{attempt[ref], 0.0, a.end_s(), {}};
        std::vector<std::pair<int32_t, double>> share;
        int64_t units = 0;
        for (const GangPart& x : sched.placement(ref).parts) {
          const int32_t site = fleet.site_of_domain(fleet.nodes[static_cast<size_t>(x.node)].domain);
          auto it = std::find_if(share.begin(), share.end(), [&](const auto& e) { return e.first == site; });
          if (it == share.end()) {
            share.push_back({site, 0.0});
            it = share.end() - 1;
          }
          it->second += static_cast<double>(x.units) * x.nodes;  // a run: nodes x units
          units += int64_t{x.units} * x.nodes;
        }
        for (auto& [site, g] : share) {
          m.sites.push_back(site);
          g /= static_cast<double>(std::max<int64_t>(1, units));
        }
        jr.w0 = 0;
        multi_clock[ref] = std::move(m);
        pending_share = std::move(share);
      } else {
        jr.w0 = clock[s];
        // A replica runs until its service lets it go: no end to wait for.
        if (ref >= R) ends[s].push(SiteEnd{clock[s] + a.end_s(), ref, attempt[ref]});
      }
      add_rate(ref, +1);
    }
    ledger.UpdateBusy(sched);
    // 7. Throttle: each capped site runs as fast as its cap allows.
    if (options.power == PowerPolicy::kThrottle) {
      for (size_t s = 0; s < fleet.sites.size(); ++s) {
        const int32_t si = static_cast<int32_t>(s);
        speed[s] = ThrottleSpeed(fleet.sites[s].power_cap_mw * 1e6, sched.site_static_w(si), sched.site_dynamic_w(si));
      }
    }
    if (options.progress && r.events >= next_report) {
      next_report = r.events + (1 << 14);
      prog.now = t;
      prog.finished = finished;
      prog.total = total;
      options.progress(prog);
    }
  }
  r.decisions = sched.decisions();
  // Jobs still waiting when nothing else could happen (no arrivals, no
  // running jobs, no dedicated window to come) are reported unfinished.
  for (size_t i = R; i < R + n; ++i) {
    FleetJobOutcome& o = out[i];
    const AiJob& j = sched.job(i);
    TenantStats& ts = r.tenants[j.tenant];
    if (o.status == JobStatus::kDone && o.end < 0) {
      o.status = JobStatus::kUnfinished;
      ++ts.unfinished;
      continue;
    }
    if (o.status != JobStatus::kDone) continue;
    ++ts.done;
    ts.wait_sum += static_cast<double>(o.first_start - j.submit);
    ts.jct_sum += static_cast<double>(o.end - j.submit);
    if (j.gpus > 0) {
      ts.ettr_work_gpu_seconds += j.gpu_share() * static_cast<double>(j.runtime);
      ts.ettr_wall_gpu_seconds += j.gpu_share() * static_cast<double>(o.end - o.first_start);
    }
    r.last_end = std::max(r.last_end, o.end);
  }
  ledger.Finish(svc_peak, starved);
  // Back to the workload's order.
  for (size_t i = 0; i < n; ++i) r.outcomes[order[i]] = out[R + i];
  return r;
}

}  // namespace rackscale
