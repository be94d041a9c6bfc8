// The capacity planner's MILP on cases small enough to solve by hand: a
// known optimum, a lead time that makes a deadline impossible (and the
// shortfall that must be reported), cash that binds, power that binds.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "plan/planner.h"
#include "plan/scenario.h"

namespace rackscale {
namespace {

// One site with room for 1 MW; one hardware type: 8-GPU domains of 100 kW
// at $100 each, in service 2 months after the order.
PlanInput OneSite(int months, std::vector<int64_t> required) {
  PlanInput in;
  in.months = months;
  PlanSite s;
  s.name = "a";
  s.initial_mw = 1.0;
  in.sites = {s};
  PlanHardware h;
  h.name = "hgx";
  h.gpus_per_domain = 8;
  h.kw_per_domain = 100;
  h.usd_per_domain = 100;
  h.lead_months = 2;
  in.hardware = {h};
  in.required_gpus = std::move(required);
  in.shortfall_usd_per_gpu_month = 1000;
  return in;
}

TEST(Planner, KnownOptimumOrdersJustInTime) {
  // 16 GPUs from month 3 on: two domains, ordered in month 1 (the latest
  // that is in service by month 3), at $200; with a 10% discount rate the
  // latest order is also the cheapest.
  PlanInput in = OneSite(6, {0, 0, 0, 16});
  in.discount_rate = 0.10;
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->optimal);
  EXPECT_EQ(r->domains_ordered[0][0][1], 2);
  EXPECT_DOUBLE_EQ(r->capex_usd, 200);
  EXPECT_NEAR(r->objective_usd, 200 * std::pow(1.10, -1.0 / 12), 1e-6);
  EXPECT_TRUE(r->shortfalls.empty());
  EXPECT_EQ(r->gpus_in_service[2], 0);
  EXPECT_EQ(r->gpus_in_service[3], 16);
  EXPECT_EQ(r->first_full_month, 3);  // the month the contract's 16 GPUs are due and delivered
}

// issue 12: the time limit covers the whole solve, the root LP relaxation
// included. A large program (12 years, 24 sites, 4 types) with a limit far
// below its root LP's time returns the time limit's error, not a plan found
// after the limit (no timing is asserted: the status says what stopped it).
TEST(Planner, TheTimeLimitBoundsTheRootLp) {
  PlanInput in;
  in.months = 144;
  for (int s = 0; s < 24; ++s) {
    PlanSite site;
    site.name = "s" + std::to_string(s);
    site.initial_mw = 5 + s;
    site.mw_per_phase = 20 + s;
    site.usd_per_mw = 1e6;
    site.lead_months = 6 + s % 12;
    site.max_phases = 4;
    site.usd_per_mwh = 70 + s;
    in.sites.push_back(site);
  }
  for (int h = 0; h < 4; ++h) {
    PlanHardware hw;
    hw.name = "h" + std::to_string(h);
    hw.gpus_per_domain = 8 << h;
    hw.kw_per_domain = 10.0 * (1 + h);
    hw.usd_per_domain = 1e5 * (1 + h);
    hw.lead_months = 2 + h;
    hw.life_months = 60;
    in.hardware.push_back(hw);
  }
  PlanContract c;
  c.name = "c";
  for (int t = 0; t < in.months; ++t) c.contracted_gpus.push_back(1000 + 100 * t);
  c.usd_per_gpu_month = 2000;
  c.penalty_usd_per_gpu_month = 5000;
  in.contracts = {c};
  in.on_demand.gpus.assign(static_cast<size_t>(in.months), 500);
  in.on_demand.usd_per_gpu_month = 1500;
  in.time_limit_s = 1e-4;
  auto r = SolvePlan(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "time limit") << r.error().message;
  EXPECT_NE(r.error().message.find("root LP"), std::string::npos) << r.error().message;
  // And a limit no clock can hold is refused up front.
  for (double bad : {0.0, -1.0, 1e10, std::nan("")}) {
    in.time_limit_s = bad;
    auto e = SolvePlan(in);
    ASSERT_FALSE(e.ok());
    EXPECT_EQ(e.error().field, "time_limit_s");
  }
}

TEST(Planner, ALeadTimeThatMakesTheDeadlineImpossibleIsAShortfall) {
  // 16 GPUs from month 1, but hardware takes 2 months: months 0 and 1 fall
  // short by 16 GPUs (lead time); from month 2 the contract is met.
  PlanInput in = OneSite(5, {16});
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->shortfalls.size(), 2u);
  EXPECT_EQ(r->shortfalls[0].month, 0);
  EXPECT_EQ(r->shortfalls[1].month, 1);
  EXPECT_DOUBLE_EQ(r->shortfalls[1].gpus, 16);
  EXPECT_TRUE(r->shortfalls[1].lead_time);
  EXPECT_FALSE(r->shortfalls[1].cash);
  EXPECT_EQ(r->first_full_month, 2);
  EXPECT_EQ(r->domains_ordered[0][0][0], 2);
}

TEST(Planner, CashThatBindsDelaysTheSecondDomain) {
  // $150 of capex in year 0 buys one domain; the second is ordered in month
  // 12 and serves from month 14: months 2..13 fall short by 8 GPUs (cash).
  PlanInput in = OneSite(18, {0, 0, 16});
  in.capex_limit_usd = {150, 1000};
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_FALSE(r->shortfalls.empty());
  EXPECT_EQ(r->shortfalls.front().month, 2);
  EXPECT_DOUBLE_EQ(r->shortfalls.front().gpus, 8);
  EXPECT_TRUE(r->shortfalls.front().cash);
  EXPECT_EQ(r->shortfalls.back().month, 13);
  EXPECT_EQ(r->first_full_month, 14);
  EXPECT_EQ(r->domains_ordered[0][0][12], 1);
}

TEST(Planner, PowerThatBindsNeedsAPhaseWithItsLeadTime) {
  // The site has 0.1 MW: one 100-kW domain. A 1-MW phase costs $10/MW,
  // takes 6 months and may start from month 0. 16 GPUs from month 2: the
  // second domain waits for the phase (month 6); months 2..5 fall short by
  // 8 (power, and more power cannot arrive in time).
  PlanInput in = OneSite(10, {0, 0, 16});
  in.sites[0].initial_mw = 0.1;
  in.sites[0].mw_per_phase = 1;
  in.sites[0].usd_per_mw = 10;
  in.sites[0].lead_months = 6;
  in.sites[0].max_phases = 3;
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->shortfalls.size(), 4u);
  EXPECT_EQ(r->shortfalls.front().month, 2);
  EXPECT_TRUE(r->shortfalls.front().power);
  EXPECT_TRUE(r->shortfalls.front().lead_time);
  EXPECT_EQ(r->phases_started[0][0], 1);
  EXPECT_DOUBLE_EQ(r->mw_in_service[0][6], 1.1);
  EXPECT_EQ(r->first_full_month, 6);
}

TEST(Planner, InputErrorsNameTheField) {
  PlanInput in = OneSite(6, {8});
  in.hardware[0].gpus_per_domain = 0;
  auto r = SolvePlan(in);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().field, "hardware[0].gpus_per_domain");
  PlanInput none = OneSite(0, {8});
  EXPECT_EQ(SolvePlan(none).error().field, "months");
}

// ---------------------------------------------------------------------------
// The time axis (PlanInput::monthly_months): months, then quarters, then
// years, a period split where a contract's GPUs change.
TEST(PlanTimeAxis, PeriodsAreMonthsThenQuartersThenYearsSplitAtAContractStep) {
  std::vector<int64_t> gpus(15, 0);
  gpus.push_back(8);  // from month 15 on (the last value holds)
  PlanInput in = OneSite(30, gpus);
  in.monthly_months = 4;
  in.quarterly_months = 9;
  // Months 0-3; quarters from 4 (the third cut short at 13); years from 13,
  // split at the contract's step in month 15 (the next year starts there).
  EXPECT_EQ(PlanPeriods(in), (std::vector<int32_t>{0, 1, 2, 3, 4, 7, 10, 13, 15, 27, 30}));
  in.monthly_months = INT32_MAX;  // the default: every month
  EXPECT_EQ(PlanPeriods(in).size(), 31u);
  in.monthly_months = -1;
  EXPECT_EQ(SolvePlan(in).error().field, "monthly_months");
}

// On-demand demand of 8 GPUs from month 4, worth far more than a domain;
// every month 1.1 times cheaper than the one before (no book value, no
// energy). Month by month the domain is ordered in month 2, in service in
// month 4, just in time. By quarter (0, 3, 6, 9), domains come into service
// only on a quarter's first month: ordered in month 1, in service from month
// 3, a month before the demand (month 6 would lose months 4 and 5).
TEST(PlanTimeAxis, DomainsComeIntoServiceOnAPeriodsFirstMonth) {
  PlanInput in = OneSite(12, {});
  in.discount_rate = 2.1384283767210004;  // 1.1^12 - 1: month t counts 1.1^-t
  in.on_demand.gpus = {0, 0, 0, 0, 8, 8, 8, 8, 8, 8, 8, 8};
  in.on_demand.usd_per_gpu_month = 100;
  auto monthly = SolvePlan(in);
  ASSERT_TRUE(monthly.ok()) << monthly.error().ToString();
  EXPECT_EQ(monthly->domains_ordered[0][0], (std::vector<int64_t>{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  in.monthly_months = 0;
  ASSERT_EQ(PlanPeriods(in), (std::vector<int32_t>{0, 3, 6, 9, 12}));
  auto quarterly = SolvePlan(in);
  ASSERT_TRUE(quarterly.ok()) << quarterly.error().ToString();
  EXPECT_EQ(quarterly->domains_ordered[0][0], (std::vector<int64_t>{0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(quarterly->gpus_in_service[3], 8);
  // Each month's own demand is served (none in month 3), not a period's mean.
  EXPECT_EQ(quarterly->on_demand_served[3], 0);
  EXPECT_EQ(quarterly->on_demand_served[4], 8);
  EXPECT_TRUE(CheckPlan(in, *quarterly));
}

// Room for one 100-kW domain (0.1 MW); a 4-month life, a month's lead; a
// contract of 8 GPUs from month 1 to 11. Month by month: ordered in months
// 0, 4 and 8, each in service the month the one before retires: never
// short. By quarter (the contract's step at month 1 starts the quarters
// there: 0, 1, 4, 7, 10): the first domain retires in month 5, inside the
// quarter from 4, and is counted for power to its end, so the next can come
// into service only in month 7 (short in 5 and 6), and the one after only at
// the horizon (short in 11).
TEST(PlanTimeAxis, ADomainRetiringWithinAPeriodHoldsItsPowerToThePeriodsEnd) {
  PlanInput in = OneSite(12, {});
  in.required_gpus.clear();
  in.sites[0].initial_mw = 0.1;
  in.hardware[0].lead_months = 1;
  in.hardware[0].life_months = 4;
  PlanContract c;
  c.name = "c";
  c.contracted_gpus = {0, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8};
  c.usd_per_gpu_month = 10;
  c.penalty_usd_per_gpu_month = 1000;
  in.contracts = {c};
  auto monthly = SolvePlan(in);
  ASSERT_TRUE(monthly.ok()) << monthly.error().ToString();
  EXPECT_EQ(monthly->domains_ordered[0][0], (std::vector<int64_t>{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(monthly->shortfalls.empty());
  in.monthly_months = 0;
  ASSERT_EQ(PlanPeriods(in), (std::vector<int32_t>{0, 1, 4, 7, 10, 12}));
  auto quarterly = SolvePlan(in);
  ASSERT_TRUE(quarterly.ok()) << quarterly.error().ToString();
  EXPECT_EQ(quarterly->domains_ordered[0][0], (std::vector<int64_t>{1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}));
  std::vector<int32_t> short_months;
  for (const PlanShortfall& f : quarterly->shortfalls) short_months.push_back(f.month);
  EXPECT_EQ(short_months, (std::vector<int32_t>{5, 6, 11}));
  EXPECT_TRUE(CheckPlan(in, *quarterly));
}

// ---------------------------------------------------------------------------
// Money (docs/planner.md, "Money"), each convention pinned by a case worked
// by hand. A discount rate of 1.1^12 - 1 makes the monthly factor exactly
// 1.1: month t counts 1.1^-t.
constexpr double kRate = 2.1384283767210004;  // 1.1^12 - 1

// One site with `mw` MW, free energy; one 8-GPU, 100-kW, $100 domain type
// with the given lead and life; one contract of 8 GPUs at $10 a GPU-month
// (penalty $1,000) in the months given.
PlanInput Priced(int months, int lead, int life, std::vector<int64_t> gpus, double mw = 1.0) {
  PlanInput in = OneSite(months, {});
  in.required_gpus.clear();
  in.sites[0].initial_mw = mw;
  in.hardware[0].lead_months = lead;
  in.hardware[0].life_months = life;
  PlanContract c;
  c.name = "c";
  c.contracted_gpus = std::move(gpus);
  c.usd_per_gpu_month = 10;
  c.penalty_usd_per_gpu_month = 1000;
  in.contracts = {c};
  in.discount_rate = kRate;
  return in;
}

TEST(PlannerMoney, MonthTIsDiscountedByTheTwelfthRootOfTheYearAndMonthZeroIsNot) {
  // No lead time: the domain is bought in month 0 and earns 8 x $10 in
  // months 0, 1, 2. NPV = -100 + 80 + 80 / 1.1 + 80 / 1.21.
  PlanInput in = Priced(3, 0, 0, {8, 8, 8});
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->domains_ordered[0][0][0], 1);
  EXPECT_NEAR(r->npv_usd, -100 + 80 + 80 / 1.1 + 80 / 1.21, 1e-9);
  EXPECT_DOUBLE_EQ(r->residual_usd, 0);  // no life: no book value
  EXPECT_DOUBLE_EQ(r->revenue_usd, 240);
  EXPECT_TRUE(CheckPlan(in, *r).ok());
}

TEST(PlannerMoney, BookValueIsStraightLineOverTheLifeAndDiscountedFromTheHorizon) {
  // A 12-month life: ordered in month 1 (the latest in time for month 3),
  // in service in months 3 to 14; at the 6-month horizon 9 of its 12
  // months are left: book value $75, counted at 1.1^-6. It depreciates
  // $100 / 12 a month from the month it enters service.
  PlanInput in = Priced(6, 2, 12, {0, 0, 0, 8, 8, 8});
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->domains_ordered[0][0][1], 1);
  EXPECT_DOUBLE_EQ(r->residual_usd, 75);
  EXPECT_NEAR(r->npv_usd, -100 / 1.1 + 80 / std::pow(1.1, 3) + 80 / std::pow(1.1, 4) + 80 / std::pow(1.1, 5) +
                              75 / std::pow(1.1, 6), 1e-9);
  EXPECT_DOUBLE_EQ(r->depreciation_by_month[2], 0);
  for (int t = 3; t < 6; ++t) EXPECT_DOUBLE_EQ(r->depreciation_by_month[static_cast<size_t>(t)], 100.0 / 12) << t;
  EXPECT_TRUE(CheckPlan(in, *r).ok());
}

TEST(PlannerMoney, PowerDepreciatesFromTheMonthItIsInService) {
  // No power at first: a 1-MW phase at $120/MW with a 2-month lead and a
  // one-year book life, started in month 1, in service from month 3,
  // depreciates $120 / 12 = $10 a month from month 3 (and the domain, with
  // no life, not at all); at the 6-month horizon 9/12 of it is left: $90.
  PlanInput in = Priced(6, 2, 0, {0, 0, 0, 8, 8, 8}, /*mw=*/0);
  in.sites[0].mw_per_phase = 1;
  in.sites[0].usd_per_mw = 120;
  in.sites[0].lead_months = 2;
  in.sites[0].max_phases = 1;
  in.sites[0].life_years = 1;
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->phases_started[0][1], 1);
  EXPECT_DOUBLE_EQ(r->capex_by_month[1], 120 + 100);  // paid when started and when ordered
  EXPECT_DOUBLE_EQ(r->depreciation_by_month[2], 0);
  for (int t = 3; t < 6; ++t) EXPECT_DOUBLE_EQ(r->depreciation_by_month[static_cast<size_t>(t)], 10) << t;
  EXPECT_DOUBLE_EQ(r->residual_usd, 90);
  EXPECT_TRUE(CheckPlan(in, *r).ok());
}

TEST(PlannerMoney, FractionalOnDemandGpusAreServedAndBilledAsTheyAre) {
  // 10.5 GPUs of on-demand demand at $50 a GPU-month: two 8-GPU domains
  // serve all of it; the half GPU is served and billed as a half, not
  // rounded: $525 a month.
  PlanInput in = OneSite(4, {});
  in.required_gpus.clear();
  in.hardware[0].lead_months = 0;
  in.on_demand.gpus = {10.5, 10.5, 10.5, 10.5};
  in.on_demand.usd_per_gpu_month = 50;
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->domains_ordered[0][0][0], 2);
  for (int t = 0; t < 4; ++t) {
    EXPECT_DOUBLE_EQ(r->on_demand_served[static_cast<size_t>(t)], 10.5);
    EXPECT_DOUBLE_EQ(r->revenue_by_month[static_cast<size_t>(t)], 525);
  }
  EXPECT_TRUE(CheckPlan(in, *r).ok());
}

TEST(PlannerMoney, GrowthCompoundsMonthlyAtTheTwelfthRootOfTheYearlyRate) {
  // scenarios/small.toml: 400 on-demand GPUs growing 50% a year: 400 x
  // 1.5^(t/12), 600 in month 12. Operating cash flow of $120M a year
  // growing 21% a year (set here, layoffs taken out): $10M x 1.21^(t/12)
  // in month t, $11M in month 6; starting cash is the balance before month
  // 0's flows.
  auto s = ReadScenario(std::string(RACKSCALE_SOURCE_DIR) + "/scenarios/small.toml");
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  s->layoffs.clear();
  s->finance.operating_cash_flow_growth = 0.21;
  const PlanInput in = ToPlanInput(*s, PlanOptions{});
  EXPECT_DOUBLE_EQ(in.on_demand.gpus[0], 400);
  EXPECT_NEAR(in.on_demand.gpus[6], 400 * std::sqrt(1.5), 1e-9);
  EXPECT_NEAR(in.on_demand.gpus[12], 600, 1e-9);
  EXPECT_DOUBLE_EQ(in.cash.other_flow_usd[0], 10e6);
  EXPECT_NEAR(in.cash.other_flow_usd[6], 11e6, 1e-6);
  EXPECT_NEAR(in.cash.other_flow_usd[12], 12.1e6, 1e-6);
  // $6.88 a GPU-hour, 70% billed, 730 hours a month.
  EXPECT_NEAR(in.on_demand.usd_per_gpu_month, 6.88 * 0.7 * 730, 1e-9);
}

// CheckPlan refuses a plan that breaks a constraint, naming the invariant,
// the place and the numbers.
TEST(PlanCheck, RefusesABrokenPlanNamingTheInvariant) {
  PlanInput in = Priced(6, 2, 3, {0, 0, 0, 8, 8, 8}, /*mw=*/0.1);
  in.cash.enabled = true;
  in.cash.starting_usd = 1000;
  in.cash.min_usd = 0;
  auto r = SolvePlan(in);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_TRUE(CheckPlan(in, *r).ok()) << CheckPlan(in, *r).error().ToString();
  {
    // A second domain where 0.1 MW fits one: power, at site a, in months 3 to 5.
    PlanResult x = *r;
    ++x.domains_ordered[0][0][1];
    ++x.domains_in_service[0][0][3];
    ++x.domains_in_service[0][0][4];
    ++x.domains_in_service[0][0][5];
    for (int t = 3; t < 6; ++t) x.mw_used[0][static_cast<size_t>(t)] += 0.1;
    Status st = CheckPlan(in, x);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "plan check: power");
    EXPECT_NE(st.error().message.find("site 0 (a), month 3"), std::string::npos) << st.error().message;
  }
  {
    // Domains in service that the orders do not give: a retirement forgotten.
    PlanResult x = *r;
    x.domains_in_service[0][0][5] += 1;
    Status st = CheckPlan(in, x);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "plan check: domains_in_service");
  }
  {
    // Cash below the floor where the search kept it.
    PlanInput tight = in;
    tight.cash.min_usd = 950;
    PlanResult x = *r;
    for (size_t t = 0; t < x.cash_by_month.size(); ++t) x.cash_breach_by_month[t] = std::max(0.0, 950 - x.cash_by_month[t]);
    Status st = CheckPlan(tight, x);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "plan check: cash");
    EXPECT_NE(st.error().message.find("below the floor"), std::string::npos) << st.error().message;
  }
  {
    // A capex limit the orders exceed.
    PlanInput limited = in;
    limited.capex_limit_usd = {50};
    Status st = CheckPlan(limited, *r);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "plan check: capex");
  }
  {
    // A contract served beyond the GPUs in service.
    PlanResult x = *r;
    x.contract_served[0][2] = 8;
    x.revenue_by_month[2] += 80;
    Status st = CheckPlan(in, x);
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().field, "plan check: served");
  }
}

}  // namespace
}  // namespace rackscale
