// rackscale cluster: load a cluster description and summarise it.
#include <cstdio>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/flags.h"
#include "workload/openb.h"

namespace rackscale {
namespace {

int RunCluster(const std::string& path) {
  auto f = LoadFleet(path);
  if (!f) return ReportError(f.error());
  std::printf("%s: %s\n", path.c_str(), DescribeFleet(*f).c_str());
  std::printf("  %-16s %7s %8s %9s %10s %11s %8s %5s\n", "site", "blocks", "domains", "GPUs",
              "CPU cores", "busy IT MW", "cap MW", "PUE");
  for (size_t s = 0; s < f->sites.size(); ++s) {
    const Site& site = f->sites[s];
    int64_t domains = 0, gpus = 0, cpu = 0;
    double watts = 0;
    for (int32_t b = site.first_block; b < site.first_block + site.num_blocks; ++b) {
      const Block& blk = f->blocks[b];
      domains += blk.num_domains;
      for (int32_t d = blk.first_domain; d < blk.first_domain + blk.num_domains; ++d) {
        const Domain& dom = f->domains[d];
        const DomainType& dt = f->domain_types[dom.type];
        const NodeType& nt = f->node_types[dt.node_type];
        gpus += dom.gpus;
        cpu += nt.cpu_milli * dom.num_nodes;
        double gpu_w = nt.accelerator >= 0 ? f->accelerators[nt.accelerator].busy_watts : 0;
        watts += dom.num_nodes * (nt.busy_watts + nt.gpus * gpu_w);
      }
    }
    std::printf("  %-16s %7d %8lld %9lld %10lld %11.1f %8s %5.2f\n", site.name.c_str(),
                site.num_blocks, static_cast<long long>(domains), static_cast<long long>(gpus),
                static_cast<long long>(cpu / 1000), watts / 1e6,
                site.power_cap_mw > 0 ? fmt::format("{:.1f}", site.power_cap_mw).c_str() : "none",
                site.pue);
  }
  return kExitOk;
}

}  // namespace

void RegisterCluster(CLI::App& app, CommandFn* run) {
  auto path = std::make_shared<std::string>();
  CLI::App* sub = app.add_subcommand(
      "cluster",
      "Load a cluster (a fleet TOML, docs/cluster.md, or an openb node list CSV) and print\n"
      "its sites, blocks, domains, GPUs, CPU cores and busy power against the caps.\n"
      "Example: rackscale cluster examples/fleet-500k.toml");
  AddInFile(sub, "file", path.get(), "Cluster file: .toml fleet description or openb node list")->required();
  sub->callback([path, run] { *run = [path] { return RunCluster(*path); }; });
}

}  // namespace rackscale
