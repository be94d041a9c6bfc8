// The fleet simulator's ledger: everything integrated over simulated time
// (GPU-seconds by state, energy, money, fragmentation, services' tokens)
// into the result's site, tenant and service figures and its time series.
// The event loop (sim/fleet_sim) tells it what started and ended and which
// state held over each interval; the ledger reads the scheduler's state and
// never changes it. Deterministic: sums are taken in a fixed order (sites,
// then tenants in id order, then services).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "base/status.h"
#include "model/fleet.h"
#include "sched/fleet_scheduler.h"
#include "sim/fleet_sim.h"

namespace rackscale {

class FleetLedger {
 public:
  // `r` receives the figures (its tenants and sites tables already sized
  // and named); `jobs` bounds the refs; `offline[d]`: domain d out of service
  // at the start (spares still depreciate).
  FleetLedger(const Fleet& fleet, const FleetSimOptions& options, FleetSimResult* r, size_t jobs,
              const std::vector<TenantId>& dedicated_tenants, const std::vector<bool>& offline);

  // Tenant t's contract prices (the tenants file's, per GPU-hour).
  void SetPrices(TenantId t, const TenantSpec& spec);
  // The time series' rows run from the step of the result's first_submit
  // (or 0, if earlier); a span to `until` needing more than
  // kMaxTimeseriesRows is an error naming --step.
  Status CheckRows(Seconds until) const;
  // Integrates the state held over [t, nt) (nt > t): `speed` per site,
  // `replicas` held per service.
  Status Integrate(Seconds t, Seconds nt, const FleetScheduler& sched, const std::vector<double>& speed,
                   const std::vector<int32_t>& replicas);

  // A job's attempt started at `t` in `site` (a multi-site gang: `shares`,
  // the part of its GPUs at each site; else empty), or ended (returns the
  // GPU-seconds it held).
  void Started(uint32_t ref, const AiJob& j, int32_t site, bool own_dedicated,
               std::vector<std::pair<int32_t, double>> shares, Seconds t);
  double Ended(uint32_t ref, const AiJob& j, int32_t site, Seconds t);
  // A dedicated cluster of tenant `t` with `gpus` opened (+) or closed (-).
  void Reserved(TenantId t, int64_t gpus) { reserved_gpus_[t] += gpus; }
  // Domain d came into service or went out (its depreciation).
  void DomainService(int32_t d, bool online);
  // Service k's demand in the step that starts now and the share served
  // within its SLO.
  void ServiceScored(size_t k, double demand, double attainment) {
    svc_demand_[k] = demand;
    svc_attainment_[k] = attainment;
  }
  // GPUs busy now (after the pass): held over the next interval.
  void UpdateBusy(const FleetScheduler& sched);

  // Closes the books: per-tenant cost at the fleet's cost per GPU-hour,
  // window totals, time-series averages, services' figures.
  void Finish(const std::vector<int32_t>& peak_replicas, const std::vector<double>& starved_s);

 private:
  double DomainDepreciation(int32_t d) const;
  // A running attempt's revenue rate, held GPUs per site and tenant
  // liveness, added (+1) at its start or taken back (-1) at its end.
  void AddRates(uint32_t ref, const AiJob& j, int32_t site, int sign);
  TimeRow& Row(int64_t b, size_t k);
  Error TooManyRows(Seconds until) const;
  double RowsNeeded(Seconds until) const;

  const Fleet& fleet_;
  const FleetSimOptions& options_;
  FleetSimResult& r_;
  size_t S_, tenants_, nsvc_;
  std::vector<double> price_reserved_, price_on_demand_, price_spot_;  // $ per GPU-second, by tenant
  std::vector<double> dep_rate_;  // $ per second, by site
  // Revenue, $ per second, by site and by tenant; reserved GPUs by tenant
  // and GPUs held per (tenant, site).
  std::vector<double> site_revenue_rate_, tenant_revenue_rate_;
  std::vector<int64_t> reserved_gpus_;
  std::vector<double> held_;
  // Tenants with running attempts, and those with dedicated clusters: the
  // only ones whose figures change between events. Per-event work walks
  // them in id order (the sums keep their order), never all tenants.
  std::vector<int64_t> running_of_;
  std::set<TenantId> live_;
  std::vector<TenantId> dedicated_tenants_, dedicated_sorted_, touched_;
  std::vector<double> job_rate_;      // by ref: its revenue rate while running
  std::vector<Seconds> held_since_;   // by ref: start of its running attempt
  std::map<uint32_t, std::vector<std::pair<int32_t, double>>> multi_share_;
  int64_t busy_ = 0;
  // Services: the demand of the current step and the share of it served
  // within the SLO (scored at the step's start), and their integrals.
  std::vector<double> svc_demand_, svc_attainment_, svc_replica_s_, svc_demand_tokens_, svc_attained_tokens_, svc_s_;
  // Time series.
  Seconds step_ = 0;
  int64_t base_step_ = 0;
  size_t rows_per_step_ = 0;
  std::vector<double> covered_;  // seconds of each step simulated
  std::vector<std::pair<int64_t, double>> segments_;  // scratch: (step, seconds) of [t, nt)
  bool window_seen_ = false;
};

}  // namespace rackscale
