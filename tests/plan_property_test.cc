// Every plan the planner writes is feasible: a seeded generator of a few
// hundred small random programs (1-3 sites, 1-3 hardware types, 1-2
// contracts, on-demand demand, lead times, hardware lives short enough that
// replacements happen within the horizon, tight cash and capex limits,
// orders continuous in the search and rounded after), each solved within a
// small node limit and re-planned the way a sensitivity run does (one input
// changed, the base plan's phases as the hint); CheckPlan must pass on
// every plan. And the two defects of issue 11, reproduced: power drawn
// beyond a site's MW after the hardware's life ends (the default scenario's
// contract at 2x), and cash taken below the floor by rounding (the small
// scenario with $60M of cash and a $55M floor).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
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
    x.usd_per_domain = g.Real(0.05e6, 3.5e6);
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
    const int start = g.Int(0, in.months / 2);
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
    x.usd_per_gpu_month = g.Real(300, 3000);
    x.penalty_usd_per_gpu_month = g.Chance(0.3) ? 0.0 : g.Real(100, 8000);
    in.contracts.push_back(x);
  }
  if (g.Chance(0.6)) {
    const double base = g.Real(5, 300), growth = g.Real(-0.2, 1.0);
    for (int t = 0; t < in.months; ++t) in.on_demand.gpus.push_back(base * std::pow(1 + growth, t / 12.0));
    in.on_demand.hardware = SomeTypes(g, H);
    in.on_demand.usd_per_gpu_month = g.Real(300, 4000);
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
    in.cash.starting_usd = in.cash.min_usd + need_usd * g.Real(0, 0.8);  // tight
    const double monthly = need_usd * g.Real(-0.02, 0.15);
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

TEST(PlanProperty, EveryPlanOfRandomSmallProgramsPassesTheCheck) {
  constexpr int kScenarios = 300;
  const auto t0 = std::chrono::steady_clock::now();
  int plans = 0, errors = 0, breaches = 0, replaced = 0, short_plans = 0;
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
    for (double b : r->cash_breach_by_month) {
      if (b > 0.5) {
        ++breaches;
        break;
      }
    }
    // A replacement: a domain ordered after another of its type at its site retired.
    bool any = false;
    for (size_t h = 0; h < in.hardware.size() && !any; ++h) {
      for (const auto& site : r->domains_in_service[h]) {
        for (size_t t = 1; t < site.size() && !any; ++t) any = site[t] < site[t - 1];
      }
    }
    replaced += any ? 1 : 0;
    if (Status st = CheckPlan(in, *r); !st) {
      ++failed[st.error().field];
      ADD_FAILURE() << what << ": " << st.error().ToString();
    }
    return std::optional<PlanResult>(std::move(*r));
  };
  for (int i = 0; i < kScenarios; ++i) {
    const uint64_t seed = 1000 + static_cast<uint64_t>(i);
    const PlanInput in = RandomInput(seed);
    auto base = check(in, "seed " + std::to_string(seed));
    if (base) check(Varied(in, *base, seed), "seed " + std::to_string(seed) + " re-planned");
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string by;
  for (const auto& [k, n] : failed) by += " " + k + "=" + std::to_string(n);
  std::printf("[ property ] %d programs, %d plans checked (%d with retirements, %d short, %d below the floor as the "
              "search chose), %d solve errors, failures:%s; %.1f s\n",
              kScenarios, plans, replaced, short_plans, breaches, errors, by.empty() ? " none" : by.c_str(), secs);
  EXPECT_EQ(plans, 2 * kScenarios);
  EXPECT_GT(replaced, kScenarios / 2);  // the generator exercises replacements
}

// The default scenario with the contract at 2x: the replacement orders after
// the first racks' 5-year life took Virginia 0.023 MW past its 150 MW for
// 37 months (issue 11); and the 1.5x re-plan of the base plan, as `run
// --vary 'contracts.openai-aws.gpus_scale=...'` makes it.
TEST(PlanProperty, DefaultScenarioAtTwiceTheContractKeepsEverySiteWithinItsPower) {
  auto s = ReadScenario(std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/reallocation-2025.toml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  PlanOptions o;
  o.time_limit_s = 60;  // the scenario's node limit governs
  Scenario twice = *s;
  ASSERT_TRUE(SetScenarioValue(twice, "contracts.openai-aws.gpus_scale", 2.0));
  auto p = SolveScenario(twice, o);
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  Status st = CheckPlan(p->input, p->result);
  EXPECT_TRUE(st.ok()) << st.error().ToString();
  for (size_t k = 0; k < twice.sites.size(); ++k) {
    for (size_t t = 0; t < static_cast<size_t>(twice.months); ++t) {
      ASSERT_LE(p->result.mw_used[k][t], p->result.mw_in_service[k][t] + 1e-6) << twice.sites[k].name << " month " << t;
    }
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
