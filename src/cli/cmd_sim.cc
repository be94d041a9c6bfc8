// rackscale sim: trace-driven simulation of a flat pool under a queue policy.
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "base/file.h"
#include "cli/commands.h"
#include "cli/progress.h"
#include "model/cluster.h"
#include "report/metrics.h"
#include "report/fleet_report.h"
#include "report/writers.h"
#include "sim/fleet_sim.h"
#include "workload/ai_trace.h"
#include "workload/openb.h"
#include "sim/flat_sim.h"
#include "workload/trace.h"

namespace rackscale {
namespace {

struct SimArgs {
  std::string cluster;
  std::string policy;  // default: easy on a flat pool, fairshare on a fleet
  std::string placement = "topo";
  std::string tenants;
  double starve_after_hours = 12;
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

int RunFleetSim(const SimArgs& a, std::chrono::steady_clock::time_point t0) {
  auto policy = ParseFleetQueuePolicy(a.policy.empty() ? "fairshare" : a.policy, "--policy");
  if (!policy) return ReportError(policy.error());
  if (a.placement != "topo") {
    return ReportError(Error::InvalidInput("--placement", 0, "placement",
                                           fmt::format("a fleet simulation places gangs with 'topo'; "
                                                       "got '{}' (node policies: rackscale pack)",
                                                       a.placement)));
  }
  auto fleet = LoadFleet(a.cluster);
  if (!fleet) return ReportError(fleet.error());
  FleetSimOptions so;
  so.policy = *policy;
  so.starve_after = static_cast<Seconds>(a.starve_after_hours * 3600);
  so.time_decisions = !a.no_timing;
  if (!a.tenants.empty()) {
    auto t = ReadTenantsToml(a.tenants);
    if (!t) return ReportError(t.error());
    so.tenants = std::move(*t);
  }
  int32_t domain_gpus = 1;
  for (const DomainType& d : fleet->domain_types) domain_gpus = std::max(domain_gpus, d.gpus);
  auto workload = ReadAiWorkload(a.trace, a.skip_bad_lines, domain_gpus);
  if (!workload) return ReportError(workload.error());
  for (const Error& e : workload->bad_line_errors) {
    std::fprintf(stderr, "rackscale: skipped: %s\n", e.ToString().c_str());
  }
  if (Status s = MakeDirs(a.out); !s) return ReportError(s.error());
  ProgressLine progress("simulating");
  if (progress.enabled()) {
    so.progress = [&progress](const SimProgress& p) {
      double span = static_cast<double>(p.last - p.first);
      double frac = span > 0 ? static_cast<double>(p.now - p.first) / span : 1.0;
      progress.Update(std::clamp(frac, 0.0, 1.0),
                      fmt::format("{} of {} jobs finished", p.finished, p.total));
    };
  }
  const auto t_sim = std::chrono::steady_clock::now();
  auto result = SimulateFleet(*fleet, &*workload, so);
  const double sim_seconds = Since(t_sim);
  progress.Clear();
  if (!result) {
    Error e = result.error();
    if (e.source.empty()) e.source = a.tenants;
    return ReportError(e);
  }
  FleetRunInfo info;
  info.trace = a.trace;
  info.cluster = a.cluster;
  info.policy = FleetQueuePolicyName(*policy);
  info.placement = a.placement;
  info.tenants_file = a.tenants;
  info.sim_seconds = sim_seconds;
  info.timing = !a.no_timing;
  if (Status s = WriteFile(a.out + "/jobs.csv", FormatFleetJobsCsv(*workload, *result)); !s) {
    return ReportError(s.error());
  }
  if (Status s = WriteFile(a.out + "/tenants.csv", FormatTenantsCsv(*result)); !s) {
    return ReportError(s.error());
  }
  info.wall_seconds = Since(t0);
  if (Status s = WriteFile(a.out + "/summary.json", FormatFleetSummaryJson(*workload, *result, info)); !s) {
    return ReportError(s.error());
  }
  if (!a.quiet) {
    std::fputs(FormatFleetHumanSummary(*workload, *result, info).c_str(), stdout);
    std::printf("  wrote        %s/jobs.csv, %s/tenants.csv, %s/summary.json\n", a.out.c_str(),
                a.out.c_str(), a.out.c_str());
  }
  return kExitOk;
}

int RunSim(const SimArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  if (a.cluster.rfind("flat:", 0) != 0) return RunFleetSim(a, t0);
  auto cluster = ParseClusterSpec(a.cluster, "--cluster");
  if (!cluster) return ReportError(cluster.error());
  auto policy = ParseQueuePolicy(a.policy.empty() ? "easy" : a.policy, "--policy");
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
      "Example: rackscale sim --cluster flat:100 --policy easy --trace KTH.swf.gz --out out/kth\n"
      "Fleet:   rackscale sim --cluster examples/fleet-500k.toml --tenants examples/tenants-500k.toml\n"
      "           --policy fairshare --placement topo --trace ai.csv --out out/fleet");
  sub->add_option("--cluster", args->cluster,
                  "Cluster: flat:N (a pool of N identical slots), a fleet TOML (docs/cluster.md) "
                  "or an openb node list")
      ->required();
  sub->add_option("--policy", args->policy,
                  "Queue policy. Flat pool: fifo or easy (default). Fleet: fifo or fairshare "
                  "(default)");
  sub->add_option("--placement", args->placement, "Fleet gang placement: topo")
      ->capture_default_str();
  sub->add_option("--tenants", args->tenants,
                  "Fleet: tenants TOML with weights and dedicated clusters (docs/cluster.md)");
  sub->add_option("--starve-after", args->starve_after_hours,
                  "Fleet fairshare: hours after which a waiting head is served first")
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
