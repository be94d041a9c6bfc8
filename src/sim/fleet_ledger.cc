#include "sim/fleet_ledger.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <iterator>

#include "sched/fleet_policy.h"

namespace rackscale {
namespace {

Seconds FloorDiv(Seconds a, Seconds b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0); }

}  // namespace

FleetLedger::FleetLedger(const Fleet& fleet, const FleetSimOptions& options, FleetSimResult* r, size_t jobs,
                         const std::vector<TenantId>& dedicated_tenants, const std::vector<bool>& offline)
    : fleet_(fleet),
      options_(options),
      r_(*r),
      S_(fleet.sites.size()),
      tenants_(r->tenants.size()),
      nsvc_(options.services.size()),
      dedicated_tenants_(dedicated_tenants) {
  price_reserved_.assign(tenants_, 0);
  price_on_demand_.assign(tenants_, 0);
  price_spot_.assign(tenants_, 0);
  dep_rate_.assign(S_, 0);
  for (size_t d = 0; d < fleet.domains.size(); ++d) {
    // Spares are owned (and depreciate) from the start.
    if (!offline[d] || fleet.domains[d].spare) {
      dep_rate_[static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(d)))] +=
          DomainDepreciation(static_cast<int32_t>(d));
    }
  }
  site_revenue_rate_.assign(S_, 0);
  tenant_revenue_rate_.assign(tenants_, 0);
  reserved_gpus_.assign(tenants_, 0);
  held_.assign(tenants_ * S_, 0);
  running_of_.assign(tenants_, 0);
  dedicated_sorted_ = dedicated_tenants_;  // sorted once, not per event
  std::sort(dedicated_sorted_.begin(), dedicated_sorted_.end());
  job_rate_.assign(jobs, 0);
  held_since_.assign(jobs, 0);
  svc_demand_.assign(nsvc_, 0);
  svc_attainment_.assign(nsvc_, 1);
  svc_replica_s_.assign(nsvc_, 0);
  svc_demand_tokens_.assign(nsvc_, 0);
  svc_attained_tokens_.assign(nsvc_, 0);
  svc_s_.assign(nsvc_, 0);
  step_ = options.timeseries_step;
  r_.timeseries_step = step_;
  rows_per_step_ = S_ + tenants_ + nsvc_;
  // Rows are kept from the step of the first event on (times may be
  // negative), and their number is bounded: a span that would need more
  // than kMaxTimeseriesRows is refused with the estimate, before the run
  // when the arrivals alone span it, else as soon as the run gets there.
  base_step_ = step_ > 0 ? FloorDiv(std::min<Seconds>(0, r_.first_submit), step_) : 0;
}

double FleetLedger::DomainDepreciation(int32_t d) const {
  const Domain& dom = fleet_.domains[static_cast<size_t>(d)];
  const NodeType& nt =
      fleet_.node_types[static_cast<size_t>(fleet_.domain_types[static_cast<size_t>(dom.type)].node_type)];
  if (nt.gpus == 0 || nt.accelerator < 0) return 0.0;
  const AcceleratorType& a = fleet_.accelerators[static_cast<size_t>(nt.accelerator)];
  return dom.gpus * a.price_usd / (a.life_years * kSecondsPerYear);
}

void FleetLedger::SetPrices(TenantId t, const TenantSpec& spec) {
  // $ per GPU-second.
  price_reserved_[t] = spec.reserved_usd_per_gpu_hour / 3600;
  price_on_demand_[t] = spec.on_demand_usd_per_gpu_hour / 3600;
  price_spot_[t] = spec.spot_usd_per_gpu_hour / 3600;
}

void FleetLedger::DomainService(int32_t d, bool online) {
  dep_rate_[static_cast<size_t>(fleet_.site_of_domain(d))] += (online ? 1 : -1) * DomainDepreciation(d);
}

Error FleetLedger::TooManyRows(Seconds until) const {
  const double steps =
      std::floor(static_cast<double>(until) / static_cast<double>(step_)) - static_cast<double>(base_step_) + 1;
  return Error::InvalidInput("--step", 0, "step",
                             fmt::format("the time series would need {:.3g} rows ({:.3g} steps of {} "
                                         "s from {} s to {} s, {} rows each); at "
                                         "most {}: use a longer --step, or --step 0 for none",
                                         steps * static_cast<double>(rows_per_step_), steps, step_, base_step_ * step_,
                                         until, rows_per_step_, kMaxTimeseriesRows));
}

double FleetLedger::RowsNeeded(Seconds until) const {
  return (static_cast<double>(until) / static_cast<double>(step_) - static_cast<double>(base_step_) + 1) *
         static_cast<double>(rows_per_step_);
}

Status FleetLedger::CheckRows(Seconds until) const {
  if (step_ > 0 && RowsNeeded(until) > kMaxTimeseriesRows) return TooManyRows(until);
  return Status::Ok();
}

TimeRow& FleetLedger::Row(int64_t b, size_t k) {
  const size_t need = static_cast<size_t>(b - base_step_ + 1) * rows_per_step_;
  if (r_.timeseries.size() < need) {
    const size_t from = r_.timeseries.size();
    r_.timeseries.resize(need);
    for (size_t i = from; i < need; ++i) {
      TimeRow& x = r_.timeseries[i];
      x.step = static_cast<int64_t>(i / rows_per_step_) + base_step_;
      const size_t kk = i % rows_per_step_;
      x.scope = kk < S_ ? TimeScope::kSite : kk < S_ + tenants_ ? TimeScope::kTenant : TimeScope::kService;
      x.id = static_cast<int32_t>(kk < S_ ? kk : kk < S_ + tenants_ ? kk - S_ : kk - S_ - tenants_);
    }
  }
  return r_.timeseries[static_cast<size_t>(b - base_step_) * rows_per_step_ + k];
}

void FleetLedger::Started(uint32_t ref, const AiJob& j, int32_t site, bool own_dedicated,
                          std::vector<std::pair<int32_t, double>> shares, Seconds t) {
  job_rate_[ref] =
      own_dedicated ? 0 : j.gpu_share() * (j.preemptible ? price_spot_[j.tenant] : price_on_demand_[j.tenant]);
  held_since_[ref] = t;
  if (!shares.empty()) multi_share_[ref] = std::move(shares);
  AddRates(ref, j, site, +1);
}

double FleetLedger::Ended(uint32_t ref, const AiJob& j, int32_t site, Seconds t) {
  AddRates(ref, j, site, -1);
  multi_share_.erase(ref);
  return j.gpu_share() * static_cast<double>(t - held_since_[ref]);
}

void FleetLedger::AddRates(uint32_t ref, const AiJob& j, int32_t site, int sign) {
  tenant_revenue_rate_[j.tenant] += sign * job_rate_[ref];
  running_of_[j.tenant] += sign;
  if (running_of_[j.tenant] > 0) {
    live_.insert(j.tenant);
  } else {
    live_.erase(j.tenant);
  }
  auto ms = multi_share_.find(ref);
  if (ms == multi_share_.end()) {
    site_revenue_rate_[static_cast<size_t>(site)] += sign * job_rate_[ref];
    held_[j.tenant * S_ + static_cast<size_t>(site)] += sign * j.gpu_share();
    return;
  }
  // A multi-site gang: each site its share of the GPUs.
  for (const auto& [s, share] : ms->second) {
    site_revenue_rate_[static_cast<size_t>(s)] += sign * job_rate_[ref] * share;
    held_[j.tenant * S_ + static_cast<size_t>(s)] += sign * j.gpu_share() * share;
  }
}

void FleetLedger::UpdateBusy(const FleetScheduler& sched) {
  busy_ = 0;
  for (const TenantId tn : live_) busy_ += sched.used_gpus(tn);
}

Status FleetLedger::Integrate(Seconds t, Seconds nt, const FleetScheduler& sched, const std::vector<double>& speed,
                              const std::vector<int32_t>& held_replicas) {
  const double dt = static_cast<double>(nt - t);
  const Seconds w0 = std::max(t, options_.window_start), w1 = std::min(nt, options_.window_end);
  const double wdt = w1 > w0 ? static_cast<double>(w1 - w0) : 0.0;
  if (wdt > 0) {
    if (!window_seen_) r_.window_start = w0;
    window_seen_ = true;
    r_.window_end = w1;
  }
  r_.busy_gpu_seconds += static_cast<double>(busy_) * dt;
  if (sched.waiting_gpu_jobs() > 0) {
    r_.fragmented_gpu_seconds += static_cast<double>(sched.index().free_gpus()) * dt;
  }
  for (TenantId d : dedicated_tenants_) {
    r_.tenants[d].stranded_gpu_seconds += static_cast<double>(sched.dedicated_free_gpus(d)) * dt;
  }
  if (sched.waiting_gpu_jobs() > 0) {
    const double shared_free = static_cast<double>(sched.index().free_gpus(0));
    for (const TenantId tn : sched.tenants_waiting_gpu()) {
      if (sched.waiting_gpu_jobs(tn) == 0) continue;
      r_.tenants[tn].fragmented_gpu_seconds +=
          (shared_free + static_cast<double>(sched.dedicated_free_gpus(static_cast<TenantId>(tn)))) * dt;
    }
  }
  touched_.clear();
  std::set_union(live_.begin(), live_.end(), dedicated_sorted_.begin(), dedicated_sorted_.end(),
                 std::back_inserter(touched_));
  segments_.clear();
  if (step_ > 0) {
    if (RowsNeeded(nt) > kMaxTimeseriesRows) return TooManyRows(nt);
    for (Seconds a = t; a < nt;) {
      const int64_t b = FloorDiv(a, step_);
      const Seconds e = std::min(nt, (b + 1) * step_);
      segments_.push_back({b, static_cast<double>(e - a)});
      const size_t c = static_cast<size_t>(b - base_step_);
      if (covered_.size() <= c) covered_.resize(c + 1, 0);
      covered_[c] += static_cast<double>(e - a);
      a = e;
    }
  }
  // Sites: energy, money.
  for (size_t s = 0; s < S_; ++s) {
    const int32_t si = static_cast<int32_t>(s);
    SiteStats& ss = r_.sites[s];
    const double mw = (sched.site_static_w(si) + sched.site_dynamic_w(si) * speed[s]) / 1e6;
    const double usd_per_mwh = fleet_.sites[s].usd_per_mwh;
    ss.energy_mwh += mw * dt / 3600;
    ss.energy_usd += mw * dt / 3600 * usd_per_mwh;
    ss.depreciation_usd += dep_rate_[s] * dt;
    ss.revenue_usd += site_revenue_rate_[s] * dt;
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
    for (const auto& [b, x] : segments_) {
      TimeRow& tr = Row(b, s);
      tr.gpus_online += static_cast<double>(sched.site_online_gpus(si)) * x;
      tr.gpus_busy += static_cast<double>(sched.site_busy_gpus(si)) * x;
      tr.gpus_failed += static_cast<double>(sched.site_down_gpus(si)) * x;
      tr.power_mw += mw * x;
      tr.speed += speed[s] * x;
      tr.revenue_usd += site_revenue_rate_[s] * x;
      tr.cost_usd += (dep_rate_[s] + mw / 3600 * usd_per_mwh) * x;
    }
  }
  for (const TenantId tn : touched_) {
    TenantStats& ts = r_.tenants[tn];
    // GPUs it holds: its jobs' GPUs, and its shared GPUs whole (a pod's
    // GPU is busy while any pod holds it, as its site counts it).
    double used = 0, slack = 0;
    for (size_t s = 0; s < S_; ++s) {
      used += held_[tn * S_ + s];
      slack += sched.shared_slack_gpus(static_cast<TenantId>(tn), static_cast<int32_t>(s));
    }
    used += slack;
    r_.shared_slack_gpu_seconds += slack * dt;
    const double reserved = static_cast<double>(reserved_gpus_[tn]);
    const double reserved_idle = static_cast<double>(sched.dedicated_free_gpus(static_cast<TenantId>(tn)));
    const double rate = tenant_revenue_rate_[tn] + reserved * price_reserved_[tn];
    ts.revenue_usd += rate * dt;
    ts.used_gpu_seconds += used * dt;
    ts.reserved_gpu_seconds += reserved * dt;
    ts.idle_reserved_gpu_seconds += reserved_idle * dt;
    if (used > 0 || reserved > 0 || rate > 0) {
      for (const auto& [b, x] : segments_) {
        TimeRow& tr = Row(b, S_ + tn);
        tr.gpus_busy += used * x;
        tr.gpus_reserved += reserved * x;
        tr.gpus_reserved_idle += reserved_idle * x;
        tr.revenue_usd += rate * x;
      }
    }
  }
  for (size_t k = 0; k < nsvc_; ++k) {
    const double replicas = static_cast<double>(held_replicas[k]);
    svc_replica_s_[k] += replicas * dt;
    svc_demand_tokens_[k] += svc_demand_[k] * dt;
    svc_attained_tokens_[k] += svc_demand_[k] * svc_attainment_[k] * dt;
    svc_s_[k] += dt;
    for (const auto& [b, x] : segments_) {
      TimeRow& tr = Row(b, S_ + tenants_ + k);
      tr.replicas += replicas * x;
      tr.demand_tokens += svc_demand_[k] * x;
      tr.attained_tokens += svc_demand_[k] * svc_attainment_[k] * x;
    }
  }
  return Status::Ok();
}

void FleetLedger::Finish(const std::vector<int32_t>& peak_replicas, const std::vector<double>& starved_s) {
  // Money per tenant: the GPU-hours it used or reserved, at the fleet's cost
  // per GPU-hour in service (depreciation and energy over GPU-hours online).
  double cost = 0, online = 0;
  for (const SiteStats& ss : r_.sites) {
    cost += ss.depreciation_usd + ss.energy_usd;
    online += ss.online_gpu_seconds;
    r_.window.online += ss.window.online;
    r_.window.busy += ss.window.busy;
    r_.window.down += ss.window.down;
  }
  const double per_gpu_second = online > 0 ? cost / online : 0;
  for (TenantStats& ts : r_.tenants) {
    const double reserved_busy = ts.reserved_gpu_seconds - ts.idle_reserved_gpu_seconds;
    ts.cost_usd =
        (ts.used_gpu_seconds - std::min(ts.used_gpu_seconds, reserved_busy) + ts.reserved_gpu_seconds) * per_gpu_second;
    ts.idle_reserved_cost_usd = ts.idle_reserved_gpu_seconds * per_gpu_second;
  }
  if (step_ > 0) {
    for (TimeRow& x : r_.timeseries) {
      // Averages over the part of the step_ the simulation covered_ (the first
      // and last steps may be partial).
      const size_t b = static_cast<size_t>(x.step - base_step_);
      const double len = b < covered_.size() && covered_[b] > 0 ? covered_[b] : static_cast<double>(step_);
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
  for (size_t k = 0; k < nsvc_; ++k) {
    const ServiceSpec& sp = options_.services[k].spec;
    ServiceStats& st = r_.services[k];
    st.name = sp.name;
    st.tenant = sp.tenant;
    st.gpus_per_replica = sp.gpus_per_replica;
    st.min_replicas = sp.min_replicas;
    st.max_replicas = sp.max_replicas;
    // From the ledger, as the time series: simulated time only.
    st.slo_attainment = svc_demand_tokens_[k] > 0 ? svc_attained_tokens_[k] / svc_demand_tokens_[k] : 1.0;
    st.demand_tokens = svc_demand_tokens_[k];
    st.replica_hours = svc_replica_s_[k] / 3600;
    st.gpu_hours = st.replica_hours * sp.gpus_per_replica;
    st.mean_replicas = svc_s_[k] > 0 ? svc_replica_s_[k] / svc_s_[k] : 0;
    st.peak_replicas = peak_replicas[k];
    st.starved_replica_hours = starved_s[k] / 3600;
  }
}

}  // namespace rackscale
