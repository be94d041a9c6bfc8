// A planning scenario (docs/scenario.md): the horizon, the workforce and its
// layoff waves, finance, power options per site, the hardware catalog
// (shared with the simulator's fleet files), contracts, on-demand demand,
// and how `rackscale run` simulates the fleet the plan builds.
//
// ParseScenario validates everything; errors name the file, the line and
// the key path (e.g. "contracts[0].deliveries[1].by"). ToPlanInput turns a
// scenario into the planner's monthly program.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/fleet.h"
#include "plan/planner.h"
#include "plan/uncertainty.h"

namespace rackscale {

struct WorkforceGroup {
  std::string name;
  int64_t headcount = 0;
  double usd_per_person_year = 0;  // fully loaded
};

struct LayoffWave {
  int32_t group = 0;
  int32_t month = 0;  // scenario month
  int64_t count = 0;
  double severance_usd_per_person = 0;
};

struct FinanceSpec {
  double starting_cash_usd = 0;
  double operating_cash_flow_usd_per_year = 0;  // baseline, with the workforce as it starts
  double operating_cash_flow_growth = 0;        // per year
  double other_capex_usd_per_year = 0;          // capex outside this plan
  double other_capex_growth = 0;                // per year
  double min_cash_usd = 0;
  double discount_rate = 0.08;
  double cash_breach_penalty = 1.0;             // per $ below the floor per month
  struct Limit {
    int32_t year = 0;
    double usd = 0;  // total capex in the calendar year (this plan's and other)
  };
  std::vector<Limit> capex_limits;
};

// A site's power options: the planner's own PlanSite (planner.h), read
// from [[sites]].
using PowerSite = PlanSite;

struct HardwareOption {
  std::string name;
  int32_t domain_type = 0;  // into Scenario::catalog.domain_types
  int32_t gpus_per_domain = 0;
  double kw_per_domain = 0;
  double usd_per_domain = 0;
  int32_t lead_months = 0;
  int32_t first_order_month = 0;
  double life_years = 5;
  double average_load = 0.8;
};

struct ContractSpec {
  std::string name, tenant;
  int32_t start_month = 0;  // may be before the horizon (negative)
  int32_t term_months = 0;
  double usd_per_gpu_hour = 0;  // given, or from total_usd
  double total_usd = 0;
  double penalty_usd_per_gpu_hour = 0;
  struct Delivery {
    int32_t month = 0;  // deadline
    int64_t gpus = 0;   // in service from the deadline on
  };
  std::vector<Delivery> deliveries;
  std::vector<int32_t> hardware;  // allowed; empty: any
  // GPUs contracted in month t (0 outside the term).
  int64_t ContractedAt(int32_t t) const;
};

struct OnDemandSpec {
  double gpus = 0;  // demand in the first month
  double growth_per_year = 0;
  double usd_per_gpu_hour = 0;
  double billed_share = 0.7;  // share of the hours of a served GPU that are billed
  std::vector<int32_t> hardware;
};

struct SimulateSpec {
  int32_t start_month = 0;
  int32_t months = 1;
  double scale = 0.01;       // share of the planned domains simulated
  uint64_t seed = 1;
  bool failures = true;
  std::string policy = "easy";     // the fleet queue policy: fifo, easy, fairshare, priority
  std::string power = "throttle";  // none, admit, throttle
  std::string checkpoint = "auto";
  double contract_load = 0.85;     // training load on the contract tenants' clusters
  double on_demand_tenants = 8;
  int32_t max_gang_gpus = 1'000'000;  // a cap on contract tenants' capacity-sized gangs (default: none)
  double inference_share = 0.3;    // of a contract tenant's GPUs at its daily peak
  int64_t max_jobs = 200000;
};

struct Scenario {
  std::string source;
  std::string name, description;
  int32_t start_year = 2025, start_month = 1;  // calendar month of scenario month 0
  int32_t months = 0;
  double time_limit_s = 10;
  double mip_gap = 0.002;
  int64_t node_limit = 0;  // branch-and-bound nodes per solve (0: none)
  // The program's time axis (PlanInput::monthly_months): by month for the
  // first monthly_months, by quarter for quarterly_months, then by year.
  int32_t monthly_months = INT32_MAX;
  int32_t quarterly_months = INT32_MAX;
  std::vector<WorkforceGroup> groups;
  std::vector<LayoffWave> layoffs;
  FinanceSpec finance;
  std::vector<PowerSite> sites;
  Fleet catalog;  // accelerators, node and domain types; no sites
  std::vector<HardwareOption> hardware;
  std::vector<ContractSpec> contracts;
  OnDemandSpec on_demand;
  SimulateSpec simulate;
  // [uncertainty]: the inputs `plan --monte-carlo` draws, in the table's
  // key order (byte-wise); empty when the scenario has none.
  std::vector<UncertainInput> uncertainty;

  std::string MonthName(int32_t t) const;  // "2026-03"
};

Result<Scenario> ParseScenario(std::string_view text, const std::string& source);
Result<Scenario> ReadScenario(const std::string& path);

// Sets one numeric value by its key path ("finance.discount_rate",
// "hardware.GB200-NVL72.usd_per_domain", "sites.us-east.lead_months",
// "contracts.openai.gpus" scales every delivery, "layoffs.count" scales every
// wave, "on_demand.growth_per_year", "hardware.*.lead_slip_months" adds
// months to every hardware lead time): the knobs --vary turns and the keys
// of [uncertainty].
Status SetScenarioValue(Scenario& s, const std::string& key, double value);
Result<double> GetScenarioValue(const Scenario& s, const std::string& key);

// Payroll by month (the groups' headcount after the waves so far).
std::vector<double> PayrollByMonth(const Scenario& s);
// Severance paid by month.
std::vector<double> SeveranceByMonth(const Scenario& s);
// Cash flow outside the plan by month: baseline operating cash flow (which
// already pays the starting payroll) + payroll saved by the waves so far -
// severance - other capex.
std::vector<double> OtherCashFlowByMonth(const Scenario& s);

struct PlanOptions {
  bool solve_for_payroll = false;
  double time_limit_s = 0;  // 0: the scenario's
};
PlanInput ToPlanInput(const Scenario& s, const PlanOptions& o);

}  // namespace rackscale
