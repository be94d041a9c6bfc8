// rackscale sim: trace-driven simulation of a flat pool under a queue policy.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "model/cluster.h"
#include "report/metrics.h"
#include "report/writers.h"
#include "sim/flat_sim.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

struct SimArgs {
  std::string cluster;
  std::string policy = "easy";
  std::string trace;
  std::string format = "auto";
  std::string out;
  bool skip_bad_lines = false;
  bool no_timing = false;
  bool quiet = false;
};

double Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int RunSim(const SimArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto cluster = ParseClusterSpec(a.cluster, "--cluster");
  if (!cluster) return ReportError(cluster.error());
  auto policy = ParseQueuePolicy(a.policy, "--policy");
  if (!policy) return ReportError(policy.error());
  auto format = ParseTraceFormat(a.format, "--format");
  if (!format) return ReportError(format.error());

  ReadOptions ro;
  ro.format = *format;
  ro.skip_bad_lines = a.skip_bad_lines;
  auto workload = ReadTrace(a.trace, ro);
  if (!workload) return ReportError(workload.error());
  if (workload->bad_lines > 0) {
    for (const Error& e : workload->bad_line_errors) {
      std::fprintf(stderr, "rackscale: skipped: %s\n", e.ToString().c_str());
    }
    if (workload->bad_lines > static_cast<int64_t>(workload->bad_line_errors.size())) {
      std::fprintf(stderr, "rackscale: skipped %lld more bad lines\n",
                   static_cast<long long>(workload->bad_lines -
                                          static_cast<int64_t>(workload->bad_line_errors.size())));
    }
  }
  if (Status s = MakeDirs(a.out); !s) return ReportError(s.error());

  FlatSimOptions so;
  so.slots = cluster->slots;
  so.policy = *policy;
  ProgressLine progress("simulating");
  if (progress.enabled()) {
    so.progress = [&progress](const SimProgress& p) {
      double span = static_cast<double>(p.last - p.first);
      double frac = span > 0 ? static_cast<double>(p.now - p.first) / span : 1.0;
      frac = std::clamp(frac, 0.0, 1.0);
      progress.Update(frac, fmt::format("{} of {} jobs finished", p.finished, p.total));
    };
  }
  const auto t_sim = std::chrono::steady_clock::now();
  auto simulated = SimulateFlat(*workload, so);
  const double sim_seconds = Since(t_sim);
  progress.Clear();
  if (!simulated) {
    Error e = simulated.error();
    e.source = a.trace;
    return ReportError(e);
  }
  const FlatSimResult& result = *simulated;

  FlatSummary summary = Summarize(*workload, result, cluster->slots);
  RunInfo info;
  info.trace = a.trace;
  info.format = TraceFormatName(workload->format);
  info.cluster = a.cluster;
  info.policy = QueuePolicyName(*policy);
  info.sim_seconds = sim_seconds;
  info.timing = !a.no_timing;

  if (Status s = WriteFile(a.out + "/jobs.csv", FormatJobsCsv(*workload, result)); !s) {
    return ReportError(s.error());
  }
  info.wall_seconds = Since(t0);  // everything but writing the (small) summary
  if (Status s = WriteFile(a.out + "/summary.json", FormatSummaryJson(summary, info)); !s) {
    return ReportError(s.error());
  }
  if (!a.quiet) {
    std::fputs(FormatHumanSummary(summary, info).c_str(), stdout);
    std::printf("  wrote        %s/jobs.csv, %s/summary.json\n", a.out.c_str(), a.out.c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterSim(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<SimArgs>();
  CLI::App* sub = app.add_subcommand(
      "sim",
      "Simulate a workload trace on a cluster under a queue policy.\n"
      "Writes DIR/jobs.csv (one row per job) and DIR/summary.json; prints a summary.\n"
      "Example: rackscale sim --cluster flat:100 --policy easy --trace KTH.swf.gz --out out/kth");
  sub->add_option("--cluster", args->cluster, "Cluster: flat:N, a pool of N identical slots")
      ->required();
  sub->add_option("--policy", args->policy, "Queue policy: fifo or easy (EASY backfilling)")
      ->capture_default_str();
  sub->add_option("--trace", args->trace, "Workload trace (plain or .gz)")->required();
  sub->add_option("--format", args->format,
                  "Trace format: swf, philly, csv (native) or auto (from name and header)")
      ->capture_default_str();
  sub->add_option("--out", args->out, "Output directory (created if missing)")->required();
  sub->add_flag("--skip-bad-lines", args->skip_bad_lines,
                "Skip malformed lines (counted and reported) instead of failing");
  sub->add_flag("--no-timing", args->no_timing,
                "Leave wall-clock figures out of summary.json, so identical runs give "
                "identical bytes");
  sub->add_flag("-q,--quiet", args->quiet, "Print no summary on stdout (errors, skipped lines and progress still go to stderr)");
  sub->callback([args, run] { *run = [args] { return RunSim(*args); }; });
}

}  // namespace rackscale
