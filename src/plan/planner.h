// The capacity planner's core: a monthly mixed-integer program, solved with
// GLPK, that decides when to start which power phases at which site and when
// to order how many domains of which hardware type for which site, so that
// the GPUs in service meet the contracted GPUs by month at the least
// discounted cost under yearly capex limits.
//
// Month t runs from 0 to months - 1. For site s and hardware type h:
//   MW_s(t)  = initial_mw_s + mw_per_phase_s x (phases started at months
//              <= t - lead_s)
//   D_hs(t)  = domains of h ordered for s at months <= t - lead_h
//   power:     sum_h D_hs(t) x kw_h x pue_s / 1000 <= MW_s(t)
//   demand:    sum_hs D_hs(t) x gpus_h + shortfall(t) >= required(t)
//   capex:     sum over the months of year y of (phases x mw x $/MW +
//              domains x $/domain) <= capex_limit[y]
//   phases:    sum_t phases_s(t) <= max_phases_s; none before earliest_s
// minimising sum_t (capex(t) + shortfall(t) x shortfall_usd_per_gpu_month)
// discounted monthly at discount_rate (annual). Shortfall is a penalised
// variable, so an impossible plan still solves and says which month falls
// short by how many GPUs, and which constraints bind (lead time, power, cash).
//
// Pure: no files, no clock. Deterministic for the same input.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace rackscale {

struct PlanSite {
  std::string name;
  double initial_mw = 0;      // in service at month 0
  double mw_per_phase = 0;    // a power phase adds this much
  double usd_per_mw = 0;      // what a phase costs per MW, paid when started
  int32_t lead_months = 0;    // from start to power
  int32_t earliest_month = 0; // no phase starts before this month
  int32_t max_phases = 0;     // phases that can ever be started
  double pue = 1.0;
};

struct PlanHardware {
  std::string name;
  int32_t gpus_per_domain = 0;
  double kw_per_domain = 0;   // IT power of a domain at full load
  double usd_per_domain = 0;  // paid when ordered
  int32_t lead_months = 0;    // from order to service
};

struct PlanInput {
  int32_t months = 0;
  std::vector<PlanSite> sites;
  std::vector<PlanHardware> hardware;
  std::vector<int64_t> required_gpus;      // by month (missing months: the last value)
  double shortfall_usd_per_gpu_month = 0;  // penalty; make it exceed any GPU's cost
  std::vector<double> capex_limit_usd;     // by year of 12 months; missing: no limit
  double discount_rate = 0;                // annual
  double time_limit_s = 60;                // the solver's time budget
  double mip_gap = 1e-4;                   // stop when proved within this of the optimum
};

// Why a month falls short: the constraints that bind then.
struct PlanShortfall {
  int32_t month = 0;
  double gpus = 0;
  bool lead_time = false;  // nothing ordered or started now can be in service by then
  bool power = false;      // every site's power is used up that month
  bool cash = false;       // the capex limit of a year up to then is used up
};

struct PlanResult {
  bool optimal = false;       // proved within mip_gap (else the best found in the time limit)
  double objective_usd = 0;   // discounted cost including penalties
  double gap = 0;             // (objective - LP relaxation bound) / objective: at most this far from optimal
  double capex_usd = 0;       // undiscounted
  // [site][month]: phases started; [hardware][site][month]: domains ordered.
  std::vector<std::vector<int64_t>> phases_started;
  std::vector<std::vector<std::vector<int64_t>>> domains_ordered;
  std::vector<std::vector<double>> mw_in_service;  // [site][month]
  std::vector<int64_t> gpus_in_service;            // [month]
  std::vector<double> capex_by_month;
  std::vector<PlanShortfall> shortfalls;           // months with shortfall > 0, in order
  int64_t first_full_month = -1;                   // first month from which no shortfall, or -1
};

// Validates the input (errors name the field) and solves.
Result<PlanResult> SolvePlan(const PlanInput& in);

}  // namespace rackscale
