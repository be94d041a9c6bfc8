// `rackscale run`, the main job, as a library call: plan a scenario,
// re-plan across sensitivity ranges, simulate the fleet the plan builds, and
// build the report, all in memory. The CLI only parses flags, calls
// RunMainJob, writes the outputs with WriteRunOutputs and prints.
//
// One chain of values: the plan produces the simulator's inputs as data
// (run/sim_inputs.h), the simulator returns its result as data, and every
// output (report.html, summary.json, the CSVs, the terminal summary) is built
// from those values. Files are written as outputs only, never read back.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "model/fleet.h"
#include "plan/plan_run.h"
#include "plan/sensitivity.h"
#include "report/fleet_report.h"
#include "run/sim_inputs.h"
#include "sim/fleet_sim.h"

namespace rackscale {

struct RunOptions {
  PlanOptions plan;
  std::vector<std::string> vary;  // KEY=LOW:HIGH[:STEPS]
  bool simulate = true;
  bool timing = true;             // wall times in the outputs
  // Called with a share done in [0, 1] and what is being done (a progress line).
  std::function<void(double, const std::string&)> progress;
};

// The simulated window of a run, as values.
struct SimRun {
  SimInputs inputs;
  Fleet fleet;                          // BuildFleet(inputs.fleet)
  FleetSimOptions options;
  FleetSimResult result;
  FleetSummary summary;                 // SummarizeFleet(inputs.workload, result)
  std::vector<DailyRow> daily;          // DailyMeans over the window: sim/daily.csv and the report's charts
  std::vector<std::string> daily_dates; // their calendar dates (day 0: the first of the first simulated month)
  FleetRunInfo info;
  double wall_seconds = 0;
};

struct RunResult {
  const Scenario* scenario = nullptr;   // not owned
  PlanRun plan;
  std::vector<SensitivityRow> sensitivity;
  std::optional<SimRun> sim;
  double wall_seconds = 0;
};

// Checks every option against the scenario before any work (the --vary
// ranges in full), then plans, re-plans and simulates. Errors name the flag
// or the scenario's file, line and key.
Result<RunResult> RunMainJob(const Scenario& s, const RunOptions& o);

// The simulator's options for a scenario's [simulate] and a window of
// `days` from day 0 (the window that the report and utilization measure).
Result<FleetSimOptions> SimOptionsFor(const Scenario& s, double days);

// "2026-10-31": the calendar date `day` days after the first of scenario
// month `month`.
std::string CalendarDay(const Scenario& s, int32_t month, int64_t day);

// The `rackscale sim` command that, run in DIR/sim, repeats the run's
// simulation byte for byte from the files it wrote.
std::string SimRerunCommand(const Scenario& s, double days);

// summary.json of a run (schema rackscale.run/1, docs/outputs.md): the plan
// (plan.json's keys), the sensitivity, and the simulation's summary.
nlohmann::ordered_json RunSummaryJson(const RunResult& r, bool timing);

// Writes DIR/{plan.csv, plan_sites.csv, plan_orders.csv, labor.csv,
// plan.json, sensitivity.csv (with ranges), summary.json, report.html} and
// DIR/sim/ (the simulator's inputs fleet.toml, tenants.toml, workload.csv and
// its outputs). `out` is created if missing.
Status WriteRunOutputs(const RunResult& r, const std::string& out, bool timing);

// The terminal summary: the plan's, the sensitivity, the simulation's.
std::string FormatRunHuman(const RunResult& r, bool timing);

}  // namespace rackscale
