// `rackscale plan SCENARIO` and `rackscale run SCENARIO --out DIR`
// (docs/scenario.md, docs/planner.md).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "plan/scenario.h"
#include "report/plan_report.h"
#include "workload/ai_trace.h"

namespace rackscale {
namespace {

struct PlanArgs {
  std::string scenario;
  std::string out;
  std::string solve_for;
  double time_limit_s = 0;
  bool quiet = false;
  bool no_timing = false;
  // run only
  std::vector<std::string> vary;
  bool no_sim = false;
};

Result<PlanRun> MakePlan(const Scenario& s, const PlanArgs& a, const PlanResult* hint = nullptr) {
  PlanRun p;
  p.scenario = &s;
  PlanOptions o;
  if (!a.solve_for.empty() && a.solve_for != "payroll") {
    return Error::InvalidInput("--solve-for", 0, "solve-for", fmt::format("expected payroll, got '{}'", a.solve_for));
  }
  o.solve_for_payroll = a.solve_for == "payroll";
  if (o.solve_for_payroll && s.groups.empty()) {
    return Error::InvalidInput(s.source, 0, "workforce", "--solve-for payroll needs [workforce] groups");
  }
  if (a.time_limit_s < 0) return Error::InvalidInput("--time-limit", 0, "time-limit", "expected seconds > 0");
  o.time_limit_s = a.time_limit_s;
  p.solve_for_payroll = o.solve_for_payroll;
  p.input = ToPlanInput(s, o);
  if (hint != nullptr && hint->phases_started.size() == s.sites.size()) p.input.hint_phases = hint->phases_started;
  const auto t0 = std::chrono::steady_clock::now();
  auto r = SolvePlan(p.input);
  if (!r) {
    Error e = r.error();
    if (e.source == "plan") e.source = s.source;
    return e;
  }
  p.result = std::move(*r);
  p.wall_seconds = Since(t0);
  return p;
}

Status WritePlanFiles(const PlanRun& p, const std::string& out, bool timing) {
  if (Status s = MakeDirs(out); !s) return s;
  if (Status s = WriteFile(out + "/plan.csv", FormatPlanCsv(p)); !s) return s;
  if (Status s = WriteFile(out + "/plan_sites.csv", FormatPlanSitesCsv(p)); !s) return s;
  if (Status s = WriteFile(out + "/plan_orders.csv", FormatPlanOrdersCsv(p)); !s) return s;
  if (Status s = WriteFile(out + "/labor.csv", FormatLaborCsv(LaborToCompute(*p.scenario))); !s) return s;
  return WriteFile(out + "/plan.json", FormatPlanSummaryJson(p, timing));
}

int RunPlan(const PlanArgs& a) {
  auto s = ReadScenario(a.scenario);
  if (!s) return ReportError(s.error());
  auto p = MakePlan(*s, a);
  if (!p) return ReportError(p.error());
  if (!a.out.empty()) {
    if (Status st = WritePlanFiles(*p, a.out, !a.no_timing); !st) return ReportError(st.error());
  }
  if (!a.quiet) {
    std::fputs(FormatPlanHuman(*p).c_str(), stdout);
    if (!a.no_timing) std::printf("  solved in   %.1f s\n", p->wall_seconds);
    if (!a.out.empty()) std::printf("  wrote        %s/{plan,plan_sites,plan_orders,labor}.csv, %s/plan.json\n", a.out.c_str(), a.out.c_str());
  }
  return kExitOk;
}

// KEY=LOW:HIGH[:STEPS]
struct Vary {
  std::string key;
  double low = 0, high = 0;
  int steps = 2;
};

Result<Vary> ParseVary(const std::string& text) {
  auto bad = [&](std::string m) { return Error::InvalidInput("--vary", 0, text, std::move(m)); };
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return bad("expected KEY=LOW:HIGH[:STEPS]");
  Vary v;
  v.key = text.substr(0, eq);
  std::vector<std::string> parts;
  std::stringstream ss(text.substr(eq + 1));
  for (std::string x; std::getline(ss, x, ':');) parts.push_back(x);
  if (parts.size() < 2 || parts.size() > 3) return bad("expected KEY=LOW:HIGH[:STEPS]");
  auto low = ParseDouble(parts[0]);
  auto high = ParseDouble(parts[1]);
  if (!low || !high) return bad("LOW and HIGH must be numbers");
  v.low = *low;
  v.high = *high;
  if (parts.size() == 3) {
    auto st = ParseDouble(parts[2]);
    if (!st || *st < 2 || *st > 50 || std::floor(*st) != *st) return bad("STEPS must be an integer from 2 to 50");
    v.steps = static_cast<int>(*st);
  }
  return v;
}

int RunRun(const PlanArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto s = ReadScenario(a.scenario);
  if (!s) return ReportError(s.error());
  std::vector<Vary> varies;
  for (const std::string& v : a.vary) {
    auto parsed = ParseVary(v);
    if (!parsed) return ReportError(parsed.error());
    auto base = GetScenarioValue(*s, parsed->key);
    if (!base) return ReportError(base.error());
    varies.push_back(*parsed);
  }
  if (Status st = MakeDirs(a.out); !st) return ReportError(st.error());
  ProgressLine progress("planning");
  if (progress.enabled()) progress.Update(0, "solving the plan");
  auto p = MakePlan(*s, a);
  if (!p) {
    progress.Clear();
    return ReportError(p.error());
  }
  if (Status st = WritePlanFiles(*p, a.out, !a.no_timing); !st) return ReportError(st.error());
  progress.Clear();
  if (!a.quiet) {
    std::fputs(FormatPlanHuman(*p).c_str(), stdout);
    if (!a.no_timing) std::printf("  solved in    %.1f s\n", p->wall_seconds);
  }

  // Sensitivity: re-plan across each range.
  std::vector<SensitivityRow> sens;
  if (!varies.empty()) {
    std::string csv = "key,value,npv_usd,first_full_month,first_full_date,capex_usd,short_gpu_months\n";
    int done = 0, total = 0;
    for (const Vary& v : varies) total += v.steps;
    for (const Vary& v : varies) {
      SensitivityRow row;
      row.key = v.key;
      row.base = *GetScenarioValue(*s, v.key);
      row.npv_base = TotalNpv(*p);
      row.full_base = p->result.first_full_month;
      row.low = v.low;
      row.high = v.high;
      for (int i = 0; i < v.steps; ++i) {
        const double x = v.low + (v.high - v.low) * i / (v.steps - 1);
        Scenario copy = *s;
        if (Status st = SetScenarioValue(copy, v.key, x); !st) return ReportError(st.error());
        if (progress.enabled()) progress.Update(static_cast<double>(done) / total, fmt::format("{} = {}", v.key, x));
        auto q = MakePlan(copy, a, &p->result);
        if (!q) {
          progress.Clear();
          return ReportError(q.error());
        }
        double short_gm = 0;
        for (const PlanShortfall& f : q->result.shortfalls) short_gm += f.gpus;
        csv += fmt::format("{},{},{:.0f},{},{},{:.0f},{:.0f}\n", v.key, x, TotalNpv(*q), q->result.first_full_month,
                           q->result.first_full_month >= 0 ? s->MonthName(static_cast<int32_t>(q->result.first_full_month)) : "",
                           q->result.capex_usd, short_gm);
        if (i == 0) {
          row.npv_low = TotalNpv(*q);
          row.full_low = q->result.first_full_month;
        }
        if (i == v.steps - 1) {
          row.npv_high = TotalNpv(*q);
          row.full_high = q->result.first_full_month;
        }
        ++done;
      }
      sens.push_back(row);
    }
    progress.Clear();
    if (Status st = WriteFile(a.out + "/sensitivity.csv", csv); !st) return ReportError(st.error());
    if (!a.quiet) {
      std::printf("  sensitivity  (NPV and first month of full delivery at LOW / HIGH; base %s)\n",
                  p->result.first_full_month >= 0 ? s->MonthName(static_cast<int32_t>(p->result.first_full_month)).c_str() : "never");
      for (const SensitivityRow& r : sens) {
        auto m = [&](int64_t t) { return t >= 0 ? s->MonthName(static_cast<int32_t>(t)) : std::string("never"); };
        auto money = [](double usd) {
          const double a = std::fabs(usd);
          return a >= 1e9 ? fmt::format("{:+.1f}B", usd / 1e9) : fmt::format("{:+.1f}M", usd / 1e6);
        };
        std::printf("    %-40s %8g: NPV %8s, full %-7s | %8g: NPV %8s, full %s\n", r.key.c_str(), r.low,
                    money(r.npv_low - r.npv_base).c_str(), m(r.full_low).c_str(), r.high,
                    money(r.npv_high - r.npv_base).c_str(), m(r.full_high).c_str());
      }
    }
  }

  // Simulate the fleet the plan builds, through the same path as `rackscale sim`.
  const std::string sim_dir = a.out + "/sim";
  if (!a.no_sim) {
    auto in = BuildSimInputs(*p);
    if (!in) return ReportError(in.error());
    if (Status st = MakeDirs(sim_dir); !st) return ReportError(st.error());
    if (Status st = WriteFile(sim_dir + "/fleet.toml", in->fleet_toml); !st) return ReportError(st.error());
    if (Status st = WriteFile(sim_dir + "/tenants.toml", in->tenants_toml); !st) return ReportError(st.error());
    if (Status st = WriteFile(sim_dir + "/workload.csv", FormatAiCsv(in->workload)); !st) return ReportError(st.error());
    SimArgs sa;
    sa.cluster = sim_dir + "/fleet.toml";
    sa.tenants = sim_dir + "/tenants.toml";
    sa.trace = sim_dir + "/workload.csv";
    sa.format = "csv";
    sa.out = sim_dir;
    sa.policy = s->simulate.policy;
    sa.quiet = true;
    sa.no_timing = a.no_timing;
    sa.power = s->simulate.power;
    sa.failures = s->simulate.failures;
    sa.seed = s->simulate.seed;
    sa.checkpoint = s->simulate.checkpoint;
    sa.checkpoint_cost_min = 2;   // Llama 3 scale (docs/reliability.md)
    sa.restart_cost_min = 10;
    sa.horizon_days = in->days;
    if (!a.quiet) std::printf("  simulating   %s\n", in->note.c_str());
    std::fflush(stdout);
    if (int rc = RunSim(sa); rc != kExitOk) return rc;
    if (!a.quiet) {
      auto text = ReadFileMaybeGz(sim_dir + "/summary.json");
      auto j = text ? nlohmann::json::parse(*text, nullptr, false) : nlohmann::json(nlohmann::json::value_t::discarded);
      if (!j.is_discarded()) {
        auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : 0.0; };
        std::printf("  simulated    GPU utilization %.1f%%, %lld of %lld jobs done, mean wait %.0f s, revenue %.1f M$\n",
                    100 * num("gpu_utilization"), static_cast<long long>(num("done")), static_cast<long long>(num("jobs")),
                    num("mean_wait"), num("revenue_usd") / 1e6);
        std::printf("               %.0f node failures, %.0f interruptions, ETTR %.3f, inference SLO attainment %.1f%%\n",
                    num("node_failures"), num("interruptions"), num("ettr"), 100 * num("inference_slo_attainment"));
      }
    }
  }

  HtmlReport report = BuildRunReport(*p, a.no_sim ? "" : sim_dir, sens);
  if (Status st = WriteFile(a.out + "/report.html", RenderHtmlReport(report)); !st) return ReportError(st.error());
  std::string summary = FormatPlanSummaryJson(*p, !a.no_timing);
  if (Status st = WriteFile(a.out + "/summary.json", summary); !st) return ReportError(st.error());
  if (!a.quiet) {
    std::printf("  wrote        %s/report.html, summary.json, plan*.csv, labor.csv%s%s\n", a.out.c_str(),
                varies.empty() ? "" : ", sensitivity.csv", a.no_sim ? "" : "; sim/ (the simulator's inputs and outputs)");
    if (!a.no_timing) std::printf("  total        %.1f s\n", Since(t0));
  }
  return kExitOk;
}

void AddCommon(CLI::App* sub, PlanArgs* args) {
  sub->add_option("scenario", args->scenario, "Scenario TOML (docs/scenario.md)")->required();
  sub->add_option("--solve-for", args->solve_for,
                  "payroll: instead of the scenario's layoff waves, find the smallest cut (in the first "
                  "wave's month and group) that keeps cash above the floor while meeting the contracts");
  sub->add_option("--time-limit", args->time_limit_s, "Solver time limit per solve in seconds (default: the scenario's time_limit_s)");
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
  sub->add_option("--out", args->out, "Write plan.csv, plan_sites.csv, plan_orders.csv, labor.csv and plan.json here");
  sub->callback([args, run] { *run = [args] { return RunPlan(*args); }; });
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
  sub->add_option("--out", args->out, "Output directory (created if missing)")->required();
  sub->add_option("--vary", args->vary,
                  "KEY=LOW:HIGH[:STEPS]: re-plan with KEY from LOW to HIGH (repeatable); keys in docs/scenario.md");
  sub->add_flag("--no-sim", args->no_sim, "Plan and report only; skip the simulation");
  sub->callback([args, run] { *run = [args] { return RunRun(*args); }; });
}

}  // namespace rackscale
