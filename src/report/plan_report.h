// Outputs of `rackscale plan` and `rackscale run` (docs/outputs.md, "Plans"):
// the monthly plan as CSV, its summary as JSON and as text a manager reads in
// a minute, the labor-to-compute table, the simulator's inputs for the
// fleet the plan builds, and the HTML report.
#pragma once

#include <string>
#include <vector>

#include "plan/planner.h"
#include "plan/scenario.h"
#include "report/html_report.h"
#include "workload/ai_trace.h"

namespace rackscale {

// "$1.2B", "$450M", "-$3k": money for people.
std::string FormatUsd(double usd);
// "1,234,567": a count for people.
std::string FormatCount(double v);

struct PlanRun {
  const Scenario* scenario = nullptr;
  PlanInput input;
  PlanResult result;
  double wall_seconds = 0;
  bool solve_for_payroll = false;
};

// Discounted payroll saved by the layoffs (the waves, or the roles cut
// with --solve-for payroll) less severance, at the scenario's rate.
double PayrollNpv(const PlanRun& p);
// The NPV of the reallocation: the plan's NPV plus PayrollNpv.
inline double TotalNpv(const PlanRun& p) { return p.result.npv_usd + PayrollNpv(p); }

// plan.csv: one row per month (docs/outputs.md).
std::string FormatPlanCsv(const PlanRun& p);
// plan_sites.csv: month, site, phases started, MW in service and used.
std::string FormatPlanSitesCsv(const PlanRun& p);
// plan_orders.csv: month, site, hardware, domains ordered and in service (non-zero rows).
std::string FormatPlanOrdersCsv(const PlanRun& p);
std::string FormatPlanSummaryJson(const PlanRun& p, bool timing);
std::string FormatPlanHuman(const PlanRun& p);

// What N roles a year buy, per hardware type, at the scenario's prices.
struct LaborRow {
  int64_t roles = 0;
  std::string label;     // "first wave", "all waves", "1,000 roles"
  double usd_per_year = 0;
  std::string hardware;
  double domains = 0, gpus = 0, facility_mw = 0;
  double contract_months = 0;   // months of the first contract's full GPUs, for a year
  double revenue_usd_per_year = 0;  // those GPUs at the first contract's price
};
std::vector<LaborRow> LaborToCompute(const Scenario& s);
std::string FormatLaborCsv(const std::vector<LaborRow>& rows);

// The simulator's inputs for the months the scenario simulates: the fleet
// the plan has in service then (scaled by simulate.scale), its tenants (the
// contracts' tenants on dedicated clusters as their deliveries ramp, with
// inference services; on-demand tenants), and a generated workload.
struct SimInputs {
  std::string fleet_toml, tenants_toml;
  AiWorkload workload;
  double days = 0;
  int64_t gpus = 0;
  std::string note;  // what was scaled, for the summary
};
Result<SimInputs> BuildSimInputs(const PlanRun& p);

// The report: plan charts, and the simulation's when sim_dir holds its outputs.
struct SensitivityRow {
  std::string key;
  double low = 0, high = 0, base = 0;
  double npv_low = 0, npv_high = 0, npv_base = 0;
  int64_t full_low = -1, full_high = -1, full_base = -1;  // first month of full delivery
};
HtmlReport BuildRunReport(const PlanRun& p, const std::string& sim_dir,
                          const std::vector<SensitivityRow>& sensitivity);

}  // namespace rackscale
