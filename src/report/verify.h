// `rackscale verify DIR`: checks that the outputs of a fleet simulation (the
// DIR of `rackscale sim --cluster FLEET.toml`) or of a run (the DIR of
// `rackscale run`, whose simulation is in DIR/sim) agree with each other, by
// reading only the files (docs/outputs.md, "Checking outputs"). The
// invariants, each checked on every row it concerns:
//
//   timeseries.csv, per step and site:   busy + idle + failed = online, busy <= online
//   per step:   Σ sites' busy = Σ tenants' busy;  a service's GPUs = replicas x its
//               replica size <= its tenant's busy;  reserved idle <= reserved
//   GPU-hours:  Σ steps of the sites' busy x covered seconds
//                 = Σ jobs.csv held_gpu_hours + Σ services.csv gpu_hours + shared_slack_gpu_hours
//                 = summary.json busy_gpu_hours (over its window)
//   energy:     Σ steps of the sites' MW x covered seconds = Σ sites.csv energy_mwh = summary energy_mwh
//   money:      Σ tenant rows' revenue = Σ tenants.csv revenue_usd = summary revenue_usd;
//               Σ site rows' cost = Σ sites.csv cost_usd = summary cost_usd
//   jobs.csv:   first_start >= submit, start >= first_start, end >= start for done jobs;
//               counts by status = summary's
//   run dirs:   sim/daily.csv is the daily mean of the time series; summary.json's
//               simulation.summary = sim/summary.json; every traced figure of
//               report.html equals its file (report_check.h)
//
// Tolerances are the files' own rounding (half a unit of the last digit
// written, summed over the rows added) plus 1e-6 relative.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rackscale {

struct VerifyResult {
  int64_t checks = 0;                 // invariants evaluated (row by row)
  std::vector<std::string> problems;  // each names the file, the row and the numbers
  std::vector<std::string> files;     // the files read
};

// DIR of `sim` (a fleet simulation) or of `run`. A directory that holds
// neither is a problem, not a pass.
VerifyResult VerifyOutputs(const std::string& dir);

}  // namespace rackscale
