#include "plan/plan_run.h"

#include <algorithm>
#include <cmath>

namespace rackscale {
namespace {

constexpr double kHoursPerMonth = 8760.0 / 12.0;

// (1 + annual rate)^(-t/12): the program's discount factor of month t.
double Discount(const PlanRun& p, int32_t t) {
  return std::pow(std::pow(1.0 + p.input.discount_rate, 1.0 / 12.0), -static_cast<double>(t));
}

}  // namespace

Result<PlanRun> SolveScenario(const Scenario& s, const PlanOptions& o, const PlanResult* hint) {
  PlanRun p;
  p.scenario = &s;
  p.solve_for_payroll = o.solve_for_payroll;
  p.input = ToPlanInput(s, o);
  if (hint != nullptr && hint->phases_started.size() == s.sites.size()) p.input.hint_phases = hint->phases_started;
  auto r = SolvePlan(p.input);
  if (!r) {
    Error e = r.error();
    if (e.source == "plan") e.source = s.source;
    return e;
  }
  p.result = std::move(*r);
  return p;
}

double PayrollNpv(const PlanRun& p) {
  const NpvBreakdown b = BreakDownNpv(p);
  return b.payroll_saved - b.severance;
}

NpvBreakdown BreakDownNpv(const PlanRun& p) {
  const Scenario& s = *p.scenario;
  const PlanResult& r = p.result;
  NpvBreakdown b;
  const RevenueBySource rev = RevenueBySourceByMonth(p);
  for (int32_t t = 0; t < s.months; ++t) {
    const size_t u = static_cast<size_t>(t);
    const double d = Discount(p, t);
    for (const auto& c : rev.contract) b.contract_revenue += d * c[u];
    b.on_demand_revenue += d * rev.on_demand[u];
    b.capex += d * r.capex_by_month[u];
    b.energy += d * r.energy_by_month[u];
  }
  b.book_value = Discount(p, s.months) * r.residual_usd;
  if (p.solve_for_payroll) {
    const PlanPayroll& l = p.input.payroll;
    for (int32_t t = 0; t < s.months; ++t) {
      if (t > l.month) b.payroll_saved += Discount(p, t) * static_cast<double>(r.roles_cut) * l.saving_usd_per_role_month;
      if (t == l.month) b.severance += Discount(p, t) * static_cast<double>(r.roles_cut) * l.severance_usd_per_role;
    }
  } else {
    const std::vector<double> payroll = PayrollByMonth(s);
    const std::vector<double> severance = SeveranceByMonth(s);
    double start = 0;
    for (const WorkforceGroup& g : s.groups) start += static_cast<double>(g.headcount) * g.usd_per_person_year / 12.0;
    for (int32_t t = 0; t < s.months; ++t) {
      const size_t u = static_cast<size_t>(t);
      b.payroll_saved += Discount(p, t) * (start - payroll[u]);
      b.severance += Discount(p, t) * severance[u];
    }
  }
  b.total = b.contract_revenue + b.on_demand_revenue - b.capex - b.energy + b.book_value + b.payroll_saved - b.severance;
  return b;
}

RevenueBySource RevenueBySourceByMonth(const PlanRun& p) {
  const PlanResult& r = p.result;
  const size_t T = static_cast<size_t>(p.scenario->months);
  RevenueBySource out;
  out.contract.assign(p.input.contracts.size(), std::vector<double>(T, 0));
  out.on_demand.assign(T, 0);
  for (size_t k = 0; k < p.input.contracts.size(); ++k) {
    for (size_t t = 0; t < T && t < r.contract_served[k].size(); ++t) {
      out.contract[k][t] = r.contract_served[k][t] * p.input.contracts[k].usd_per_gpu_month;
    }
  }
  for (size_t t = 0; t < T && t < r.on_demand_served.size(); ++t) {
    out.on_demand[t] = r.on_demand_served[t] * p.input.on_demand.usd_per_gpu_month;
  }
  return out;
}

std::vector<double> CashWithoutPlan(const PlanRun& p) {
  const PlanResult& r = p.result;
  std::vector<double> out;
  double effect = 0;
  for (size_t t = 0; t < r.cash_by_month.size(); ++t) {
    effect += r.revenue_by_month[t] - r.capex_by_month[t] - r.energy_by_month[t];
    out.push_back(r.cash_by_month[t] - effect);
  }
  return out;
}

PlanFigures SummarizePlan(const PlanRun& p) {
  const Scenario& s = *p.scenario;
  const PlanResult& r = p.result;
  PlanFigures f;
  for (int64_t g : r.gpus_in_service) f.peak_gpus = std::max(f.peak_gpus, g);
  for (size_t k = 0; k < s.sites.size(); ++k) {
    if (!r.mw_in_service[k].empty()) {
      f.mw_at_start += r.mw_in_service[k].front();
      f.mw_at_end += r.mw_in_service[k].back();
    }
    for (int64_t n : r.phases_started[k]) f.phases_started += n;
  }
  for (int32_t t = 0; t < s.months; ++t) {
    double need = 0;
    for (size_t k = 0; k < s.sites.size(); ++k) need += r.mw_used[k][static_cast<size_t>(t)];
    f.peak_mw_needed = std::max(f.peak_mw_needed, need);
  }
  for (size_t h = 0; h < s.hardware.size(); ++h) {
    int64_t n = 0;
    for (const auto& site : r.domains_ordered[h]) {
      for (int64_t x : site) n += x;
    }
    if (n > 0) f.domains_ordered.emplace_back(s.hardware[h].name, n);
  }
  for (size_t t = 0; t < p.input.on_demand.gpus.size(); ++t) {
    f.on_demand_demand_gpu_months += p.input.on_demand.gpus[t];
    f.on_demand_served_gpu_months += r.on_demand_served[t];
  }
  if (!r.cash_by_month.empty()) {
    f.has_cash = true;
    const auto it = std::min_element(r.cash_by_month.begin(), r.cash_by_month.end());
    f.lowest_cash_usd = *it;
    f.lowest_cash_month = static_cast<int32_t>(it - r.cash_by_month.begin());
    for (double b : r.cash_breach_by_month) f.largest_breach_usd = std::max(f.largest_breach_usd, b);
  }
  if (p.solve_for_payroll) {
    f.roles_cut = r.roles_cut;
    f.payroll_saved_per_year = static_cast<double>(r.roles_cut) * p.input.payroll.saving_usd_per_role_month * 12;
    f.severance_usd = static_cast<double>(r.roles_cut) * p.input.payroll.severance_usd_per_role;
  } else {
    for (const LayoffWave& w : s.layoffs) {
      f.roles_cut += w.count;
      f.payroll_saved_per_year += static_cast<double>(w.count) * s.groups[static_cast<size_t>(w.group)].usd_per_person_year;
      f.severance_usd += static_cast<double>(w.count) * w.severance_usd_per_person;
    }
  }
  for (size_t k = 0; k < p.input.contracts.size(); ++k) {
    const PlanContract& c = p.input.contracts[k];
    PlanContractFigures cf;
    cf.name = c.name;
    for (int64_t g : c.contracted_gpus) cf.peak_gpus = std::max(cf.peak_gpus, g);
    cf.usd_per_gpu_hour = c.usd_per_gpu_month / kHoursPerMonth;
    for (double x : r.contract_served[k]) cf.revenue_usd += x * c.usd_per_gpu_month;
    for (const PlanShortfall& sf : r.shortfalls) {
      if (sf.contract != static_cast<int32_t>(k)) continue;
      ++cf.short_months;
      cf.short_gpu_months += sf.gpus;
      if (cf.first_short < 0) cf.first_short = sf.month;
      cf.last_short = sf.month;
      if (cf.worst == nullptr || sf.gpus > cf.worst->gpus) cf.worst = &sf;
    }
    f.contracts.push_back(cf);
  }
  for (const PlanCapexLimit& l : p.input.capex_limits) {
    PlanCapexYear y;
    y.label = l.label;
    y.limit_usd = l.usd;
    for (int32_t t = l.first_month; t <= std::min(l.last_month, s.months - 1); ++t) y.plan_usd += r.capex_by_month[static_cast<size_t>(t)];
    f.capex_years.push_back(y);
  }
  return f;
}

std::vector<LaborRow> LaborToCompute(const Scenario& s) {
  std::vector<LaborRow> rows;
  if (s.groups.empty()) return rows;
  // The cut's group (the first wave's, else the first group) sets the cost per role.
  const int32_t g = s.layoffs.empty() ? 0 : s.layoffs.front().group;
  const double cost = s.groups[static_cast<size_t>(g)].usd_per_person_year;
  std::vector<std::pair<int64_t, std::string>> sizes{{1000, "reference"}};
  if (!s.layoffs.empty()) sizes.push_back({s.layoffs.front().count, "first wave " + s.MonthName(s.layoffs.front().month)});
  int64_t all = 0;
  for (const LayoffWave& w : s.layoffs) all += w.count;
  if (s.layoffs.size() > 1) sizes.push_back({all, "all waves"});
  // Power at the cheapest site's $/MW; the first contract's price and size.
  double usd_per_mw = 0, pue = 1.2;
  bool first = true;
  for (const PowerSite& site : s.sites) {
    if (site.max_phases > 0 && (first || site.usd_per_mw < usd_per_mw)) {
      usd_per_mw = site.usd_per_mw;
      pue = site.pue;
      first = false;
    }
  }
  double contract_gpus = 0, price = 0;
  if (!s.contracts.empty()) {
    for (const auto& d : s.contracts.front().deliveries) contract_gpus = std::max<double>(contract_gpus, static_cast<double>(d.gpus));
    price = s.contracts.front().usd_per_gpu_hour;
  }
  for (const auto& [roles, label] : sizes) {
    for (const HardwareOption& h : s.hardware) {
      LaborRow r;
      r.roles = roles;
      r.label = label;
      r.usd_per_year = static_cast<double>(roles) * cost;
      r.hardware = h.name;
      const double mw = h.kw_per_domain * pue / 1000.0;
      const double per_domain = h.usd_per_domain + mw * usd_per_mw;  // the domain and the power to run it
      r.domains = r.usd_per_year / per_domain;
      r.gpus = r.domains * h.gpus_per_domain;
      r.facility_mw = r.domains * mw;
      r.contract_months = contract_gpus > 0 ? r.gpus * 12.0 / contract_gpus : 0;
      r.revenue_usd_per_year = r.gpus * price * 8760.0;
      rows.push_back(r);
    }
  }
  return rows;
}

}  // namespace rackscale
