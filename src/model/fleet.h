// The fleet: a catalog of accelerator, node and domain types, and the
// topology site -> block -> domain -> node that instantiates it.
//
// An NVLink domain is the unit of tight coupling: an 8-GPU HGX server (one
// node), a 64-chip Trainium2 UltraServer (4 nodes of 16), a 72-GPU GB200
// NVL72 rack (18 nodes of 4). A block is a network spine unit: a group of
// domains in one site. CPU-only nodes form domains of one node.
//
// The topology is stored flat (arrays indexed by dense ids, each level a
// contiguous range of the next) so that 10^5-10^6 accelerators cost a few
// bytes each. Loaded from TOML (docs/cluster.md) or from an openb node list.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/gpu_node.h"
#include "model/units.h"

namespace rackscale {

using Watts = double;
using Usd = double;

struct AcceleratorType {
  std::string name;
  double memory_gb = 0;
  Watts busy_watts = 0;  // at full load (TDP)
  Watts idle_watts = 0;
  Usd price_usd = 0;
  double failures_per_year = 0;  // per accelerator
  double speed = 1;              // relative throughput
  double life_years = 5;         // straight-line depreciation of price_usd
};

struct NodeType {
  std::string name;
  int64_t cpu_milli = 0;
  int64_t memory_mib = 0;
  int32_t gpus = 0;
  int32_t accelerator = -1;  // index into Fleet::accelerators; -1 for CPU-only
  Watts busy_watts = 0;      // host (CPU, memory, NICs) at full load
  Watts idle_watts = 0;
};

struct DomainType {
  std::string name;
  int32_t node_type = 0;
  int32_t nodes = 1;
  int32_t gpus = 0;  // nodes x the node type's GPUs
};

struct Site {
  std::string name;
  double power_cap_mw = 0;  // 0: no cap
  double pue = 1.0;
  double usd_per_mwh = 0;
  int32_t first_block = 0, num_blocks = 0;
};

struct Block {
  int32_t site = 0;
  int32_t first_domain = 0, num_domains = 0;
};

struct Domain {
  int32_t block = 0;
  int32_t type = 0;  // index into Fleet::domain_types
  int32_t first_node = 0, num_nodes = 0;
  int32_t gpus = 0;
  Seconds online = 0;   // in service from (delivery)
  Seconds retire = -1;  // out of service from; -1: never
  bool spare = false;   // held out of service to stand in for failed nodes

  // Delivered by t and not retired (spares aside).
  bool InServiceAt(Seconds t) const { return online <= t && (retire < 0 || retire > t); }
};

struct FleetNode {
  int32_t domain = 0;
  int32_t type = 0;  // index into Fleet::node_types
};

// A gang placed across sites (scope multi-site) runs this many times longer
// than in one site: its data-parallel gradient exchange crosses the
// inter-site links, which are far slower than a site's own network and
// which the computation hides only in part. docs/cluster.md has the
// reasoning behind the default (NVIDIA's 96% scaling efficiency for a 340B
// model over two datacenters ~1,000 km apart is 1.04; 1.10 leaves room for
// less tuned jobs and smaller links).
inline constexpr double kDefaultCrossSiteSlowdown = 1.10;

// Every Fleet has at least one site (both constructors below make one), so
// per-site tables are indexed by site_of_domain directly.
struct Fleet {
  std::vector<AcceleratorType> accelerators;
  std::vector<NodeType> node_types;
  std::vector<DomainType> domain_types;
  std::vector<Site> sites;
  std::vector<Block> blocks;
  std::vector<Domain> domains;
  std::vector<FleetNode> nodes;
  GpuModels models;  // accelerator names, for pods' model constraints
  double cross_site_slowdown = kDefaultCrossSiteSlowdown;  // >= 1

  int64_t TotalGpus() const;
  int64_t TotalCpuMilli() const;
  int64_t TotalMemoryMib() const;
  const NodeType& node_type(int32_t node) const { return node_types[nodes[node].type]; }
  int32_t site_of_domain(int32_t d) const { return blocks[domains[d].block].site; }
};

// A fleet as its file describes it (docs/cluster.md): the catalog, and per
// site the pools of identical domains. BuildFleet instantiates it;
// FormatFleetToml writes it as a fleet file that ParseFleetSpec reads back
// to an equal spec (numbers are written exactly).
struct PoolSpec {
  std::string domain;      // a domain type, or
  std::string node;        // a node type, each node its own domain
  int64_t count = 0;       // domains
  int64_t per_block = 0;   // domains per network block (0: all in one)
  double online_day = 0;   // in service from
  double retire_day = -1;  // out of service from (-1: never)
  int64_t spares = 0;      // of count, held to stand in for failed nodes
  std::string comment;     // written above the pool; not read back
  int64_t line = 0;        // where it was read (0: built in memory)
};

struct SiteSpec {
  std::string name;
  double power_cap_mw = 0;  // 0: no cap
  double pue = 1.0;
  double usd_per_mwh = 0;
  std::vector<PoolSpec> pools;
  int64_t line = 0;
};

struct FleetSpec {
  Fleet catalog;            // accelerators, node and domain types only
  std::vector<SiteSpec> sites;
  double cross_site_slowdown = kDefaultCrossSiteSlowdown;
  std::string comment;      // written at the top of the file; not read back
};

// Parses a TOML fleet description (docs/cluster.md). Errors name the file,
// the line and the key path (e.g. "sites[1].pools[0].count").
Result<FleetSpec> ParseFleetSpec(std::string_view text, const std::string& source);
// Instantiates the topology: each pool's domains in blocks of per_block, in
// order. Errors (an unknown type, more than 10^8 nodes) name `source`, the
// pool's line and its key path.
Result<Fleet> BuildFleet(const FleetSpec& spec, const std::string& source);
// ParseFleetSpec, then BuildFleet.
Result<Fleet> ParseFleetToml(std::string_view text, const std::string& source);
Result<Fleet> ReadFleetToml(const std::string& path);

// The catalog as [accelerators.*], [nodes.*] and [domains.*] tables (the
// implicit "node:NAME" domain types of node pools are left out).
std::string FormatCatalogToml(const Fleet& catalog);
// The whole fleet file.
std::string FormatFleetToml(const FleetSpec& spec);
// A TOML basic string: quoted, with quotes, backslashes and control
// characters escaped.
std::string TomlString(std::string_view s);
// A number as TOML reads it back to the same double (shortest exact form).
std::string TomlNumber(double v);

// A fleet from an openb node list: one site, one block, each node its own
// domain, node types by (cpu, memory, gpus, model).
Fleet FleetFromNodeList(const std::vector<NodeSpec>& nodes, const GpuModels& models);

// "3 sites, 48 blocks, 7,000 domains, 126,000 nodes, 504,000 GPUs (GB200), ..."
std::string DescribeFleet(const Fleet& f);

}  // namespace rackscale

namespace rackscale {

// Tenants and their dedicated clusters (docs/cluster.md, "Tenants").
struct TenantSpec {
  std::string name;
  double weight = 1;
  int64_t nominal_gpus = -1;     // quota; -1: none
  std::string cohort;            // tenants of a cohort lend unused quota
  int64_t borrowing_limit = -1;  // GPUs above nominal; -1: no limit
  // Contract prices, $ per GPU-hour: its dedicated GPUs while reserved
  // (busy or idle), its non-preemptible GPU-hours elsewhere, and its
  // preemptible GPU-hours elsewhere.
  double reserved_usd_per_gpu_hour = 0;
  double on_demand_usd_per_gpu_hour = 0;
  double spot_usd_per_gpu_hour = 0;
};

struct DedicatedSpec {
  std::string tenant;
  std::string domain_type;
  std::string site;      // empty: any site
  int64_t domains = 0;
  double start_day = 0, end_day = 0;
  bool lend = true;
  int64_t line = 0;
};

// An inference service as the tenants file describes it (docs/inference.md):
// its demand (a request trace or a rate curve) and its replicas.
struct ServiceDef {
  std::string name, tenant;
  std::string trace;            // LLM request trace, relative to the tenants file
  std::string format = "auto";  // azure, mooncake or auto
  std::string rate;             // or a rate curve "T:R,..." / "R" (tokens/s)
  double scale = 1;
  double peak_hour = 14, trough_hour = 4, trough_ratio = 0.35;
  int32_t gpus_per_replica = 8;
  double tokens_per_s_per_replica = 0;
  double tokens_per_request = 0;  // 0: the trace's mean
  int32_t batch_slots = 64;
  double slo_ms = 1000;
  int32_t min_replicas = 1, max_replicas = 1;
  double target_utilization = 0.7;
  double scale_down_cooldown_s = 300;
  double startup_s = 0;
  int32_t count = 1;         // copies name-0 .. name-(count-1)
  double stagger_hours = 0;  // copy i's day is shifted by i x this
  int64_t line = 0;
};

struct TenantsConfig {
  std::vector<TenantSpec> tenants;
  std::vector<DedicatedSpec> dedicated;
  std::vector<ServiceDef> services;
};

Result<TenantsConfig> ParseTenantsToml(std::string_view text, const std::string& source);
Result<TenantsConfig> ReadTenantsToml(const std::string& path);
// The tenants file that ParseTenantsToml reads back to an equal config
// (lines aside); `comment` goes at the top.
std::string FormatTenantsToml(const TenantsConfig& cfg, std::string_view comment = {});

}  // namespace rackscale
