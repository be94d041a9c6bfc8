#include "report/fleet_report.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/text.h"
#include "report/metrics.h"
#include "report/writers.h"

namespace rackscale {
namespace {

double Percentile(std::vector<uint32_t> v, int p) {
  if (v.empty()) return 0;
  const size_t k = NearestRankIndex(v.size(), p);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}

bool Listed(const TenantStats& t) { return t.jobs > 0 || t.dedicated_gpus > 0; }

// GPU-weighted effective training time ratio of a tenant's done GPU jobs.
double Ettr(const TenantStats& t) {
  return t.ettr_wall_gpu_seconds > 0 ? t.ettr_work_gpu_seconds / t.ettr_wall_gpu_seconds : 0;
}

// Tenants to report, in name order (independent of the order they were seen).
std::vector<const TenantStats*> ByName(const FleetSimResult& r) {
  std::vector<const TenantStats*> out;
  for (const TenantStats& t : r.tenants) {
    if (Listed(t)) out.push_back(&t);
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const TenantStats* a, const TenantStats* b) { return a->name < b->name; });
  return out;
}

}  // namespace

std::string FormatFleetJobsCsv(const AiWorkload& w, const FleetSimResult& r) {
  std::vector<uint32_t> order(w.jobs.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return w.jobs[a].id < w.jobs[b].id; });
  OutBuffer out;
  out.Reserve(w.jobs.size() * 64 + 128);
  out.Put("id,tenant,submit,first_start,start,end,gpus,cpu_milli,status,preemptions,interruptions,"
          "lost_gpu_hours,ettr,held_gpu_hours\n");
  for (uint32_t i : order) {
    const AiJob& j = w.jobs[i];
    const FleetJobOutcome& o = r.outcomes[i];
    out.PutInt(j.id);
    out.Put(',');
    out.Put(w.tenants[j.tenant]);
    out.Put(',');
    out.PutInt(j.submit);
    out.Put(',');
    if (o.status == JobStatus::kDone) {
      out.PutInt(o.first_start);
      out.Put(',');
      out.PutInt(o.start);
      out.Put(',');
      out.PutInt(o.end);
    } else {
      out.Put(",,");
    }
    out.Put(',');
    out.PutInt(j.gpus);
    out.Put(',');
    out.PutInt(j.cpu_milli);
    out.Put(',');
    out.Put(JobStatusName(o.status));
    out.Put(',');
    out.PutInt(o.preemptions);
    out.Put(',');
    out.PutInt(o.interruptions);
    out.Put(',');
    out.Put(fmt::format("{:.4f}", o.lost_gpu_seconds / 3600));
    out.Put(',');
    if (o.status == JobStatus::kDone && j.gpus > 0 && o.end > o.first_start) {
      out.Put(fmt::format("{:.4f}", static_cast<double>(j.runtime) /
                                        static_cast<double>(o.end - o.first_start)));
    }
    out.Put(',');
    out.Put(fmt::format("{:.4f}", o.held_gpu_seconds / 3600));
    out.Put('\n');
  }
  return out.Take();
}

std::string FormatTenantsCsv(const FleetSimResult& r) {
  double total = 0;
  for (const TenantStats& t : r.tenants) total += t.gpu_seconds;
  std::string out =
      "tenant,weight,jobs,done,rejected,invalid,unfinished,gpu_hours,gpu_share,mean_wait_s,mean_jct_s,"
      "preemptions,lost_gpu_hours,dedicated_gpus,stranded_gpu_hours,fragmented_gpu_hours,"
      "interruptions,ettr,revenue_usd,cost_usd,margin_usd,idle_reserved_cost_usd\n";
  for (const TenantStats* tp : ByName(r)) {
    const TenantStats& t = *tp;
    out += fmt::format("{},{},{},{},{},{},{},{:.3f},{:.6f},{:.1f},{:.1f},{},{:.3f},{},{:.3f},{:.3f},"
                       "{},{:.4f},{:.2f},{:.2f},{:.2f},{:.2f}\n",
                       t.name.empty() ? "(none)" : t.name, t.weight, t.jobs, t.done, t.rejected,
                       t.invalid, t.unfinished, t.gpu_seconds / 3600, total > 0 ? t.gpu_seconds / total : 0,
                       t.done ? t.wait_sum / static_cast<double>(t.done) : 0,
                       t.done ? t.jct_sum / static_cast<double>(t.done) : 0, t.preemptions,
                       t.lost_gpu_seconds / 3600, t.dedicated_gpus, t.stranded_gpu_seconds / 3600,
                       t.fragmented_gpu_seconds / 3600, t.interruptions, Ettr(t),
                       t.revenue_usd, t.cost_usd, t.revenue_usd - t.cost_usd,
                       t.idle_reserved_cost_usd);
  }
  return out;
}

std::string FormatSitesCsv(const FleetSimResult& r) {
  std::string out =
      "site,power_cap_mw,pue,peak_mw,energy_mwh,energy_usd,depreciation_usd,revenue_usd,cost_usd,"
      "margin_usd,gpu_utilization,failures,down_gpu_hours,throttled_hours,over_cap_hours\n";
  for (const SiteStats& s : r.sites) {
    const double cost = s.energy_usd + s.depreciation_usd;
    out += fmt::format("{},{},{},{:.3f},{:.3f},{:.2f},{:.2f},{:.2f},{:.2f},{:.2f},{:.6f},{},{:.3f},{:.3f},"
                       "{:.3f}\n",
                       s.name, s.power_cap_mw, s.pue, s.peak_mw, s.energy_mwh, s.energy_usd,
                       s.depreciation_usd, s.revenue_usd, cost, s.revenue_usd - cost,
                       s.online_gpu_seconds > 0 ? s.busy_gpu_seconds / s.online_gpu_seconds : 0,
                       s.failures, s.down_gpu_seconds / 3600, s.throttled_seconds / 3600,
                       s.over_cap_seconds / 3600);
  }
  return out;
}

std::string FormatTimeseriesCsv(const FleetSimResult& r) {
  OutBuffer out;
  out.Reserve(r.timeseries.size() * 96 + 256);
  out.Put("hour,scope,name,gpus_online,gpus_busy,gpus_idle,gpus_failed,gpus_reserved,"
          "gpus_reserved_idle,power_mw,power_cap_mw,speed,replicas,demand_tokens_per_s,"
          "slo_attainment,revenue_usd,cost_usd,covered_s\n");
  const double hours = static_cast<double>(r.timeseries_step) / 3600;
  for (const TimeRow& x : r.timeseries) {
    const double len = x.covered_s > 0 ? x.covered_s : static_cast<double>(r.timeseries_step);
    const size_t id = static_cast<size_t>(x.id);
    const double hour = static_cast<double>(x.step) * hours;
    switch (x.scope) {
      case TimeScope::kSite: {
        const SiteStats& s = r.sites[id];
        out.Put(fmt::format("{:g},site,{},{:.2f},{:.2f},{:.2f},{:.2f},,,{:.4f},{},{:.4f},,,,{:.2f},{:.2f},{:g}\n",
                            hour, s.name, x.gpus_online, x.gpus_busy, x.gpus_online - x.gpus_busy - x.gpus_failed,
                            x.gpus_failed, x.power_mw, s.power_cap_mw, x.speed, x.revenue_usd, x.cost_usd, len));
        break;
      }
      case TimeScope::kTenant: {
        const TenantStats& t = r.tenants[id];
        if (!Listed(t) && x.gpus_busy == 0) continue;
        out.Put(fmt::format("{:g},tenant,{},,{:.2f},,,{:.2f},{:.2f},,,,,,,{:.2f},,{:g}\n", hour,
                            t.name.empty() ? "(none)" : t.name, x.gpus_busy, x.gpus_reserved,
                            x.gpus_reserved_idle, x.revenue_usd, len));
        break;
      }
      case TimeScope::kService: {
        const ServiceStats& v = r.services[id];
        out.Put(fmt::format("{:g},service,{},,{:.2f},,,,,,,,{:.2f},{:.1f},{:.4f},,,{:g}\n", hour, v.name,
                            x.replicas / len * v.gpus_per_replica, x.replicas / len,
                            x.demand_tokens / len,
                            x.demand_tokens > 0 ? x.attained_tokens / x.demand_tokens : 1.0, len));
        break;
      }
    }
  }
  return out.Take();
}

std::vector<DailyRow> DailyMeans(const FleetSimResult& r, Seconds until) {
  std::vector<DailyRow> days;
  const Seconds step = r.timeseries_step;
  if (step <= 0) return days;
  std::vector<double> caps_by_step;
  double caps = 0;
  for (const SiteStats& s : r.sites) caps += s.power_cap_mw;
  int64_t last_step = -1;
  for (const TimeRow& x : r.timeseries) {
    const Seconds at = x.step * step;
    if (at < 0 || at >= until) continue;
    const int64_t day = at / 86400;
    if (static_cast<int64_t>(days.size()) <= day) {
      const size_t from = days.size();
      days.resize(static_cast<size_t>(day) + 1);
      for (size_t d = from; d < days.size(); ++d) days[d].day = static_cast<int64_t>(d);
    }
    DailyRow& d = days[static_cast<size_t>(day)];
    // Each step's rows share its covered seconds; the means weigh steps by them.
    const double w = x.covered_s;
    if (x.step != last_step) {
      d.covered_s += w;
      d.power_cap_mw += caps * w;
      last_step = x.step;
    }
    switch (x.scope) {
      case TimeScope::kSite:
        d.gpus_online += x.gpus_online * w;
        d.gpus_busy += x.gpus_busy * w;
        d.gpus_failed += x.gpus_failed * w;
        d.power_mw += x.power_mw * w;
        break;
      case TimeScope::kTenant:
        d.gpus_reserved += x.gpus_reserved * w;
        d.gpus_reserved_idle += x.gpus_reserved_idle * w;
        break;
      case TimeScope::kService:
        break;
    }
  }
  for (DailyRow& d : days) {
    if (d.covered_s <= 0) continue;
    for (double* v : {&d.gpus_online, &d.gpus_busy, &d.gpus_failed, &d.gpus_reserved, &d.gpus_reserved_idle, &d.power_mw,
                      &d.power_cap_mw}) {
      *v /= d.covered_s;
    }
  }
  return days;
}

std::string FormatDailyCsv(const std::vector<DailyRow>& rows, const std::vector<std::string>& dates) {
  std::string out = "day,date,gpus_online,gpus_busy,gpus_failed,gpus_reserved,gpus_reserved_idle,power_mw,power_cap_mw,"
                    "gpu_utilization,covered_s\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const DailyRow& d = rows[i];
    out += fmt::format("{},{},{:.2f},{:.2f},{:.2f},{:.2f},{:.2f},{:.4f},{:.4f},{:.5f},{:.0f}\n", d.day,
                       i < dates.size() ? dates[i] : "", d.gpus_online, d.gpus_busy, d.gpus_failed, d.gpus_reserved,
                       d.gpus_reserved_idle, d.power_mw, d.power_cap_mw, d.Utilization(), d.covered_s);
  }
  return out;
}

std::string FormatServicesCsv(const FleetSimResult& r) {
  std::string out =
      "service,tenant,gpus_per_replica,min_replicas,max_replicas,slo_attainment,mean_replicas,"
      "peak_replicas,replica_hours,gpu_hours,starved_replica_hours,demand_tokens\n";
  for (const ServiceStats& v : r.services) {
    out += fmt::format("{},{},{},{},{},{:.6f},{:.3f},{},{:.3f},{:.3f},{:.3f},{:.0f}\n", v.name, v.tenant,
                       v.gpus_per_replica, v.min_replicas, v.max_replicas, v.slo_attainment,
                       v.mean_replicas, v.peak_replicas, v.replica_hours, v.gpu_hours,
                       v.starved_replica_hours, v.demand_tokens);
  }
  return out;
}

FleetSummary SummarizeFleet(const AiWorkload& w, const FleetSimResult& r) {
  FleetSummary f;
  f.jobs = static_cast<int64_t>(w.jobs.size());
  double wait = 0, jct = 0, lost = 0, stranded = 0, work = 0, wall = 0;
  for (const TenantStats& t : r.tenants) {
    f.done += t.done;
    f.rejected += t.rejected;
    f.invalid += t.invalid;
    f.unfinished += t.unfinished;
    f.preemptions += t.preemptions;
    f.interruptions += t.interruptions;
    wait += t.wait_sum;
    jct += t.jct_sum;
    lost += t.lost_gpu_seconds;
    stranded += t.stranded_gpu_seconds;
    work += t.ettr_work_gpu_seconds;
    wall += t.ettr_wall_gpu_seconds;
    f.idle_reserved_cost_usd += t.idle_reserved_cost_usd;
    // Reserved fees are billed per tenant, not per site: the tenants' sum.
    f.revenue_usd += t.revenue_usd;
  }
  f.makespan_s = f.done > 0 ? r.last_end - r.first_submit : 0;
  f.window_start_s = r.window_start;
  f.window_end_s = r.window_end;
  f.online_gpu_hours = r.window.online / 3600;
  f.busy_gpu_hours = r.window.busy / 3600;
  f.down_gpu_hours = r.window.down / 3600;
  f.gpu_utilization = r.window.Utilization();
  f.mean_wait_s = f.done ? wait / static_cast<double>(f.done) : 0.0;
  f.mean_jct_s = f.done ? jct / static_cast<double>(f.done) : 0.0;
  f.lost_gpu_hours = lost / 3600;
  f.stranded_gpu_hours = stranded / 3600;
  f.fragmented_gpu_hours = r.fragmented_gpu_seconds / 3600;
  f.shared_slack_gpu_hours = r.shared_slack_gpu_seconds / 3600;
  f.node_failures = r.failures;
  f.ettr = wall > 0 ? work / wall : 0.0;
  for (const SiteStats& s : r.sites) {
    f.energy_mwh += s.energy_mwh;
    f.energy_usd += s.energy_usd;
    f.depreciation_usd += s.depreciation_usd;
  }
  f.cost_usd = f.energy_usd + f.depreciation_usd;
  f.margin_usd = f.revenue_usd - f.cost_usd;
  if (!r.services.empty()) {
    double demand = 0, attained = 0;
    for (const ServiceStats& v : r.services) {
      demand += v.demand_tokens;
      attained += v.demand_tokens * v.slo_attainment;
      f.inference_gpu_hours += v.gpu_hours;
    }
    f.inference_slo_attainment = demand > 0 ? attained / demand : 1.0;
  }
  return f;
}

std::string FormatFleetSummaryJson(const AiWorkload& w, const FleetSimResult& r,
                                   const FleetRunInfo& info) {
  return FleetSummaryJson(w, r, info).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::ordered_json FleetSummaryJson(const AiWorkload& w, const FleetSimResult& r, const FleetRunInfo& info) {
  const FleetSummary f = SummarizeFleet(w, r);
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.fleet.summary";
  j["schema_version"] = 3;
  j["trace"] = info.trace;
  j["cluster"] = info.cluster;
  j["policy"] = info.policy;
  j["placement"] = info.placement;
  j["tenants_file"] = info.tenants_file;
  j["power_policy"] = info.power_policy;
  j["failures_enabled"] = info.failures;
  j["jobs"] = f.jobs;
  j["done"] = f.done;
  j["rejected"] = f.rejected;
  j["invalid"] = f.invalid;
  j["unfinished"] = f.unfinished;
  j["fleet_gpus"] = r.fleet_gpus;
  j["makespan"] = f.makespan_s;
  j["bad_lines"] = w.bad_lines;
  j["window_start"] = f.window_start_s;
  j["window_end"] = f.window_end_s;
  j["online_gpu_hours"] = f.online_gpu_hours;
  j["busy_gpu_hours"] = f.busy_gpu_hours;
  j["down_gpu_hours"] = f.down_gpu_hours;
  j["gpu_utilization"] = f.gpu_utilization;
  j["mean_wait"] = f.mean_wait_s;
  j["mean_jct"] = f.mean_jct_s;
  j["preemptions"] = f.preemptions;
  j["lost_gpu_hours"] = f.lost_gpu_hours;
  j["stranded_gpu_hours"] = f.stranded_gpu_hours;
  j["fragmented_gpu_hours"] = f.fragmented_gpu_hours;
  j["shared_slack_gpu_hours"] = f.shared_slack_gpu_hours;
  j["simulated_events"] = r.events;
  j["scheduling_passes"] = r.passes;
  j["placement_decisions"] = r.decisions;
  {
    j["node_failures"] = f.node_failures;
    j["interruptions"] = f.interruptions;
    j["ettr"] = f.ettr;
    j["energy_mwh"] = f.energy_mwh;
    j["energy_usd"] = f.energy_usd;
    j["depreciation_usd"] = f.depreciation_usd;
    j["revenue_usd"] = f.revenue_usd;
    j["cost_usd"] = f.cost_usd;
    j["margin_usd"] = f.margin_usd;
    j["idle_reserved_cost_usd"] = f.idle_reserved_cost_usd;
  nlohmann::ordered_json sites = nlohmann::json::array();
    for (const SiteStats& s : r.sites) {
      nlohmann::ordered_json x;
      x["site"] = s.name;
      x["power_cap_mw"] = s.power_cap_mw;
      x["peak_mw"] = s.peak_mw;
      x["energy_mwh"] = s.energy_mwh;
      x["energy_usd"] = s.energy_usd;
      x["depreciation_usd"] = s.depreciation_usd;
      x["gpu_utilization"] = s.window.Utilization();
      x["failures"] = s.failures;
      x["throttled_hours"] = s.throttled_seconds / 3600;
      x["over_cap_hours"] = s.over_cap_seconds / 3600;
      sites.push_back(x);
    }
    j["sites"] = sites;
    if (!r.services.empty()) {
      nlohmann::ordered_json services = nlohmann::json::array();
      for (const ServiceStats& v : r.services) {
        nlohmann::ordered_json x;
        x["service"] = v.name;
        x["tenant"] = v.tenant;
        x["slo_attainment"] = v.slo_attainment;
        x["mean_replicas"] = v.mean_replicas;
        x["peak_replicas"] = v.peak_replicas;
        x["gpu_hours"] = v.gpu_hours;
        x["starved_replica_hours"] = v.starved_replica_hours;
        services.push_back(x);
      }
      j["inference_slo_attainment"] = f.inference_slo_attainment;
      j["inference_gpu_hours"] = f.inference_gpu_hours;
      j["services"] = services;
    }
  }
  nlohmann::ordered_json tenants = nlohmann::json::array();
  double total = 0;
  for (const TenantStats& t : r.tenants) total += t.gpu_seconds;
  for (const TenantStats* tp : ByName(r)) {
    const TenantStats& t = *tp;
    nlohmann::ordered_json x;
    x["tenant"] = t.name;
    x["weight"] = t.weight;
    x["jobs"] = t.jobs;
    x["done"] = t.done;
    x["gpu_hours"] = t.gpu_seconds / 3600;
    x["gpu_share"] = total > 0 ? t.gpu_seconds / total : 0;
    x["mean_wait"] = t.done ? t.wait_sum / static_cast<double>(t.done) : 0;
    x["mean_jct"] = t.done ? t.jct_sum / static_cast<double>(t.done) : 0;
    x["preemptions"] = t.preemptions;
    x["lost_gpu_hours"] = t.lost_gpu_seconds / 3600;
    x["dedicated_gpus"] = t.dedicated_gpus;
    x["stranded_gpu_hours"] = t.stranded_gpu_seconds / 3600;
    x["fragmented_gpu_hours"] = t.fragmented_gpu_seconds / 3600;
    x["interruptions"] = t.interruptions;
    x["ettr"] = Ettr(t);
    x["revenue_usd"] = t.revenue_usd;
    x["cost_usd"] = t.cost_usd;
    x["margin_usd"] = t.revenue_usd - t.cost_usd;
    x["idle_reserved_cost_usd"] = t.idle_reserved_cost_usd;
    tenants.push_back(x);
  }
  j["tenants"] = tenants;
  if (info.timing) {
    j["wall_seconds"] = info.wall_seconds;
    j["sim_seconds"] = info.sim_seconds;
    j["events_per_second"] = info.sim_seconds > 0 ? r.events / info.sim_seconds : 0.0;
    j["decision_p50_us"] = Percentile(r.decision_ns, 50) / 1000.0;
    j["decision_p99_us"] = Percentile(r.decision_ns, 99) / 1000.0;
  }
  return j;
}

std::string FormatFleetHumanSummary(const AiWorkload& w, const FleetSimResult& r,
                                    const FleetRunInfo& info) {
  const nlohmann::ordered_json s = FleetSummaryJson(w, r, info);
  std::string out = fmt::format("{} on {}, policy {}, placement {}\n", info.trace, info.cluster,
                                info.policy, info.placement);
  out += fmt::format("  jobs         {} ({} done, {} rejected, {} invalid, {} unfinished), {} "
                     "preemptions\n",
                     w.jobs.size(), s["done"].get<int64_t>(), s["rejected"].get<int64_t>(),
                     s["invalid"].get<int64_t>(), s["unfinished"].get<int64_t>(),
                     s["preemptions"].get<int64_t>());
  out += fmt::format("  fleet        {} GPUs, utilization {:.1f}% of the GPU time in service over {}\n", r.fleet_gpus,
                     100 * s["gpu_utilization"].get<double>(),
                     HumanDuration(static_cast<double>(r.window_end - r.window_start)));
  out += fmt::format("  wait         mean {}, JCT mean {}\n", HumanDuration(s["mean_wait"].get<double>()),
                     HumanDuration(s["mean_jct"].get<double>()));
  out += fmt::format("  idle         {:.0f} stranded dedicated GPU-hours, {:.0f} GPU-hours free while "
                     "GPU jobs waited\n",
                     s["stranded_gpu_hours"].get<double>(), s["fragmented_gpu_hours"].get<double>());
  if (info.failures) {
    out += fmt::format("  failures     {} node failures, {} job interruptions, ETTR {:.1f}%\n",
                       s["node_failures"].get<int64_t>(), s["interruptions"].get<int64_t>(),
                       100 * s["ettr"].get<double>());
  }
  out += fmt::format("  power        {:.1f} MWh, ${:.0f} ({} caps)\n", s["energy_mwh"].get<double>(),
                     s["energy_usd"].get<double>(), info.power_policy);
  for (const auto& x : s["sites"]) {
    if (x["power_cap_mw"].get<double>() <= 0) continue;
    out += fmt::format("    {:<12} peak {:.2f} of {:.2f} MW, throttled {:.0f} h\n",
                       x["site"].get<std::string>(), x["peak_mw"].get<double>(),
                       x["power_cap_mw"].get<double>(), x["throttled_hours"].get<double>());
  }
  out += fmt::format("  money        revenue ${:.0f}, cost ${:.0f} (energy ${:.0f}, depreciation ${:.0f}), "
                     "margin ${:.0f}\n",
                     s["revenue_usd"].get<double>(), s["cost_usd"].get<double>(),
                     s["energy_usd"].get<double>(), s["depreciation_usd"].get<double>(),
                     s["margin_usd"].get<double>());
  if (s.contains("services")) {
    out += fmt::format("  inference    {} services, SLO attainment {:.2f}%, {:.0f} GPU-hours\n",
                       s["services"].size(), 100 * s["inference_slo_attainment"].get<double>(),
                       s["inference_gpu_hours"].get<double>());
  }
  out += "  tenant        weight   GPU-hours   share   mean wait  preempt  stranded GPU-h\n";
  std::vector<nlohmann::json> rows(s["tenants"].begin(), s["tenants"].end());
  std::stable_sort(rows.begin(), rows.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
    return a["gpu_hours"].get<double>() > b["gpu_hours"].get<double>();
  });
  for (const auto& t : rows) {
    out += fmt::format("  {:<12} {:>7.2f} {:>11.0f} {:>6.1f}% {:>11} {:>8} {:>15.0f}\n",
                       t["tenant"].get<std::string>().empty() ? "(none)" : t["tenant"].get<std::string>(),
                       t["weight"].get<double>(), t["gpu_hours"].get<double>(),
                       100 * t["gpu_share"].get<double>(), HumanDuration(t["mean_wait"].get<double>()),
                       t["preemptions"].get<int64_t>(), t["stranded_gpu_hours"].get<double>());
  }
  if (info.timing) {
    out += fmt::format("  run          {} events in {:.2f} s wall ({:.2f} s simulating); placement "
                       "decision p50 {:.1f} us, p99 {:.1f} us\n",
                       r.events, info.wall_seconds, info.sim_seconds,
                       s["decision_p50_us"].get<double>(), s["decision_p99_us"].get<double>());
  }
  return out;
}

}  // namespace rackscale
