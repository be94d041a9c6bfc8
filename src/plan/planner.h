// The capacity planner's core: a monthly mixed-integer program, solved with
// GLPK, that decides when to start which power phases at which site and when
// to order how many domains of which hardware type for which site, to serve
// contracts by their deadlines and on-demand demand, maximising the net
// present value under capex limits and a cash floor.
//
// Month t runs from 0 to months - 1. For site s, hardware type h, contract c:
//   MW_s(t)  = initial_mw_s + mw_per_phase_s x (phases started at months
//              <= t - lead_s)
//   D_hs(t)  = domains of h ordered for s at months in
//              (t - lead_h - life_h, t - lead_h]   (all earlier ones if no life)
//   power:     sum_h D_hs(t) x kw_h x pue_s / 1000 <= MW_s(t)
//   serve:     sum_c a_ch(t) + od_h(t) <= sum_s D_hs(t) x gpus_h
//              (a_ch only for the hardware contract c allows)
//   contract:  sum_h a_ch(t) + short_c(t) = contracted_c(t)
//   on-demand: sum_h od_h(t) <= demand(t)
//   capex:     capex over each limit's months <= its limit
//   cash:      C(t) = C(t-1) + flow(t) + revenue(t) - capex(t) - energy(t)
//              (+ roles cut x saving after the cut month - severance at it)
//              C(t) + breach(t) >= min_cash
// maximising the discounted revenue - capex - energy + the book value left
// at the horizon, minus penalties for shortfall and for any cash breach.
// Shortfall is a penalised variable, so an impossible plan still solves and
// says which month falls short by how many GPUs and which constraints bind
// (lead time, power, cash).
//
// With payroll.free, the number of roles cut is a variable: the plan first
// minimises the shortfall (and any cash breach), then the roles cut that
// achieve it, then maximises the NPV with that cut.
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
  double usd_per_mwh = 0;     // energy price (facility draw)
  double life_years = 0;      // book life of a phase (0: no book value left at the horizon)
};

struct PlanHardware {
  std::string name;
  int32_t gpus_per_domain = 0;
  double kw_per_domain = 0;    // IT power of a domain at full load
  double usd_per_domain = 0;   // paid when ordered
  int32_t lead_months = 0;     // from order to service
  int32_t life_months = 0;     // in service this long, then retired (0: to the horizon)
  int32_t first_order_month = 0;  // not orderable before
  double average_load = 1.0;   // share of kw_per_domain drawn on average (energy cost)
};

// GPUs promised to one customer: contracted[t] by month (the deadlines
// already applied: a step is in force from its deadline on), billed at
// usd_per_gpu_month for each contracted GPU delivered.
struct PlanContract {
  std::string name;
  std::vector<int64_t> contracted_gpus;  // by month; missing months: 0
  std::vector<int32_t> hardware;         // indices it may run on; empty: any
  double usd_per_gpu_month = 0;
  double penalty_usd_per_gpu_month = 0;  // per GPU-month short, on top of the lost revenue
};

// Demand that buys GPUs by the hour when they exist.
struct PlanOnDemand {
  std::vector<double> gpus;       // demand by month; empty: none
  std::vector<int32_t> hardware;  // indices it may run on; empty: any
  double usd_per_gpu_month = 0;   // revenue per GPU of demand served
};

struct PlanCapexLimit {
  std::string label;  // e.g. "2026"
  int32_t first_month = 0, last_month = 0;  // inclusive
  double usd = 0;     // the plan's capex in these months stays within
};

struct PlanCash {
  bool enabled = false;
  double starting_usd = 0;
  double min_usd = 0;
  std::vector<double> other_flow_usd;  // by month: everything outside the plan (missing: 0)
  double breach_penalty = 1.0;         // per $ below the floor per month
};

// The headcount lever of --solve-for payroll.
struct PlanPayroll {
  bool free = false;
  int32_t month = 0;                   // the cut happens this month
  int64_t max_roles = 0;
  double saving_usd_per_role_month = 0;
  double severance_usd_per_role = 0;
};

struct PlanInput {
  int32_t months = 0;
  std::vector<PlanSite> sites;
  std::vector<PlanHardware> hardware;
  std::vector<PlanContract> contracts;
  PlanOnDemand on_demand;
  // A contract without revenue, for simple uses: the GPUs required by month
  // (missing months: the last value), each GPU-month short costing
  // shortfall_usd_per_gpu_month.
  std::vector<int64_t> required_gpus;
  double shortfall_usd_per_gpu_month = 0;
  std::vector<double> capex_limit_usd;     // by year of 12 months; missing: no limit
  std::vector<PlanCapexLimit> capex_limits;
  double discount_rate = 0;                // annual
  PlanCash cash;
  PlanPayroll payroll;
  // Domains ordered are whole numbers. With integer_orders false (the
  // default) the program treats them as continuous, which at the scale of
  // thousands of racks changes the optimum by less than a domain per type,
  // site and month, and the plan rounds them (keeping every constraint:
  // SolvePlan, CheckPlan); only power phases and the roles cut are integer
  // in the search.
  bool integer_orders = false;
  double time_limit_s = 60;                // the solver's time budget (each stage)
  int64_t node_limit = 0;                  // branch-and-bound nodes per stage (0: none)
  // Optional [site][month] phases of another plan (the base plan of a
  // sensitivity run): tried at the root as a starting plan, so a re-plan is
  // never worse than the base plan's phases would be under its inputs.
  std::vector<std::vector<int64_t>> hint_phases;
  double mip_gap = 1e-4;                   // stop when proved within this of the optimum
  // The program's time resolution: month by month for the first
  // monthly_months, then by quarter for quarterly_months, then by year
  // (the defaults: month by month throughout). In a quarter or a year,
  // domains and power phases come into service only on its first month
  // (they are ordered lead time before it), GPUs serve the same contracts
  // and on-demand demand in each of its months (a contract's step starts a
  // period of its own), and a domain retiring within it is counted in
  // service for power until its end; the cash balance, the floor and the
  // capex limits stay monthly. Every such plan is a monthly plan, checked
  // month by month (CheckPlan); the search proves it near the optimum of
  // this coarser program, not of the monthly one.
  int32_t monthly_months = INT32_MAX;
  int32_t quarterly_months = INT32_MAX;
};

// The first month of each period of the program's time axis (the last entry
// is `in.months`): every month until monthly_months, then quarters, then
// years, split wherever a contract's GPUs change.
std::vector<int32_t> PlanPeriods(const PlanInput& in);

// Why a contract falls short in a month: the constraints that bind then.
struct PlanShortfall {
  int32_t contract = 0;
  int32_t month = 0;
  double gpus = 0;
  bool lead_time = false;  // nothing ordered or started now can be in service by then
  bool power = false;      // every usable site's power is used up that month
  bool cash = false;       // a capex limit up to then, or the cash floor, is used up
};

struct PlanResult {
  bool optimal = false;       // proved within mip_gap (else the best found in the limits)
  std::string stopped_by;     // "gap" (proved), "node limit", "time limit" or "solver"
  int64_t nodes = 0;          // branch-and-bound nodes of the last stage
  double objective_usd = 0;   // the minimised discounted cost - revenue, penalties included
  double gap = 0;             // relative gap to the search's best bound: at most this far from optimal
  double npv_usd = 0;         // discounted revenue - capex - energy + book value at the horizon
  double residual_usd = 0;    // undiscounted book value left at the horizon
  double capex_usd = 0, revenue_usd = 0, energy_usd = 0;  // undiscounted totals
  int64_t roles_cut = 0;      // with payroll.free: the smallest cut found
  // [site][month]: phases started; [hardware][site][month]: domains ordered
  // and in service.
  std::vector<std::vector<int64_t>> phases_started;
  std::vector<std::vector<std::vector<int64_t>>> domains_ordered;
  std::vector<std::vector<std::vector<int64_t>>> domains_in_service;
  std::vector<std::vector<double>> mw_in_service;  // [site][month]
  std::vector<std::vector<double>> mw_used;        // [site][month]: facility MW of domains in service
  std::vector<int64_t> gpus_in_service;            // [month]
  std::vector<std::vector<double>> contract_served;  // [contract][month]
  std::vector<double> on_demand_served;              // [month]
  std::vector<double> capex_by_month, revenue_by_month, energy_by_month, depreciation_by_month;
  std::vector<double> cash_by_month, cash_breach_by_month;  // with cash enabled
  // With cash enabled: how far below the floor the search's own plan went,
  // by month, before its orders were rounded to whole domains (a breach the
  // program chose at cash.breach_penalty per $ and month rather than fall
  // further short, or one that no plan avoids); where no rounding of its
  // orders kept within that, the breach of the program solved again with
  // whole domains and the search's phases. The written plan is below the
  // floor only in these months and by no more than this (+$1): rounding
  // never takes cash below the floor (CheckPlan).
  std::vector<double> search_cash_breach_by_month;
  std::vector<PlanShortfall> shortfalls;           // by contract, then month
  int64_t first_full_month = -1;                   // first month from which every contract gets >= 99.9% of its GPUs, or -1
  int64_t columns = 0, rows = 0, integer_columns = 0;
  int64_t nonzeros = 0;        // of the program's matrix (last stage)
  double root_gap = 0;         // gap of the plan to the root LP relaxation (last stage)
  double root_lp_seconds = 0;  // wall time of the root LP relaxation (last stage; not deterministic)
  int64_t root_lp_iterations = 0;  // simplex iterations of the root LP relaxation (last stage)
};

// Validates the input (errors name the field) and solves. The plan returned
// has passed CheckPlan: where rounding the orders to whole domains would
// break a constraint, orders are dropped (and the contracts fall short,
// reported) until none is broken, or, failing that, the program is solved
// again with whole domains and the search's phases fixed; a plan that still
// breaks one is an error (kInternal, field "plan check: INVARIANT"), never a
// result.
Result<PlanResult> SolvePlan(const PlanInput& in);

// The plan's independent check: recomputes, from the input and the plan's
// decisions alone (phases_started, domains_ordered, roles_cut, and who the
// GPUs serve: contract_served, on_demand_served), every constraint in every
// month, and that every figure the result reports equals the recomputation:
//   phases      phases only in months they may start (from the site's
//               earliest, arriving within the horizon), at most max_phases
//   orders      orders >= 0, only from first_order_month, arriving within
//               the horizon
//   mw_in_service  initial_mw + mw_per_phase x phases started lead_s or more
//               months before
//   domains_in_service  orders of months (t - lead_h - life_h, t - lead_h]
//   power       sum_h D x kw_h x pue_s / 1000 (= mw_used) <= MW in service
//               + 1e-6, each site, each month
//   gpus_in_service, served  contract and on-demand GPUs served >= 0, at
//               most what was contracted / demanded, and within the GPUs in
//               service of the types each may use (every subset of them, up
//               to 11 contracts)
//   shortfalls  one per contract month short by more than half a GPU, of
//               round(contracted - served) GPUs, and no other
//   capex       capex_by_month = phases x MW x $/MW + orders x $/domain;
//               each limit's months within it (x (1 + 1e-9) + 1e-6)
//   energy, revenue, depreciation, totals, residual, npv  as documented in
//               docs/planner.md ("Money"), to 1e-9 of their scale
//   cash        the balance month by month (with roles_cut), and
//               cash >= floor - search_cash_breach_by_month - $1 (1e-9 of
//               the flows' scale if larger): below the floor only where the
//               search's own plan was, and no further.
// Errors are kInternal; the field names the invariant ("plan check: power",
// "plan check: cash", ...) and the message the site, hardware, contract or
// month and the numbers. `checks`, if given, is increased by the number of
// comparisons made (when all pass).
Status CheckPlan(const PlanInput& in, const PlanResult& r, int64_t* checks = nullptr);

}  // namespace rackscale
