// Outputs of a fleet simulation (docs/outputs.md, "Fleet simulation").
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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
// The headline figures of a fleet simulation, computed once for summary.json,
// the terminal summary and report.html. Utilization is busy over online GPU
// time inside the measured window (FleetSimOptions::window_*).
struct FleetSummary {
  int64_t jobs = 0, done = 0, rejected = 0, invalid = 0, unfinished = 0;
  int64_t preemptions = 0, interruptions = 0, node_failures = 0;
  Seconds makespan_s = 0, window_start_s = 0, window_end_s = 0;
  double online_gpu_hours = 0, busy_gpu_hours = 0, down_gpu_hours = 0;
  double gpu_utilization = 0;
  double mean_wait_s = 0, mean_jct_s = 0;
  double lost_gpu_hours = 0, stranded_gpu_hours = 0, fragmented_gpu_hours = 0;
  double shared_slack_gpu_hours = 0;
  double ettr = 0;
  double energy_mwh = 0, energy_usd = 0, depreciation_usd = 0;
  double revenue_usd = 0, cost_usd = 0, margin_usd = 0, idle_reserved_cost_usd = 0;
  double inference_slo_attainment = 1, inference_gpu_hours = 0;  // with services
};
FleetSummary SummarizeFleet(const AiWorkload& w, const FleetSimResult& r);

// Daily means of the hourly time series over the fleet: each day's GPUs
// online, busy, failed (site rows summed per step), reserved and reserved
// idle (tenant rows summed), facility MW and the sites' caps, averaged over
// the simulated seconds of the day's steps. Days from 0 up to `until`
// (seconds; steps starting at or after it are left out).
struct DailyRow {
  int64_t day = 0;
  double gpus_online = 0, gpus_busy = 0, gpus_failed = 0, gpus_reserved = 0, gpus_reserved_idle = 0;
  double power_mw = 0, power_cap_mw = 0;
  double covered_s = 0;  // simulated seconds of the day
  double Utilization() const { return gpus_online > 0 ? gpus_busy / gpus_online : 0; }
};
std::vector<DailyRow> DailyMeans(const FleetSimResult& r, Seconds until);
// daily.csv (docs/outputs.md): `dates[i]` names row i's day when given.
std::string FormatDailyCsv(const std::vector<DailyRow>& rows, const std::vector<std::string>& dates);

// summary.json (docs/outputs.md), as an object and as text.
nlohmann::ordered_json FleetSummaryJson(const AiWorkload& w, const FleetSimResult& r,
                                        const FleetRunInfo& info);
std::string FormatFleetSummaryJson(const AiWorkload& w, const FleetSimResult& r,
                                   const FleetRunInfo& info);
std::string FormatFleetHumanSummary(const AiWorkload& w, const FleetSimResult& r,
                                    const FleetRunInfo& info);

}  // namespace rackscale
