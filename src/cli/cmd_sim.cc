// rackscale sim: trace-driven simulation of a flat pool under a queue policy.
#include <algorithm>
#include <map>
#include <chrono>
#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "cli/commands.h"
#include "ctl/replay.h"
#include "cli/flags.h"
#include "cli/progress.h"
#include "model/cluster.h"
#include "report/metrics.h"
#include "report/fleet_report.h"
#include "report/writers.h"
#include "sim/fleet_sim.h"
#include "sim/services.h"
#include "sim/share_sim.h"
#include "workload/ai_trace.h"
#include "base/text.h"
#include "workload/openb.h"
#include "sim/flat_sim.h"
#include "workload/trace.h"

namespace rackscale {
namespace {


// Lists the kept errors of skipped lines on stderr, and how many more.
void ReportSkipped(int64_t bad_lines, const std::vector<Error>& kept) {
  for (const Error& e : kept) std::fprintf(stderr, "rackscale: skipped: %s\n", e.ToString().c_str());
  if (bad_lines > static_cast<int64_t>(kept.size())) {
    std::fprintf(stderr, "rackscale: skipped %lld more bad lines\n",
                 static_cast<long long>(bad_lines - static_cast<int64_t>(kept.size())));
  }
}

// GPU-sharing pods on an openb node list under a node-level policy.
int RunShareSim(const SimArgs& a, SharePolicy policy, std::chrono::steady_clock::time_point t0) {
  // The nodes of an openb node list, or of a fleet TOML.
  Result<NodeList> nodes = Error{};
  if (a.cluster.size() >= 5 && a.cluster.substr(a.cluster.size() - 5) == ".toml") {
    auto fleet = ReadFleetToml(a.cluster);
    if (!fleet) return ReportError(fleet.error());
    nodes = NodeListFromFleet(*fleet);
  } else {
    nodes = ReadOpenbNodes(a.cluster);
  }
  if (!nodes) return ReportError(nodes.error());
  auto pods = ReadOpenbPods(a.trace, &nodes->models);
  if (!pods) return ReportError(pods.error());
  auto out = OutputDir::Open(a.out);
  if (!out) return ReportError(out.error());
  ShareSimOptions so;
  so.policy = policy;
  so.time_decisions = !a.no_timing;
  const auto t_sim = std::chrono::steady_clock::now();
  auto result = SimulateShare(*nodes, *pods, so);
  const double sim_seconds = Since(t_sim);
  if (!result) return ReportError(result.error());
  const ShareSimResult& r = *result;
  std::string csv = "name,submit,start,end,cpu_milli,num_gpu,gpu_milli,node,status\n";
  int64_t done = 0, rejected = 0, invalid = 0, unfinished = 0;
  std::vector<Seconds> waits;
  for (size_t i = 0; i < pods->size(); ++i) {
    const PodSpec& p = (*pods)[i];
    const SharePodOutcome& o = r.outcomes[i];
    const bool ran = o.status == JobStatus::kDone;
    csv += fmt::format("{},{},{},{},{},{},{},{},{}\n", p.name, p.creation_time,
                       ran ? fmt::format("{}", o.start) : "", ran ? fmt::format("{}", o.end) : "",
                       p.cpu_milli, p.num_gpu, p.gpu_milli,
                       ran ? nodes->nodes[static_cast<size_t>(o.node)].name : "",
                       JobStatusName(o.status));
    switch (o.status) {
      case JobStatus::kDone: ++done; waits.push_back(o.start - p.creation_time); break;
      case JobStatus::kRejected: ++rejected; break;
      case JobStatus::kInvalid: ++invalid; break;
      case JobStatus::kUnfinished: ++unfinished; break;
    }
  }
  std::sort(waits.begin(), waits.end());
  auto pct = [&](int p) {
    return waits.empty() ? Seconds{0} : waits[NearestRankIndex(waits.size(), p)];
  };
  double mean_wait = 0;
  for (Seconds w : waits) mean_wait += static_cast<double>(w);
  if (!waits.empty()) mean_wait /= static_cast<double>(waits.size());
  const double span = static_cast<double>(r.last - r.first);
  const double cap = static_cast<double>(r.gpu_capacity_milli);
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.share.summary";
  j["schema_version"] = 1;
  j["trace"] = a.trace;
  j["cluster"] = a.cluster;
  j["placement"] = SharePolicyName(policy);
  j["pods"] = pods->size();
  j["done"] = done;
  j["rejected"] = rejected;
  j["invalid"] = invalid;
  j["unfinished"] = unfinished;
  j["mean_wait"] = mean_wait;
  j["p50_wait"] = pct(50);
  j["p99_wait"] = pct(99);
  j["gpu_capacity_milli"] = r.gpu_capacity_milli;
  j["mean_gpu_allocated"] = span > 0 && cap > 0 ? r.allocated_milli_seconds / (cap * span) : 0.0;
  j["mean_gpu_fragmented"] = span > 0 && cap > 0 ? r.fragmented_milli_seconds / (cap * span) : 0.0;
  j["mean_pending_pods"] = span > 0 ? r.pending_pod_seconds / span : 0.0;
  j["simulated_events"] = r.events;
  j["scheduling_passes"] = r.passes;
  if (!a.no_timing) {
    j["wall_seconds"] = Since(t0);
    j["sim_seconds"] = sim_seconds;
    // Each decision: Choose, and Commit when it placed the pod.
    std::vector<uint32_t> d = r.decision_ns;
    auto dpct = [&](int p) {
      if (d.empty()) return 0.0;
      const size_t k = NearestRankIndex(d.size(), p);
      std::nth_element(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(k), d.end());
      return d[k] / 1000.0;
    };
    j["placement_decisions"] = r.decisions;
    j["decision_mean_us"] = r.decisions > 0 ? r.decision_total_ns / 1000.0 / static_cast<double>(r.decisions) : 0.0;
    j["decision_p50_us"] = dpct(50);
    j["decision_p99_us"] = dpct(99);
    j["decision_max_us"] = dpct(100);
  }
  if (Status s = (*out)->Write("jobs.csv", csv); !s) return ReportError(s.error());
  const std::string summary_text = j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (Status s = (*out)->Write("summary.json", summary_text); !s) return ReportError(s.error());
  if (Status s = (*out)->Commit(); !s) return ReportError(s.error());
  if (a.json) return PrintJsonDocument(summary_text);
  if (!a.quiet) {
    std::printf("%s on %s, placement %s\n", a.trace.c_str(), a.cluster.c_str(),
                SharePolicyName(policy));
    std::printf("  pods         %zu (%lld done, %lld rejected, %lld invalid, %lld unfinished)\n",
                pods->size(), static_cast<long long>(done), static_cast<long long>(rejected),
                static_cast<long long>(invalid), static_cast<long long>(unfinished));
    std::printf("  GPUs         %.1f%% allocated and %.1f%% fragmented on average over %s\n",
                100 * j["mean_gpu_allocated"].get<double>(), 100 * j["mean_gpu_fragmented"].get<double>(),
                HumanDuration(span).c_str());
    std::printf("  wait         mean %s, p50 %s, p99 %s; %.1f pods pending on average\n",
                HumanDuration(mean_wait).c_str(), HumanDuration(static_cast<double>(pct(50))).c_str(),
                HumanDuration(static_cast<double>(pct(99))).c_str(),
                j["mean_pending_pods"].get<double>());
    std::printf("  wrote        %s/jobs.csv, %s/summary.json\n", a.out.c_str(), a.out.c_str());
  }
  return kExitOk;
}

// --replay: the export replayed on the scheduler core, each recorded pass
// compared decision by decision with what the server decided.
int RunReplay(const SimArgs& a) {
  if (!a.policy.empty() || !a.fleet_flags_given.empty()) {
    const std::string f = !a.policy.empty() ? "--policy" : a.fleet_flags_given.front();
    return ReportError(Error::InvalidInput(
        f, 0, f.substr(2),
        "does not apply to --replay: a replay runs the server's own policy; to ask what another policy would have "
        "done, leave out --replay"));
  }
  auto fleet = LoadFleet(a.cluster);
  if (!fleet) return ReportError(fleet.error());
  auto text = ReadFileMaybeGz(a.trace, "trace");
  if (!text) return ReportError(text.error());
  auto events = ctl::ParseExport(*text, a.trace);
  if (!events) return ReportError(events.error());
  auto report = ctl::ReplayOnCore(*fleet, *events, a.trace);
  if (!report) return ReportError(report.error());
  auto out = OutputDir::Open(a.out);
  if (!out) return ReportError(out.error());
  nlohmann::json summary = {{"policy", report->policy},     {"power", report->power},
                            {"events", events->size()},     {"passes", report->passes},
                            {"decisions", report->decisions}, {"mismatches", report->mismatches},
                            {"restarts", report->restarts}, {"differences", report->differences}};
  if (Status st = (*out)->Write("replay.csv", "seq,time,job,attempt,nodes\n" + report->placements_csv); !st) {
    return ReportError(st.error());
  }
  if (Status st = (*out)->Write("replay.json", summary.dump(2) + "\n"); !st) return ReportError(st.error());
  if (Status st = (*out)->Commit(); !st) return ReportError(st.error());
  if (a.json) {
    std::printf("%s\n", summary.dump(2).c_str());
  } else if (!a.quiet) {
    std::printf("replayed %zu events: %lld passes, %lld decisions, %lld mismatches (%s, %lld restarts)\n",
                events->size(), static_cast<long long>(report->passes), static_cast<long long>(report->decisions),
                static_cast<long long>(report->mismatches), report->policy.c_str(),
                static_cast<long long>(report->restarts));
    for (const std::string& d : report->differences) std::printf("  %s\n", d.c_str());
  }
  return report->mismatches == 0 ? kExitOk : kExitFailure;
}

int RunFleetSim(const SimArgs& a, std::chrono::steady_clock::time_point t0) {
  if (a.placement != "topo") {
    auto share = ParseSharePolicy(a.placement, "--placement");
    if (!share) {
      return ReportError(Error::InvalidInput(
          "--placement", 0, "placement",
          fmt::format("expected topo (gangs on a fleet) or a GPU-sharing policy (first, random, "
                      "bestfit, dotprod, gpupacking, gpuclustering, fgd), got '{}'",
                      a.placement)));
    }
    if (!a.policy.empty() && a.policy != "fifo") {
      return ReportError(Error::InvalidInput("--policy", 0, "policy",
                                             "GPU-sharing placement runs one best-effort FIFO "
                                             "queue: leave --policy out or give fifo"));
    }
    if (!a.fleet_flags_given.empty()) {
      const std::string f = a.fleet_flags_given.front();
      return ReportError(Error::InvalidInput(
          f, 0, f.substr(2),
          fmt::format("applies to gang placement on a fleet (--placement topo), not to GPU-sharing placement {}",
                      a.placement)));
    }
    return RunShareSim(a, *share, t0);
  }
  if (a.replay) return RunReplay(a);
  auto policy = ParseFleetQueuePolicy(a.policy.empty() ? "fairshare" : a.policy, "--policy");
  if (!policy) return ReportError(policy.error());
  auto fleet = LoadFleet(a.cluster);
  if (!fleet) return ReportError(fleet.error());
  FleetSimOptions so;
  so.policy = *policy;
  // Ranges were checked while parsing (cli/flags.h); what is left here is
  // the flags' meaning together.
  so.starve_after = static_cast<Seconds>(std::llround(a.starve_after_s));
  {
    auto power = ParsePowerPolicy(a.power, "--power");
    if (!power) return ReportError(power.error());
    so.power = *power;
    auto bad = [](const char* flag, std::string msg) {
      return ReportError(Error::InvalidInput(flag, 0, flag + 2, std::move(msg)));
    };
    so.failures = a.failures;
    so.default_failure_rate = a.failure_rate;
    so.repair = static_cast<Seconds>(std::llround(a.repair_s));
    so.seed = a.seed;
    so.checkpoint_cost = a.checkpoint_cost_s;
    so.restart_cost = a.restart_cost_s;
    so.timeseries_step = static_cast<Seconds>(std::llround(a.step_s));
    if (a.checkpoint == "none") {
      so.checkpoint_interval = 0;
    } else if (a.checkpoint == "auto") {
      if (so.checkpoint_cost <= 0) return bad("--checkpoint", "auto needs --checkpoint-cost > 0");
      so.checkpoint_interval = kAutoCheckpoint;
    } else {
      auto m = ParseDuration(a.checkpoint, DurationUnit::kMinutes);
      if (!m || !(*m >= 60 && *m <= 366.0 * 86400)) {
        return bad("--checkpoint", fmt::format("expected none, auto or a duration in [1m, 366d] (a bare number is "
                                               "minutes), got {}", Quote(a.checkpoint)));
      }
      so.checkpoint_interval = *m;
    }
  }
  so.time_decisions = !a.no_timing;
  if (!a.tenants.empty()) {
    auto t = ReadTenantsToml(a.tenants);
    if (!t) return ReportError(t.error());
    so.tenants = std::move(*t);
    auto services = LoadServices(so.tenants, a.tenants);
    if (!services) return ReportError(services.error());
    so.services = std::move(*services);
  }
  so.horizon = static_cast<Seconds>(std::llround(a.horizon_s));
  if (a.window_s > 0) {
    so.window_start = 0;
    so.window_end = static_cast<Seconds>(std::llround(a.window_s));
  }
  int32_t domain_gpus = 1;
  for (const DomainType& d : fleet->domain_types) domain_gpus = std::max(domain_gpus, d.gpus);
  if (a.format != "auto" && a.format != "csv" && a.format != "philly") {
    return ReportError(Error::InvalidInput("--format", 0, "format",
                                           fmt::format("a fleet reads csv (native AI CSV) or philly; "
                                                       "got '{}'",
                                                       a.format)));
  }
  // A control plane's event export (rackscale job export) is a trace too:
  // the jobs that ran, with the runtimes they had (ctl/replay.h).
  Result<AiWorkload> workload = Error::Io(a.trace, "unread");
  {
    auto text = ReadFileMaybeGz(a.trace, "trace");
    if (!text) return ReportError(text.error());
    if (ctl::LooksLikeExport(*text)) {
      auto events = ctl::ParseExport(*text, a.trace);
      if (!events) return ReportError(events.error());
      int64_t left_out = 0;
      workload = ctl::ExportToWorkload(*events, a.trace, &left_out);
      if (workload && left_out > 0 && !a.quiet) {
        std::fprintf(stderr, "rackscale: %s: %lld jobs that never ran or had not ended are left out\n",
                     a.trace.c_str(), static_cast<long long>(left_out));
      }
    } else {
      workload = ReadAiWorkload(a.trace, a.skip_bad_lines, domain_gpus, a.format);
    }
  }
  if (!workload) return ReportError(workload.error());
  ReportSkipped(workload->bad_lines, workload->bad_line_errors);
  auto out = OutputDir::Open(a.out);
  if (!out) return ReportError(out.error());
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
  info.power_policy = a.power;
  info.failures = a.failures;
  info.sim_seconds = sim_seconds;
  info.timing = !a.no_timing;
  if (Status s = (*out)->Write("jobs.csv", FormatFleetJobsCsv(*workload, *result)); !s) {
    return ReportError(s.error());
  }
  if (Status s = (*out)->Write("tenants.csv", FormatTenantsCsv(*result)); !s) {
    return ReportError(s.error());
  }
  if (Status s = (*out)->Write("sites.csv", FormatSitesCsv(*result)); !s) {
    return ReportError(s.error());
  }
  if (so.timeseries_step > 0) {
    if (Status s = (*out)->Write("timeseries.csv", FormatTimeseriesCsv(*result)); !s) {
      return ReportError(s.error());
    }
  }
  if (!so.services.empty()) {
    if (Status s = (*out)->Write("services.csv", FormatServicesCsv(*result)); !s) {
      return ReportError(s.error());
    }
  }
  info.wall_seconds = Since(t0);
  const std::string summary_text = FormatFleetSummaryJson(*workload, *result, info);
  if (Status s = (*out)->Write("summary.json", summary_text); !s) return ReportError(s.error());
  if (Status s = (*out)->Commit(); !s) return ReportError(s.error());
  if (a.json) return PrintJsonDocument(summary_text);
  if (!a.quiet) {
    std::fputs(FormatFleetHumanSummary(*workload, *result, info).c_str(), stdout);
    std::printf("  wrote        %s/{jobs,tenants,sites%s%s}.csv, %s/summary.json\n", a.out.c_str(),
                so.timeseries_step > 0 ? ",timeseries" : "", so.services.empty() ? "" : ",services",
                a.out.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunSim(const SimArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  if (a.cluster.rfind("flat:", 0) != 0) return RunFleetSim(a, t0);
  auto cluster = ParseClusterSpec(a.cluster, "--cluster");
  if (!cluster) return ReportError(cluster.error());
  if (!a.fleet_flags_given.empty()) {
    const std::string f = a.fleet_flags_given.front();
    return ReportError(Error::InvalidInput(f, 0, f.substr(2),
                                           fmt::format("applies to a fleet (--cluster FLEET.toml), not to a flat pool {}", a.cluster)));
  }
  auto policy = ParseQueuePolicy(a.policy.empty() ? "easy" : a.policy, "--policy");
  if (!policy) return ReportError(policy.error());
  auto format = ParseTraceFormat(a.format, "--format");
  if (!format) return ReportError(format.error());

  ReadOptions ro;
  ro.format = *format;
  ro.skip_bad_lines = a.skip_bad_lines;
  auto workload = ReadTrace(a.trace, ro);
  if (!workload) return ReportError(workload.error());
  ReportSkipped(workload->bad_lines, workload->bad_line_errors);
  auto out = OutputDir::Open(a.out);
  if (!out) return ReportError(out.error());

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

  if (Status s = (*out)->Write("jobs.csv", FormatJobsCsv(*workload, result)); !s) {
    return ReportError(s.error());
  }
  info.wall_seconds = Since(t0);  // everything but writing the (small) summary
  const std::string summary_text = FormatSummaryJson(summary, info);
  if (Status s = (*out)->Write("summary.json", summary_text); !s) return ReportError(s.error());
  if (Status s = (*out)->Commit(); !s) return ReportError(s.error());
  if (a.json) return PrintJsonDocument(summary_text);
  if (!a.quiet) {
    std::fputs(FormatHumanSummary(summary, info).c_str(), stdout);
    std::printf("  wrote        %s/jobs.csv, %s/summary.json\n", a.out.c_str(), a.out.c_str());
  }
  return kExitOk;
}

namespace {
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
  AddChoice(sub, "--policy", &args->policy,
            "Queue policy. Flat pool: fifo or easy (default). Fleet: fifo, fairshare (default) or priority",
            {"fifo", "easy", "fairshare", "priority"});
  AddChoice(sub, "--placement", &args->placement,
            "Fleet placement: topo (gangs on a fleet TOML), or a GPU-sharing policy (first, random, bestfit, "
            "dotprod, gpupacking, gpuclustering, fgd) for an openb pod list on an openb node list",
            {"topo", "first", "random", "bestfit", "dotprod", "gpupacking", "gpuclustering", "fgd"});
  AddInFile(sub, "--tenants", &args->tenants,
            "Fleet: tenants TOML with weights, quotas and cohorts, and dedicated clusters (docs/cluster.md)");
  AddDuration(sub, "--starve-after", &args->starve_after_s,
              "Fleet fairshare: a waiting head is served first after this long", DurationUnit::kHours, 0,
              366.0 * 86400);
  AddInFile(sub, "--trace", &args->trace,
            "Workload trace (plain or .gz); on a fleet also a control plane's event export (rackscale job export): "
            "the jobs that ran, with their runtimes")
      ->required();
  sub->add_flag("--replay", args->replay,
                "The trace is a control plane's export from seq 1: replay it on the scheduler core at the server's "
                "own pass times and check every decision equals the server's (writes replay.csv, replay.json; exit 1 "
                "on a difference)");
  AddChoice(sub, "--format", &args->format, "Trace format: swf, philly, csv (native) or auto (from name and header)",
            {"auto", "swf", "philly", "csv"});
  AddOutDir(sub, "--out", &args->out, "Output directory (created if missing)")->required();
  sub->add_flag("--skip-bad-lines", args->skip_bad_lines,
                "Skip malformed lines (counted and reported) instead of failing");
  sub->add_flag("--no-timing", args->no_timing,
                "Leave wall-clock figures out of summary.json, so identical runs give "
                "identical bytes");
  AddChoice(sub, "--power", &args->power,
            "Fleet: site power caps: none, admit (start only under the cap) or throttle (slow a site's work to "
            "its cap)",
            {"none", "admit", "throttle"});
  sub->add_flag("--failures", args->failures,
                "Fleet: GPU nodes fail (rate per accelerator-year from the catalog, else "
                "--failure-rate) and take their jobs down");
  AddNumber(sub, "--failure-rate", &args->failure_rate,
            "Fleet: failures per accelerator-year where the catalog gives none (Llama 3 H100: 0.173)", 1e-9, 1000);
  AddDuration(sub, "--repair-hours", &args->repair_s, "Fleet: how long a failed node is out", DurationUnit::kHours,
              1, 3650.0 * 86400);
  AddSeed(sub, "--seed", &args->seed, "Fleet: seed of the failure process");
  sub->add_option("--checkpoint", args->checkpoint,
                  "Fleet: GPU jobs checkpoint after every this much work (a duration; a bare number is "
                  "minutes), 'auto' (Young/Daly from the job's MTBF) or 'none'")
      ->capture_default_str();
  AddDuration(sub, "--checkpoint-cost", &args->checkpoint_cost_s, "Fleet: how long one checkpoint takes",
              DurationUnit::kMinutes, 0, 7 * 86400);
  AddDuration(sub, "--restart-cost", &args->restart_cost_s, "Fleet: how long from an interruption until work resumes",
              DurationUnit::kMinutes, 0, 7 * 86400);
  AddDuration(sub, "--horizon", &args->horizon_s,
              "Fleet: simulate at least this long (inference services keep running after the workload is done)",
              DurationUnit::kDays, 0, 36600.0 * 86400);
  AddDuration(sub, "--window", &args->window_s,
              "Fleet: measure utilization over [0, this) of the run (0: from the first event to the last)",
              DurationUnit::kDays, 0, 36600.0 * 86400);
  AddDuration(sub, "--step", &args->step_s, "Fleet: time per row of timeseries.csv (0: no time series)",
              DurationUnit::kHours, 0, 366.0 * 86400);
  sub->add_flag("-q,--quiet", args->quiet, "Print no summary on stdout (errors, skipped lines and progress still go to stderr)");
  sub->add_flag("--json", args->json, "Print summary.json's document on stdout instead of the summary (docs/outputs.md)");
  // Flags that only a fleet simulation reads: on a flat pool they are an
  // error, not silently ignored.
  sub->callback([args, run, sub] {
    // A time-series step below a minute is refused (0 turns it off).
    if (args->step_s > 0 && args->step_s < 60) {
      throw CLI::ValidationError("--step", "expected 0 (no time series) or at least 1m, got " +
                                               FormatDuration(args->step_s));
    }
    args->fleet_flags_given.clear();
    for (const char* f : {"--tenants", "--starve-after", "--power", "--failures", "--failure-rate", "--repair-hours", "--seed",
                          "--checkpoint", "--checkpoint-cost", "--restart-cost", "--horizon", "--window", "--step"}) {
      if (sub->count(f) > 0) args->fleet_flags_given.push_back(f);
    }
    *run = [args] { return RunSim(*args); };
  });
}

}  // namespace rackscale
