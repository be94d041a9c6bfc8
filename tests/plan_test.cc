// The capacity planner's MILP on cases small enough to solve by hand: a
// known optimum, a lead time that makes a deadline impossible (and the
// shortfall that must be reported), cash that binds, power that binds.
#include <gtest/gtest.h>

#include <cmath>

#include "plan/planner.h"

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

}  // namespace
}  // namespace rackscale
