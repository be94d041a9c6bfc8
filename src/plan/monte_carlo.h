// `rackscale plan --monte-carlo N --seed S` (docs/planner.md, "Monte Carlo"):
// draws the scenario's [uncertainty] inputs N times, re-plans each draw, and
// sums up P(each contract met on time) and the P10/P50/P90 of the NPV and of
// the first month of full delivery.
//
// Draw i depends only on (scenario, options, seed, i) (plan/uncertainty.h:
// DrawRng), so any slice [begin, end) of the draws gives the same draws as
// the full run, on any number of worker processes; MergeMonteCarlo joins
// slices into the result of one full run, and the files written from it
// (mc_draws.csv, mc_summary.json, mc_report.html) are byte-equal to the full
// run's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "plan/scenario.h"

namespace rackscale {

inline constexpr int64_t kMaxMonteCarloDraws = 100000;

struct McOptions {
  int64_t draws = 0;          // N, in [1, kMaxMonteCarloDraws]
  uint64_t seed = 1;
  int64_t begin = 0, end = -1;  // the slice [begin, end) of 0 .. N-1; end -1: N
  int jobs = 1;               // worker processes (1: in this process)
  PlanOptions plan;
  // Called in this process after each draw comes back (done, total).
  std::function<void(int64_t, int64_t)> progress;
};

// One uncertain input as the summary describes it.
struct McInput {
  std::string key, label, dist;
  double base = 0;  // the scenario's value (GetScenarioValue)
};

// What identifies a run: slices merge only when all of it is equal.
struct McIdentity {
  std::string scenario;         // the scenario's name
  std::string digest;           // "fnv1a64:..." of the scenario file's bytes
  std::string start;            // the scenario's first month, "YYYY-MM"
  int32_t months = 0;           // its horizon
  uint64_t seed = 1;
  int64_t draws = 0;            // N
  std::string solve_for;        // "" or "payroll"
  double time_limit_s = 0;      // the per-draw solver limit (0: the scenario's)
  int64_t node_limit = 0;       // the scenario's node limit per solve
  std::vector<McInput> inputs;
  std::vector<std::string> contracts;
};

struct McDraw {
  int64_t index = 0;
  std::vector<double> values;  // per input, as drawn (before any rounding SetScenarioValue does)
  bool ok = true;
  std::string error;           // when the re-plan failed
  double npv_usd = 0;          // TotalNpv: the plan's and the payroll's
  int64_t first_full_month = -1;
  std::vector<int> met;        // per contract: 1 if never short in any month
  double short_gpu_months = 0;
  double capex_usd = 0;
  std::string stopped_by;      // the solver: gap, node limit, time limit
  double gap = 0;
};

struct McRun {
  McIdentity id;
  int64_t begin = 0, end = 0;  // the draws held: [begin, end)
  std::vector<McDraw> draws;   // by index
};

// FNV-1a 64 of the bytes, as "fnv1a64:%016x".
std::string ScenarioDigest(std::string_view bytes);

// Draws input values and re-plans draw `index` (no files, no clock).
McDraw SolveDraw(const Scenario& s, const PlanOptions& o, uint64_t seed, int64_t index);

// The identity of a run of `s` (whose file's bytes have digest `digest`).
McIdentity MonteCarloIdentity(const Scenario& s, const std::string& digest, const McOptions& o);

// Runs the slice [o.begin, o.end) of o.draws draws on o.jobs processes
// (fork()ed workers, each re-planning the next undone draw; results come
// back through pipes as mc_draws.csv rows). Errors: a scenario without
// [uncertainty], options out of range, a worker that died.
Result<McRun> RunMonteCarlo(const Scenario& s, const std::string& digest, const McOptions& o);

// Nearest-rank percentile of sorted values: the value of rank ceil(p/100 x n)
// (1-based; rank 1 for p = 0). p in [0, 100], n >= 1.
double NearestRank(const std::vector<double>& sorted, int p);

// mc_draws.csv: a header, then one row per draw, in draw order.
std::string FormatMcDrawsCsv(const McRun& r);
// One row of it (no newline), and back.
std::string FormatMcDrawRow(const McIdentity& id, const McDraw& d);
Result<McDraw> ParseMcDrawRow(const McIdentity& id, std::string_view line, const std::string& source, int64_t line_no);
// mc_summary.json (schema rackscale.mc_summary/1).
nlohmann::ordered_json McSummaryJson(const McRun& r);
std::string FormatMcSummaryJson(const McRun& r);
// The summary for people (the terminal).
std::string FormatMcHuman(const McRun& r);

// Reads a run's mc_summary.json and mc_draws.csv from DIR
// (report/mc_report.h writes them).
Result<McRun> ReadMonteCarloDir(const std::string& dir);
// Joins slices: the same identity, and together every draw 0 .. N-1 exactly
// once. The result is the full run's.
Result<McRun> MergeMonteCarlo(const std::vector<McRun>& slices, const std::vector<std::string>& dirs);

}  // namespace rackscale
