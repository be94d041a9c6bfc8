// A solved scenario and the arithmetic every output of it shares: the NPV
// of the reallocation (the plan's and the payroll's), its breakdown, revenue
// by source, cash with and without the plan, the figures a summary shows,
// and what a year of payroll buys (docs/planner.md, "Money").
//
// Every plan output (plan.csv, plan.json, the terminal summary, report.html,
// run's summary.json) takes its figures from here, so they cannot disagree.
// Pure: no files, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "plan/planner.h"
#include "plan/scenario.h"

namespace rackscale {

struct PlanRun {
  const Scenario* scenario = nullptr;  // not owned; outlives the run
  PlanInput input;
  PlanResult result;
  double wall_seconds = 0;  // set by the caller that timed the solve
  bool solve_for_payroll = false;
};

// Builds the program for `s` and solves it. `hint`: a plan whose power
// phases are tried at the root (a sensitivity re-plan of the base plan).
// Errors of the program name the scenario file.
Result<PlanRun> SolveScenario(const Scenario& s, const PlanOptions& o, const PlanResult* hint = nullptr);

// Discounted payroll saved by the layoffs (the waves, or the roles cut
// with --solve-for payroll) less severance, at the scenario's rate: month
// t's flow is discounted by (1 + rate)^(-t/12), month 0 undiscounted.
double PayrollNpv(const PlanRun& p);
// The NPV of the reallocation: the plan's NPV plus PayrollNpv.
inline double TotalNpv(const PlanRun& p) { return p.result.npv_usd + PayrollNpv(p); }

// The NPV taken apart, each term discounted as in the program; the terms
// add up to TotalNpv (contract_revenue + on_demand_revenue - capex - energy
// + book_value + payroll_saved - severance = total).
struct NpvBreakdown {
  double contract_revenue = 0, on_demand_revenue = 0;
  double capex = 0, energy = 0;   // positive: what is paid
  double book_value = 0;          // the hardware and power left at the horizon, discounted from it
  double payroll_saved = 0, severance = 0;
  double total = 0;
};
NpvBreakdown BreakDownNpv(const PlanRun& p);

// Revenue by month and source, undiscounted: each contract's served GPUs at
// its price, and on-demand GPUs served at the billed price.
struct RevenueBySource {
  std::vector<std::vector<double>> contract;  // [contract][month]
  std::vector<double> on_demand;              // [month]
};
RevenueBySource RevenueBySourceByMonth(const PlanRun& p);

// The company's cash by month without this plan's revenue, capex and energy
// (the baseline the plan changes); empty when the scenario has no cash.
std::vector<double> CashWithoutPlan(const PlanRun& p);

// The figures a summary of the plan shows, computed once.
struct PlanContractFigures {
  std::string name;
  int64_t peak_gpus = 0;
  double usd_per_gpu_hour = 0;
  double revenue_usd = 0;          // undiscounted
  int64_t short_months = 0;        // months with any shortfall
  double short_gpu_months = 0;
  int32_t first_short = -1, last_short = -1;
  const PlanShortfall* worst = nullptr;  // the month short by the most GPUs
};
struct PlanCapexYear {
  std::string label;
  double limit_usd = 0, plan_usd = 0;
};
struct PlanFigures {
  int64_t peak_gpus = 0;
  double mw_at_start = 0, mw_at_end = 0, peak_mw_needed = 0;
  int64_t phases_started = 0;
  std::vector<std::pair<std::string, int64_t>> domains_ordered;  // hardware, domains (those ordered)
  double on_demand_demand_gpu_months = 0, on_demand_served_gpu_months = 0;
  bool has_cash = false;
  double lowest_cash_usd = 0;
  int32_t lowest_cash_month = 0;
  double largest_breach_usd = 0;
  int64_t roles_cut = 0;               // the waves', or the solved cut
  double payroll_saved_per_year = 0;   // the waves' (the solved cut's with --solve-for payroll)
  double severance_usd = 0;
  std::vector<PlanContractFigures> contracts;
  std::vector<PlanCapexYear> capex_years;
};
PlanFigures SummarizePlan(const PlanRun& p);

// What N roles a year buy, per hardware type, at the scenario's prices: the
// domains with the power to run them (at the cheapest site's $/MW and PUE),
// their GPUs and facility MW, months of the first contract's peak GPUs, and
// those GPUs' revenue at the first contract's price for a year.
struct LaborRow {
  int64_t roles = 0;
  std::string label;     // "reference", "first wave 2025-10", "all waves"
  double usd_per_year = 0;
  std::string hardware;
  double domains = 0, gpus = 0, facility_mw = 0;
  double contract_months = 0;
  double revenue_usd_per_year = 0;
};
std::vector<LaborRow> LaborToCompute(const Scenario& s);

}  // namespace rackscale
