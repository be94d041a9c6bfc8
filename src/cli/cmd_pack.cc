// rackscale pack: the FGD paper's packing experiment on a node list and a
// pod list (docs/placement.md).
#include <chrono>
#include <cstdio>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "cli/commands.h"
#include "cli/flags.h"
#include "cli/progress.h"
#include "sim/pack.h"

namespace rackscale {
namespace {

struct PackArgs {
  std::string nodes, pods, out;
  std::string policies = "fgd";
  std::string seeds = "42";
  double tune = 1.3;
  bool no_timing = false;
  bool quiet = false;
  bool json = false;
};

// "fgd", "random,fgd" or "all".
Result<std::vector<SharePolicy>> ParsePolicies(const std::string& s) {
  std::vector<SharePolicy> out;
  if (s == "all") {
    return std::vector<SharePolicy>{SharePolicy::kRandom,        SharePolicy::kDotProd,
                                    SharePolicy::kGpuClustering, SharePolicy::kGpuPacking,
                                    SharePolicy::kBestFit,       SharePolicy::kFgd};
  }
  std::string_view parts[16];
  size_t n = 0, pos = 0;
  std::string_view v(s);
  while (n < 16) {
    size_t c = v.find(',', pos);
    parts[n++] = v.substr(pos, c == std::string_view::npos ? std::string_view::npos : c - pos);
    if (c == std::string_view::npos) break;
    pos = c + 1;
  }
  for (size_t i = 0; i < n; ++i) {
    auto p = ParseSharePolicy(Trim(parts[i]), "--policy");
    if (!p) return p.error();
    out.push_back(*p);
  }
  return out;
}

// "42", "42-51" or "1,5,9".
Result<std::vector<uint64_t>> ParseSeeds(const std::string& s) {
  auto bad = [&] {
    return Error::InvalidInput("--seed", 0, "seed",
                               fmt::format("expected N, N-M or N,M,..., got {}", Quote(s)));
  };
  std::vector<uint64_t> out;
  size_t dash = s.find('-');
  if (dash != std::string::npos && s.find(',') == std::string::npos) {
    auto a = ParseInt(s.substr(0, dash));
    auto b = ParseInt(s.substr(dash + 1));
    if (!a || !b || *a < 0 || *b < *a || *b - *a >= 10000) return bad();
    for (int64_t x = *a; x <= *b; ++x) out.push_back(static_cast<uint64_t>(x));
    return out;
  }
  size_t pos = 0;
  while (true) {
    size_t c = s.find(',', pos);
    auto x = ParseInt(s.substr(pos, c == std::string::npos ? std::string::npos : c - pos));
    if (!x || *x < 0) return bad();
    out.push_back(static_cast<uint64_t>(*x));
    if (c == std::string::npos) break;
    pos = c + 1;
  }
  return out;
}

std::string PackCsv(const PackResult& r) {
  std::string out = "arrived_pct,allocated_pct,fragmented_pct\n";
  for (const PackRow& row : r.rows) {
    out += fmt::format("{},{:.4f},{:.4f}\n", row.arrived_pct, row.allocated, row.fragmented);
  }
  return out;
}

int RunPackCmd(const PackArgs& a) {
  auto policies = ParsePolicies(a.policies);
  if (!policies) return ReportError(policies.error());
  auto seeds = ParseSeeds(a.seeds);
  if (!seeds) return ReportError(seeds.error());
  auto nodes = ReadOpenbNodes(a.nodes);
  if (!nodes) return ReportError(nodes.error());
  auto pods = ReadOpenbPods(a.pods, &nodes->models);
  if (!pods) return ReportError(pods.error());
  auto out = OutputDir::Open(a.out);
  if (!out) return ReportError(out.error());

  const bool single = policies->size() == 1 && seeds->size() == 1;
  nlohmann::ordered_json runs = nlohmann::json::array();
  std::map<SharePolicy, std::pair<double, int>> mean;  // sum, count of unallocated@100
  std::string table = "policy,seed,unallocated_at_100_pct,fragmented_at_100_pct,placed,failed\n";
  ProgressLine progress("packing");
  const auto t0 = std::chrono::steady_clock::now();
  size_t done = 0;
  for (SharePolicy policy : *policies) {
    for (uint64_t seed : *seeds) {
      PackOptions o;
      o.policy = policy;
      o.seed = seed;
      o.tune = a.tune;
      const auto t_run = std::chrono::steady_clock::now();
      auto r = RunPack(*nodes, *pods, o);
      if (!r) return ReportError(r.error());
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_run).count();
      const std::string name = single ? "pack.csv" : fmt::format("{}/seed-{}/pack.csv", SharePolicyName(policy), seed);
      if (Status s = (*out)->Write(name, PackCsv(*r)); !s) return ReportError(s.error());
      const PackRow& at100 = r->rows[std::min<size_t>(100, r->rows.size() - 1)];
      nlohmann::ordered_json j;
      j["policy"] = SharePolicyName(policy);
      j["seed"] = seed;
      j["tune"] = a.tune;
      j["trace_pods"] = r->trace_pods;
      j["tuned_pods"] = r->tuned_pods;
      j["placed"] = r->placed;
      j["failed"] = r->failed;
      j["gpu_capacity_milli"] = r->gpu_capacity_milli;
      j["unallocated_at_100_pct"] = r->unallocated_at_100;
      j["fragmented_at_100_pct"] = at100.fragmented;
      j["final_allocated_pct"] = r->final_allocated;
      j["final_fragmented_pct"] = r->final_fragmented;
      if (!a.no_timing) j["wall_seconds"] = secs;
      runs.push_back(j);
      table += fmt::format("{},{},{:.4f},{:.4f},{},{}\n", SharePolicyName(policy), seed,
                           r->unallocated_at_100, at100.fragmented, r->placed, r->failed);
      auto& m = mean[policy];
      m.first += r->unallocated_at_100;
      ++m.second;
      ++done;
      progress.Update(static_cast<double>(done) / static_cast<double>(policies->size() * seeds->size()),
                      fmt::format("{} seed {}", SharePolicyName(policy), seed));
    }
  }
  progress.Clear();
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::ordered_json summary;
  summary["schema"] = "rackscale.pack.summary";
  summary["schema_version"] = 1;
  summary["nodes"] = a.nodes;
  summary["pods"] = a.pods;
  summary["runs"] = runs;
  if (!a.no_timing) summary["wall_seconds"] = total;
  const std::string summary_text = summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (Status s = (*out)->Write("summary.json", summary_text); !s) return ReportError(s.error());
  if (!single) {
    if (Status s = (*out)->Write("runs.csv", table); !s) return ReportError(s.error());
  }
  if (Status s = (*out)->Commit(); !s) return ReportError(s.error());
  if (a.json) return PrintJsonDocument(summary_text);
  if (!a.quiet) {
    std::printf("%s on %s (%zu nodes, %.0f GPUs), tune %.2f\n", a.pods.c_str(), a.nodes.c_str(),
                nodes->nodes.size(), static_cast<double>(runs[0]["gpu_capacity_milli"]) / 1000.0,
                a.tune);
    std::printf("  %-14s %6s %22s\n", "policy", "seeds", "unallocated GPU @100%");
    for (SharePolicy p : *policies) {
      auto [sum, n] = mean[p];
      std::printf("  %-14s %6d %21.2f%%\n", SharePolicyName(p), n, sum / n);
    }
    if (!a.no_timing) {
      std::printf("  %zu runs in %.2f s (%.3f s per run)\n", done, total, total / static_cast<double>(done));
    }
    std::printf("  wrote %s/%s\n", a.out.c_str(), single ? "pack.csv, summary.json"
                                                         : "<policy>/seed-<S>/pack.csv, runs.csv, summary.json");
  }
  return kExitOk;
}

}  // namespace

void RegisterPack(CLI::App& app, CommandFn* run) {
  auto args = std::make_shared<PackArgs>();
  CLI::App* sub = app.add_subcommand(
      "pack",
      "The FGD paper's packing experiment (Weng et al., ATC'23): pods placed one by one on\n"
      "GPU-sharing nodes until the requested GPUs reach --tune x capacity; writes pack.csv\n"
      "(arrived_pct,allocated_pct,fragmented_pct) per run and summary.json.\n"
      "Example: rackscale pack --nodes openb_node_list_gpu_node.csv \\\n"
      "           --pods openb_pod_list_default.csv --policy all --seed 42-51 --out out/fgd");
  AddInFile(sub, "--nodes", &args->nodes, "Node list CSV (sn,cpu_milli,memory_mib,gpu,model)")->required();
  AddInFile(sub, "--pods", &args->pods, "Pod list CSV (name,cpu_milli,memory_mib,num_gpu,gpu_milli[,gpu_spec,...])")
      ->required();
  sub->add_option("--policy", args->policies,
                  "Placement policy: first, random, bestfit, dotprod, gpupacking, gpuclustering, "
                  "fgd; a comma list; or all (the paper's six)")
      ->check([](const std::string& v) {
        auto p = ParsePolicies(v);
        return p ? std::string() : p.error().message;
      })
      ->capture_default_str();
  sub->add_option("--seed", args->seeds, "Seed: N, a range N-M, or a list N,M,... (at most 10,000 seeds)")
      ->check([](const std::string& v) {
        auto seeds = ParseSeeds(v);
        return seeds ? std::string() : seeds.error().message;
      })
      ->capture_default_str();
  AddNumber(sub, "--tune", &args->tune, "Stop adding pods when the requested GPUs would pass this x capacity", 0.01,
            10);
  AddOutDir(sub, "--out", &args->out, "Output directory: pack.csv for one run, <policy>/seed-<S>/pack.csv for several")
      ->required();
  sub->add_flag("--no-timing", args->no_timing, "Leave wall-clock figures out of summary.json");
  sub->add_flag("-q,--quiet", args->quiet, "Print no summary on stdout");
  sub->add_flag("--json", args->json, "Print summary.json's document on stdout instead of the summary (docs/outputs.md)");
  sub->callback([args, run] { *run = [args] { return RunPackCmd(*args); }; });
}

}  // namespace rackscale
