#include "run/sim_inputs.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "report/plan_report.h"
#include "sim/fleet_sim.h"

namespace rackscale {
namespace {

constexpr double kDaysPerMonth = 365.0 / 12.0;

std::string Num(double v) { return fmt::format("{:.6g}", v); }
std::string Count(double v) { return FormatCount(v); }
const Scenario& Sc(const PlanRun& p) { return *p.scenario; }

}  // namespace

int64_t FailureHeadroomDomains(int64_t domains, double failures_per_domain_year, double repair_s) {
  int64_t k = 0;
  if (domains <= 0 || !(failures_per_domain_year > 0) || !(repair_s > 0)) return k;
  const double lambda = static_cast<double>(domains) * failures_per_domain_year / kSecondsPerYear * repair_s;
  double term = std::exp(-lambda), cdf = term;
  while (cdf < 0.99 && k < domains) {
    ++k;
    term *= lambda / static_cast<double>(k);
    cdf += term;
  }
  return k;
}

Result<SimInputs> BuildSimInputs(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  const SimulateSpec& sim = s.simulate;
  const int32_t w0 = sim.start_month, w1 = sim.start_month + sim.months;
  SimInputs out;
  out.days = sim.months * kDaysPerMonth;
  auto day_of = [&](int32_t month) { return std::max(0.0, (month - w0) * kDaysPerMonth); };
  FleetSpec& fleet = out.fleet;
  fleet.comment = fmt::format("The fleet plan '{}' has in service in {} .. {}, scaled by {} (written by rackscale run).",
                              s.name, s.MonthName(w0), s.MonthName(w1 - 1), Num(sim.scale));
  fleet.catalog = s.catalog;
  // Scaled domain counts carry their rounding remainders so that small
  // orders are not all lost.
  double carry = 0;
  std::vector<int64_t> dedicated_capacity(s.hardware.size(), 0);  // simulated domains at the window's end, per type
  const size_t W = static_cast<size_t>(w1 - w0);
  std::vector<double> online_gpus(W, 0);  // simulated GPUs in service, by window month
  bool any_site = false;
  for (size_t k = 0; k < s.sites.size(); ++k) {
    std::vector<PoolSpec> pools;
    for (size_t h = 0; h < s.hardware.size(); ++h) {
      const HardwareOption& hw = s.hardware[h];
      const int32_t life = static_cast<int32_t>(std::lround(hw.life_years * 12));
      for (int32_t t = 0; t < s.months; ++t) {
        const int64_t n = r.domains_ordered[h][k][static_cast<size_t>(t)];
        if (n == 0) continue;
        const int32_t on = t + hw.lead_months, off = life > 0 ? on + life : 1 << 29;
        if (on >= w1 || off <= w0) continue;
        const double want = static_cast<double>(n) * sim.scale + carry;
        const int64_t count = static_cast<int64_t>(std::floor(want));
        carry = want - static_cast<double>(count);
        if (count == 0) continue;
        if (off >= w1) dedicated_capacity[h] += count;
        for (int32_t m = std::max(on, w0); m < std::min(off, w1); ++m) {
          online_gpus[static_cast<size_t>(m - w0)] += static_cast<double>(count * hw.gpus_per_domain);
        }
        PoolSpec pool;
        pool.comment = fmt::format("{} {} ordered {}", n, hw.name, s.MonthName(t));
        pool.domain = s.catalog.domain_types[static_cast<size_t>(hw.domain_type)].name;
        pool.count = count;
        pool.per_block = 32;
        if (on > w0) pool.online_day = day_of(on);
        if (off < w1) pool.retire_day = day_of(off);
        pools.push_back(std::move(pool));
      }
    }
    if (pools.empty()) continue;
    any_site = true;
    const PowerSite& site = s.sites[k];
    SiteSpec ss;
    ss.name = site.name;
    ss.power_cap_mw = r.mw_in_service[k][static_cast<size_t>(w1 - 1)] * sim.scale;
    ss.pue = site.pue;
    ss.usd_per_mwh = site.usd_per_mwh;
    ss.pools = std::move(pools);
    fleet.sites.push_back(std::move(ss));
  }
  if (!any_site) {
    return Error::InvalidInput(s.source, 0, "simulate",
                               fmt::format("the plan has no domains in service in {} .. {} at scale {}: move simulate.start "
                                           "later or raise simulate.scale",
                                           s.MonthName(w0), s.MonthName(w1 - 1), Num(sim.scale)));
  }

  // Tenants: each contract's tenant holds dedicated domains as its
  // deliveries ramp (month by month within the window), split over the
  // hardware it may use in proportion to what is in service; on-demand
  // tenants share the rest.
  TenantsConfig& ten = out.tenants;
  std::map<std::string, double> contract_gpus;  // tenant -> simulated GPUs at the window's end
  std::map<std::string, std::vector<double>> contract_by_month;  // tenant -> its dedicated GPUs, by window month
  std::vector<int64_t> used(s.hardware.size(), 0);
  for (size_t c = 0; c < s.contracts.size(); ++c) {
    const ContractSpec& ct = s.contracts[c];
    std::vector<int32_t> allowed = ct.hardware;
    if (allowed.empty()) {
      for (size_t h = 0; h < s.hardware.size(); ++h) allowed.push_back(static_cast<int32_t>(h));
    }
    TenantSpec spec;
    spec.name = ct.tenant;
    spec.weight = 4;
    spec.reserved_usd_per_gpu_hour = ct.usd_per_gpu_hour;
    spec.on_demand_usd_per_gpu_hour = ct.usd_per_gpu_hour;
    ten.tenants.push_back(spec);
    for (int32_t h : allowed) {
      const std::string dtype = s.catalog.domain_types[static_cast<size_t>(s.hardware[static_cast<size_t>(h)].domain_type)].name;
      // The tenant's domains of type h month by month; dedicated entries
      // never share domains, so a ramp is a stack of increments, each open
      // from its month until the count falls below it or the window ends.
      struct Inc {
        int64_t domains;
        int32_t from;
      };
      std::vector<Inc> open;
      int64_t held = 0, last = 0;
      auto close = [&](const Inc& i, int32_t until) {
        if (until > i.from) {
          DedicatedSpec d;
          d.tenant = ct.tenant;
          d.domain_type = dtype;
          d.domains = i.domains;
          d.start_day = day_of(i.from);
          d.end_day = day_of(until);
          d.lend = true;
          ten.dedicated.push_back(d);
        }
      };
      for (int32_t t = w0; t < w1; ++t) {
        double total = 0, mine = 0;
        for (int32_t a : allowed) {
          double g = 0;
          for (size_t k = 0; k < s.sites.size(); ++k) g += static_cast<double>(r.domains_in_service[static_cast<size_t>(a)][k][static_cast<size_t>(t)]);
          g *= s.hardware[static_cast<size_t>(a)].gpus_per_domain;
          total += g;
          if (a == h) mine = g;
        }
        // This contract's served GPUs, apportioned to h by h's share of the allowed GPUs in service.
        const double gpus = total > 0 ? r.contract_served[c][static_cast<size_t>(t)] * mine / total : 0;
        int64_t n = static_cast<int64_t>(std::floor(gpus * sim.scale / s.hardware[static_cast<size_t>(h)].gpus_per_domain));
        n = std::clamp<int64_t>(n, 0, dedicated_capacity[static_cast<size_t>(h)] - used[static_cast<size_t>(h)]);
        while (held > n && !open.empty()) {
          close(open.back(), t);
          held -= open.back().domains;
          open.pop_back();
        }
        if (n > held) {
          open.push_back({n - held, t});
          held = n;
        }
        last = held;
        auto& by_month = contract_by_month[ct.tenant];
        by_month.resize(W, 0);
        by_month[static_cast<size_t>(t - w0)] += static_cast<double>(held * s.hardware[static_cast<size_t>(h)].gpus_per_domain);
      }
      for (const Inc& i : open) close(i, w1);
      int64_t taken = 0;
      for (const Inc& i : open) taken += i.domains;
      used[static_cast<size_t>(h)] += std::max(taken, last);
      contract_gpus[ct.tenant] += static_cast<double>(last) * s.hardware[static_cast<size_t>(h)].gpus_per_domain;
    }
  }
  const int32_t od_tenants = static_cast<int32_t>(sim.on_demand_tenants);
  for (int32_t i = 0; i < od_tenants; ++i) {
    TenantSpec od;
    od.name = fmt::format("od{}", i + 1);
    od.on_demand_usd_per_gpu_hour = s.on_demand.usd_per_gpu_hour;
    od.spot_usd_per_gpu_hour = s.on_demand.usd_per_gpu_hour * 0.4;
    ten.tenants.push_back(od);
  }
  // Inference services of each contract tenant: replicas of one domain,
  // serving a diurnal load that peaks at inference_share of its GPUs.
  const HardwareOption* rack = nullptr;
  for (const HardwareOption& h : s.hardware) {
    if (rack == nullptr || h.gpus_per_domain > rack->gpus_per_domain) rack = &h;
  }
  for (const auto& [tenant, gpus] : contract_gpus) {
    if (sim.inference_share <= 0 || gpus <= 0 || rack == nullptr) continue;
    // FACTS row 92: ~12,000 tokens/s per GPU on a GB200 NVL72 (Llama-2-70B);
    // row 89: the Azure conversation trace's mean request is 1,155 + 211 tokens.
    const double per_replica = 12000.0 * rack->gpus_per_domain;
    const int32_t replicas = std::max(1, static_cast<int32_t>(std::floor(gpus * sim.inference_share / rack->gpus_per_domain)));
    const double peak_rate = replicas * per_replica * 0.6;
    ServiceDef d;
    d.name = tenant + "-inference";
    d.tenant = tenant;
    d.rate = TomlNumber(peak_rate);
    d.peak_hour = 14;
    d.trough_hour = 4;
    d.trough_ratio = 0.35;
    d.gpus_per_replica = rack->gpus_per_domain;
    d.tokens_per_s_per_replica = per_replica;
    d.tokens_per_request = 1366;
    d.batch_slots = 256;
    d.slo_ms = 2000;
    d.min_replicas = 1;
    d.max_replicas = replicas;
    d.target_utilization = 0.7;
    d.startup_s = 300;
    ten.services.push_back(d);
  }

  // Where each contract tenant's dedicated domains are in service, month by
  // month, as the simulator will resolve them: per domain type, how many in
  // all and the most in one site.
  auto built = BuildFleet(fleet, s.source);
  if (!built) return built.error();
  const std::vector<std::vector<int32_t>> assigned = DedicatedDomains(*built, ten.dedicated);
  struct Capacity {
    int64_t domains = 0;   // in service, of its largest domain type
    int64_t site_max = 0;  // of them, the most in one site
    int32_t gpus_per_domain = 0;
    double failures_per_domain_year = 0;  // node failures a domain of the type sees
  };
  std::map<std::string, std::vector<Capacity>> capacity;  // tenant -> by window month
  for (const auto& [tenant, by_month] : contract_by_month) {
    std::vector<Capacity>& cap = capacity[tenant];
    cap.resize(W);
    for (size_t m = 0; m < W; ++m) {
      const Seconds at = static_cast<Seconds>(std::llround(day_of(w0 + static_cast<int32_t>(m)) * 86400));
      std::map<int32_t, std::map<int32_t, int64_t>> here;  // type -> site -> domains
      for (size_t i = 0; i < ten.dedicated.size(); ++i) {
        const DedicatedSpec& d = ten.dedicated[i];
        if (d.tenant != tenant || static_cast<Seconds>(std::llround(d.start_day * 86400)) > at ||
            static_cast<Seconds>(std::llround(d.end_day * 86400)) <= at) {
          continue;
        }
        for (int32_t x : assigned[i]) {
          const Domain& dom = built->domains[static_cast<size_t>(x)];
          if (dom.spare || !dom.InServiceAt(at)) continue;
          ++here[dom.type][built->site_of_domain(x)];
        }
      }
      for (const auto& [type, sites] : here) {
        Capacity c;
        c.gpus_per_domain = built->domain_types[static_cast<size_t>(type)].gpus;
        {
          const NodeType& nt = built->node_types[static_cast<size_t>(built->domain_types[static_cast<size_t>(type)].node_type)];
          double rate = nt.accelerator >= 0 ? built->accelerators[static_cast<size_t>(nt.accelerator)].failures_per_year : 0;
          if (rate <= 0) rate = kH100FailuresPerAcceleratorYear;
          c.failures_per_domain_year = rate * c.gpus_per_domain;
        }
        for (const auto& [site, n] : sites) {
          c.domains += n;
          c.site_max = std::max(c.site_max, n);
        }
        if (c.domains > cap[m].domains) cap[m] = c;
      }
    }
  }

  // The workload: each contract tenant's training, its largest gangs sized
  // to its dedicated capacity in service (the domains its inference service
  // leaves at its largest, up to max_gang_gpus) and `multi-site`
  // when no single site holds them; and on-demand tenants shaped like public
  // GPU-cluster traces (Philly, Helios, Acme; docs/traces.md), at the loads
  // the scenario names.
  int64_t fleet_gpus = 0;
  for (size_t h = 0; h < s.hardware.size(); ++h) fleet_gpus += dedicated_capacity[h] * s.hardware[h].gpus_per_domain;
  out.gpus = fleet_gpus;
  double contract_total = 0;
  for (const auto& [tenant, gpus] : contract_gpus) contract_total += gpus;
  out.contracted_gpus = static_cast<int64_t>(contract_total);
  AiWorkload w;
  w.tenants.emplace_back();
  int32_t domain_gpus = 1;
  for (const DomainType& d : s.catalog.domain_types) domain_gpus = std::max(domain_gpus, d.gpus);
  auto add = [&](const AiWorkload& part, const std::vector<std::string>& names) {
    std::vector<TenantId> map(part.tenants.size(), 0);
    for (size_t i = 1; i < part.tenants.size(); ++i) {
      const std::string& name = names.size() == 1 ? names[0] : names[i - 1];
      auto it = std::find(w.tenants.begin(), w.tenants.end(), name);
      if (it == w.tenants.end()) {
        w.tenants.push_back(name);
        it = w.tenants.end() - 1;
      }
      map[i] = static_cast<TenantId>(it - w.tenants.begin());
    }
    for (AiJob j : part.jobs) {
      j.tenant = map[j.tenant];
      w.jobs.push_back(j);
    }
  };
  // Month by month, so that each month's offered load matches the GPUs
  // in service then (a ramp does not overload its first months).
  uint64_t seed = sim.seed;
  const double month_days = kDaysPerMonth;
  const int64_t jobs_per_month = std::max<int64_t>(1, sim.max_jobs / static_cast<int64_t>(W));
  auto shift = [&](AiWorkload& part, size_t m) {
    const Seconds offset = static_cast<Seconds>(std::llround(static_cast<double>(m) * month_days * 86400));
    for (AiJob& j : part.jobs) j.submit += offset;
  };
  for (size_t m = 0; m < W; ++m) {
    double contract_now = 0;
    for (const auto& [tenant, by_month] : contract_by_month) {
      const double gpus = m < by_month.size() ? by_month[m] : 0;
      contract_now += gpus;
      if (gpus < 1) continue;
      // What its inference service leaves at its largest (max_replicas).
      const Capacity& cap = capacity[tenant][m];
      int64_t inference_domains = 0;
      for (const ServiceDef& d : ten.services) {
        if (d.tenant == tenant && cap.gpus_per_domain > 0) {
          inference_domains += (static_cast<int64_t>(d.max_replicas) * d.gpus_per_replica * std::max<int64_t>(1, d.count) +
                                cap.gpus_per_domain - 1) /
                               cap.gpus_per_domain;
        }
      }
      const int64_t train_domains = std::max<int64_t>(0, cap.domains - inference_domains);
      // Headroom for failures. A gang that needs every training domain
      // cannot restart after a node failure until the repair (8 h), and
      // large runs are not sized so (Llama 3 trained on 16k of 24k GPUs).
      // The largest gang leaves free as many domains as nodes under repair
      // take out at once with 99% probability: the 0.99 quantile of
      // Poisson(domains x failures per domain-second x repair time).
      auto headroom = [&](int64_t domains) {
        return s.simulate.failures ? FailureHeadroomDomains(domains, cap.failures_per_domain_year,
                                                            static_cast<double>(FleetSimOptions{}.repair))
                                   : int64_t{0};
      };
      const int64_t sized = std::min<int64_t>(
          std::max<int64_t>(0, train_domains - headroom(train_domains)) * cap.gpus_per_domain, sim.max_gang_gpus);
      // One site holds a gang with that site's own headroom to spare.
      const int64_t site_holds = std::max<int64_t>(0, cap.site_max - headroom(cap.site_max)) * cap.gpus_per_domain;
      AiGenParams g;
      g.days = month_days;
      g.tenants = 1;
      g.cpu_fraction = 0;
      g.gang_fraction = 0.05;
      g.max_gang = static_cast<int32_t>(std::max<int64_t>({256, domain_gpus, sized}));
      g.max_gang_exact = true;
      g.preemptible_fraction = 0;
      g.domain_gpus = domain_gpus;
      g.load = std::max(0.01, sim.contract_load * (1 - sim.inference_share * 0.6));
      g.capacity_gpus = static_cast<int64_t>(gpus);
      g.jobs = std::clamp<int64_t>(static_cast<int64_t>(gpus * month_days * 0.05), 50, std::max<int64_t>(50, jobs_per_month / 4));
      g.seed = seed++;
      auto part = GenerateAi(g);
      if (!part) return part.error();
      // Gangs that no one site's share of its capacity holds may span sites.
      for (AiJob& j : part->jobs) {
        if (cap.site_max > 0 && cap.site_max < cap.domains && j.gpus > site_holds) {
          j.topology = TopologyScope::kMultiSite;
        }
      }
      shift(*part, m);
      add(*part, {tenant});
    }
    const double od_gpus = online_gpus[m] - contract_now;
    if (od_gpus >= 1) {
      AiGenParams g;
      g.days = month_days;
      g.tenants = od_tenants;
      g.cpu_fraction = 0;
      g.max_gang = std::max({256, domain_gpus, std::min<int32_t>(1024, static_cast<int32_t>(od_gpus / 4))});
      g.domain_gpus = domain_gpus;
      g.load = std::max(0.01, s.on_demand.billed_share);
      g.capacity_gpus = static_cast<int64_t>(od_gpus);
      g.jobs = std::clamp<int64_t>(static_cast<int64_t>(od_gpus * month_days * 0.5), 100, std::max<int64_t>(100, jobs_per_month));
      g.seed = seed++;
      auto part = GenerateAi(g);
      if (!part) return part.error();
      shift(*part, m);
      std::vector<std::string> names;
      for (int32_t i = 0; i < od_tenants; ++i) names.push_back(fmt::format("od{}", i + 1));
      add(*part, names);
    }
  }
  std::stable_sort(w.jobs.begin(), w.jobs.end(), [](const AiJob& a, const AiJob& b) { return a.submit < b.submit; });
  for (size_t i = 0; i < w.jobs.size(); ++i) w.jobs[i].id = static_cast<JobId>(i + 1);
  // Tenants in order of first appearance, as the AI CSV reader numbers them,
  // so that `rackscale sim` on the written files repeats this run exactly.
  {
    std::vector<TenantId> remap(w.tenants.size(), 0);
    std::vector<std::string> names{w.tenants.empty() ? std::string() : w.tenants[0]};
    std::vector<bool> seen(w.tenants.size(), false);
    for (AiJob& j : w.jobs) {
      if (j.tenant != 0 && !seen[j.tenant]) {
        seen[j.tenant] = true;
        remap[j.tenant] = static_cast<TenantId>(names.size());
        names.push_back(w.tenants[j.tenant]);
      }
      j.tenant = remap[j.tenant];
    }
    w.tenants = std::move(names);
  }
  out.workload = std::move(w);
  out.note = fmt::format("{} .. {} at scale {}: {} GPUs ({} contracted), {} jobs", s.MonthName(w0), s.MonthName(w1 - 1),
                         Num(sim.scale), Count(static_cast<double>(fleet_gpus)), Count(contract_total),
                         Count(static_cast<double>(out.workload.jobs.size())));
  return out;
}

}  // namespace rackscale
