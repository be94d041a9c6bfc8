// Outputs of a fleet simulation (docs/outputs.md, "Fleet simulation").
#pragma once

#include <string>

#include "sim/fleet_sim.h"

namespace rackscale {

struct FleetRunInfo {
  std::string trace, cluster, policy, placement, tenants_file;
  std::string power_policy = "none";
  bool failures = false;
  double wall_seconds = 0, sim_seconds = 0;
  bool timing = true;
};

// jobs.csv: id,tenant,submit,first_start,start,end,gpus,cpu_milli,status,preemptions
std::string FormatFleetJobsCsv(const AiWorkload& w, const FleetSimResult& r);
// tenants.csv: one row per tenant with jobs or a dedicated cluster.
std::string FormatTenantsCsv(const FleetSimResult& r);
// Per site: power, energy, money, failures (docs/outputs.md).
std::string FormatSitesCsv(const FleetSimResult& r);
// Per step (hourly by default), per site and per tenant (docs/outputs.md).
std::string FormatTimeseriesCsv(const FleetSimResult& r);
// Per inference service (docs/outputs.md).
std::string FormatServicesCsv(const FleetSimResult& r);
std::string FormatFleetSummaryJson(const AiWorkload& w, const FleetSimResult& r,
                                   const FleetRunInfo& info);
std::string FormatFleetHumanSummary(const AiWorkload& w, const FleetSimResult& r,
                                    const FleetRunInfo& info);

}  // namespace rackscale
