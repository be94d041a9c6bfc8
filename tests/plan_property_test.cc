// Every plan the planner writes is feasible: a seeded generator of a few
// hundred small random programs (1-3 sites, 1-3 hardware types, 1-2
// contracts, on-demand demand, lead times, hardware lives short enough that
// replacements happen within the horizon, tight cash and capex limits,
// orders continuous in the search and rounded after), each solved within a
// small node limit and re-planned the way a sensitivity run does (one input
// changed, the base plan's phases as the hint); CheckPlan must pass on
// every plan. And the two defects of issue 11, reproduced: power drawn
// beyond a site's MW after the hardware's life ends (the default scenario's
// contract at 1.25x and 1.75x), and cash taken below the floor by rounding
// (the small scenario with $60M of cash and a $55M floor, and with no
// operating cash flow).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "plan/plan_run.h"
#include "plan/planner.h"
#include "plan/scenario.h"

namespace rackscale {
namespace {

// SplitMix64: the same numbers on every platform (the standard
// distributions are not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : x_(seed) {}
  uint64_t Next() {
    uint64_t z = (x_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  int Int(int lo, int hi) { return lo + static_cast<int>(Next() % static_cast<uint64_t>(hi - lo + 1)); }  // [lo, hi]
  double Real(double lo, double hi) { return lo + (hi - lo) * static_cast<double>(Next() >> 11) / 9007199254740992.0; }
  bool Chance(double p) { return Real(0, 1) < p; }

 private:
  uint64_t x_;
};

// A subset of the hardware types (empty: any type).
std::vector<int32_t> SomeTypes(Rng& g, int H) {
  if (H == 1 || g.Chance(0.4)) return {};
  std::vector<int32_t> out;
  for (int h = 0; h < H; ++h) {
    if (g.Chance(0.5)) out.push_back(h);
  }
  if (out.empty()) out.push_back(g.Int(0, H - 1));
  return out;
}

PlanInput RandomInput(uint64_t seed) {
  Rng g(seed);
  PlanInput in;
  in.months = g.Int(14, 30);
  const int S = g.Int(1, 3), H = g.Int(1, 3), C = g.Int(1, 2);
  for (int s = 0; s < S; ++s) {
    PlanSite x;
    x.name = "s" + std::to_string(s);
    x.initial_mw = g.Chance(0.3) ? 0.0 : g.Real(0.05, 1.5);
    x.mw_per_phase = g.Real(0.2, 1.5);
    x.usd_per_mw = g.Real(0.5e6, 8e6);
    x.lead_months = g.Int(0, 8);
    x.earliest_month = g.Int(0, 3);
    x.max_phases = g.Int(0, 3);
    x.pue = g.Real(1.0, 1.4);
    x.usd_per_mwh = g.Real(30, 110);
    x.life_years = g.Chance(0.5) ? 0.0 : g.Real(0.5, 4);
    in.sites.push_back(x);
  }
  const int gpus[] = {4, 8, 16, 72};
  for (int h = 0; h < H; ++h) {
    PlanHardware x;
    x.name = "h" + std::to_string(h);
    x.gpus_per_domain = gpus[g.Int(0, 3)];
    x.kw_per_domain = g.Real(5, 140);
    x.usd_per_domain = x.gpus_per_domain * g.Real(5e3, 40e3);
    x.lead_months = g.Int(0, 5);
    x.life_months = g.Int(3, 14);  // short: replacements happen within the horizon
    x.first_order_month = g.Int(0, 3);
    x.average_load = g.Real(0.4, 1.0);
    in.hardware.push_back(x);
  }
  for (int c = 0; c < C; ++c) {
    PlanContract x;
    x.name = "c" + std::to_string(c);
    x.hardware = SomeTypes(g, H);
    const int h0 = x.hardware.empty() ? 0 : x.hardware.front();
    const int64_t unit = in.hardware[static_cast<size_t>(h0)].gpus_per_domain;
    // Mostly due once its hardware can be in service; sometimes before.
    int ready = in.months;
    for (int h = 0; h < H; ++h) {
      if (x.hardware.empty() || std::find(x.hardware.begin(), x.hardware.end(), h) != x.hardware.end()) {
        ready = std::min(ready, in.hardware[static_cast<size_t>(h)].first_order_month + in.hardware[static_cast<size_t>(h)].lead_months);
      }
    }
    const int start = g.Chance(0.7) ? g.Int(std::min(ready, in.months / 2), in.months / 2) : g.Int(0, in.months / 2);
    const int steps = g.Int(1, 3);
    const int64_t peak = unit * g.Int(2, 30) + g.Int(0, static_cast<int>(unit) - 1);  // not a whole number of domains
    x.contracted_gpus.assign(static_cast<size_t>(in.months), 0);
    for (int t = start; t < in.months; ++t) {
      const int step = std::min(steps, 1 + (t - start) / 3);
      x.contracted_gpus[static_cast<size_t>(t)] = peak * step / steps;
    }
    if (g.Chance(0.3)) {  // ends before the horizon
      const int end = g.Int(start + 1, in.months);
      for (int t = end; t < in.months; ++t) x.contracted_gpus[static_cast<size_t>(t)] = 0;
    }
    // Priced around what a GPU of its first type costs a month of its life.
    const PlanHardware& ref = in.hardware[static_cast<size_t>(h0)];
    const double cost = ref.usd_per_domain / ref.gpus_per_domain / ref.life_months;
    x.usd_per_gpu_month = cost * g.Real(0.5, 3.0);
    x.penalty_usd_per_gpu_month = g.Chance(0.3) ? 0.0 : cost * g.Real(0.1, 2.0);
    in.contracts.push_back(x);
  }
  if (g.Chance(0.6)) {
    const double base = g.Real(5, 300), growth = g.Real(-0.2, 1.0);
    for (int t = 0; t < in.months; ++t) in.on_demand.gpus.push_back(base * std::pow(1 + growth, t / 12.0));
    in.on_demand.hardware = SomeTypes(g, H);
    const PlanHardware& ref = in.hardware[in.on_demand.hardware.empty() ? 0 : static_cast<size_t>(in.on_demand.hardware.front())];
    in.on_demand.usd_per_gpu_month = ref.usd_per_domain / ref.gpus_per_domain / ref.life_months * g.Real(0.3, 2.5);
  }
  // What the contracts' peak costs in hardware: the scale of the money.
  double need_usd = 0;
  for (const PlanContract& c : in.contracts) {
    int64_t peak = 0;
    for (int64_t x : c.contracted_gpus) peak = std::max(peak, x);
    const PlanHardware& hw = in.hardware[c.hardware.empty() ? 0 : static_cast<size_t>(c.hardware.front())];
    need_usd += static_cast<double>(peak) / hw.gpus_per_domain * hw.usd_per_domain;
  }
  if (g.Chance(0.6)) {
    for (int y = 0; y * 12 < in.months; ++y) in.capex_limit_usd.push_back(need_usd * g.Real(0.2, 1.2));
  }
  if (g.Chance(0.3)) {
    const int first = g.Int(0, in.months - 1);
    in.capex_limits.push_back(PlanCapexLimit{"window", first, std::min(in.months - 1, first + g.Int(0, 6)), need_usd * g.Real(0.1, 0.8)});
  }
  in.discount_rate = g.Real(0, 0.15);
  if (g.Chance(0.85)) {
    in.cash.enabled = true;
    in.cash.min_usd = g.Real(0, 100e6);
    in.cash.starting_usd = in.cash.min_usd + need_usd * g.Real(0, 1.2);  // tight: at most a little over the contracts' hardware
    const double monthly = need_usd * g.Real(-0.02, 0.2);
    for (int t = 0; t < in.months; ++t) in.cash.other_flow_usd.push_back(g.Chance(0.2) ? 0.0 : monthly);
    in.cash.breach_penalty = g.Chance(0.2) ? g.Real(0, 0.5) : 1.0;
    if (g.Chance(0.15)) {
      in.payroll.free = true;
      in.payroll.month = g.Int(0, in.months / 2);
      in.payroll.max_roles = g.Int(0, 400);
      in.payroll.saving_usd_per_role_month = g.Real(5e3, 20e3);
      in.payroll.severance_usd_per_role = g.Real(0, 100e3);
    }
  }
  in.integer_orders = false;
  in.time_limit_s = 5;
  in.node_limit = 20;
  return in;
}

// The same program with one input changed, as a sensitivity re-plan of it.
PlanInput Varied(const PlanInput& base, const PlanResult& plan, uint64_t seed) {
  Rng g(seed ^ 0x5eed);
  PlanInput in = base;
  switch (g.Int(0, 3)) {
    case 0:
      for (PlanContract& c : in.contracts) {
        for (int64_t& x : c.contracted_gpus) x = static_cast<int64_t>(std::llround(static_cast<double>(x) * 1.5));
      }
      break;
    case 1:
      for (PlanHardware& h : in.hardware) h.usd_per_domain *= 1.2;
      break;
    case 2:
      for (PlanSite& s : in.sites) s.lead_months = std::max(0, s.lead_months - 2);
      break;
    default:
      in.cash.starting_usd *= 0.9;
      break;
  }
  in.hint_phases = plan.phases_started;
  return in;
}

// The program, for a person reading a failure (RACKSCALE_PLAN_SEED=N).
void Print(const PlanInput& in) {
  std::printf("months %d, discount %g\n", in.months, in.discount_rate);
  for (const PlanSite& s : in.sites) {
    std::printf("site %s: %g MW, +%g MW/phase at $%g/MW, lead %d, from %d, max %d, pue %g, $%g/MWh, life %g y\n",
                s.name.c_str(), s.initial_mw, s.mw_per_phase, s.usd_per_mw, s.lead_months, s.earliest_month, s.max_phases,
                s.pue, s.usd_per_mwh, s.life_years);
  }
  for (const PlanHardware& h : in.hardware) {
    std::printf("hardware %s: %d GPUs, %g kW, $%g, lead %d, life %d, from %d, load %g\n", h.name.c_str(),
                h.gpus_per_domain, h.kw_per_domain, h.usd_per_domain, h.lead_months, h.life_months, h.first_order_month,
                h.average_load);
  }
  for (const PlanContract& c : in.contracts) {
    std::printf("contract %s: $%g/GPU-month, penalty $%g, types", c.name.c_str(), c.usd_per_gpu_month, c.penalty_usd_per_gpu_month);
    for (int32_t h : c.hardware) std::printf(" %d", h);
    std::printf(", GPUs");
    for (int64_t g : c.contracted_gpus) std::printf(" %lld", static_cast<long long>(g));
    std::printf("\n");
  }
  std::printf("on-demand: %zu months from %g GPUs at $%g\n", in.on_demand.gpus.size(),
              in.on_demand.gpus.empty() ? 0.0 : in.on_demand.gpus.front(), in.on_demand.usd_per_gpu_month);
  for (double c : in.capex_limit_usd) std::printf("yearly capex limit $%g\n", c);
  for (const PlanCapexLimit& l : in.capex_limits) std::printf("capex limit %d-%d $%g\n", l.first_month, l.last_month, l.usd);
  if (in.cash.enabled) {
    std::printf("cash: start $%g, floor $%g, flow $%g/month, breach penalty %g; payroll %s (month %d, up to %lld roles, $%g, "
                "severance $%g)\n", in.cash.starting_usd, in.cash.min_usd,
                in.cash.other_flow_usd.empty() ? 0.0 : in.cash.other_flow_usd.front(), in.cash.breach_penalty,
                in.payroll.free ? "free" : "fixed", in.payroll.month, static_cast<long long>(in.payroll.max_roles),
                in.payroll.saving_usd_per_role_month, in.payroll.severance_usd_per_role);
  }
}

// A coarser time axis for the program (PlanInput::monthly_months): months,
// then quarters, then years, at random points.
PlanInput Coarse(PlanInput in, uint64_t seed) {
  Rng g(seed ^ 0xc0a55e);
  in.monthly_months = g.Int(0, in.months / 2);
  in.quarterly_months = g.Chance(0.3) ? INT32_MAX : g.Int(0, in.months / 2);
  return in;
}

// kScenarios random programs from seed `first` on, each planned and re-planned
// (Varied), every plan checked month by month (CheckPlan); coarse: on a
// coarser time axis (Coarse).
void Property(int kScenarios, uint64_t first, bool coarse) {
  const auto t0 = std::chrono::steady_clock::now();
  int plans = 0, errors = 0, breaches = 0, replaced = 0, short_plans = 0, with_orders = 0;
  double served_share = 0;
  int64_t checks = 0;  // CheckPlan's comparisons, all plans
  std::map<std::string, int> why;  // shortfall months by what binds
  std::map<std::string, int> failed;  // by invariant
  auto check = [&](const PlanInput& in, const std::string& what) {
    auto r = SolvePlan(in);
    if (!r.ok()) {
      ++errors;
      ++failed[r.error().field.empty() ? "solve" : r.error().field];
      ADD_FAILURE() << what << ": " << r.error().ToString();
      return std::optional<PlanResult>();
    }
    ++plans;
    if (!r->shortfalls.empty()) ++short_plans;
    for (const PlanShortfall& f : r->shortfalls) {
      why["lead time"] += f.lead_time ? 1 : 0;
      why["power"] += f.power ? 1 : 0;
      why["cash"] += f.cash ? 1 : 0;
      why["cost"] += !f.lead_time && !f.power && !f.cash ? 1 : 0;
    }
    for (double b : r->cash_breach_by_month) {
      if (b > 0.5) {
        ++breaches;
        break;
      }
    }
    // A replacement: an order of a type at a site placed once an earlier
    // one of it has retired (within the horizon).
    bool any = false, ordered = false;
    for (size_t h = 0; h < in.hardware.size(); ++h) {
      const int life = in.hardware[h].life_months;
      for (const auto& ord : r->domains_ordered[h]) {
        for (size_t a = 0; a < ord.size(); ++a) {
          if (ord[a] <= 0) continue;
          ordered = true;
          for (size_t b = a + static_cast<size_t>(life); b < ord.size() && !any; ++b) any = ord[b] > 0;
        }
      }
    }
    replaced += any ? 1 : 0;
    with_orders += ordered ? 1 : 0;
    double want = 0, got = 0;
    for (size_t k = 0; k < r->contract_served.size(); ++k) {
      for (size_t t = 0; t < r->contract_served[k].size(); ++t) {
        got += r->contract_served[k][t];
        want += static_cast<double>(k < in.contracts.size() ? in.contracts[k].contracted_gpus[t] : 0);
      }
    }
    served_share += want > 0 ? got / want : 1;
    if (Status st = CheckPlan(in, *r, &checks); !st) {
      ++failed[st.error().field];
      ADD_FAILURE() << what << ": " << st.error().ToString();
    }
    return std::optional<PlanResult>(std::move(*r));
  };
  // RACKSCALE_PLAN_SEED=N: that program alone (with RACKSCALE_PLAN_DEBUG=1, the solver's log).
  const char* only = std::getenv("RACKSCALE_PLAN_SEED");
  for (int i = 0; i < kScenarios; ++i) {
    const uint64_t seed = only != nullptr ? std::strtoull(only, nullptr, 10) : first + static_cast<uint64_t>(i);
    if (only != nullptr && i > 0) break;
    const PlanInput in = coarse ? Coarse(RandomInput(seed), seed) : RandomInput(seed);
    if (coarse) {
      // Periods: strictly increasing from month 0 to the horizon.
      const std::vector<int32_t> axis = PlanPeriods(in);
      ASSERT_GE(axis.size(), 2u);
      EXPECT_EQ(axis.front(), 0);
      EXPECT_EQ(axis.back(), in.months);
      for (size_t p = 1; p < axis.size(); ++p) EXPECT_LT(axis[p - 1], axis[p]);
    }
    if (only != nullptr) Print(in);
    auto base = check(in, "seed " + std::to_string(seed));
    if (base) check(Varied(in, *base, seed), "seed " + std::to_string(seed) + " re-planned");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string by;
  for (const auto& [k, n] : failed) by += " " + k + "=" + std::to_string(n);
  std::printf("[ property ] %s%d programs, %d plans checked by %lld comparisons (%d ordering domains, %d replacing "
              "retired ones, %d short in some month, %.0f%% of contracted GPU-months served, %d below the floor where "
              "the search's plan was too), %d solve errors, failures:%s; %.1f s\n",
              coarse ? "coarse time axis: " : "", kScenarios, plans, static_cast<long long>(checks), with_orders, replaced, short_plans,
              plans > 0 ? 100 * served_share / plans : 0.0, breaches, errors, by.empty() ? " none" : by.c_str(), secs);
  std::printf("[ property ] short contract months by what binds:");
  for (const auto& [k, n] : why) std::printf(" %s %d", k.c_str(), n);
  std::printf("\n");
  if (only == nullptr) {
    EXPECT_EQ(plans, 2 * kScenarios);
    EXPECT_GT(replaced, kScenarios / 2);  // the generator exercises replacements
  }
}

TEST(PlanProperty, EveryPlanOfRandomSmallProgramsPassesTheCheck) {
  // RACKSCALE_PLAN_PROGRAMS=N: N programs instead (a longer soak).
  const int n = std::getenv("RACKSCALE_PLAN_PROGRAMS") != nullptr ? std::atoi(std::getenv("RACKSCALE_PLAN_PROGRAMS")) : 500;
  Property(n, 1000, false);
}

// The same on coarser time axes: a plan by quarters and years is still a
// monthly plan, and must keep every constraint in every month.
TEST(PlanProperty, EveryPlanOnACoarserTimeAxisPassesTheMonthlyCheck) {
  const int n = std::getenv("RACKSCALE_PLAN_PROGRAMS") != nullptr ? std::atoi(std::getenv("RACKSCALE_PLAN_PROGRAMS")) : 500;
  Property(n, 50000, true);
}

// The default scenario with the contract at 1.25x and 1.75x: rounding the
// replacement orders placed once the first racks' 5-year life ends took
// Virginia 0.023 MW past its 150 MW in service from 2031-12 (22 months) and
// 2031-09 (25 months) in the plan's own plan_sites.csv (issue 11).
TEST(PlanProperty, DefaultScenarioWithLargerContractsKeepsEverySiteWithinItsPower) {
  auto s = ReadScenario(std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/reallocation-2025.toml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  PlanOptions o;
  o.time_limit_s = 60;  // the scenario's node limit governs
  for (double scale : {1.25, 1.75}) {
    Scenario x = *s;
    ASSERT_TRUE(SetScenarioValue(x, "contracts.openai-aws.gpus_scale", scale));
    auto p = SolveScenario(x, o);
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    Status st = CheckPlan(p->input, p->result);
    EXPECT_TRUE(st.ok()) << scale << "x: " << st.error().ToString();
    int over = 0;
    for (size_t k = 0; k < x.sites.size(); ++k) {
      for (size_t t = 0; t < static_cast<size_t>(x.months); ++t) {
        over += p->result.mw_used[k][t] > p->result.mw_in_service[k][t] + 1e-6 ? 1 : 0;
      }
    }
    EXPECT_EQ(over, 0) << scale << "x: site-months drawing more than their MW";
  }
}

// The small scenario with $60M of cash and a $55M floor: rounding the orders
// took cash $278k below the floor in 2026-10 where the search's plan kept it
// (issue 11). The plan falls short instead, and says so.
TEST(PlanProperty, SmallScenarioWithTightCashStaysAboveTheFloor) {
  auto s = ReadScenario(std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/small.toml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  for (const auto& [start, flow] : {std::pair<double, double>{60e6, 120e6}, {200e6, 0}}) {
    Scenario x = *s;
    x.finance.starting_cash_usd = start;
    x.finance.min_cash_usd = start == 60e6 ? 55e6 : 50e6;
    x.finance.operating_cash_flow_usd_per_year = flow;
    auto p = SolveScenario(x, PlanOptions{});
    ASSERT_TRUE(p.ok()) << p.error().ToString();
    Status st = CheckPlan(p->input, p->result);
    EXPECT_TRUE(st.ok()) << "start " << start << ", flow " << flow << ": " << st.error().ToString();
    for (size_t t = 0; t < p->result.cash_by_month.size(); ++t) {
      EXPECT_LE(p->result.cash_breach_by_month[t], p->result.search_cash_breach_by_month[t] + 1.0) << "month " << t;
    }
  }
}

}  // namespace
}  // namespace rackscale
