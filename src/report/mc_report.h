// Outputs of `rackscale plan --monte-carlo N --out DIR` and of
// `rackscale plan-merge` (docs/outputs.md, "Monte Carlo"): mc_draws.csv,
// mc_summary.json and mc_report.html, the same bytes for a full run and for
// its slices merged.
#pragma once

#include <string>

#include "base/status.h"
#include "plan/monte_carlo.h"
#include "report/html_report.h"

namespace rackscale {

// The report: headline percentiles, the NPV histogram with its P10, P50 and
// P90 rules, P(each contract met on time), the first month of full delivery
// by draw, and the inputs drawn.
HtmlReport McReport(const McRun& r);

// Writes mc_draws.csv, mc_summary.json and mc_report.html into `dir`
// (created if missing).
Status WriteMonteCarlo(const McRun& r, const std::string& dir);

}  // namespace rackscale
