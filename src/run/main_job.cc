#include "run/main_job.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "base/file.h"
#include "base/text.h"
#include "report/html_report.h"
#include "report/plan_report.h"
#include "report/verify.h"
#include "report/writers.h"
#include "run/run_report.h"
#include "sim/services.h"

namespace rackscale {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Checkpoint minutes at Llama 3 scale (docs/reliability.md).
constexpr double kCheckpointCostMin = 2, kRestartCostMin = 10;

}  // namespace

Result<FleetSimOptions> SimOptionsFor(const Scenario& s, double days) {
  const SimulateSpec& spec = s.simulate;
  auto bad = [&](const char* key, std::string msg) {
    return Error::InvalidInput(s.source, 0, fmt::format("simulate.{}", key), std::move(msg));
  };
  FleetSimOptions o;
  auto policy = ParseFleetQueuePolicy(spec.policy, s.source);
  if (!policy) return bad("policy", policy.error().message);
  o.policy = *policy;
  auto power = ParsePowerPolicy(spec.power, s.source);
  if (!power) return bad("power", power.error().message);
  o.power = *power;
  o.failures = spec.failures;
  o.seed = spec.seed;
  o.checkpoint_cost = kCheckpointCostMin * 60;
  o.restart_cost = kRestartCostMin * 60;
  if (spec.checkpoint == "none") {
    o.checkpoint_interval = 0;
  } else if (spec.checkpoint == "auto") {
    o.checkpoint_interval = kAutoCheckpoint;
  } else {
    auto m = ParseDouble(spec.checkpoint);
    if (!m || !(*m > 0 && *m < 1e6)) return bad("checkpoint", "expected none, auto or minutes > 0");
    o.checkpoint_interval = *m * 60;
  }
  const Seconds window = static_cast<Seconds>(std::llround(days * 86400));
  o.horizon = window;
  o.window_start = 0;
  o.window_end = window;
  return o;
}

std::string CalendarDay(const Scenario& s, int32_t month, int64_t day) {
  using namespace std::chrono;
  const int32_t m0 = s.start_month - 1 + month;
  const int y = s.start_year + m0 / 12;
  const unsigned mo = static_cast<unsigned>(m0 % 12 + 1);
  const year_month_day d{sys_days{year{y} / std::chrono::month{mo} / 1} + days{day}};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()), static_cast<unsigned>(d.month()),
                     static_cast<unsigned>(d.day()));
}

std::string SimRerunCommand(const Scenario& s, double days) {
  const SimulateSpec& spec = s.simulate;
  std::string cmd = fmt::format(
      "rackscale sim --cluster fleet.toml --tenants tenants.toml --trace workload.csv --out rerun --policy {} --power {}{} "
      "--seed {} --checkpoint {} --checkpoint-cost {:g} --restart-cost {:g} --horizon {} --window {}",
      spec.policy, spec.power, spec.failures ? " --failures" : "", spec.seed, spec.checkpoint, kCheckpointCostMin,
      kRestartCostMin, TomlNumber(days), TomlNumber(days));
  return cmd;
}

Result<RunResult> RunMainJob(const Scenario& s, const RunOptions& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto progress = [&](double share, const std::string& what) {
    if (o.progress) o.progress(share, what);
  };
  // Everything the flags say is checked before any work.
  std::vector<VaryRange> ranges;
  for (const std::string& text : o.vary) {
    auto v = ParseVaryRange(text, s);
    if (!v) return v.error();
    ranges.push_back(*v);
  }
  if (o.plan.solve_for_payroll && s.groups.empty()) {
    return Error::InvalidInput(s.source, 0, "workforce", "--solve-for payroll needs [workforce] groups");
  }
  if (o.simulate) {
    if (auto so = SimOptionsFor(s, 1); !so) return so.error();
  }

  RunResult r;
  r.scenario = &s;
  int total = 1 + (o.simulate ? 1 : 0);
  for (const VaryRange& v : ranges) total += v.steps;
  progress(0, "solving the plan");
  const auto t_plan = std::chrono::steady_clock::now();
  auto plan = SolveScenario(s, o.plan);
  if (!plan) return plan.error();
  r.plan = std::move(*plan);
  r.plan.wall_seconds = SecondsSince(t_plan);

  if (!ranges.empty()) {
    auto rows = RunSensitivity(r.plan, o.plan, ranges, [&](int done, int, const std::string& what) {
      progress(static_cast<double>(1 + done) / total, what);
    });
    if (!rows) return rows.error();
    r.sensitivity = std::move(*rows);
  }

  if (o.simulate) {
    progress(static_cast<double>(total - 1) / total, "simulating");
    const auto t_sim = std::chrono::steady_clock::now();
    auto in = BuildSimInputs(r.plan);
    if (!in) return in.error();
    SimRun sim;
    sim.inputs = std::move(*in);
    auto fleet = BuildFleet(sim.inputs.fleet, s.source);
    if (!fleet) return fleet.error();
    sim.fleet = std::move(*fleet);
    auto so = SimOptionsFor(s, sim.inputs.days);
    if (!so) return so.error();
    sim.options = std::move(*so);
    sim.options.tenants = sim.inputs.tenants;
    auto services = LoadServices(sim.options.tenants, s.source);
    if (!services) return services.error();
    sim.options.services = std::move(*services);
    auto result = SimulateFleet(sim.fleet, &sim.inputs.workload, sim.options);
    if (!result) return result.error();
    sim.result = std::move(*result);
    sim.summary = SummarizeFleet(sim.inputs.workload, sim.result);
    sim.daily = DailyMeans(sim.result, sim.options.window_end);
    for (const DailyRow& d : sim.daily) sim.daily_dates.push_back(CalendarDay(s, s.simulate.start_month, d.day));
    sim.wall_seconds = SecondsSince(t_sim);
    FleetRunInfo& info = sim.info;
    info.trace = "sim/workload.csv";
    info.cluster = "sim/fleet.toml";
    info.tenants_file = "sim/tenants.toml";
    info.policy = FleetQueuePolicyName(sim.options.policy);
    info.placement = "topo";
    info.power_policy = s.simulate.power;
    info.failures = s.simulate.failures;
    info.sim_seconds = sim.wall_seconds;
    info.wall_seconds = sim.wall_seconds;
    info.timing = o.timing;
    r.sim = std::move(sim);
  }
  r.wall_seconds = SecondsSince(t0);
  return r;
}

nlohmann::ordered_json RunSummaryJson(const RunResult& r, bool timing) {
  const Scenario& s = *r.scenario;
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.run/1";
  j["scenario"] = s.name;
  j["scenario_file"] = s.source;
  j["plan"] = PlanSummaryJson(r.plan, timing);
  nlohmann::ordered_json sens = nlohmann::ordered_json::array();
  for (const SensitivityRow& row : r.sensitivity) {
    nlohmann::ordered_json x;
    x["key"] = row.key;
    x["label"] = row.label;
    x["base"] = row.base;
    x["npv_base_usd"] = row.npv_base;
    x["first_full_base"] = MonthOrNull(s, row.full_base);
    nlohmann::ordered_json pts = nlohmann::ordered_json::array();
    for (const SensitivityPoint& pt : row.points) {
      pts.push_back({{"value", pt.value},
                     {"npv_usd", pt.npv_usd},
                     {"first_full_month", MonthOrNull(s, pt.first_full_month)},
                     {"capex_usd", pt.capex_usd},
                     {"short_gpu_months", pt.short_gpu_months}});
    }
    x["points"] = pts;
    sens.push_back(x);
  }
  j["sensitivity"] = sens;
  if (r.sim) {
    const SimRun& sim = *r.sim;
    nlohmann::ordered_json x;
    x["first_month"] = s.MonthName(s.simulate.start_month);
    x["last_month"] = s.MonthName(s.simulate.start_month + s.simulate.months - 1);
    x["scale"] = s.simulate.scale;
    x["window_days"] = sim.inputs.days;
    x["gpus"] = sim.inputs.gpus;
    x["contracted_gpus"] = sim.inputs.contracted_gpus;
    x["rerun"] = SimRerunCommand(s, sim.inputs.days);
    x["summary"] = FleetSummaryJson(sim.inputs.workload, sim.result, sim.info);
    j["simulation"] = x;
  } else {
    j["simulation"] = nullptr;
  }
  if (timing) j["wall_seconds"] = r.wall_seconds;
  return j;
}

Status WriteRunOutputs(const RunResult& r, const std::string& out, bool timing) {
  const Scenario& s = *r.scenario;
  const PlanRun& p = r.plan;
  auto staged = OutputDir::Open(out);
  if (!staged) return staged.error();
  OutputDir& od = **staged;
  auto write = [&](const std::string& name, std::string_view text) { return od.Write(name, text); };
  if (Status st = write("plan.csv", FormatPlanCsv(p)); !st) return st;
  if (Status st = write("plan_sites.csv", FormatPlanSitesCsv(p)); !st) return st;
  if (Status st = write("plan_orders.csv", FormatPlanOrdersCsv(p)); !st) return st;
  if (Status st = write("labor.csv", FormatLaborCsv(LaborToCompute(s))); !st) return st;
  if (Status st = write("plan.json", FormatPlanSummaryJson(p, timing)); !st) return st;
  if (!r.sensitivity.empty()) {
    if (Status st = write("sensitivity.csv", FormatSensitivityCsv(s, r.sensitivity)); !st) return st;
  }
  if (r.sim) {
    const SimRun& sim = *r.sim;
    const std::string dir = od.staging() + "/sim";
    auto put = [&](const std::string& name, std::string_view text) { return od.Write("sim/" + name, text); };
    if (Status st = put("fleet.toml", FormatFleetToml(sim.inputs.fleet)); !st) return st;
    if (Status st = put("tenants.toml", FormatTenantsToml(sim.inputs.tenants, "Tenants of the simulated months (written by rackscale run).")); !st) return st;
    if (Status st = put("workload.csv", FormatAiCsv(sim.inputs.workload)); !st) return st;
    if (Status st = put("jobs.csv", FormatFleetJobsCsv(sim.inputs.workload, sim.result)); !st) return st;
    if (Status st = put("tenants.csv", FormatTenantsCsv(sim.result)); !st) return st;
    if (Status st = put("sites.csv", FormatSitesCsv(sim.result)); !st) return st;
    if (Status st = put("timeseries.csv", FormatTimeseriesCsv(sim.result)); !st) return st;
    if (Status st = put("daily.csv", FormatDailyCsv(sim.daily, sim.daily_dates)); !st) return st;
    if (!sim.options.services.empty()) {
      if (Status st = put("services.csv", FormatServicesCsv(sim.result)); !st) return st;
    }
    if (Status st = put("summary.json", FormatFleetSummaryJson(sim.inputs.workload, sim.result, sim.info)); !st) return st;
    // The simulation's outputs must agree with each other before a report
    // is built on them (rackscale verify).
    const VerifyResult v = VerifyOutputs(dir);
    if (!v.problems.empty()) {
      std::string what;
      for (size_t i = 0; i < v.problems.size() && i < 5; ++i) {
        // Named as they will be after the commit, not by the staging path.
        std::string p = v.problems[i];
        for (size_t at; (at = p.find(od.staging())) != std::string::npos;) p.replace(at, od.staging().size(), out);
        what += "\n  " + p;
      }
      return Error{ErrorKind::kInternal, out + "/sim", 0, "", fmt::format("{} of {} checks of the simulation's outputs failed:{}",
                                                                  v.problems.size(), v.checks, what)};
    }
  }
  if (Status st = write("report.html", RenderHtmlReport(BuildRunReport(r))); !st) return st;
  if (Status st = write("summary.json", RunSummaryJson(r, timing).dump(2) + "\n"); !st) return st;
  return od.Commit();
}

std::string FormatRunHuman(const RunResult& r, bool timing) {
  const Scenario& s = *r.scenario;
  std::string o = FormatPlanHuman(r.plan);
  if (timing) o += fmt::format("  solved in    {:.1f} s\n", r.plan.wall_seconds);
  if (!r.sensitivity.empty()) {
    const int64_t base = r.plan.result.first_full_month;
    auto m = [&](int64_t t) { return t >= 0 ? s.MonthName(static_cast<int32_t>(t)) : std::string("never"); };
    o += fmt::format("  sensitivity  (NPV and first month of full delivery at LOW / HIGH; base {})\n", m(base));
    for (const SensitivityRow& row : r.sensitivity) {
      auto money = [](double usd) {
        const double a = std::fabs(usd);
        return a >= 1e9 ? fmt::format("{:+.1f}B", usd / 1e9) : fmt::format("{:+.1f}M", usd / 1e6);
      };
      o += fmt::format("    {:<36} {:>6g}: NPV {:>7}, full {:<7} | {:>6g}: NPV {:>7}, full {}\n", row.label, row.low().value,
                       money(row.low().npv_usd - row.npv_base), m(row.low().first_full_month), row.high().value,
                       money(row.high().npv_usd - row.npv_base), m(row.high().first_full_month));
    }
  }
  if (r.sim) {
    const SimRun& sim = *r.sim;
    const FleetSummary& f = sim.summary;
    o += fmt::format("  simulated    {}\n", sim.inputs.note);
    o += fmt::format("               GPU utilization {:.1f}% (of the GPU time in service, {} .. {}), {} of {} jobs done, mean wait {}\n",
                     100 * f.gpu_utilization, s.MonthName(s.simulate.start_month),
                     s.MonthName(s.simulate.start_month + s.simulate.months - 1), FormatCount(static_cast<double>(f.done)),
                     FormatCount(static_cast<double>(f.jobs)), HumanDuration(f.mean_wait_s));
    o += fmt::format("               {} node failures, {} interruptions, ETTR {:.3f}, inference SLO attainment {:.1f}%, revenue {}\n",
                     FormatCount(static_cast<double>(f.node_failures)), FormatCount(static_cast<double>(f.interruptions)),
                     f.ettr, 100 * f.inference_slo_attainment, FormatUsd(f.revenue_usd));
  }
  return o;
}

}  // namespace rackscale
