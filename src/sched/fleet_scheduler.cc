#include "sched/fleet_scheduler.h"

#include <algorithm>
#include <cassert>
#include <climits>
#include <cmath>
#include <queue>
#include <tuple>

#include <fmt/format.h>

namespace rackscale {

Result<FleetQueuePolicy> ParseFleetQueuePolicy(std::string_view name, const std::string& source) {
  if (name == "fifo") return FleetQueuePolicy::kFifo;
  if (name == "easy") return FleetQueuePolicy::kEasy;
  if (name == "fairshare") return FleetQueuePolicy::kFairshare;
  if (name == "priority") return FleetQueuePolicy::kPriority;
  return Error::InvalidInput(
      source, 0, "policy",
      fmt::format("expected 'fifo', 'easy', 'fairshare' or 'priority' for a fleet, got '{}'",
                  name));
}

Result<PowerPolicy> ParsePowerPolicy(std::string_view name, const std::string& source) {
  if (name == "none") return PowerPolicy::kNone;
  if (name == "admit") return PowerPolicy::kAdmit;
  if (name == "throttle") return PowerPolicy::kThrottle;
  return Error::InvalidInput(source, 0, "power",
                             fmt::format("expected 'none', 'admit' or 'throttle', got '{}'", name));
}

const char* PowerPolicyName(PowerPolicy p) {
  switch (p) {
    case PowerPolicy::kNone: return "none";
    case PowerPolicy::kAdmit: return "admit";
    case PowerPolicy::kThrottle: return "throttle";
  }
  return "?";
}

const char* FleetQueuePolicyName(FleetQueuePolicy p) {
  switch (p) {
    case FleetQueuePolicy::kFifo: return "fifo";
    case FleetQueuePolicy::kEasy: return "easy";
    case FleetQueuePolicy::kFairshare: return "fairshare";
    case FleetQueuePolicy::kPriority: return "priority";
  }
  return "?";
}

Result<std::unique_ptr<FleetScheduler>> FleetScheduler::Create(const Fleet& fleet, FleetSchedulerOptions o) {
  std::vector<DedicatedCluster> dedicated = std::move(o.dedicated);
  o.dedicated.clear();
  std::unique_ptr<FleetScheduler> s(new FleetScheduler(fleet, std::move(o)));
  for (const DedicatedCluster& c : dedicated) {
    auto k = s->AddDedicated(c);
    if (!k.ok()) return k.error();
  }
  return s;
}

FleetScheduler::FleetScheduler(const Fleet& fleet, FleetSchedulerOptions o)
    : fleet_(fleet), opts_(std::move(o)), index_(fleet, 2) {
  // The initial tenants' settings; every per-tenant table grows with them.
  const size_t tenants = std::max({opts_.quotas.size(), opts_.tenant_weights.size(), opts_.tenant_rank.size()});
  if (opts_.policy != FleetQueuePolicy::kFairshare) {
    queues_.assign(1, Queue(QueueOrder{this, opts_.policy == FleetQueuePolicy::kPriority}));
    failed_epoch_.assign(1, 0);
    fresh_.resize(1);
    active_pos_.assign(1, -1);
  }
  // Only quota reclaim (cohorts) and priority preemption look up running
  // jobs by tenant; without either, the index is not kept (SetTenant starts
  // it when a cohort appears).
  track_running_ = opts_.policy == FleetQueuePolicy::kPriority;
  EnsureTenants(tenants);
  for (size_t t = 0; t < tenants; ++t) {
    TenantSettings ts;
    if (t < opts_.tenant_weights.size()) ts.weight = opts_.tenant_weights[t];
    if (t < opts_.quotas.size()) ts.quota = opts_.quotas[t];
    if (t < opts_.tenant_rank.size()) ts.rank = opts_.tenant_rank[t];
    SetTenant(static_cast<TenantId>(t), ts);
  }
  opts_.tenant_weights.clear();
  opts_.quotas.clear();
  opts_.tenant_rank.clear();
  domain_jobs_.resize(fleet.domains.size());
  held_.assign(2, false);
  domain_shared_.resize(fleet.domains.size());
  total_gpus_ = std::max<double>(1, static_cast<double>(fleet.TotalGpus()));
  // What the fleet has, for CanEverRun: the largest CPU-only node; per
  // domain type, the most domains in one site and in one block (a gang
  // stays in one site).
  for (const FleetNode& n : fleet.nodes) {
    const NodeType& t = fleet.node_types[static_cast<size_t>(n.type)];
    if (t.gpus == 0) max_cpu_node_milli_ = std::max(max_cpu_node_milli_, t.cpu_milli);
  }
  domains_of_type_.assign(fleet.domain_types.size(), 0);
  fleet_domains_of_type_.assign(fleet.domain_types.size(), 0);
  max_block_of_type_.assign(fleet.domain_types.size(), 0);
  std::vector<int64_t> per_site(fleet.domain_types.size() * fleet.sites.size());
  for (const Block& b : fleet.blocks) {
    if (b.num_domains == 0) continue;
    const size_t t = static_cast<size_t>(fleet.domains[static_cast<size_t>(b.first_domain)].type);
    int64_t& here = per_site[static_cast<size_t>(b.site) * fleet.domain_types.size() + t];
    here += b.num_domains;
    domains_of_type_[t] = std::max(domains_of_type_[t], here);
    fleet_domains_of_type_[t] += b.num_domains;
    max_block_of_type_[t] = std::max(max_block_of_type_[t], b.num_domains);
  }
  total_cpu_ = std::max<double>(1, static_cast<double>(fleet.TotalCpuMilli()));
  total_mem_ = std::max<double>(1, static_cast<double>(fleet.TotalMemoryMib()));

  // Service state: domains not yet delivered wait in a partition that no
  // job reaches.
  offline_partition_ = 1;
  const size_t nd = fleet.domains.size();
  online_.assign(nd, true);
  draining_.assign(nd, false);
  for (size_t d = 0; d < nd && d < opts_.offline.size(); ++d) online_[d] = !opts_.offline[d];
  node_down_.assign(fleet.nodes.size(), false);
  dedicated_of_.assign(nd, -1);
  // Power: per node type, its idle IT draw and the draw each busy unit (GPU,
  // or core of a CPU-only node) adds, host included pro rata.
  for (const NodeType& t : fleet.node_types) {
    const bool gpu = t.gpus > 0 && t.accelerator >= 0;
    const AcceleratorType* a = gpu ? &fleet.accelerators[static_cast<size_t>(t.accelerator)] : nullptr;
    const double units = gpu ? t.gpus : std::max<double>(1, static_cast<double>(t.cpu_milli / 1000));
    node_static_w_.push_back(t.idle_watts + (gpu ? a->idle_watts * t.gpus : 0));
    node_dyn_w_per_unit_.push_back((gpu ? a->busy_watts - a->idle_watts : 0) +
                                   (t.busy_watts - t.idle_watts) / units);
  }
  const size_t S = fleet.sites.size();
  site_static_w_.assign(S, 0);
  site_dyn_w_.assign(S, 0);
  pue_.assign(S, 1.0);
  cap_w_.assign(S, 0);
  for (size_t s = 0; s < fleet.sites.size(); ++s) {
    pue_[s] = fleet.sites[s].pue > 0 ? fleet.sites[s].pue : 1.0;
    cap_w_[s] = fleet.sites[s].power_cap_mw * 1e6;
  }
  site_busy_gpus_.assign(S, 0);
  site_down_gpus_.assign(S, 0);
  site_online_gpus_.assign(S, 0);
  for (size_t d = 0; d < nd; ++d) {
    if (online_[d]) {
      AddOnline(static_cast<int32_t>(d), +1);
    } else {
      index_.MoveDomain(static_cast<int32_t>(d), offline_partition_);
    }
  }
}

void FleetScheduler::EnsureTenants(size_t n) {
  if (n <= tenants_) return;
  tenants_ = n;
  tenant_settings_.resize(n);
  tenant_jobs_.resize(n, 0);
  if (opts_.policy == FleetQueuePolicy::kFairshare) {
    while (queues_.size() < n) queues_.emplace_back(QueueOrder{this, false});
    failed_epoch_.resize(n, 0);
    fresh_.resize(n);
    active_pos_.resize(n, -1);
  }
  running_by_tenant_.resize(n);
  tenant_dedicated_.resize(n);
  used_gpus_.resize(n, 0);
  used_cpu_.resize(n, 0);
  used_mem_.resize(n, 0);
  used_own_.resize(n, 0);
  used_spot_.resize(n, 0);
  waiting_gpu_by_tenant_.resize(n, 0);
  waiting_gpu_pos_.resize(n, -1);
  // By tenant x sites + site: appending tenants keeps the earlier indexes.
  shared_slack_milli_.resize(n * fleet_.sites.size(), 0);
}

void FleetScheduler::SetTenant(TenantId t, const TenantSettings& s) {
  EnsureTenants(static_cast<size_t>(t) + 1);
  tenant_settings_[t] = s;
  if (s.quota.cohort >= 0 && !track_running_) {
    // Quota reclaim needs running jobs by tenant: index them now.
    track_running_ = true;
    for (JobRef j = 0; j < jobs_.size(); ++j) {
      if (live_[j] && run_[j].running) running_by_tenant_[jobs_[j].tenant].insert({start_seq_[j], j});
    }
  }
  // Quotas decide what fits: queues that failed may fit now, and the head's
  // reservation may move.
  reservation_.dirty = true;
  ++epoch_;
}

Status FleetScheduler::RemoveTenant(TenantId t) {
  if (t >= tenants_) return Error::InvalidInput("", 0, "tenant", fmt::format("no tenant {}", t));
  if (tenant_jobs_[t] > 0) {
    return Error::InvalidInput("", 0, "tenant", fmt::format("tenant {} still has {} jobs", t, tenant_jobs_[t]));
  }
  if (!tenant_dedicated_[t].empty()) {
    return Error::InvalidInput("", 0, "tenant",
                               fmt::format("tenant {} still has {} dedicated clusters", t, tenant_dedicated_[t].size()));
  }
  tenant_settings_[t] = TenantSettings{};
  reservation_.dirty = true;
  ++epoch_;
  return Status::Ok();
}

FleetScheduler::JobRef FleetScheduler::AddJob(const AiJob& job) {
  EnsureTenants(static_cast<size_t>(job.tenant) + 1);
  JobRef j;
  if (!free_refs_.empty()) {
    j = free_refs_.back();
    free_refs_.pop_back();
    jobs_[j] = job;
    run_[j] = Running{};
    live_[j] = true;
    order_[j] = next_order_++;
  } else {
    j = static_cast<JobRef>(jobs_.size());
    jobs_.push_back(job);
    run_.emplace_back();
    live_.push_back(true);
    order_.push_back(next_order_++);
    since_.push_back(0);
    start_seq_.push_back(0);
    est_end_.push_back(0);
  }
  ++tenant_jobs_[job.tenant];
  return j;
}

Status FleetScheduler::RemoveJob(JobRef j) {
  if (!has_job(j)) return Error::InvalidInput("", 0, "job", fmt::format("no job {}", j));
  if (run_[j].running) return Error::InvalidInput("", 0, "job", fmt::format("job {} is running", j));
  Withdraw(j);
  live_[j] = false;
  --tenant_jobs_[jobs_[j].tenant];
  free_refs_.push_back(j);
  return Status::Ok();
}

Status FleetScheduler::CheckDedicatedDomains(const std::vector<int32_t>& domains, size_t self) const {
  for (int32_t d : domains) {
    if (d < 0 || static_cast<size_t>(d) >= fleet_.domains.size()) {
      return Error::InvalidInput("", 0, "domains", fmt::format("domain {} is not in the fleet", d));
    }
    const int32_t k = dedicated_of_[static_cast<size_t>(d)];
    if (k >= 0 && static_cast<size_t>(k) != self) {
      return Error::InvalidInput("", 0, "domains", fmt::format("domain {} is already in dedicated cluster {}", d, k));
    }
  }
  std::vector<int32_t> sorted = domains;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    return Error::InvalidInput("", 0, "domains", "a domain is named twice");
  }
  return Status::Ok();
}

Result<size_t> FleetScheduler::AddDedicated(const DedicatedCluster& c) {
  const size_t k = opts_.dedicated.size();
  if (Status st = CheckDedicatedDomains(c.domains, k); !st) return st.error();
  EnsureTenants(static_cast<size_t>(c.tenant) + 1);
  opts_.dedicated.push_back(c);
  removed_.push_back(false);
  active_.push_back(false);
  borrowers_.emplace_back();
  borrowed_preemptible_gpus_.push_back(0);
  held_.push_back(false);
  if (index_.AddPartition() != PartOf(k)) std::abort();  // partitions follow clusters one to one
  tenant_dedicated_[c.tenant].push_back(k);
  for (int32_t d : c.domains) dedicated_of_[static_cast<size_t>(d)] = static_cast<int32_t>(k);
  windows_.insert({c.start, 1, k});
  windows_.insert({c.end, 0, k});
  return k;
}

Status FleetScheduler::SetDedicatedWindow(size_t k, Seconds start, Seconds end) {
  if (k >= opts_.dedicated.size() || removed_[k]) {
    return Error::InvalidInput("", 0, "dedicated", fmt::format("no dedicated cluster {}", k));
  }
  DedicatedCluster& c = opts_.dedicated[k];
  windows_.erase({c.start, 1, k});
  windows_.erase({c.end, 0, k});
  c.start = start;
  c.end = end;
  windows_.insert({start, 1, k});
  windows_.insert({end, 0, k});
  // An open cluster whose new window does not hold the present (it starts
  // later) must close: look at it again at the next ApplyWindows.
  if (active_[k]) windows_.insert({windows_now_, 1, k});
  return Status::Ok();
}

Status FleetScheduler::RemoveDedicated(size_t k) {
  if (k >= opts_.dedicated.size() || removed_[k]) {
    return Error::InvalidInput("", 0, "dedicated", fmt::format("no dedicated cluster {}", k));
  }
  DedicatedCluster& c = opts_.dedicated[k];
  SetDedicated(k, false);
  windows_.erase({c.start, 1, k});
  windows_.erase({c.end, 0, k});
  for (int32_t d : c.domains) {
    dedicated_of_[static_cast<size_t>(d)] = -1;
    Rehome(d);
  }
  auto& mine = tenant_dedicated_[c.tenant];
  mine.erase(std::find(mine.begin(), mine.end(), k));
  removed_[k] = true;
  c.domains.clear();
  reservation_.dirty = true;
  ++epoch_;
  return Status::Ok();
}

Seconds FleetScheduler::NextWindowChange() const {
  return windows_.empty() ? INT64_MAX : std::get<0>(*windows_.begin());
}

void FleetScheduler::ApplyWindows(Seconds now, std::vector<WindowChange>* changed) {
  windows_now_ = std::max(windows_now_, now);
  while (!windows_.empty() && std::get<0>(*windows_.begin()) <= now) {
    const auto [t, open, k] = *windows_.begin();
    windows_.erase(windows_.begin());
    if (removed_[k]) continue;
    // A window that opens and closes at one time never opens.
    const DedicatedCluster& c = opts_.dedicated[k];
    const bool active = open == 1 && c.start < c.end && c.start <= now && now < c.end;
    if (active_[k] != active) {
      SetDedicated(k, active);
      if (changed != nullptr) changed->push_back({k, active});
    }
  }
}

void FleetScheduler::AddOnline(int32_t d, int sign) {
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  const size_t s = static_cast<size_t>(fleet_.site_of_domain(d));
  for (int32_t n = dom.first_node; n < dom.first_node + dom.num_nodes; ++n) {
    site_static_w_[s] += sign * node_static_w_[static_cast<size_t>(fleet_.nodes[static_cast<size_t>(n)].type)];
  }
  site_online_gpus_[s] += sign * dom.gpus;
}

int32_t FleetScheduler::PartitionOf(int32_t d) const {
  if (!online_[static_cast<size_t>(d)]) return offline_partition_;
  const int32_t k = dedicated_of_[static_cast<size_t>(d)];
  return k >= 0 && active_[static_cast<size_t>(k)] ? PartOf(static_cast<size_t>(k)) : 0;
}

void FleetScheduler::Rehome(int32_t d) {
  index_.MoveDomain(d, PartitionOf(d));
  // GPUs shared by pods there move with their domain.
  for (int32_t id : domain_shared_[static_cast<size_t>(d)]) {
    SharedGpu& g = shared_gpus_[static_cast<size_t>(id)];
    auto it = open_shares_.find({g.pool, g.tenant});
    it->second.erase({g.left, id});
    if (it->second.empty()) open_shares_.erase(it);
    g.pool = index_.domain_pool(d);
    open_shares_[{g.pool, g.tenant}].insert({g.left, id});
  }
}

void FleetScheduler::SetDomainOnline(int32_t d, bool online) {
  const size_t u = static_cast<size_t>(d);
  if (online_[u] == online) return;
  online_[u] = online;
  if (draining_[u]) {
    draining_[u] = false;  // back in service before it drained: still counted
  } else if (!online && !domain_jobs_[u].empty()) {
    draining_[u] = true;   // counted until its last job ends (Release)
  } else {
    AddOnline(d, online ? +1 : -1);
  }
  Rehome(d);
  reservation_.dirty = true;
  ++epoch_;
}

void FleetScheduler::AddLoad(const Placement& p, int sign) {
  for (const GangPart& x : p.parts) {
    const FleetNode& node = fleet_.nodes[static_cast<size_t>(x.node)];
    const size_t s = static_cast<size_t>(fleet_.site_of_domain(node.domain));
    if (fleet_.node_types[static_cast<size_t>(node.type)].gpus > 0) site_busy_gpus_[s] += sign * x.units * x.nodes;
    // The draw as node by node, to the last bit: one step per node (a run
    // of n nodes adds the same term n times), in one when that is exact
    // (whole watts, far below 2^53: every partial sum is exact).
    const double w = sign * x.units * node_dyn_w_per_unit_[static_cast<size_t>(node.type)];
    double& acc = site_dyn_w_[s];
    if (x.nodes == 1) {
      acc += w;
    } else if (std::trunc(w) == w && std::trunc(acc) == acc && std::fabs(acc) < 0x1p50 &&
               std::fabs(w) * x.nodes < 0x1p50) {
      acc += w * x.nodes;
    } else {
      for (int32_t k = 0; k < x.nodes; ++k) acc += w;
    }
  }
}

bool FleetScheduler::PowerAdmits(const AiJob& job, int32_t pool) const {
  if (opts_.power != PowerPolicy::kAdmit) return true;
  const size_t s = static_cast<size_t>(index_.pool_site(pool));
  if (s >= cap_w_.size() || cap_w_[s] <= 0) return true;
  const DomainType& dt = fleet_.domain_types[static_cast<size_t>(index_.pool_domain_type(pool))];
  const double units = job.gpus > 0 ? job.gpus : static_cast<double>((job.cpu_milli + 999) / 1000);
  const double need = units * node_dyn_w_per_unit_[static_cast<size_t>(dt.node_type)] * pue_[s];
  return site_draw_w(static_cast<int32_t>(s)) + need <= cap_w_[s];
}

std::vector<FleetScheduler::JobRef> FleetScheduler::JobsOnNode(int32_t n) const {
  std::vector<JobRef> out;
  for (JobRef j : domain_jobs_[static_cast<size_t>(fleet_.nodes[static_cast<size_t>(n)].domain)]) {
    for (const GangPart& x : run_[j].where.parts) {
      if (n >= x.node && n < x.node + x.nodes) {
        out.push_back(j);
        break;
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void FleetScheduler::SetNodeDown(int32_t n, bool down) {
  if (node_down_[static_cast<size_t>(n)] == down) return;
  node_down_[static_cast<size_t>(n)] = down;
  index_.SetNodeDown(n, down);
  const FleetNode& node = fleet_.nodes[static_cast<size_t>(n)];
  const size_t s = static_cast<size_t>(fleet_.site_of_domain(node.domain));
  site_down_gpus_[s] += (down ? 1 : -1) * fleet_.node_types[static_cast<size_t>(node.type)].gpus;
  if (!down) {
    reservation_.dirty = true;
    ++epoch_;
  }
}

int64_t FleetScheduler::QuotaCeiling(TenantId t) const {
  const TenantQuota& q = tenant_settings_[t].quota;
  if (q.nominal_gpus < 0) return -1;
  int64_t lendable = 0;
  if (q.cohort >= 0) {
    for (size_t u = 0; u < tenants_; ++u) {
      const TenantQuota& o = tenant_settings_[u].quota;
      if (u != t && o.cohort == q.cohort && o.nominal_gpus >= 0) lendable += o.nominal_gpus;
    }
    if (q.borrowing_limit >= 0) lendable = std::min(lendable, q.borrowing_limit);
  }
  return q.nominal_gpus + lendable;
}

bool FleetScheduler::CanEverRun(const AiJob& j) const {
  if (j.runtime <= 0 || j.gpus < 0) return false;
  if (j.gpu_milli < 1 || j.gpu_milli > 1000 || (j.gpu_milli < 1000 && j.gpus != 1)) return false;
  if (j.gpus > 0 && j.tenant < tenants_) {
    const int64_t ceiling = QuotaCeiling(j.tenant);
    if (ceiling >= 0 && j.gpus > ceiling) return false;
  }
  if (j.gpus == 0) {
    return j.cpu_milli > 0 && ((j.cpu_milli + 999) / 1000) * 1000 <= max_cpu_node_milli_;
  }
  const std::vector<int64_t>& domains_of_type = domains_of_type_;
  const std::vector<int32_t>& max_block = max_block_of_type_;
  for (size_t t = 0; t < fleet_.domain_types.size(); ++t) {
    const DomainType& dt = fleet_.domain_types[t];
    const NodeType& nt = fleet_.node_types[static_cast<size_t>(dt.node_type)];
    if (nt.gpus == 0 || domains_of_type[t] == 0 || !((j.models >> nt.accelerator) & 1u)) continue;
    const int64_t D = dt.gpus, q = (j.gpus + D - 1) / D;
    switch (j.topology) {
      case TopologyScope::kNode:
        if (j.gpus <= nt.gpus) return true;
        break;
      case TopologyScope::kDomain:
        if (j.gpus <= D) return true;
        break;
      case TopologyScope::kBlock:
        if (j.gpus <= D || q <= max_block[t]) return true;
        break;
      case TopologyScope::kAny:
        if (j.gpus <= D || q <= domains_of_type[t]) return true;
        break;
      case TopologyScope::kMultiSite:  // the whole fleet's domains of the type
        if (j.gpus <= D || q <= fleet_domains_of_type_[t]) return true;
        break;
    }
  }
  return false;
}

FleetScheduler::Queue& FleetScheduler::QueueOf(JobRef j) { return queues_[QueueIndexOf(j)]; }

bool FleetScheduler::WithinNominal(const AiJob& job) const {
  const TenantQuota& q = tenant_settings_[job.tenant].quota;
  return q.nominal_gpus < 0 || used_gpus_[job.tenant] + job.gpus <= q.nominal_gpus;
}

bool FleetScheduler::QuotaAllows(const AiJob& job) const {
  const TenantQuota& q = tenant_settings_[job.tenant].quota;
  if (q.nominal_gpus < 0 || job.gpus == 0) return true;
  const int64_t want = used_gpus_[job.tenant] + job.gpus;
  if (want <= q.nominal_gpus) return true;
  if (q.cohort < 0) return false;
  // Borrow the cohort's unused nominal quota.
  int64_t lendable = 0;
  for (size_t u = 0; u < tenants_; ++u) {
    const TenantQuota& o = tenant_settings_[u].quota;
    if (u == job.tenant || o.cohort != q.cohort || o.nominal_gpus < 0) continue;
    lendable += std::max<int64_t>(0, o.nominal_gpus - used_gpus_[u]);
  }
  int64_t borrow = want - q.nominal_gpus;
  return borrow <= lendable && (q.borrowing_limit < 0 || borrow <= q.borrowing_limit);
}

void FleetScheduler::Enqueue(JobRef j) {
  const size_t q = QueueIndexOf(j);
  if (active_pos_.size() < queues_.size()) active_pos_.resize(queues_.size(), -1);
  queues_[q].insert(j);
  if (active_pos_[q] < 0) {
    active_pos_[q] = static_cast<int32_t>(active_queues_.size());
    active_queues_.push_back(static_cast<uint32_t>(q));
  }
}

size_t FleetScheduler::Dequeue(JobRef j) {
  const size_t q = QueueIndexOf(j);
  const size_t erased = queues_[q].erase(j);
  if (erased > 0 && queues_[q].empty() && q < active_pos_.size() && active_pos_[q] >= 0) {
    const int32_t at = active_pos_[q];
    const uint32_t last = active_queues_.back();
    active_queues_[static_cast<size_t>(at)] = last;
    active_pos_[last] = at;
    active_queues_.pop_back();
    active_pos_[q] = -1;
  }
  return erased;
}

void FleetScheduler::WaitingGpu(TenantId t, int delta) {
  int64_t& n = waiting_gpu_by_tenant_[t];
  n += delta;
  if (waiting_gpu_pos_.size() < waiting_gpu_by_tenant_.size()) waiting_gpu_pos_.resize(waiting_gpu_by_tenant_.size(), -1);
  if (n > 0 && waiting_gpu_pos_[t] < 0) {
    waiting_gpu_pos_[t] = static_cast<int32_t>(waiting_gpu_tenants_.size());
    waiting_gpu_tenants_.push_back(t);
  } else if (n == 0 && waiting_gpu_pos_[t] >= 0) {
    const int32_t at = waiting_gpu_pos_[t];
    const TenantId last = waiting_gpu_tenants_.back();
    waiting_gpu_tenants_[static_cast<size_t>(at)] = last;
    waiting_gpu_pos_[last] = at;
    waiting_gpu_tenants_.pop_back();
    waiting_gpu_pos_[t] = -1;
  }
}

size_t FleetScheduler::QueueIndexOf(JobRef j) const {
  return opts_.policy == FleetQueuePolicy::kFairshare ? jobs_[j].tenant : 0;
}

void FleetScheduler::Submit(JobRef j, Seconds now) {
  Enqueue(j);
  // A queue that failed at this capacity would fail again, but for the new
  // job: try just that one (fairshare), or the queue if it is the new head.
  const size_t q = QueueIndexOf(j);
  if (failed_epoch_[q] == epoch_) {
    if (*queues_[q].begin() == j && opts_.policy != FleetQueuePolicy::kFairshare) {
      failed_epoch_[q] = 0;
    } else if (opts_.policy == FleetQueuePolicy::kFairshare ||
               opts_.policy == FleetQueuePolicy::kEasy) {
      fresh_[q].push_back(j);
    }
  }
  since_[j] = now;
  ++waiting_;
  if (jobs_[j].gpus > 0) {
    ++waiting_gpu_;
    WaitingGpu(jobs_[j].tenant, +1);
  }
}

double FleetScheduler::Share(TenantId t) const {
  double s = std::max({static_cast<double>(used_gpus_[t]) / total_gpus_,
                       static_cast<double>(used_cpu_[t]) / total_cpu_,
                       static_cast<double>(used_mem_[t]) / total_mem_});
  return s / tenant_settings_[t].weight;
}

bool FleetScheduler::ModelAllowedIn(const AiJob& job, int32_t pool) const {
  const DomainType& dt =
      fleet_.domain_types[static_cast<size_t>(index_.pool_domain_type(pool))];
  const NodeType& nt = fleet_.node_types[static_cast<size_t>(dt.node_type)];
  return nt.gpus > 0 && ((job.models >> nt.accelerator) & 1u);
}

bool FleetScheduler::FindIn(const AiJob& job, const std::vector<int32_t>& pools,
                            Placement* best, bool may_open, bool across) const {
  if (job.fractional()) {
    // Join the tenant's open GPU with the least share left that fits.
    int32_t best_left = kMilliPerGpu + 1, id = -1;
    for (int32_t pool : pools) {
      auto it = open_shares_.find({pool, job.tenant});
      if (it == open_shares_.end() || !ModelAllowedIn(job, pool)) continue;
      auto s = it->second.lower_bound({job.gpu_milli, -1});
      if (s != it->second.end() && s->first < best_left) {
        best_left = s->first;
        id = s->second;
      }
    }
    if (id >= 0) {
      const SharedGpu& g = shared_gpus_[static_cast<size_t>(id)];
      best->pool = g.pool;
      best->parts = {GangPart{g.node, 0}};
      best->domains = best->blocks = best->sites = 1;
      best->shared_gpu = id;
      return true;
    }
    if (!may_open) return false;
  }
  Placement p;
  bool found = false;
  for (int32_t pool : pools) {
    if (!PowerAdmits(job, pool) || !index_.Find(job, pool, &p)) continue;
    if (!found || p.domains < best->domains ||
        (p.domains == best->domains && p.blocks < best->blocks)) {
      *best = p;
      best->shared_gpu = -1;
      found = true;
    }
  }
  if (!found && across && job.topology == TopologyScope::kMultiSite) return FindAcrossSites(job, pools, best);
  return found;
}

int64_t FleetScheduler::PowerRoomDomains(int32_t pool) const {
  if (opts_.power != PowerPolicy::kAdmit) return INT64_MAX;
  const size_t s = static_cast<size_t>(index_.pool_site(pool));
  if (s >= cap_w_.size() || cap_w_[s] <= 0) return INT64_MAX;
  const DomainType& dt = fleet_.domain_types[static_cast<size_t>(index_.pool_domain_type(pool))];
  const double per_domain = index_.pool_domain_gpus(pool) * node_dyn_w_per_unit_[static_cast<size_t>(dt.node_type)] * pue_[s];
  const double room = cap_w_[s] - site_draw_w(static_cast<int32_t>(s));
  if (room < 0) return 0;
  if (per_domain <= 0) return INT64_MAX;
  // The most whole domains k with draw + k x per_domain <= cap, as
  // PowerAdmits tests one job.
  int64_t k = static_cast<int64_t>(std::floor(room / per_domain));
  while (k > 0 && site_draw_w(static_cast<int32_t>(s)) + static_cast<double>(k) * per_domain > cap_w_[s]) --k;
  return k;
}

bool FleetScheduler::FindAcrossSites(const AiJob& job, const std::vector<int32_t>& pools,
                                     Placement* best) const {
  // Pools of one domain type, in pool order (a partition's pools run domain
  // type-major, then site; a list of several partitions repeats that).
  if (job.gpus <= 0 || job.fractional()) return false;
  std::vector<int32_t> types;
  for (int32_t pool : pools) {
    const int32_t t = index_.pool_domain_type(pool);
    if (std::find(types.begin(), types.end(), t) == types.end()) types.push_back(t);
  }
  std::sort(types.begin(), types.end());
  bool found = false;
  Placement p;
  std::vector<int32_t> group, limit;
  for (int32_t t : types) {
    group.clear();
    limit.clear();
    for (int32_t pool : pools) {
      if (index_.pool_domain_type(pool) != t || !index_.pool_gpu(pool) || !ModelAllowedIn(job, pool)) continue;
      if (index_.pool_full_domains(pool) == 0 || job.gpus <= index_.pool_domain_gpus(pool)) continue;
      const int64_t room = PowerRoomDomains(pool);
      if (room <= 0) continue;
      group.push_back(pool);
      limit.push_back(static_cast<int32_t>(std::min<int64_t>(room, INT32_MAX)));
    }
    if (group.size() < 2 || !index_.FindAcross(job, group, limit, &p)) continue;
    if (!found || p.sites < best->sites || (p.sites == best->sites && p.domains < best->domains) ||
        (p.sites == best->sites && p.domains == best->domains && p.blocks < best->blocks)) {
      *best = p;
      found = true;
    }
  }
  return found;
}

size_t FleetScheduler::SlackIndex(const SharedGpu& g) const {
  const int32_t site = fleet_.site_of_domain(fleet_.nodes[static_cast<size_t>(g.node)].domain);
  return static_cast<size_t>(g.tenant) * fleet_.sites.size() + static_cast<size_t>(site);
}

void FleetScheduler::JoinShared(int32_t id, int32_t milli) {
  SharedGpu& g = shared_gpus_[static_cast<size_t>(id)];
  shared_slack_milli_[SlackIndex(g)] -= milli;
  auto& open = open_shares_[{g.pool, g.tenant}];
  open.erase({g.left, id});
  g.left -= milli;
  ++g.pods;
  open.insert({g.left, id});
}

void FleetScheduler::LeaveShared(int32_t id, int32_t milli) {
  SharedGpu& g = shared_gpus_[static_cast<size_t>(id)];
  shared_slack_milli_[SlackIndex(g)] += milli;
  auto it = open_shares_.find({g.pool, g.tenant});
  it->second.erase({g.left, id});
  g.left += milli;
  if (--g.pods > 0) {
    it->second.insert({g.left, id});
    return;
  }
  // The last pod left: the GPU goes back.
  shared_slack_milli_[SlackIndex(g)] -= kMilliPerGpu;
  if (it->second.empty()) open_shares_.erase(it);
  Placement whole;
  whole.parts = {GangPart{g.node, 1}};
  index_.Release(whole);
  AddLoad(whole, -1);
  used_gpus_[g.tenant] -= 1;
  auto& on = domain_shared_[static_cast<size_t>(fleet_.nodes[static_cast<size_t>(g.node)].domain)];
  on.erase(std::find(on.begin(), on.end(), id));
  g.node = -1;
  free_shared_ids_.push_back(id);
}

void FleetScheduler::StartOn(JobRef j, Seconds now, const Placement& p, int32_t borrowed_from) {
  const AiJob& job = jobs_[j];
  Running& r = run_[j];
  r.where = p;
  // Started beyond its nominal quota: on quota borrowed from the cohort.
  // (A fractional pod joining a GPU its tenant holds takes no quota.)
  const int64_t takes = job.fractional() && p.shared_gpu >= 0 ? 0 : job.gpus;
  const TenantQuota& quota = tenant_settings_[job.tenant].quota;
  r.on_borrowed_quota = quota.nominal_gpus >= 0 && takes > 0 && used_gpus_[job.tenant] + takes > quota.nominal_gpus;
  if (job.fractional()) {
    int32_t id = p.shared_gpu;
    if (id < 0) {  // open a fresh GPU for the tenant's pods
      index_.Commit(p);
      AddLoad(p, +1);
      if (free_shared_ids_.empty()) {
        id = static_cast<int32_t>(shared_gpus_.size());
        shared_gpus_.emplace_back();
      } else {
        id = free_shared_ids_.back();
        free_shared_ids_.pop_back();
      }
      SharedGpu& g = shared_gpus_[static_cast<size_t>(id)];
      g.node = p.parts[0].node;
      g.pool = p.pool;
      g.tenant = job.tenant;
      g.left = kMilliPerGpu;
      g.pods = 0;
      shared_slack_milli_[SlackIndex(g)] += kMilliPerGpu;
      domain_shared_[static_cast<size_t>(fleet_.nodes[static_cast<size_t>(g.node)].domain)]
          .push_back(id);
    }
    JoinShared(id, job.gpu_milli);
    r.shared_gpu = id;
    // What-if releases of this pod (preemption, reservations) free nothing.
    r.where.parts = {GangPart{shared_gpus_[static_cast<size_t>(id)].node, 0}};
  } else {
    index_.Commit(p);
    AddLoad(p, +1);
  }
  r.site = index_.pool_site(p.pool);
  {
    const int32_t part = index_.pool_partition(p.pool);
    r.own_dedicated = part >= 2 && opts_.dedicated[static_cast<size_t>(part - 2)].tenant == job.tenant;
  }
  if (!job.fractional()) {
    if (r.own_dedicated) used_own_[job.tenant] += job.gpus;
    else if (job.preemptible) used_spot_[job.tenant] += job.gpus;
  }
  // A gang across sites runs cross_site_slowdown times longer, and is
  // expected to.
  est_end_[j] = now + (p.sites > 1 ? static_cast<Seconds>(std::ceil(static_cast<double>(job.Walltime()) *
                                                                    fleet_.cross_site_slowdown))
                                   : job.Walltime());
  if (opts_.policy == FleetQueuePolicy::kEasy) by_end_.insert({est_end_[j], j});
  r.borrowed_from = borrowed_from;
  r.running = true;
  int32_t last = -1;
  for (const GangPart& x : p.parts) {
    const int32_t d = fleet_.nodes[static_cast<size_t>(x.node)].domain;
    if (d != last) domain_jobs_[static_cast<size_t>(d)].push_back(j);
    last = d;
  }
  start_seq_[j] = next_seq_++;
  const bool frees = job.gpus > 0 && !job.fractional();  // preempting it frees GPUs
  if (job.preemptible && frees) preemptible_gpus_by_priority_[job.priority] += job.gpus;
  if (track_running_) running_by_tenant_[job.tenant].insert({start_seq_[j], j});
  if (borrowed_from >= 0) {
    borrowers_[static_cast<size_t>(borrowed_from)].insert(j);
    if (job.preemptible && frees) {
      borrowed_preemptible_gpus_[static_cast<size_t>(borrowed_from)] += job.gpus;
    }
  }
  used_mem_[job.tenant] += job.memory_mib;
  if (job.gpus > 0) {
    used_gpus_[job.tenant] += takes;
  } else {
    used_cpu_[job.tenant] += p.parts[0].units * int64_t{1000};
  }
  if (Dequeue(j) > 0) {  // Restore may adopt a job that was not waiting
    --waiting_;
    if (job.gpus > 0) {
      --waiting_gpu_;
      WaitingGpu(job.tenant, -1);
    }
  }
}

Status FleetScheduler::CheckRestore(JobRef j, const Placement& where, Placement* canon,
                                    int32_t* borrowed) const {
  auto bad = [&](const std::string& why) { return Error::InvalidInput("", 0, "placement", fmt::format("job {}: {}", j, why)); };
  if (!has_job(j)) return Error::InvalidInput("", 0, "job", fmt::format("no job {}", j));
  if (run_[j].running) return bad("already running");
  const AiJob& job = jobs_[j];
  if (where.parts.empty()) return bad("no nodes");
  // Units asked of each node, summed over parts naming it twice.
  std::map<int32_t, int64_t> per_node;
  int64_t units = 0;
  for (const GangPart& x : where.parts) {
    if (x.nodes < 1 || x.node < 0 || static_cast<size_t>(x.node) + static_cast<size_t>(x.nodes) > fleet_.nodes.size()) {
      return bad(fmt::format("node {} is not in the fleet", x.nodes < 1 || x.node < 0 ? x.node : x.node + x.nodes - 1));
    }
    if (x.units < 0 || (x.units == 0 && !job.fractional())) return bad(fmt::format("{} units on node {}", x.units, x.node));
    for (int32_t n = x.node; n < x.node + x.nodes; ++n) {
      per_node[n] += x.units;
      units += x.units;
    }
  }
  canon->parts.clear();
  std::set<int32_t> pools, domains, blocks, sites;
  for (const auto& [n, u] : per_node) {
    const FleetNode& node = fleet_.nodes[static_cast<size_t>(n)];
    if (node_down_[static_cast<size_t>(n)]) return bad(fmt::format("node {} is down", n));
    if (!online_[static_cast<size_t>(node.domain)]) return bad(fmt::format("node {}'s domain is out of service", n));
    const int32_t pool = index_.domain_pool(node.domain);
    const bool gpu_node = index_.pool_gpu(pool);
    if ((job.gpus > 0) != gpu_node) return bad(fmt::format("node {} is a {} node", n, gpu_node ? "GPU" : "CPU"));
    if (job.gpus > 0 && !ModelAllowedIn(job, pool)) return bad(fmt::format("node {}'s GPU model is not allowed", n));
    if (u > index_.node_free(n) && !(job.fractional() && u == 0)) {
      return bad(fmt::format("node {} has {} units free, not {}", n, index_.node_free(n), u));
    }
    pools.insert(pool);
    domains.insert(node.domain);
    blocks.insert(fleet_.domains[static_cast<size_t>(node.domain)].block);
    sites.insert(fleet_.site_of_domain(node.domain));
    // Node order; a whole domain's nodes, each giving all it has, as one
    // part (as Find gives it).
    const Domain& dom = fleet_.domains[static_cast<size_t>(node.domain)];
    GangPart* last = canon->parts.empty() ? nullptr : &canon->parts.back();
    if (last != nullptr && last->node + last->nodes == n && last->units == u &&
        fleet_.nodes[static_cast<size_t>(last->node)].domain == node.domain && n != dom.first_node) {
      ++last->nodes;
    } else {
      canon->parts.push_back({n, static_cast<int32_t>(u)});
    }
  }
  // Only whole domains stay runs: any other run goes back to its nodes.
  {
    std::vector<GangPart> parts;
    for (const GangPart& x : canon->parts) {
      const int32_t d = fleet_.nodes[static_cast<size_t>(x.node)].domain;
      const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
      const bool whole = x.node == dom.first_node && x.nodes == dom.num_nodes &&
                         index_.domain_free(d) == index_.domain_units(d) && x.units == index_.node_free(x.node);
      if (x.nodes == 1 || whole) {
        parts.push_back(x);
      } else {
        for (int32_t n = x.node; n < x.node + x.nodes; ++n) parts.push_back({n, x.units});
      }
    }
    canon->parts = std::move(parts);
  }
  if (job.fractional()) {
    if (per_node.size() != 1) return bad("a fractional pod runs on one node");
  } else if (job.gpus > 0 && units != job.gpus) {
    return bad(fmt::format("{} GPUs for a job of {}", units, job.gpus));
  } else if (job.gpus == 0 && (per_node.size() != 1 || units * 1000 < job.cpu_milli)) {
    return bad(fmt::format("a CPU job of {} milli-cores on one node, not {} cores on {}", job.cpu_milli, units,
                           per_node.size()));
  }
  if (sites.size() > 1 && job.topology != TopologyScope::kMultiSite) return bad("it spans sites");
  if (pools.size() > 1 && job.topology != TopologyScope::kMultiSite) return bad("it spans partitions or domain types");
  if (job.topology == TopologyScope::kNode && per_node.size() > 1) return bad("a node-scope job on several nodes");
  if (job.topology == TopologyScope::kDomain && domains.size() > 1) return bad("a domain-scope job in several domains");
  if (job.topology == TopologyScope::kBlock && blocks.size() > 1) return bad("a block-scope job in several blocks");
  // The pool giving the most domains (the lowest on ties) names it.
  std::map<int32_t, int32_t> by_pool;
  for (int32_t d : domains) ++by_pool[index_.domain_pool(d)];
  int32_t best = -1, most = 0;
  for (const auto& [pool, n] : by_pool) {
    if (n > most) {
      best = pool;
      most = n;
    }
  }
  canon->pool = best;
  canon->domains = static_cast<int32_t>(domains.size());
  canon->blocks = static_cast<int32_t>(blocks.size());
  canon->sites = static_cast<int32_t>(sites.size());
  canon->shared_gpu = -1;
  // On another tenant's active dedicated cluster: a borrower, which only
  // preemptible work may be.
  *borrowed = -1;
  for (int32_t pool : pools) {
    const int32_t part = index_.pool_partition(pool);
    if (part < 2) continue;
    const size_t k = static_cast<size_t>(part - 2);
    if (opts_.dedicated[k].tenant == job.tenant) continue;
    if (!job.preemptible || !opts_.dedicated[k].lend) return bad("on another tenant's dedicated cluster");
    *borrowed = static_cast<int32_t>(k);
  }
  return Status::Ok();
}

Status FleetScheduler::Restore(JobRef j, const Placement& where, Seconds started) {
  Placement p;
  int32_t borrowed = -1;
  if (Status st = CheckRestore(j, where, &p, &borrowed); !st) return st;
  const AiJob& job = jobs_[j];
  if (job.fractional()) {
    // Join the tenant's shared GPU on that node with the least share left
    // that fits, else open a fresh GPU there.
    const int32_t node = p.parts[0].node;
    auto it = open_shares_.find({p.pool, job.tenant});
    int32_t id = -1;
    if (it != open_shares_.end()) {
      for (auto s = it->second.lower_bound({job.gpu_milli, -1}); s != it->second.end(); ++s) {
        if (shared_gpus_[static_cast<size_t>(s->second)].node == node) {
          id = s->second;
          break;
        }
      }
    }
    if (id < 0 && index_.node_free(node) < 1) {
      return Error::InvalidInput("", 0, "placement",
                                 fmt::format("job {}: node {} has no GPU free or shared with room", j, node));
    }
    p.parts = {GangPart{node, 1}};
    p.shared_gpu = id;
  }
  StartOn(j, started, p, borrowed);
  reservation_.dirty = true;
  return Status::Ok();
}

void FleetScheduler::Finish(JobRef j, Seconds now) {
  // A job the head's reservation expected to end after the shadow time (or
  // at it) ending early may bring the shadow time forward; one expected
  // before it changes nothing.
  const Reservation& r = reservation_;
  if (r.valid && now < est_end_[j] && est_end_[j] >= r.shadow) reservation_.dirty = true;
  Release(j);
}

void FleetScheduler::Release(JobRef j) {
  const AiJob& job = jobs_[j];
  Running& r = run_[j];
  assert(r.running);
  if (job.fractional()) {
    LeaveShared(r.shared_gpu, job.gpu_milli);
    r.shared_gpu = -1;
  } else {
    index_.Release(r.where);
    AddLoad(r.where, -1);
    if (r.own_dedicated) used_own_[job.tenant] -= job.gpus;
    else if (job.preemptible) used_spot_[job.tenant] -= job.gpus;
  }
  int32_t last = -1;
  for (const GangPart& x : r.where.parts) {
    const int32_t d = fleet_.nodes[static_cast<size_t>(x.node)].domain;
    if (d != last) {
      auto& v = domain_jobs_[static_cast<size_t>(d)];
      v.erase(std::find(v.begin(), v.end(), j));
      if (v.empty() && draining_[static_cast<size_t>(d)]) {
        draining_[static_cast<size_t>(d)] = false;
        AddOnline(d, -1);
      }
    }
    last = d;
  }
  if (track_running_) running_by_tenant_[job.tenant].erase({start_seq_[j], j});
  if (opts_.policy == FleetQueuePolicy::kEasy) by_end_.erase({est_end_[j], j});
  const bool frees = job.gpus > 0 && !job.fractional();
  if (job.preemptible && frees) preemptible_gpus_by_priority_[job.priority] -= job.gpus;
  if (r.borrowed_from >= 0) {
    borrowers_[static_cast<size_t>(r.borrowed_from)].erase(j);
    if (job.preemptible && frees) {
      borrowed_preemptible_gpus_[static_cast<size_t>(r.borrowed_from)] -= job.gpus;
    }
  }
  used_mem_[job.tenant] -= job.memory_mib;
  if (job.gpus > 0) {
    if (frees) used_gpus_[job.tenant] -= job.gpus;  // a pod's GPU: LeaveShared
  } else {
    used_cpu_[job.tenant] -= r.where.parts[0].units * int64_t{1000};
  }
  r.running = false;
  r.borrowed_from = -1;
  ++epoch_;
}

void FleetScheduler::Preempt(JobRef j, Seconds now) {
  if (preempted_in_.size() < jobs_.size()) preempted_in_.resize(jobs_.size(), 0);
  preempted_in_[j] = pass_;
  Interrupt(j, now);
  LogPreempt(j);
}

void FleetScheduler::Withdraw(JobRef j) {
  const size_t q = QueueIndexOf(j);
  if (failed_epoch_[q] == epoch_ && queues_[q].count(j) > 0) {
    // The queue failed at this capacity, but only for the jobs its last pass
    // tried: without j, one it did not try may fit. A new head (fifo,
    // priority, easy) is tried from the head; under fairshare and easy the
    // job that moves into the window of jobs tried (fairshare's first
    // kBestEffortDepth, easy's head and kBackfillDepth after it) is tried on
    // its own, as one that joined.
    if (opts_.policy != FleetQueuePolicy::kFairshare && *queues_[q].begin() == j) {
      failed_epoch_[q] = 0;
    } else if (opts_.policy == FleetQueuePolicy::kFairshare || opts_.policy == FleetQueuePolicy::kEasy) {
      const size_t window = opts_.policy == FleetQueuePolicy::kFairshare ? kBestEffortDepth : 1 + kBackfillDepth;
      size_t pos = 0;
      bool inside = false;
      auto it = queues_[q].begin();
      for (; it != queues_[q].end() && pos < window; ++it, ++pos) inside = inside || *it == j;
      if (inside && it != queues_[q].end()) fresh_[q].push_back(*it);
    }
  }
  if (Dequeue(j) == 0) return;
  --waiting_;
  if (jobs_[j].gpus > 0) {
    --waiting_gpu_;
    WaitingGpu(jobs_[j].tenant, -1);
  }
}

void FleetScheduler::Interrupt(JobRef j, Seconds now) {
  Release(j);
  reservation_.dirty = true;
  Enqueue(j);  // back in arrival order; the wait clock restarts
  failed_epoch_[QueueIndexOf(j)] = 0;
  since_[j] = now;
  ++waiting_;
  if (jobs_[j].gpus > 0) {
    ++waiting_gpu_;
    WaitingGpu(jobs_[j].tenant, +1);
  }
}

void FleetScheduler::SetDedicated(size_t k, bool active) {
  if (active_[k] == active) return;
  active_[k] = active;
  reservation_.dirty = true;
  const TenantId owner = opts_.dedicated[k].tenant;
  for (int32_t d : opts_.dedicated[k].domains) {
    Rehome(d);
    if (!active) continue;
    // Others' jobs already running there now run on borrowed capacity.
    for (JobRef j : domain_jobs_[static_cast<size_t>(d)]) {
      if (jobs_[j].tenant != owner && run_[j].borrowed_from < 0) {
        run_[j].borrowed_from = static_cast<int32_t>(k);
        borrowers_[k].insert(j);
        if (jobs_[j].preemptible && !jobs_[j].fractional()) {
          borrowed_preemptible_gpus_[k] += jobs_[j].gpus;
        }
      }
    }
  }
  if (!active) {
    for (JobRef j : borrowers_[k]) run_[j].borrowed_from = -1;
    borrowers_[k].clear();
    borrowed_preemptible_gpus_[k] = 0;
  }
  ++epoch_;
}

int64_t FleetScheduler::dedicated_free_gpus(TenantId t) const {
  int64_t s = 0;
  if (t >= tenant_dedicated_.size()) return 0;
  for (size_t k : tenant_dedicated_[t]) {
    if (active_[k]) s += index_.free_gpus(PartOf(k));
  }
  return s;
}

std::vector<FleetScheduler::NodeRange> FleetScheduler::NodeRanges(const Placement& p) {
  std::vector<NodeRange> out;
  out.reserve(p.parts.size());
  for (const GangPart& x : p.parts) out.push_back({x.node, x.node + x.nodes});
  std::sort(out.begin(), out.end(), [](const NodeRange& a, const NodeRange& b) { return a.first < b.first; });
  return out;
}

bool FleetScheduler::Overlaps(const std::vector<NodeRange>& sorted, const GangPart& x) {
  // The last range starting before x's end: the only one that may reach
  // into it (ranges do not overlap, so their ends rise with their starts).
  const int32_t end = x.node + x.nodes;
  auto it = std::partition_point(sorted.begin(), sorted.end(), [&](const NodeRange& r) { return r.first < end; });
  return it != sorted.begin() && std::prev(it)->end > x.node;
}

bool FleetScheduler::PreemptAndStart(JobRef j, Seconds now, const std::vector<JobRef>& candidates,
                                     const std::vector<int32_t>& pools, bool across) {
  const AiJob& job = jobs_[j];
  // Jobs already preempted in this pass (and started again) are not victims.
  std::vector<JobRef> victims;
  for (JobRef v : candidates) {
    if (v >= preempted_in_.size() || preempted_in_[v] != pass_) victims.push_back(v);
  }
  if (victims.empty()) return false;
  // What if the victims were gone, in their order, until the job fits? If it
  // would not fit with all of them gone, preempt nothing. Otherwise preempt
  // those of that prefix on the nodes of the placement it found (so that a
  // victim later in the order is taken only if the earlier ones do not make
  // room). A count of the GPUs free in the pools' partitions skips the
  // search while there cannot be enough.
  std::vector<int32_t> partitions;
  for (int32_t pool : pools) partitions.push_back(index_.pool_partition(pool));
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  Placement target;
  bool fits = false;
  size_t upto = 0;
  while (upto < victims.size() && !fits) {
    index_.Release(run_[victims[upto++]].where);
    int64_t free = 0;
    for (int32_t part : partitions) free += index_.free_gpus(part);
    fits = free >= job.gpus && FindIn(job, pools, &target, true, across);
  }
  for (size_t i = 0; i < upto; ++i) index_.Commit(run_[victims[i]].where);
  if (!fits) return false;
  const std::vector<NodeRange> nodes = NodeRanges(target);
  for (size_t i = 0; i < upto; ++i) {
    const JobRef v = victims[i];
    bool overlaps = false;
    for (const GangPart& x : run_[v].where.parts) overlaps = overlaps || Overlaps(nodes, x);
    if (overlaps) Preempt(v, now);
  }
  Placement p;
  if (FindIn(job, pools, &p, true, across)) {
    StartOn(j, now, p, -1);
    LogStart(j);
    return true;
  }
  // Best fit moved elsewhere: preempt the rest in order until it fits.
  for (JobRef v : victims) {
    if (!run_[v].running) continue;
    Preempt(v, now);
    if (FindIn(job, pools, &p, true, across)) {
      StartOn(j, now, p, -1);
      LogStart(j);
      return true;
    }
  }
  return false;
}

bool FleetScheduler::TryStart(JobRef j, Seconds now) {
  const AiJob& job = jobs_[j];
  ++decisions_;
  // A fractional pod over quota may still join a GPU its tenant holds.
  const bool may_open = QuotaAllows(job);
  if (!may_open && !job.fractional()) return false;
  Placement p;
  // 1. Own dedicated clusters, reclaiming borrowed capacity if need be. A
  // multi-site gang tries each in one site first, then all of them together
  // (below).
  const bool multi = job.topology == TopologyScope::kMultiSite;
  if (job.tenant < tenant_dedicated_.size()) {
    for (size_t k : tenant_dedicated_[job.tenant]) {
      if (!active_[k] || held_[PartOf(k)]) continue;
      const auto& pools = index_.partition_pools(PartOf(k));
      if (FindIn(job, pools, &p, may_open, !multi)) {
        StartOn(j, now, p, -1);
        LogStart(j);
        return true;
      }
      // Reclaim: preempt preemptible borrowers (latest start first) when
      // that lets the job fit here.
      if (job.fractional() || borrowed_preemptible_gpus_[k] == 0 ||
          index_.free_gpus(PartOf(k)) + borrowed_preemptible_gpus_[k] < job.gpus) {
        continue;
      }
      std::vector<JobRef> victims;
      for (JobRef b : borrowers_[k]) {
        if (jobs_[b].preemptible && !jobs_[b].fractional()) victims.push_back(b);
      }
      std::sort(victims.begin(), victims.end(),
                [&](JobRef a, JobRef b) { return start_seq_[a] > start_seq_[b]; });
      if (PreemptAndStart(j, now, victims, pools, !multi)) return true;
    }
    // A multi-site gang may take its domains from all of its tenant's active
    // dedicated clusters together (a contract's ramp is several clusters),
    // in one site if one has room, else across sites; reclaiming their
    // borrowers if need be.
    if (multi && !tenant_dedicated_[job.tenant].empty()) {
      const std::vector<int32_t> pools = OwnDedicatedPools(job.tenant);
      if (!pools.empty() && FindIn(job, pools, &p, may_open)) {
        StartOn(j, now, p, -1);
        LogStart(j);
        return true;
      }
      std::vector<JobRef> victims;
      int64_t reclaimable = 0, free = 0;
      for (size_t k : tenant_dedicated_[job.tenant]) {
        if (!active_[k] || held_[PartOf(k)]) continue;
        free += index_.free_gpus(PartOf(k));
        reclaimable += borrowed_preemptible_gpus_[k];
        for (JobRef b : borrowers_[k]) {
          if (jobs_[b].preemptible && !jobs_[b].fractional()) victims.push_back(b);
        }
      }
      if (!pools.empty() && reclaimable > 0 && free + reclaimable >= job.gpus) {
        std::sort(victims.begin(), victims.end(),
                  [&](JobRef a, JobRef b) { return start_seq_[a] > start_seq_[b]; });
        if (PreemptAndStart(j, now, victims, pools)) return true;
      }
    }
  }
  // 2. The shared fleet.
  if (!held_[0] && FindIn(job, index_.partition_pools(0), &p, may_open)) {
    StartOn(j, now, p, -1);
    LogStart(j);
    return true;
  }
  // 3. Borrowing others' idle dedicated capacity: preemptible jobs only.
  if (job.preemptible) {
    for (size_t k = 0; k < opts_.dedicated.size(); ++k) {
      const DedicatedCluster& dc = opts_.dedicated[k];
      if (!active_[k] || !dc.lend || dc.tenant == job.tenant || held_[PartOf(k)]) continue;
      if (FindIn(job, index_.partition_pools(PartOf(k)), &p, may_open)) {
        StartOn(j, now, p, static_cast<int32_t>(k));
        LogStart(j);
        return true;
      }
    }
  }
  if (job.gpus == 0 || job.fractional() || held_[0]) return false;
  // 4. Quota reclaim: a tenant within its nominal takes capacity back from
  // cohort members running above theirs.
  const TenantQuota& q = tenant_settings_[job.tenant].quota;
  if (q.nominal_gpus >= 0 && q.cohort >= 0 && WithinNominal(job)) {
    std::vector<JobRef> victims;
    for (size_t u = 0; u < tenants_; ++u) {
      const TenantQuota& o = tenant_settings_[u].quota;
      if (u == job.tenant || o.cohort != q.cohort || o.nominal_gpus < 0) continue;
      int64_t excess = used_gpus_[u] - o.nominal_gpus;
      for (auto it = running_by_tenant_[u].rbegin(); it != running_by_tenant_[u].rend() && excess > 0; ++it) {
        const AiJob& v = jobs_[it->second];
        if (v.gpus == 0 || v.fractional() || !run_[it->second].on_borrowed_quota) continue;
        victims.push_back(it->second);
        excess -= v.gpus;
      }
    }
    std::sort(victims.begin(), victims.end(),
              [&](JobRef a, JobRef b) { return start_seq_[a] > start_seq_[b]; });
    std::vector<JobRef> shared;
    for (JobRef v : victims) {
      if (run_[v].borrowed_from < 0) shared.push_back(v);
    }
    if (!shared.empty() &&
        PreemptAndStart(j, now, shared, index_.partition_pools(0))) {
      return true;
    }
  }
  // 5. Priority: preempt lower-priority preemptible work.
  int64_t lower = 0;
  for (auto it = preemptible_gpus_by_priority_.begin();
       it != preemptible_gpus_by_priority_.end() && it->first < job.priority; ++it) {
    lower += it->second;
  }
  if (opts_.policy == FleetQueuePolicy::kPriority && index_.free_gpus(0) + lower >= job.gpus) {
    std::vector<JobRef> victims;
    for (const auto& running : running_by_tenant_) {
      for (const auto& [seq, v] : running) {
        if (jobs_[v].preemptible && jobs_[v].priority < job.priority && jobs_[v].gpus > 0 &&
            !jobs_[v].fractional()) {
          victims.push_back(v);
        }
      }
    }
    std::sort(victims.begin(), victims.end(), [&](JobRef a, JobRef b) {
      if (jobs_[a].priority != jobs_[b].priority) return jobs_[a].priority < jobs_[b].priority;
      return start_seq_[a] > start_seq_[b];
    });
    std::vector<JobRef> shared;
    for (JobRef v : victims) {
      if (run_[v].borrowed_from < 0) shared.push_back(v);
    }
    if (!shared.empty() &&
        PreemptAndStart(j, now, shared, index_.partition_pools(0))) {
      return true;
    }
  }
  return false;
}

bool FleetScheduler::TryStartObserved(JobRef j, Seconds now) {
  if (opts_.observer == nullptr) return TryStart(j, now);
  opts_.observer->Begin();
  bool ok = TryStart(j, now);
  opts_.observer->End();
  return ok;
}

bool FleetScheduler::FitsReachableWhenEmpty(const AiJob& job) const {
  if (job.tenant < tenants_) {
    const int64_t ceiling = QuotaCeiling(job.tenant);
    if (ceiling >= 0 && job.gpus > ceiling) return false;
  }
  auto fits = [&](int32_t partition) {
    for (int32_t pool : index_.partition_pools(partition)) {
      if (index_.FitsEmpty(job, pool)) return true;
    }
    return false;
  };
  if (fits(0)) return true;
  if (job.tenant < tenant_dedicated_.size()) {
    for (size_t k : tenant_dedicated_[job.tenant]) {
      if (active_[k] && fits(PartOf(k))) return true;
    }
  }
  if (job.topology != TopologyScope::kMultiSite || job.gpus <= 0) return false;
  // Across sites: the domains of a type in the shared fleet, or in the
  // tenant's active dedicated clusters together.
  auto fits_across = [&](const std::vector<int32_t>& pools) {
    std::map<int32_t, int64_t> domains;  // by domain type
    for (int32_t pool : pools) {
      if (!index_.pool_gpu(pool) || !ModelAllowedIn(job, pool)) continue;
      const int64_t D = index_.pool_domain_gpus(pool);
      int64_t& n = domains[index_.pool_domain_type(pool)];
      n += index_.pool_num_domains(pool);
      if (D > 0 && (job.gpus + D - 1) / D <= n) return true;
    }
    return false;
  };
  return fits_across(index_.partition_pools(0)) || fits_across(OwnDedicatedPools(job.tenant, false));
}

std::vector<int32_t> FleetScheduler::OwnDedicatedPools(TenantId t, bool skip_held) const {
  std::vector<int32_t> pools;
  if (t >= tenant_dedicated_.size()) return pools;
  for (size_t k : tenant_dedicated_[t]) {
    if (!active_[k] || (skip_held && held_[PartOf(k)])) continue;
    const auto& p = index_.partition_pools(PartOf(k));
    pools.insert(pools.end(), p.begin(), p.end());
  }
  return pools;
}

void FleetScheduler::Schedule(Seconds now, Decisions* out) {
  pass_log_.clear();
  ++pass_;
  SchedulePass(now);
  // The net changes, each job once, by ref: the first entry of a job tells
  // whether it ran before the pass (a preemption) or waited (a start).
  std::stable_sort(pass_log_.begin(), pass_log_.end(),
                   [](const LogEntry& a, const LogEntry& b) { return a.job < b.job; });
  out->changes.clear();
  for (size_t i = 0; i < pass_log_.size();) {
    JobChange c;
    c.job = pass_log_[i].job;
    c.stopped = pass_log_[i].preempt;
    bool began = false;
    for (; i < pass_log_.size() && pass_log_[i].job == c.job; ++i) {
      if (pass_log_[i].preempt) {
        ++c.preemptions;
      } else {
        began = true;
      }
    }
    c.started = began && run_[c.job].running;
    out->changes.push_back(c);
  }
}

void FleetScheduler::SchedulePass(Seconds now) {
  // A queue whose head failed at this capacity epoch fails again: skip it.
  auto try_head = [&](size_t q) {
    if (queues_[q].empty()) return false;
    if (failed_epoch_[q] == epoch_) return false;
    JobRef h = *queues_[q].begin();
    if (TryStartObserved(h, now)) return true;
    failed_epoch_[q] = epoch_;
    return false;
  };
  // Fair share is best-effort within a tenant, as Kueue's BestEffortFIFO:
  // if the head does not fit, the next few jobs of the queue may.
  auto try_queue = [&](size_t q) {
    if (queues_[q].empty()) return false;
    if (failed_epoch_[q] == epoch_) {
      // Only the jobs that joined since the queue failed can start.
      std::vector<JobRef> fresh;
      fresh.swap(fresh_[q]);
      for (size_t i = 0; i < fresh.size(); ++i) {
        const JobRef f = fresh[i];
        if (!run_[f].running && queues_[q].count(f) &&
            TryStartObserved(f, now)) {
          // The ones not tried yet stay fresh for the queue's next turn.
          fresh_[q].insert(fresh_[q].end(), fresh.begin() + static_cast<std::ptrdiff_t>(i) + 1, fresh.end());
          return true;
        }
      }
      return false;
    }
    fresh_[q].clear();
    int tried = 0;
    for (auto it = queues_[q].begin(); it != queues_[q].end() && tried < kBestEffortDepth;
         ++it, ++tried) {
      if (TryStartObserved(*it, now)) return true;
    }
    failed_epoch_[q] = epoch_;
    return false;
  };
  if (opts_.policy == FleetQueuePolicy::kEasy) {
    ScheduleEasy(now);
    return;
  }
  if (opts_.policy != FleetQueuePolicy::kFairshare) {
    while (try_head(0)) {
    }
    return;
  }
  // A starving head (waiting longer than starve_after) goes first and alone.
  // Only queues with jobs are looked at (active_queues_, in any order: the
  // choices below do not depend on it).
  size_t starving = queues_.size();
  JobRef oldest = 0;
  for (const uint32_t q : active_queues_) {
    if (queues_[q].empty()) continue;
    JobRef h = *queues_[q].begin();
    if (now - since_[h] < opts_.starve_after) continue;
    if (!FitsReachableWhenEmpty(jobs_[h])) continue;
    if (starving == queues_.size() || since_[h] < since_[oldest] ||
        (since_[h] == since_[oldest] && h < oldest)) {
      starving = q;
      oldest = h;
    }
  }
  // Hold what a starving head can reach, so that it drains for it. The
  // head itself is tried with nothing held.
  const std::vector<bool> before = held_;
  std::vector<bool> held(held_.size(), false);
  held_ = held;
  if (starving < queues_.size() && !try_head(starving)) {
    const AiJob& h = jobs_[oldest];
    held[0] = true;
    if (h.tenant < tenant_dedicated_.size()) {
      for (size_t k : tenant_dedicated_[h.tenant]) held[PartOf(k)] = active_[k];
    }
  }
  held_ = held;
  if (held_ != before) ++epoch_;  // heads that failed under other holds may fit now
  // Weighted dominant-resource fairness across tenants.
  using Entry = std::tuple<double, int32_t, TenantId>;  // share, tie rank, tenant
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto rank = [&](TenantId t) {
    const int32_t r = tenant_settings_[t].rank;
    return r >= 0 ? r : static_cast<int32_t>(t);
  };
  for (const uint32_t q : active_queues_) {
    const TenantId t = static_cast<TenantId>(q);
    if (!queues_[q].empty() && (failed_epoch_[q] != epoch_ || !fresh_[q].empty())) {
      heap.push({Share(t), rank(t), t});
    }
  }
  while (!heap.empty()) {
    const TenantId t = std::get<2>(heap.top());
    heap.pop();
    if (try_queue(t) && !queues_[t].empty()) heap.push({Share(t), rank(t), t});
  }
}

void FleetScheduler::Reserve(JobRef head, Seconds now) {
  Reservation& r = reservation_;
  r.valid = false;
  r.dirty = false;
  r.head = head;
  r.nodes.clear();
  const AiJob& job = jobs_[head];
  r.quota_held = !QuotaAllows(job);
  if (r.quota_held) return;  // held back by its quota, not by capacity
  // Where the head may run without borrowing: its own active dedicated
  // clusters first, then the shared fleet.
  std::vector<int32_t> partitions;
  if (job.tenant < tenant_dedicated_.size()) {
    for (size_t k : tenant_dedicated_[job.tenant]) {
      if (active_[k]) partitions.push_back(PartOf(k));
    }
  }
  partitions.push_back(0);
  // A multi-site head: each own cluster in one site, then all of them
  // together, then the shared fleet (as TryStart tries them).
  const bool multi = job.topology == TopologyScope::kMultiSite;
  std::vector<int32_t> own;
  if (multi) {
    for (size_t i = 0; i + 1 < partitions.size(); ++i) {
      const auto& pp = index_.partition_pools(partitions[i]);
      own.insert(own.end(), pp.begin(), pp.end());
    }
  }
  auto find = [&](Placement* p) {
    for (size_t i = 0; i < partitions.size(); ++i) {
      const bool shared = i + 1 == partitions.size();
      if (multi && shared && !own.empty() && FindIn(job, own, p)) return true;
      if (FindIn(job, index_.partition_pools(partitions[i]), p, true, !multi || shared)) return true;
    }
    return false;
  };
  // Release running jobs in estimated-end order until the head fits. A
  // cheap count of the GPUs released so far skips the placement search
  // while there cannot be enough.
  std::vector<JobRef> released;
  int64_t free = 0;
  for (int32_t part : partitions) free += index_.free_gpus(part);
  Placement p;
  for (const auto& [end, j] : by_end_) {
    index_.Release(run_[j].where);
    released.push_back(j);
    free += jobs_[j].gpus;
    if (free < job.gpus) continue;
    if (find(&p)) {
      r.valid = true;
      r.shadow = std::max(end, now);
      break;
    }
  }
  for (JobRef j : released) index_.Commit(run_[j].where);
  if (!r.valid) return;
  r.nodes = NodeRanges(p);
}

void FleetScheduler::BlockReservation(bool block) {
  Reservation& r = reservation_;
  if (r.blocked == block) return;
  r.blocked = block;
  if (block) {
    // The free units of R's nodes in node order; a domain of R that is
    // fully free is one part (taken whole, as node by node).
    r.block.parts.clear();
    for (const NodeRange& x : r.nodes) {
      const Domain& dom = fleet_.domains[static_cast<size_t>(fleet_.nodes[static_cast<size_t>(x.first)].domain)];
      const int32_t d = fleet_.nodes[static_cast<size_t>(x.first)].domain;
      if (x.first == dom.first_node && x.end == dom.first_node + dom.num_nodes && dom.num_nodes > 0 &&
          index_.domain_free(d) > 0 && index_.domain_free(d) == index_.domain_units(d)) {
        r.block.parts.push_back({x.first, index_.node_free(x.first), dom.num_nodes});
        continue;
      }
      for (int32_t n = x.first; n < x.end; ++n) {
        const int32_t f = index_.node_free(n);
        if (f > 0) r.block.parts.push_back({n, f});
      }
    }
    index_.Commit(r.block);
  } else {
    index_.Release(r.block);
  }
}

void FleetScheduler::ScheduleEasy(Seconds now) {
  Queue& q = queues_[0];
  const bool fresh_only = failed_epoch_[0] == epoch_;
  // 1. fifo: start from the head while it fits.
  if (!fresh_only) {
    while (!q.empty() && TryStartObserved(*q.begin(), now)) {
    }
  }
  failed_epoch_[0] = epoch_;
  std::vector<JobRef> fresh;
  fresh.swap(fresh_[0]);
  if (q.empty()) return;
  const JobRef head = *q.begin();
  // 2. The head's reservation. It stays right while the head stays and jobs
  // end on time: backfilled jobs end by the shadow time or stay off its
  // nodes, and on-time ends were counted when it was found.
  const Reservation& r = reservation_;
  if (r.dirty || r.quota_held || r.head != head || (r.valid && now >= r.shadow)) {
    Reserve(head, now);
  }
  // 3. Backfill: the first jobs after the head (or, when the queue already
  // failed at this capacity, only those that joined since).
  std::vector<JobRef> candidates;
  if (fresh_only) {
    for (JobRef f : fresh) {
      if (f != head && !run_[f].running && q.count(f)) candidates.push_back(f);
    }
  } else {
    auto it = std::next(q.begin());
    for (int n = 0; it != q.end() && n < kBackfillDepth; ++it, ++n) candidates.push_back(*it);
  }
  using Shape = std::tuple<int32_t, int64_t, GpuModelMask, TopologyScope, TenantId, bool, bool>;
  std::set<Shape> failed;
  for (JobRef c : candidates) {
    // A job named twice (fresh_ may hold a ref submitted, withdrawn and
    // submitted again, or removed and handed out again) starts once.
    if (run_[c].running || q.count(c) == 0) continue;
    const AiJob& job = jobs_[c];
    const bool ends_in_time = !reservation_.valid || now + job.Walltime() <= reservation_.shadow;
    const Shape shape{job.gpus, job.cpu_milli, job.models, job.topology, job.tenant,
                      job.preemptible, ends_in_time};
    if (failed.count(shape)) continue;
    BlockReservation(!ends_in_time);
    if (!TryStartObserved(c, now)) failed.insert(shape);
  }
  BlockReservation(false);
}

}  // namespace rackscale
