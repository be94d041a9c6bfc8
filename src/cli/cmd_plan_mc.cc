// `rackscale plan SCENARIO --monte-carlo N [--seed S] [--draws START:END]
// [--jobs J] [--out DIR]` and `rackscale plan-merge --out DIR SLICE...`
// (docs/planner.md, "Monte Carlo"). The work is in plan/monte_carlo.h and
// report/mc_report.h; this file parses the flags, calls them, writes and
// prints.
#include <sched.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "base/text.h"
#include "cli/flags.h"
#include "cli/plan_mc.h"
#include "cli/progress.h"
#include "plan/monte_carlo.h"
#include "report/mc_report.h"

namespace rackscale {
namespace {

int64_t Cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max<int64_t>(1, sysconf(_SC_NPROCESSORS_ONLN));
}

Error Bad(const std::string& flag, std::string message) { return Error::InvalidInput(flag, 0, "", std::move(message)); }

int PrintRun(const McRun& r, const std::string& out, bool quiet, bool json, bool no_timing, double seconds) {
  if (json) return PrintJsonDocument(FormatMcSummaryJson(r));
  if (quiet) return kExitOk;
  std::fputs(FormatMcHuman(r).c_str(), stdout);
  if (!no_timing && seconds >= 0) std::printf("  took         %.1f s\n", seconds);
  if (!out.empty()) std::printf("  wrote        %s/mc_draws.csv, mc_summary.json, mc_report.html\n", out.c_str());
  return kExitOk;
}

}  // namespace

bool McArgs::Given() const {
  for (const CLI::Option* o : {draws_opt, seed_opt, slice_opt, jobs_opt, node_limit_opt}) {
    if (o != nullptr && o->count() > 0) return true;
  }
  return false;
}

void AddMonteCarloFlags(CLI::App* sub, McArgs* a) {
  a->draws_opt = AddInt(sub, "--monte-carlo", &a->draws,
                        "N: draw the scenario's [uncertainty] inputs N times and re-plan each draw; prints P(each "
                        "contract met on time) and the P10/P50/P90 of NPV and of full delivery",
                        1, kMaxMonteCarloDraws);
  a->seed_opt = AddSeed(sub, "--seed", &a->seed, "With --monte-carlo: the seed; draw i depends only on (seed, i)");
  a->slice_opt = sub->add_option("--draws", a->slice,
                                 "With --monte-carlo: START:END, plan only draws START..END-1 of the N (a Slurm array task's "
                                 "slice; join slices with `rackscale plan-merge`)");
  a->jobs_opt = AddInt(sub, "--jobs", &a->jobs, "With --monte-carlo: worker processes (default: the cores this process may use)",
                       1, 1024);
  a->node_limit_opt = AddInt(sub, "--draw-node-limit", &a->node_limit,
                             "With --monte-carlo: branch-and-bound nodes per draw's solve, instead of the scenario's "
                             "node_limit (fewer: faster draws, wider gaps; --time-limit still caps each solve)",
                             1, int64_t{1} << 40);
}

int RunPlanMonteCarlo(const McArgs& mc, const McPlanArgs& a) {
  if (mc.draws_opt->count() == 0) {
    for (const CLI::Option* o : {mc.seed_opt, mc.slice_opt, mc.jobs_opt, mc.node_limit_opt}) {
      if (o->count() > 0) return ReportError(Bad(o->get_name(), "applies only with --monte-carlo N"));
    }
  }
  if (mc.draws < 1 || mc.draws > kMaxMonteCarloDraws) {
    return ReportError(Bad("--monte-carlo", fmt::format("expected N in [1, {}], got {}", kMaxMonteCarloDraws, mc.draws)));
  }
  McOptions o;
  o.draws = mc.draws;
  o.seed = mc.seed;
  o.plan = a.plan;
  if (mc.slice_opt->count() > 0) {
    const auto colon = mc.slice.find(':');
    std::optional<int64_t> b, e;
    if (colon != std::string::npos) {
      b = ParseInt(std::string_view(mc.slice).substr(0, colon));
      e = ParseInt(std::string_view(mc.slice).substr(colon + 1));
    }
    if (!b || !e) return ReportError(Bad("--draws", fmt::format("expected START:END (integers), got '{}'", mc.slice)));
    if (!(*b >= 0 && *b < *e && *e <= mc.draws)) {
      return ReportError(Bad("--draws", fmt::format("expected 0 <= START < END <= N = {}, got {}:{}", mc.draws, *b, *e)));
    }
    o.begin = *b;
    o.end = *e;
  }
  if (mc.jobs_opt->count() > 0 && !(mc.jobs >= 1 && mc.jobs <= 1024)) {
    return ReportError(Bad("--jobs", fmt::format("expected 1 to 1024 worker processes, got {}", mc.jobs)));
  }
  o.jobs = static_cast<int>(mc.jobs_opt->count() > 0 ? mc.jobs : Cores());
  if (mc.node_limit_opt->count() > 0 && !(mc.node_limit >= 1 && mc.node_limit <= (int64_t{1} << 40))) {
    return ReportError(Bad("--draw-node-limit", fmt::format("expected nodes >= 1, got {}", mc.node_limit)));
  }
  auto bytes = ReadFileMaybeGz(a.scenario);
  if (!bytes) return ReportError(bytes.error());
  auto s = ParseScenario(*bytes, a.scenario);
  if (!s) return ReportError(s.error());
  if (o.plan.solve_for_payroll && s->groups.empty()) {
    return ReportError(Error::InvalidInput(s->source, 0, "workforce", "--solve-for payroll needs [workforce] groups"));
  }
  if (mc.node_limit_opt->count() > 0) s->node_limit = mc.node_limit;
  if (s->uncertainty.empty()) {
    return ReportError(Error::InvalidInput(s->source, 0, "uncertainty",
                                           "--monte-carlo needs an [uncertainty] table in the scenario: the inputs to draw and their "
                                           "distributions (docs/scenario.md, \"[uncertainty]\")"));
  }
  ProgressLine progress("rackscale plan --monte-carlo");
  if (progress.enabled()) {
    o.progress = [&progress](int64_t done, int64_t total) {
      progress.Update(static_cast<double>(done) / static_cast<double>(total), fmt::format("{} of {} draws", done, total));
    };
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto r = RunMonteCarlo(*s, ScenarioDigest(*bytes), o);
  progress.Clear();
  if (!r) return ReportError(r.error());
  const double seconds = Since(t0);
  if (!a.out.empty()) {
    if (Status st = WriteMonteCarlo(*r, a.out); !st) return ReportError(st.error());
  }
  return PrintRun(*r, a.out, a.quiet, a.json, a.no_timing, seconds);
}

void RegisterPlanMerge(CLI::App& app, CommandFn* run) {
  struct Args {
    std::vector<std::string> dirs;
    std::string out;
    bool quiet = false, json = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* sub = app.add_subcommand(
      "plan-merge",
      "Join the slices of a Monte-Carlo run (`rackscale plan --monte-carlo N --draws START:END --out DIR`, one per Slurm array "
      "task) into the files one full run writes, byte for byte: they must come from the same scenario, seed, N and options and "
      "hold every draw 0..N-1 exactly once.\n"
      "Example: rackscale plan-merge --out out/mc out/slice-0 out/slice-1 out/slice-2");
  sub->add_option("dirs", args->dirs, "Slice folders (each with mc_summary.json and mc_draws.csv)")->required();
  AddOutDir(sub, "--out", &args->out, "Write the merged mc_draws.csv, mc_summary.json and mc_report.html here")->required();
  sub->add_flag("--json", args->json, "Print mc_summary.json's document on stdout instead of the summary");
  sub->add_flag("-q,--quiet", args->quiet, "Print no summary on stdout");
  sub->callback([args, run] {
    *run = [args] {
      std::vector<McRun> slices;
      for (const std::string& d : args->dirs) {
        auto r = ReadMonteCarloDir(d);
        if (!r) return ReportError(r.error());
        slices.push_back(std::move(*r));
      }
      auto m = MergeMonteCarlo(slices, args->dirs);
      if (!m) return ReportError(m.error());
      if (Status st = WriteMonteCarlo(*m, args->out); !st) return ReportError(st.error());
      return PrintRun(*m, args->out, args->quiet, args->json, true, -1);
    };
  });
}

}  // namespace rackscale
