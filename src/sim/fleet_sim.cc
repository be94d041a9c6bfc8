#include "sim/fleet_sim.h"

#include <algorithm>
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

struct WindowEvent {
  Seconds t;
  size_t k;
  bool open;
};

class Timer : public DecisionObserver {
 public:
  explicit Timer(std::vector<uint32_t>* out) : out_(out) {}
  void Begin() override { t0_ = std::chrono::steady_clock::now(); }
  void End() override {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - t0_)
                  .count();
    out_->push_back(static_cast<uint32_t>(std::min<int64_t>(ns, UINT32_MAX)));
  }

 private:
  std::vector<uint32_t>* out_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

Result<FleetSimResult> SimulateFleet(const Fleet& fleet, AiWorkload* w,
                                     const FleetSimOptions& options) {
  // Tenant table: the workload's names plus those only in the config.
  auto tenant_id = [&](const std::string& name) {
    for (size_t i = 0; i < w->tenants.size(); ++i) {
      if (w->tenants[i] == name) return static_cast<TenantId>(i);
    }
    w->tenants.push_back(name);
    return static_cast<TenantId>(w->tenants.size() - 1);
  };
  FleetSchedulerOptions so;
  so.policy = options.policy;
  so.starve_after = options.starve_after;
  std::vector<std::string> cohorts;
  for (const TenantSpec& t : options.tenants.tenants) {
    TenantId id = tenant_id(t.name);
    if (so.tenant_weights.size() <= id) so.tenant_weights.resize(id + 1, 1.0);
    if (so.quotas.size() <= id) so.quotas.resize(id + 1);
    so.tenant_weights[id] = t.weight;
    TenantQuota& q = so.quotas[id];
    q.nominal_gpus = t.nominal_gpus;
    q.borrowing_limit = t.borrowing_limit;
    if (!t.cohort.empty()) {
      auto it = std::find(cohorts.begin(), cohorts.end(), t.cohort);
      q.cohort = static_cast<int32_t>(it - cohorts.begin());
      if (it == cohorts.end()) cohorts.push_back(t.cohort);
    }
  }
  // Dedicated clusters: the first free domains of the type (and site).
  std::vector<bool> taken(fleet.domains.size(), false);
  for (const DedicatedSpec& d : options.tenants.dedicated) {
    DedicatedCluster c;
    c.tenant = tenant_id(d.tenant);
    c.start = static_cast<Seconds>(std::llround(d.start_day * 86400));
    c.end = static_cast<Seconds>(std::llround(d.end_day * 86400));
    c.lend = d.lend;
    for (size_t i = 0; i < fleet.domains.size() && static_cast<int64_t>(c.domains.size()) < d.domains; ++i) {
      if (taken[i]) continue;
      const Domain& dom = fleet.domains[i];
      if (fleet.domain_types[static_cast<size_t>(dom.type)].name != d.domain_type) continue;
      if (!d.site.empty() && fleet.sites[static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(i)))].name != d.site) continue;
      taken[i] = true;
      c.domains.push_back(static_cast<int32_t>(i));
    }
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
  std::vector<AiJob> jobs(n);
  for (size_t i = 0; i < n; ++i) {
    jobs[i] = w->jobs[order[i]];
    if (jobs[i].models != kAnyGpuModel) {
      GpuModelMask mask = 0;
      for (size_t m = 0; m < to_fleet.size(); ++m) {
        if ((jobs[i].models >> m) & 1u) mask |= to_fleet[m];
      }
      jobs[i].models = mask;
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
  std::vector<WindowEvent> windows;
  for (size_t k = 0; k < so.dedicated.size(); ++k) {
    windows.push_back({so.dedicated[k].start, k, true});
    windows.push_back({so.dedicated[k].end, k, false});
  }
  // At one time, closing windows come before opening ones.
  std::sort(windows.begin(), windows.end(), [](const WindowEvent& a, const WindowEvent& b) {
    if (a.t != b.t) return a.t < b.t;
    if (a.open != b.open) return !a.open;
    return a.k < b.k;
  });
  FleetScheduler sched(fleet, jobs, so);

  std::priority_queue<EndEvent, std::vector<EndEvent>, std::greater<EndEvent>> ends;
  std::vector<int32_t> attempt(n, 0);
  std::vector<FleetJobOutcome> out(n);
  std::vector<FleetScheduler::JobRef> started, preempted;
  size_t next = 0, next_window = 0;
  int64_t busy = 0, finished = 0, total = 0;
  std::vector<TenantId> dedicated_tenants;
  for (const DedicatedCluster& c : so.dedicated) {
    if (std::find(dedicated_tenants.begin(), dedicated_tenants.end(), c.tenant) == dedicated_tenants.end()) {
      dedicated_tenants.push_back(c.tenant);
    }
  }
  SimProgress prog{0, n ? jobs.front().submit : 0, n ? jobs.back().submit : 0, 0, 0};
  int64_t next_report = 1 << 14;
  r.first_submit = n ? jobs.front().submit : 0;
  Seconds t = 0;
  bool have_t = false;
  while (true) {
    Seconds nt = INT64_MAX;
    if (next < n) nt = std::min(nt, jobs[next].submit);
    // Skip stale end events (preempted attempts).
    while (!ends.empty() && ends.top().attempt != attempt[ends.top().ref]) ends.pop();
    if (!ends.empty()) nt = std::min(nt, ends.top().t);
    if (next_window < windows.size() && (next < n || !ends.empty() || sched.waiting() > 0)) {
      nt = std::min(nt, windows[next_window].t);
    }
    if (nt == INT64_MAX) break;
    if (have_t) {
      // Integrate the state held over [t, nt).
      const double dt = static_cast<double>(nt - t);
      r.busy_gpu_seconds += static_cast<double>(busy) * dt;
      if (sched.waiting_gpu_jobs() > 0) {
        r.fragmented_gpu_seconds += static_cast<double>(sched.index().free_gpus()) * dt;
      }
      for (TenantId d : dedicated_tenants) {
        r.tenants[d].stranded_gpu_seconds += static_cast<double>(sched.dedicated_free_gpus(d)) * dt;
      }
      if (sched.waiting_gpu_jobs() > 0) {
        const double shared_free = static_cast<double>(sched.index().free_gpus(0));
        for (size_t tn = 0; tn < r.tenants.size(); ++tn) {
          if (sched.waiting_gpu_jobs(static_cast<TenantId>(tn)) == 0) continue;
          r.tenants[tn].fragmented_gpu_seconds +=
              (shared_free + static_cast<double>(sched.dedicated_free_gpus(static_cast<TenantId>(tn)))) * dt;
        }
      }
    }
    t = nt;
    have_t = true;
    while (!ends.empty() && ends.top().t == t) {
      EndEvent e = ends.top();
      ends.pop();
      if (e.attempt != attempt[e.ref]) continue;
      const AiJob& j = jobs[e.ref];
      sched.Finish(e.ref, t);
      out[e.ref].end = t;
      r.tenants[j.tenant].gpu_seconds += j.gpu_share() * static_cast<double>(j.runtime);
      ++finished;
      ++r.events;
    }
    while (next_window < windows.size() && windows[next_window].t == t) {
      sched.SetDedicated(windows[next_window].k, windows[next_window].open);
      ++next_window;
      ++r.events;
    }
    while (next < n && jobs[next].submit == t) {
      const AiJob& j = jobs[next];
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
    started.clear();
    preempted.clear();
    sched.Schedule(t, &started, &preempted);
    ++r.passes;
    // Preempted attempts: the GPU time since their start is lost. A job can
    // be preempted, restarted and preempted again within one pass; only its
    // first preemption here ends an attempt that ran for a while.
    std::sort(preempted.begin(), preempted.end());
    for (size_t k = 0; k < preempted.size(); ++k) {
      const FleetScheduler::JobRef ref = preempted[k];
      const AiJob& j = jobs[ref];
      FleetJobOutcome& o = out[ref];
      const bool first_here = k == 0 || preempted[k - 1] != ref;
      const double lost =
          first_here && o.start < t ? j.gpu_share() * static_cast<double>(t - o.start) : 0;
      o.lost_gpu_seconds += lost;
      ++o.preemptions;
      ++attempt[ref];  // its pending end event is void
      r.tenants[j.tenant].lost_gpu_seconds += lost;
      ++r.tenants[j.tenant].preemptions;
      if (first_here) o.start = t;
    }
    std::sort(started.begin(), started.end());
    started.erase(std::unique(started.begin(), started.end()), started.end());
    for (FleetScheduler::JobRef ref : started) {
      if (!sched.running(ref)) continue;  // started, then preempted again
      const AiJob& j = jobs[ref];
      FleetJobOutcome& o = out[ref];
      o.start = t;
      if (o.first_start < 0) o.first_start = t;
      ++attempt[ref];
      ends.push(EndEvent{t + j.runtime, ref, attempt[ref]});
    }
    busy = 0;
    for (size_t tn = 0; tn < r.tenants.size(); ++tn) busy += sched.used_gpus(static_cast<TenantId>(tn));
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
  for (size_t i = 0; i < n; ++i) {
    FleetJobOutcome& o = out[i];
    const AiJob& j = jobs[i];
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
    r.last_end = std::max(r.last_end, o.end);
  }
  // Back to the workload's order.
  for (size_t i = 0; i < n; ++i) r.outcomes[order[i]] = out[i];
  return r;
}

}  // namespace rackscale
