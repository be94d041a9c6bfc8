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

std::vector<std::vector<int32_t>> DedicatedDomains(const Fleet& fleet,
                                                   const std::vector<DedicatedSpec>& dedicated) {
  std::vector<std::vector<int32_t>> out(dedicated.size());
  std::vector<bool> taken(fleet.domains.size(), false);
  for (size_t k = 0; k < dedicated.size(); ++k) {
    const DedicatedSpec& d = dedicated[k];
    std::vector<int32_t>& mine = out[k];
    for (size_t i = 0; i < fleet.domains.size() && static_cast<int64_t>(mine.size()) < d.domains; ++i) {
      if (taken[i]) continue;
      const Domain& dom = fleet.domains[i];
      if (fleet.domain_types[static_cast<size_t>(dom.type)].name != d.domain_type) continue;
      if (!d.site.empty() && fleet.sites[static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(i)))].name != d.site) continue;
      taken[i] = true;
      mine.push_back(static_cast<int32_t>(i));
    }
  }
  return out;
}

Result<FleetSimResult> SimulateFleet(const Fleet& fleet, AiWorkload* w,
                                     const FleetSimOptions& options) {
  // Tenant table: the workload's names plus those only in the config.
  // Tenant names to ids through a hash map (a linear search per tenant made
  // 100,000 tenants quadratic).
  std::unordered_map<std::string, TenantId> tenant_ids;
  for (size_t i = 0; i < w->tenants.size(); ++i) tenant_ids.emplace(w->tenants[i], static_cast<TenantId>(i));
  auto tenant_id = [&](const std::string& name) {
    auto [it, added] = tenant_ids.emplace(name, static_cast<TenantId>(w->tenants.size()));
    if (added) w->tenants.push_back(name);
    return it->second;
  };
  FleetSchedulerOptions so;
  so.policy = options.policy;
  so.starve_after = options.starve_after;
  std::unordered_map<std::string, int32_t> cohorts;
  for (const TenantSpec& t : options.tenants.tenants) {
    TenantId id = tenant_id(t.name);
    if (so.tenant_weights.size() <= id) so.tenant_weights.resize(id + 1, 1.0);
    if (so.quotas.size() <= id) so.quotas.resize(id + 1);
    so.tenant_weights[id] = t.weight;
    TenantQuota& q = so.quotas[id];
    q.nominal_gpus = t.nominal_gpus;
    q.borrowing_limit = t.borrowing_limit;
    if (!t.cohort.empty()) {
      q.cohort = cohorts.emplace(t.cohort, static_cast<int32_t>(cohorts.size())).first->second;
    }
  }
  // Dedicated clusters: the first free domains of the type (and site).
  std::vector<std::vector<int32_t>> dedicated_domains = DedicatedDomains(fleet, options.tenants.dedicated);
  for (size_t k = 0; k < options.tenants.dedicated.size(); ++k) {
    const DedicatedSpec& d = options.tenants.dedicated[k];
    DedicatedCluster c;
    c.tenant = tenant_id(d.tenant);
    c.start = static_cast<Seconds>(std::llround(d.start_day * 86400));
    c.end = static_cast<Seconds>(std::llround(d.end_day * 86400));
    c.lend = d.lend;
    c.domains = std::move(dedicated_domains[k]);
    if (static_cast<int64_t>(c.domains.size()) < d.domains) {
      return Error::InvalidInput("", d.line, "domains",
                                 fmt::format("tenant '{}' asks for {} dedicated {} domains{}; the fleet "
                                             "has {} more",
                                             d.tenant, d.domains, d.domain_type,
                                             d.site.empty() ? "" : " in " + d.site, c.domains.size()));
    }
    so.dedicated.push_back(std::move(c));
  }

  // Equal shares go to tenants in name order, whatever order they were seen.
  {
    std::vector<TenantId> ids(w->tenants.size());
    std::iota(ids.begin(), ids.end(), 0u);
    std::stable_sort(ids.begin(), ids.end(),
                     [&](TenantId a, TenantId b) { return w->tenants[a] < w->tenants[b]; });
    so.tenant_rank.assign(w->tenants.size(), 0);
    for (size_t r = 0; r < ids.size(); ++r) so.tenant_rank[ids[r]] = static_cast<int32_t>(r);
  }
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
  // Contract prices by tenant id, $ per GPU-second.
  std::vector<double> price_reserved(tenants, 0), price_on_demand(tenants, 0), price_spot(tenants, 0);
  for (const TenantSpec& t : options.tenants.tenants) {
    const TenantId id = tenant_id(t.name);
    price_reserved[id] = t.reserved_usd_per_gpu_hour / 3600;
    price_on_demand[id] = t.on_demand_usd_per_gpu_hour / 3600;
    price_spot[id] = t.spot_usd_per_gpu_hour / 3600;
  }
  Timer timer(&r.decision_ns);
  if (options.time_decisions) so.observer = &timer;
  // Capacity over time: domains delivered later start out of service.
  struct CapacityEvent {
    Seconds t;
    int32_t d;
    bool online;
  };
  std::vector<CapacityEvent> capacity;
  so.offline.assign(fleet.domains.size(), false);
  // Spare domains: out of service until a node of their site and type
  // fails; then one stands in, and goes back when a repair finds it idle.
  std::map<std::pair<size_t, int32_t>, std::vector<int32_t>> spares, owed;
  for (size_t d = 0; d < fleet.domains.size(); ++d) {
    const Domain& dom = fleet.domains[d];
    if (dom.spare) {
      so.offline[d] = true;
      const size_t site = static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(d)));
      spares[{site, dom.type}].push_back(static_cast<int32_t>(d));
      continue;
    }
    if (dom.online > 0) {
      so.offline[d] = true;
      capacity.push_back({dom.online, static_cast<int32_t>(d), true});
    }
    if (dom.retire >= 0) capacity.push_back({dom.retire, static_cast<int32_t>(d), false});
  }
  std::sort(capacity.begin(), capacity.end(), [](const CapacityEvent& a, const CapacityEvent& b) {
    return a.t != b.t ? a.t < b.t : a.d < b.d;
  });
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
  // Depreciation, $ per second, of the GPUs in service per site.
  std::vector<double> dep_rate(S, 0);
  auto domain_dep = [&](int32_t d) {
    const Domain& dom = fleet.domains[static_cast<size_t>(d)];
    const NodeType& nt = fleet.node_types[static_cast<size_t>(fleet.domain_types[static_cast<size_t>(dom.type)].node_type)];
    if (nt.gpus == 0 || nt.accelerator < 0) return 0.0;
    const AcceleratorType& a = fleet.accelerators[static_cast<size_t>(nt.accelerator)];
    return dom.gpus * a.price_usd / (a.life_years * kSecondsPerYear);
  };
  for (size_t d = 0; d < fleet.domains.size(); ++d) {
    // Spares are owned (and depreciate) from the start.
    if (!so.offline[d] || fleet.domains[d].spare) {
      dep_rate[site_of_domain(static_cast<int32_t>(d))] += domain_dep(static_cast<int32_t>(d));
    }
  }
  for (auto& [key, v] : spares) std::reverse(v.begin(), v.end());  // lowest id on top

  // Work clocks, speeds and attempt ends per site.
  struct SiteEnd {
    double target;
    uint32_t ref;
    int32_t attempt;
    bool operator>(const SiteEnd& o) const { return target != o.target ? target > o.target : ref > o.ref; }
  };
  std::vector<double> clock(S, 0), speed(S, 1.0);
  std::vector<std::priority_queue<SiteEnd, std::vector<SiteEnd>, std::greater<SiteEnd>>> ends(S);
  constexpr double kMinSpeed = 0.05;
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
  std::map<uint32_t, std::vector<std::pair<int32_t, double>>> multi_share;
  int64_t running_jobs = 0;
  std::vector<JobRun> run(R + n);
  std::vector<int32_t> attempt(R + n, 0);
  std::vector<FleetJobOutcome> out(R + n);
  Decisions decisions;
  std::vector<WindowChange> window_changes;
  size_t next_capacity = 0;
  int64_t busy = 0, finished = 0, total = 0;
  std::vector<TenantId> dedicated_tenants;
  for (const DedicatedCluster& c : so.dedicated) {
    if (std::find(dedicated_tenants.begin(), dedicated_tenants.end(), c.tenant) == dedicated_tenants.end()) {
      dedicated_tenants.push_back(c.tenant);
    }
  }
  // Revenue, $ per second, by site and by tenant; reserved GPUs by tenant
  // and GPUs held per (tenant, site).
  std::vector<double> site_revenue_rate(S, 0), tenant_revenue_rate(tenants, 0);
  std::vector<int64_t> reserved_gpus(tenants, 0);
  std::vector<double> held(tenants * S, 0);
  // Tenants with running attempts, and those with dedicated clusters: the
  // only ones whose figures change between events. Per-event work walks
  // them in id order (the sums keep their order), never all tenants.
  std::vector<int64_t> running_of(tenants, 0);
  std::set<TenantId> live;
  std::vector<TenantId> touched;  // scratch: live and dedicated, in id order
  std::vector<TenantId> dedicated_sorted = dedicated_tenants;  // sorted once, not per event
  std::sort(dedicated_sorted.begin(), dedicated_sorted.end());
  auto tenants_to_touch = [&]() -> const std::vector<TenantId>& {
    touched.clear();
    std::set_union(live.begin(), live.end(), dedicated_sorted.begin(), dedicated_sorted.end(),
                   std::back_inserter(touched));
    return touched;
  };
  std::vector<double> job_rate(R + n, 0);  // its revenue rate while running
  std::vector<Seconds> held_since(R + n, 0);  // start of its running attempt
  Seconds t = 0;  // the simulated clock
  // Services: their state, and per replica whether it is asked for.
  std::vector<InferenceService> svc;
  for (const FleetService& fs : options.services) svc.emplace_back(fs.spec, 0);
  std::vector<uint8_t> wanted(R, 0);
  std::vector<int32_t> service_of(R, 0), held_by(nsvc, 0), asked_by(nsvc, 0);
  for (size_t k = 0; k < nsvc; ++k) {
    for (size_t i = first_replica[k]; i < first_replica[k + 1]; ++i) service_of[i] = static_cast<int32_t>(k);
  }
  int64_t replicas_running = 0, replicas_wanted = 0;
  r.services.resize(nsvc);
  std::vector<double> starved(nsvc, 0);
  // The services' ledger, integrated with everything else over simulated
  // time: held replicas, and the demand of the current service step and the
  // share of it served within the SLO (scored at the step's start).
  std::vector<double> svc_demand(nsvc, 0), svc_attainment(nsvc, 1);
  std::vector<double> svc_replica_s(nsvc, 0), svc_demand_tokens(nsvc, 0), svc_attained_tokens(nsvc, 0), svc_s(nsvc, 0);
  std::vector<int32_t> svc_peak(nsvc, 0);
  const Seconds svc_step = std::max<Seconds>(1, options.service_step);
  Seconds next_service = nsvc > 0 ? 0 : INT64_MAX;

  // Failures: a Poisson process over all GPU nodes, thinned for nodes that
  // are down or out of service.
  Rng rng(options.seed);
  std::vector<double> type_rate_per_s(fleet.node_types.size(), 0);
  std::vector<std::vector<int32_t>> nodes_of_type(fleet.node_types.size());
  double total_rate = 0;
  if (options.failures) {
    for (size_t i = 0; i < fleet.nodes.size(); ++i) {
      nodes_of_type[static_cast<size_t>(fleet.nodes[i].type)].push_back(static_cast<int32_t>(i));
    }
    for (size_t t = 0; t < fleet.node_types.size(); ++t) {
      const NodeType& nt = fleet.node_types[t];
      if (nt.gpus == 0 || nt.accelerator < 0) continue;
      double rate = fleet.accelerators[static_cast<size_t>(nt.accelerator)].failures_per_year;
      if (rate <= 0) rate = options.default_failure_rate;
      type_rate_per_s[t] = rate * nt.gpus / kSecondsPerYear;
      total_rate += type_rate_per_s[t] * static_cast<double>(nodes_of_type[t].size());
    }
  }
  double next_failure = total_rate > 0 ? rng.Exponential(1.0 / total_rate) : INFINITY;
  std::priority_queue<std::pair<Seconds, int32_t>, std::vector<std::pair<Seconds, int32_t>>,
                      std::greater<>> repairs;
  auto pick_node = [&]() {
    double u = rng.Uniform() * total_rate;
    for (size_t t = 0; t < type_rate_per_s.size(); ++t) {
      const double here = type_rate_per_s[t] * static_cast<double>(nodes_of_type[t].size());
      if (u < here || t + 1 == type_rate_per_s.size()) {
        if (nodes_of_type[t].empty()) continue;
        return nodes_of_type[t][rng.Below(nodes_of_type[t].size())];
      }
      u -= here;
    }
    return int32_t{-1};
  };

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
  // A running attempt's revenue and held GPUs, added at its start (the
  // scheduler's placement) and taken back at its end (as recorded then).
  auto add_rate = [&](uint32_t ref, int sign) {
    const AiJob& j = sched.job(ref);
    const size_t s = static_cast<size_t>(run[ref].site);
    if (sign > 0) {
      job_rate[ref] = sched.in_own_dedicated(ref)
                          ? 0
                          : j.gpu_share() * (j.preemptible ? price_spot[j.tenant] : price_on_demand[j.tenant]);
      held_since[ref] = t;
    } else {
      out[ref].held_gpu_seconds += j.gpu_share() * static_cast<double>(t - held_since[ref]);
    }
    tenant_revenue_rate[j.tenant] += sign * job_rate[ref];
    running_of[j.tenant] += sign;
    if (running_of[j.tenant] > 0) {
      live.insert(j.tenant);
    } else {
      live.erase(j.tenant);
    }
    auto ms = multi_share.find(ref);
    if (ms == multi_share.end()) {
      site_revenue_rate[s] += sign * job_rate[ref];
      held[j.tenant * S + s] += sign * j.gpu_share();
      return;
    }
    // A multi-site gang: each site its share of the GPUs.
    for (const auto& [site, share] : ms->second) {
      site_revenue_rate[static_cast<size_t>(site)] += sign * job_rate[ref] * share;
      held[j.tenant * S + static_cast<size_t>(site)] += sign * j.gpu_share() * share;
    }
    if (sign < 0) multi_share.erase(ms);
  };

  SimProgress prog{0, n ? sched.job(R).submit : 0, n ? sched.job(static_cast<uint32_t>(R + n - 1)).submit : 0, 0, 0};
  int64_t next_report = 1 << 14;
  r.first_submit = n ? sched.job(R).submit : 0;
  const Seconds last_arrival = n ? sched.job(static_cast<uint32_t>(R + n - 1)).submit : 0;
  size_t next = R;
  const Seconds step = options.timeseries_step;
  r.timeseries_step = step;
  const size_t rows_per_step = S + tenants + nsvc;
  // Rows are kept from the step of the first event on (times may be
  // negative), and their number is bounded: a span that would need more
  // than kMaxTimeseriesRows is refused with the estimate, before the run
  // when the arrivals alone span it, else as soon as the run gets there.
  auto floor_div = [](Seconds a, Seconds b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); };
  const int64_t base_step = step > 0 ? floor_div(std::min<Seconds>(0, r.first_submit), step) : 0;
  auto too_many_rows = [&](Seconds until) {
    const double steps = std::floor(static_cast<double>(until) / static_cast<double>(step)) -
                         static_cast<double>(base_step) + 1;
    return Error::InvalidInput(
        "--step", 0, "step",
        fmt::format("the time series would need {:.3g} rows ({:.3g} steps of {} s from {} s to {} s, {} rows each); at "
                    "most {}: use a longer --step, or --step 0 for none",
                    steps * static_cast<double>(rows_per_step), steps, step, base_step * step, until, rows_per_step,
                    kMaxTimeseriesRows));
  };
  auto rows_needed = [&](Seconds until) {
    return (static_cast<double>(until) / static_cast<double>(step) - static_cast<double>(base_step) + 1) *
           static_cast<double>(rows_per_step);
  };
  if (step > 0 && n > 0 && rows_needed(std::max(last_arrival, options.horizon)) > kMaxTimeseriesRows) {
    return too_many_rows(std::max(last_arrival, options.horizon));
  }
  auto row = [&](int64_t b, size_t k) -> TimeRow& {
    const size_t need = static_cast<size_t>(b - base_step + 1) * rows_per_step;
    if (r.timeseries.size() < need) {
      const size_t from = r.timeseries.size();
      r.timeseries.resize(need);
      for (size_t i = from; i < need; ++i) {
        TimeRow& x = r.timeseries[i];
        x.step = static_cast<int64_t>(i / rows_per_step) + base_step;
        const size_t kk = i % rows_per_step;
        x.scope = kk < S ? TimeScope::kSite : kk < S + tenants ? TimeScope::kTenant : TimeScope::kService;
        x.id = static_cast<int32_t>(kk < S ? kk : kk < S + tenants ? kk - S : kk - S - tenants);
      }
    }
    return r.timeseries[static_cast<size_t>(b - base_step) * rows_per_step + k];
  };
  std::vector<double> covered;  // seconds of each time-series step simulated
  // The time-series steps an interval [t, nt) overlaps: (step, seconds).
  std::vector<std::pair<int64_t, double>> segments;
  bool have_t = false;
  bool window_seen = false;
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
      if (next_capacity < capacity.size()) nt = std::min(nt, capacity[next_capacity].t);
      if (!repairs.empty()) nt = std::min(nt, repairs.top().first);
      if (next_failure < 9e18) nt = std::min(nt, static_cast<Seconds>(std::ceil(next_failure)));
    }
    if (nt == INT64_MAX) break;
    if (have_t && nt > t) {
      // Integrate the state held over [t, nt).
      const double dt = static_cast<double>(nt - t);
      const Seconds w0 = std::max(t, options.window_start), w1 = std::min(nt, options.window_end);
      const double wdt = w1 > w0 ? static_cast<double>(w1 - w0) : 0.0;
      if (wdt > 0) {
        if (!window_seen) r.window_start = w0;
        window_seen = true;
        r.window_end = w1;
      }
      r.busy_gpu_seconds += static_cast<double>(busy) * dt;
      if (sched.waiting_gpu_jobs() > 0) {
        r.fragmented_gpu_seconds += static_cast<double>(sched.index().free_gpus()) * dt;
      }
      for (TenantId d : dedicated_tenants) {
        r.tenants[d].stranded_gpu_seconds += static_cast<double>(sched.dedicated_free_gpus(d)) * dt;
      }
      if (sched.waiting_gpu_jobs() > 0) {
        const double shared_free = static_cast<double>(sched.index().free_gpus(0));
        for (const TenantId tn : sched.tenants_waiting_gpu()) {
          if (sched.waiting_gpu_jobs(tn) == 0) continue;
          r.tenants[tn].fragmented_gpu_seconds +=
              (shared_free + static_cast<double>(sched.dedicated_free_gpus(static_cast<TenantId>(tn)))) * dt;
        }
      }
      segments.clear();
      if (step > 0) {
        if (rows_needed(nt) > kMaxTimeseriesRows) return too_many_rows(nt);
        for (Seconds a = t; a < nt;) {
          const int64_t b = floor_div(a, step);
          const Seconds e = std::min(nt, (b + 1) * step);
          segments.push_back({b, static_cast<double>(e - a)});
          const size_t c = static_cast<size_t>(b - base_step);
          if (covered.size() <= c) covered.resize(c + 1, 0);
          covered[c] += static_cast<double>(e - a);
          a = e;
        }
      }
      for (auto& [ref, m] : multi_clock) m.clock += multi_speed(m) * dt;
      // Sites: clocks, energy, money.
      for (size_t s = 0; s < S; ++s) {
        const int32_t si = static_cast<int32_t>(s);
        SiteStats& ss = r.sites[s];
        clock[s] += speed[s] * dt;
        const double mw = (sched.site_static_w(si) + sched.site_dynamic_w(si) * speed[s]) / 1e6;
        const double usd_per_mwh = fleet.sites[s].usd_per_mwh;
        ss.energy_mwh += mw * dt / 3600;
        ss.energy_usd += mw * dt / 3600 * usd_per_mwh;
        ss.depreciation_usd += dep_rate[s] * dt;
        ss.revenue_usd += site_revenue_rate[s] * dt;
        ss.peak_mw = std::max(ss.peak_mw, mw);
        if (ss.power_cap_mw > 0 && sched.site_static_w(si) / 1e6 > ss.power_cap_mw) ss.over_cap_seconds += dt;
        if (speed[s] < 1) ss.throttled_seconds += dt;
        ss.online_gpu_seconds += static_cast<double>(sched.site_online_gpus(si)) * dt;
        ss.busy_gpu_seconds += static_cast<double>(sched.site_busy_gpus(si)) * dt;
        ss.down_gpu_seconds += static_cast<double>(sched.site_down_gpus(si)) * dt;
        if (wdt > 0) {
          ss.window.online += static_cast<double>(sched.site_online_gpus(si)) * wdt;
          ss.window.busy += static_cast<double>(sched.site_busy_gpus(si)) * wdt;
          ss.window.down += static_cast<double>(sched.site_down_gpus(si)) * wdt;
        }
        for (const auto& [b, x] : segments) {
          TimeRow& tr = row(b, s);
          tr.gpus_online += static_cast<double>(sched.site_online_gpus(si)) * x;
          tr.gpus_busy += static_cast<double>(sched.site_busy_gpus(si)) * x;
          tr.gpus_failed += static_cast<double>(sched.site_down_gpus(si)) * x;
          tr.power_mw += mw * x;
          tr.speed += speed[s] * x;
          tr.revenue_usd += site_revenue_rate[s] * x;
          tr.cost_usd += (dep_rate[s] + mw / 3600 * usd_per_mwh) * x;
        }
      }
      for (const TenantId tn : tenants_to_touch()) {
        TenantStats& ts = r.tenants[tn];
        // GPUs it holds: its jobs' GPUs, and its shared GPUs whole (a pod's
        // GPU is busy while any pod holds it, as its site counts it).
        double used = 0, slack = 0;
        for (size_t s = 0; s < S; ++s) {
          used += held[tn * S + s];
          slack += sched.shared_slack_gpus(static_cast<TenantId>(tn), static_cast<int32_t>(s));
        }
        used += slack;
        r.shared_slack_gpu_seconds += slack * dt;
        const double reserved = static_cast<double>(reserved_gpus[tn]);
        const double reserved_idle = static_cast<double>(sched.dedicated_free_gpus(static_cast<TenantId>(tn)));
        const double rate = tenant_revenue_rate[tn] + reserved * price_reserved[tn];
        ts.revenue_usd += rate * dt;
        ts.used_gpu_seconds += used * dt;
        ts.reserved_gpu_seconds += reserved * dt;
        ts.idle_reserved_gpu_seconds += reserved_idle * dt;
        if (used > 0 || reserved > 0 || rate > 0) {
          for (const auto& [b, x] : segments) {
            TimeRow& tr = row(b, S + tn);
            tr.gpus_busy += used * x;
            tr.gpus_reserved += reserved * x;
            tr.gpus_reserved_idle += reserved_idle * x;
            tr.revenue_usd += rate * x;
          }
        }
      }
      for (size_t k = 0; k < nsvc; ++k) {
        const double replicas = static_cast<double>(held_by[k]);
        svc_replica_s[k] += replicas * dt;
        svc_demand_tokens[k] += svc_demand[k] * dt;
        svc_attained_tokens[k] += svc_demand[k] * svc_attainment[k] * dt;
        svc_s[k] += dt;
        for (const auto& [b, x] : segments) {
          TimeRow& tr = row(b, S + tenants + k);
          tr.replicas += replicas * x;
          tr.demand_tokens += svc_demand[k] * x;
          tr.attained_tokens += svc_demand[k] * svc_attainment[k] * x;
        }
      }
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
    while (!repairs.empty() && repairs.top().first == t) {
      const int32_t node = repairs.top().second;
      sched.SetNodeDown(node, false);
      // A spare that stood in goes back if it is idle now.
      const int32_t dom = fleet.nodes[static_cast<size_t>(node)].domain;
      auto ow = owed.find({site_of_domain(dom), fleet.domains[static_cast<size_t>(dom)].type});
      if (ow != owed.end()) {
        auto& v = ow->second;
        for (size_t k = 0; k < v.size(); ++k) {
          const int32_t sd = v[k];
          if (sched.index().domain_free(sd) != fleet.domains[static_cast<size_t>(sd)].gpus) continue;
          sched.SetDomainOnline(sd, false);
          spares[ow->first].push_back(sd);
          v.erase(v.begin() + static_cast<std::ptrdiff_t>(k));
          break;
        }
      }
      repairs.pop();
      ++r.repairs;
      ++r.events;
    }
    while (next_failure < 9e18 && static_cast<Seconds>(std::ceil(next_failure)) == t) {
      next_failure += rng.Exponential(1.0 / total_rate);
      const int32_t node = pick_node();
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
      {
        const int32_t dom = fleet.nodes[static_cast<size_t>(node)].domain;
        const std::pair<size_t, int32_t> key{site_of_domain(dom), fleet.domains[static_cast<size_t>(dom)].type};
        auto sp = spares.find(key);
        if (sp != spares.end() && !sp->second.empty()) {
          const int32_t sd = sp->second.back();
          sp->second.pop_back();
          sched.SetDomainOnline(sd, true);
          owed[key].push_back(sd);
        }
      }
      repairs.push({t + std::max<Seconds>(1, options.repair), node});
      ++r.sites[site_of_domain(fleet.nodes[static_cast<size_t>(node)].domain)].failures;
      ++r.failures;
      ++r.events;
    }
    // 3. Domains into and out of service.
    while (next_capacity < capacity.size() && capacity[next_capacity].t == t) {
      const CapacityEvent& c = capacity[next_capacity++];
      if (sched.domain_online(c.d) != c.online) {
        sched.SetDomainOnline(c.d, c.online);
        dep_rate[site_of_domain(c.d)] += (c.online ? 1 : -1) * domain_dep(c.d);
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
        reserved_gpus[c.tenant] += wc.active ? g : -g;
        ++r.events;
      }
    }
    // 5. Arrivals.
    // 6. Services: score the step that starts now, then ask for replicas.
    if (t == next_service) {
      next_service = t + svc_step;
      for (size_t k = 0; k < nsvc; ++k) {
        InferenceService& sv = svc[k];
        const size_t a = first_replica[k], b = first_replica[k + 1];
        const int32_t held = held_by[k];
        sv.Resize(static_cast<double>(t), held);
        const double demand = options.services[k].demand.At(static_cast<double>(t));
        const ServiceSample x = sv.Serve(static_cast<double>(t), static_cast<double>(svc_step), demand);
        const int32_t want = sv.Desired(static_cast<double>(t), demand);
        int32_t& asked = asked_by[k];
        starved[k] += static_cast<double>(std::max(0, asked - held)) * static_cast<double>(svc_step);
        // More: ask for the lowest replicas not asked for. Fewer: withdraw
        // the highest waiting ones, then stop the highest running ones.
        for (size_t i = a; i < b && asked < want; ++i) {
          if (wanted[i]) continue;
          wanted[i] = 1;
          ++asked;
          ++replicas_wanted;
          sched.Submit(static_cast<FleetScheduler::JobRef>(i), t);
        }
        for (size_t i = b; i-- > a && asked > want;) {
          if (!wanted[i] || run[i].running) continue;
          sched.Withdraw(static_cast<FleetScheduler::JobRef>(i));
          wanted[i] = 0;
          --asked;
          --replicas_wanted;
        }
        for (size_t i = b; i-- > a && asked > want;) {
          if (!wanted[i] || !run[i].running) continue;
          add_rate(static_cast<uint32_t>(i), -1);
          sched.Finish(static_cast<FleetScheduler::JobRef>(i), t);
          set_running(static_cast<uint32_t>(i), false);
          ++attempt[i];
          wanted[i] = 0;
          --asked;
          --replicas_wanted;
        }
        svc_demand[k] = demand;
        svc_attainment[k] = x.slo_attainment;
      }
      ++r.events;
    }
    while (next < R + n && sched.job(next).submit == t) {
      const AiJob& j = sched.job(next);
      FleetJobOutcome& o = out[next];
      TenantStats& ts = r.tenants[j.tenant];
      ++ts.jobs;
      if (j.runtime <= 0 || j.gpus < 0 || (j.gpus == 0 && j.cpu_milli <= 0) ||
          j.gpu_milli < 1 || j.gpu_milli > 1000 || (j.gpu_milli < 1000 && j.gpus != 1)) {
        o.status = JobStatus::kInvalid;
        ++ts.invalid;
      } else if (!sched.CanEverRun(j)) {
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
      jr.interval = 0;
      // The job's own interval, else the simulation's.
      const double want = j.checkpoint != kCheckpointDefault ? j.checkpoint : options.checkpoint_interval;
      if (j.gpus > 0 && want > 0) jr.interval = want;
      if (j.gpus > 0 && want == kCheckpointAuto && options.checkpoint_cost > 0) {
        // Young/Daly from the job's MTBF on the accelerators it got.
        const int32_t node = sched.placement(ref).parts.front().node;
        const NodeType& nt = fleet.node_type(node);
        double rate = nt.accelerator >= 0 ? fleet.accelerators[static_cast<size_t>(nt.accelerator)].failures_per_year : 0;
        if (rate <= 0) rate = options.default_failure_rate;
        const double mtbf = kSecondsPerYear / (rate * std::max(1, j.gpus));
        jr.interval = YoungDalyInterval(mtbf, options.checkpoint_cost);
      }
      if (ref < R) jr.interval = 0;  // a replica keeps no state worth a checkpoint
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
        multi_share[ref] = std::move(share);
      } else {
        jr.w0 = clock[s];
        // A replica runs until its service lets it go: no end to wait for.
        if (ref >= R) ends[s].push(SiteEnd{clock[s] + a.end_s(), ref, attempt[ref]});
      }
      add_rate(ref, +1);
    }
    busy = 0;
    for (const TenantId tn : live) busy += sched.used_gpus(tn);
    // 7. Throttle: each capped site runs as fast as its cap allows.
    if (options.power == PowerPolicy::kThrottle) {
      for (size_t s = 0; s < fleet.sites.size(); ++s) {
        const double cap = fleet.sites[s].power_cap_mw * 1e6;
        const double dyn = sched.site_dynamic_w(static_cast<int32_t>(s));
        if (cap <= 0 || dyn <= 0) {
          speed[s] = 1;
          continue;
        }
        const double room = cap - sched.site_static_w(static_cast<int32_t>(s));
        speed[s] = std::clamp(room / dyn, kMinSpeed, 1.0);
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
  // Money per tenant: the GPU-hours it used or reserved, at the fleet's cost
  // per GPU-hour in service (depreciation and energy over GPU-hours online).
  double cost = 0, online = 0;
  for (const SiteStats& ss : r.sites) {
    cost += ss.depreciation_usd + ss.energy_usd;
    online += ss.online_gpu_seconds;
    r.window.online += ss.window.online;
    r.window.busy += ss.window.busy;
    r.window.down += ss.window.down;
  }
  const double per_gpu_second = online > 0 ? cost / online : 0;
  for (TenantStats& ts : r.tenants) {
    const double reserved_busy = ts.reserved_gpu_seconds - ts.idle_reserved_gpu_seconds;
    ts.cost_usd = (ts.used_gpu_seconds - std::min(ts.used_gpu_seconds, reserved_busy) +
                   ts.reserved_gpu_seconds) * per_gpu_second;
    ts.idle_reserved_cost_usd = ts.idle_reserved_gpu_seconds * per_gpu_second;
  }
  if (step > 0) {
    for (TimeRow& x : r.timeseries) {
      // Averages over the part of the step the simulation covered (the first
      // and last steps may be partial).
      const size_t b = static_cast<size_t>(x.step - base_step);
      const double len = b < covered.size() && covered[b] > 0 ? covered[b] : static_cast<double>(step);
      x.covered_s = len;
      x.gpus_online /= len;
      x.gpus_busy /= len;
      x.gpus_failed /= len;
      x.gpus_reserved /= len;
      x.gpus_reserved_idle /= len;
      x.power_mw /= len;
      x.speed /= len;
    }
  }
  // Back to the workload's order.
  for (size_t i = 0; i < n; ++i) r.outcomes[order[i]] = out[R + i];
  for (size_t k = 0; k < nsvc; ++k) {
    const ServiceSpec& sp = options.services[k].spec;
    ServiceStats& st = r.services[k];
    st.name = sp.name;
    st.tenant = sp.tenant;
    st.gpus_per_replica = sp.gpus_per_replica;
    st.min_replicas = sp.min_replicas;
    st.max_replicas = sp.max_replicas;
    // From the ledger, as the time series: simulated time only.
    st.slo_attainment = svc_demand_tokens[k] > 0 ? svc_attained_tokens[k] / svc_demand_tokens[k] : 1.0;
    st.demand_tokens = svc_demand_tokens[k];
    st.replica_hours = svc_replica_s[k] / 3600;
    st.gpu_hours = st.replica_hours * sp.gpus_per_replica;
    st.mean_replicas = svc_s[k] > 0 ? svc_replica_s[k] / svc_s[k] : 0;
    st.peak_replicas = svc_peak[k];
    st.starved_replica_hours = starved[k] / 3600;
  }
  return r;
}

}  // namespace rackscale
