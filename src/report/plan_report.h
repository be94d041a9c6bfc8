// Outputs of `rackscale plan` and `rackscale run` (docs/outputs.md, "Plans"):
// the monthly plan as CSV, its summary as JSON and as text a manager reads in
// a minute, the labor-to-compute table and the sensitivity table. Figures
// come from plan/plan_run.h, so every output agrees.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/plan_run.h"
#include "plan/scenario.h"
#include "plan/sensitivity.h"

namespace rackscale {

// "$1.2B", "$450M", "-$3k": money for people.
std::string FormatUsd(double usd);
// "1,234,567": a count for people.
std::string FormatCount(double v);

// A month of the scenario in JSON: "YYYY-MM", or null for -1 (never).
nlohmann::ordered_json MonthOrNull(const Scenario& s, int64_t t);

// plan.csv: one row per month (docs/outputs.md).
std::string FormatPlanCsv(const PlanRun& p);
// plan_sites.csv: month, site, phases started, MW in service and used.
std::string FormatPlanSitesCsv(const PlanRun& p);
// plan_orders.csv: month, site, hardware, domains ordered and in service (non-zero rows).
std::string FormatPlanOrdersCsv(const PlanRun& p);
// plan.json (schema rackscale.plan/2), as an object and as text.
nlohmann::ordered_json PlanSummaryJson(const PlanRun& p, bool timing);
std::string FormatPlanSummaryJson(const PlanRun& p, bool timing);
std::string FormatPlanHuman(const PlanRun& p);
// The program's time axis in words ("by quarter to 2033-09 (33 periods; ...)"),
// or "" when it is month by month (PlanInput::monthly_months).
std::string PlanTimeAxisText(const PlanRun& p);

std::string FormatLaborCsv(const std::vector<LaborRow>& rows);
// sensitivity.csv: one row per re-plan (docs/outputs.md).
std::string FormatSensitivityCsv(const Scenario& s, const std::vector<SensitivityRow>& rows);

}  // namespace rackscale
