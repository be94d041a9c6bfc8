// `rackscale plan SCENARIO` and `rackscale run SCENARIO --out DIR`
// (docs/scenario.md, docs/planner.md). The work is in plan/ and run/; this
// file parses the flags, calls them, writes and prints.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/plan_mc.h"
#include "cli/progress.h"
#include "plan/plan_run.h"
#include "plan/scenario.h"
#include "report/plan_report.h"
#include "run/main_job.h"

namespace rackscale {
namespace {

struct PlanArgs {
  std::string scenario;
  std::string out;
  std::string solve_for;
  double time_limit_s = 0;
  bool quiet = false;
  bool json = false;
  bool no_timing = false;
  // run only
  std::vector<std::string> vary;
  bool no_sim = false;
};

Result<PlanOptions> ToOptions(const PlanArgs& a) {
  PlanOptions o;
  // --solve-for and --time-limit were checked while parsing (cli/flags.h).
  o.solve_for_payroll = a.solve_for == "payroll";
  o.time_limit_s = a.time_limit_s;
  return o;
}

// Prints a JSON document on stdout; a failed write is an I/O error.
int PrintJson(const nlohmann::ordered_json& j) {
  const std::string text = j.dump(2) + "\n";
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return ReportError(Error::Io("stdout", "write failed"));
  }
  return kExitOk;
}

int RunPlan(const PlanArgs& a) {
  auto s = ReadScenario(a.scenario);
  if (!s) return ReportError(s.error());
  auto o = ToOptions(a);
  if (!o) return ReportError(o.error());
  if (o->solve_for_payroll && s->groups.empty()) {
    return ReportError(Error::InvalidInput(s->source, 0, "workforce", "--solve-for payroll needs [workforce] groups"));
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto p = SolveScenario(*s, *o);
  if (!p) return ReportError(p.error());
  p->wall_seconds = Since(t0);
  if (!a.out.empty()) {
    auto out = OutputDir::Open(a.out);
    if (!out) return ReportError(out.error());
    for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
             {"plan.csv", FormatPlanCsv(*p)},
             {"plan_sites.csv", FormatPlanSitesCsv(*p)},
             {"plan_orders.csv", FormatPlanOrdersCsv(*p)},
             {"labor.csv", FormatLaborCsv(LaborToCompute(*s))},
             {"plan.json", FormatPlanSummaryJson(*p, !a.no_timing)}}) {
      if (Status st = (*out)->Write(name, text); !st) return ReportError(st.error());
    }
    if (Status st = (*out)->Commit(); !st) return ReportError(st.error());
  }
  if (a.json) return PrintJson(PlanSummaryJson(*p, !a.no_timing));
  if (!a.quiet) {
    std::fputs(FormatPlanHuman(*p).c_str(), stdout);
    if (!a.no_timing) std::printf("  solved in    %.1f s\n", p->wall_seconds);
    if (!a.out.empty()) std::printf("  wrote        %s/{plan,plan_sites,plan_orders,labor}.csv, %s/plan.json\n", a.out.c_str(), a.out.c_str());
  }
  return kExitOk;
}

// With any Monte-Carlo flag, `plan` draws and re-plans (cmd_plan_mc.cc).
int RunPlanOrMonteCarlo(const PlanArgs& a, const McArgs& mc) {
  if (!mc.Given()) return RunPlan(a);
  auto o = ToOptions(a);
  if (!o) return ReportError(o.error());
  return RunPlanMonteCarlo(mc, McPlanArgs{a.scenario, a.out, *o, a.quiet, a.json, a.no_timing});
}

int RunRun(const PlanArgs& a) {
  auto s = ReadScenario(a.scenario);
  if (!s) return ReportError(s.error());
  auto po = ToOptions(a);
  if (!po) return ReportError(po.error());
  RunOptions o;
  o.plan = *po;
  o.vary = a.vary;
  o.simulate = !a.no_sim;
  o.timing = !a.no_timing;
  ProgressLine progress("rackscale run");
  if (progress.enabled()) o.progress = [&progress](double share, const std::string& what) { progress.Update(share, what); };
  auto r = RunMainJob(*s, o);
  progress.Clear();
  if (!r) return ReportError(r.error());
  if (Status st = WriteRunOutputs(*r, a.out, !a.no_timing); !st) return ReportError(st.error());
  if (a.json) return PrintJson(RunSummaryJson(*r, !a.no_timing));
  if (!a.quiet) {
    std::fputs(FormatRunHuman(*r, !a.no_timing).c_str(), stdout);
    std::printf("  wrote        %s/report.html, summary.json, plan*.csv, labor.csv%s%s\n", a.out.c_str(),
                r->sensitivity.empty() ? "" : ", sensitivity.csv", r->sim ? "; sim/ (the simulator's inputs and outputs)" : "");
    if (!a.no_timing) std::printf("  total        %.1f s\n", r->wall_seconds);
  }
  return kExitOk;
}

void AddCommon(CLI::App* sub, PlanArgs* args) {
  AddInFile(sub, "scenario", &args->scenario, "Scenario TOML (docs/scenario.md)")->required();
  AddChoice(sub, "--solve-for", &args->solve_for,
            "payroll: instead of the scenario's layoff waves, find the smallest cut (in the first wave's month "
            "and group) that keeps cash above the floor while meeting the contracts",
            {"payroll"});
  AddDuration(sub, "--time-limit", &args->time_limit_s,
              "Solver time limit per solve, root LP included (default: the scenario's time_limit_s)",
              DurationUnit::kSeconds, 0.001, 86400)
      ->default_str("the scenario's");
  sub->add_flag("--no-timing", args->no_timing, "Leave wall times out of the outputs (byte-identical reruns)");
  sub->add_flag("-q,--quiet", args->quiet, "Print no summary on stdout");
}

}  // namespace

void RegisterPlan(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* sub = app.add_subcommand(
      "plan",
      "Plan power, hardware orders and cash month by month for a scenario (a mixed-integer program "
      "solved with GLPK) and print the plan's summary.\n"
      "Example: rackscale plan scenarios/reallocation-2025.toml --out out/plan");
  AddCommon(sub, args.get());
  AddOutDir(sub, "--out", &args->out, "Write plan.csv, plan_sites.csv, plan_orders.csv, labor.csv and plan.json here");
  sub->add_flag("--json", args->json, "Print plan.json's document on stdout instead of the summary (docs/outputs.md)");
  auto mc = std::make_shared<McArgs>();
  AddMonteCarloFlags(sub, mc.get());
  sub->callback([args, mc, run] { *run = [args, mc] { return RunPlanOrMonteCarlo(*args, *mc); }; });
}

void RegisterRun(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<PlanArgs>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "The main job: plan a scenario, simulate the fleet the plan builds, and write report.html with "
      "the plan, the simulation and any sensitivity ranges.\n"
      "Example: rackscale run scenarios/reallocation-2025.toml --out out/run \\\n"
      "           --vary hardware.*.usd_per_domain_scale=0.8:1.2 --vary sites.*.lead_months=12:36");
  AddCommon(sub, args.get());
  AddOutDir(sub, "--out", &args->out, "Output directory (created if missing)")->required();
  sub->add_option("--vary", args->vary,
                  "KEY=LOW:HIGH[:STEPS]: re-plan with KEY from LOW to HIGH (repeatable); keys in docs/scenario.md");
  sub->add_flag("--no-sim", args->no_sim, "Plan and report only; skip the simulation");
  sub->add_flag("--json", args->json, "Print summary.json's document on stdout instead of the summary (docs/outputs.md)");
  sub->callback([args, run] { *run = [args] { return RunRun(*args); }; });
}

}  // namespace rackscale
