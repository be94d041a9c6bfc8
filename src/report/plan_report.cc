#include "report/plan_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rackscale {
namespace {

constexpr double kHoursPerMonth = 8760.0 / 12.0;

std::string Money(double usd) { return FormatUsd(usd); }
std::string Count(double v) { return FormatCount(v); }


const Scenario& Sc(const PlanRun& p) { return *p.scenario; }

int64_t ContractedTotal(const PlanRun& p, int32_t t) {
  int64_t g = 0;
  for (const PlanContract& c : p.input.contracts) {
    if (static_cast<size_t>(t) < c.contracted_gpus.size()) g += c.contracted_gpus[static_cast<size_t>(t)];
  }
  return g;
}

double ShortAt(const PlanRun& p, int32_t t) {
  double s = 0;
  for (const PlanShortfall& f : p.result.shortfalls) {
    if (f.month == t) s += f.gpus;
  }
  return s;
}

std::string Binding(const PlanShortfall& f) {
  std::vector<std::string> why;
  if (f.lead_time) why.push_back("lead time");
  if (f.power) why.push_back("power");
  if (f.cash) why.push_back("cash");
  if (why.empty()) why.push_back("cost (cheaper to fall short)");
  std::string out;
  for (size_t i = 0; i < why.size(); ++i) out += (i ? "+" : "") + why[i];
  return out;
}

}  // namespace

std::string FormatUsd(double usd) {
  const double a = std::fabs(usd);
  const char* sign = usd < 0 ? "-" : "";
  if (a >= 1e12) return fmt::format("{}${:.2f}T", sign, a / 1e12);
  if (a >= 1e9) return fmt::format("{}${:.1f}B", sign, a / 1e9);
  if (a >= 1e6) return fmt::format("{}${:.0f}M", sign, a / 1e6);
  if (a >= 1e3) return fmt::format("{}${:.0f}k", sign, a / 1e3);
  return fmt::format("{}${:.0f}", sign, a);
}

std::string FormatCount(double v) {
  const int64_t n = std::llround(v);
  std::string s = std::to_string(n < 0 ? -n : n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return (n < 0 ? "-" : "") + s;
}

std::string FormatPlanCsv(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  const std::vector<double> payroll = PayrollByMonth(s);
  const std::vector<double> severance = SeveranceByMonth(s);
  std::string out =
      "month,date,gpus_contracted,gpus_served_contracts,gpus_short,on_demand_demand,on_demand_served,"
      "gpus_in_service,mw_in_service,mw_needed,phases_started,domains_ordered,capex_usd,revenue_usd,"
      "energy_usd,depreciation_usd,payroll_usd,severance_usd,other_cash_flow_usd,cash_usd,cash_breach_usd,"
      "contract_revenue_usd,on_demand_revenue_usd,cash_without_plan_usd\n";
  const RevenueBySource rev = RevenueBySourceByMonth(p);
  const std::vector<double> without = CashWithoutPlan(p);
  for (int32_t t = 0; t < s.months; ++t) {
    const size_t u = static_cast<size_t>(t);
    double served = 0;
    for (const auto& c : r.contract_served) served += c[u];
    double mw = 0, need = 0;
    int64_t phases = 0, orders = 0;
    for (size_t k = 0; k < r.mw_in_service.size(); ++k) {
      mw += r.mw_in_service[k][u];
      need += r.mw_used[k][u];
      phases += r.phases_started[k][u];
    }
    for (const auto& h : r.domains_ordered) {
      for (const auto& site : h) orders += site[u];
    }
    const double demand = u < p.input.on_demand.gpus.size() ? p.input.on_demand.gpus[u] : 0;
    const double other = u < p.input.cash.other_flow_usd.size() ? p.input.cash.other_flow_usd[u] : 0;
    double contract_rev = 0;
    for (const auto& c : rev.contract) contract_rev += c[u];
    out += fmt::format("{},{},{},{},{},{},{},{},{:.3f},{:.3f},{},{},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f}\n",
                       t, s.MonthName(t), ContractedTotal(p, t), std::llround(served), std::llround(ShortAt(p, t)),
                       std::llround(demand), std::llround(r.on_demand_served[u]), r.gpus_in_service[u], mw, need,
                       phases, orders, r.capex_by_month[u], r.revenue_by_month[u], r.energy_by_month[u],
                       r.depreciation_by_month[u], payroll[u], severance[u], other,
                       r.cash_by_month.empty() ? 0.0 : r.cash_by_month[u],
                       r.cash_breach_by_month.empty() ? 0.0 : r.cash_breach_by_month[u], contract_rev, rev.on_demand[u],
                       without.empty() ? 0.0 : without[u]);
  }
  return out;
}

std::string FormatPlanSitesCsv(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  std::string out = "month,date,site,phases_started,mw_in_service,mw_used\n";
  for (int32_t t = 0; t < s.months; ++t) {
    for (size_t k = 0; k < s.sites.size(); ++k) {
      const size_t u = static_cast<size_t>(t);
      out += fmt::format("{},{},{},{},{:.3f},{:.3f}\n", t, s.MonthName(t), s.sites[k].name, r.phases_started[k][u],
                         r.mw_in_service[k][u], r.mw_used[k][u]);
    }
  }
  return out;
}

std::string FormatPlanOrdersCsv(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  std::string out = "month,date,site,hardware,domains_ordered,domains_in_service,gpus_in_service\n";
  for (int32_t t = 0; t < s.months; ++t) {
    const size_t u = static_cast<size_t>(t);
    for (size_t k = 0; k < s.sites.size(); ++k) {
      for (size_t h = 0; h < s.hardware.size(); ++h) {
        const int64_t o = r.domains_ordered[h][k][u], in = r.domains_in_service[h][k][u];
        if (o == 0 && in == 0) continue;
        out += fmt::format("{},{},{},{},{},{},{}\n", t, s.MonthName(t), s.sites[k].name, s.hardware[h].name, o, in,
                           in * s.hardware[h].gpus_per_domain);
      }
    }
  }
  return out;
}

std::string FormatLaborCsv(const std::vector<LaborRow>& rows) {
  std::string out = "roles,label,usd_per_year,hardware,domains,gpus,facility_mw,contract_months,revenue_usd_per_year\n";
  for (const LaborRow& r : rows) {
    out += fmt::format("{},{},{:.0f},{},{:.1f},{:.0f},{:.2f},{:.2f},{:.0f}\n", r.roles, r.label, r.usd_per_year, r.hardware,
                       r.domains, r.gpus, r.facility_mw, r.contract_months, r.revenue_usd_per_year);
  }
  return out;
}

std::string FormatSensitivityCsv(const Scenario& s, const std::vector<SensitivityRow>& rows) {
  std::string csv = "key,value,npv_usd,first_full_month,first_full_date,capex_usd,short_gpu_months\n";
  for (const SensitivityRow& row : rows) {
    for (const SensitivityPoint& pt : row.points) {
      csv += fmt::format("{},{},{:.0f},{},{},{:.0f},{:.0f}\n", row.key, pt.value, pt.npv_usd, pt.first_full_month,
                         pt.first_full_month >= 0 ? s.MonthName(static_cast<int32_t>(pt.first_full_month)) : "",
                         pt.capex_usd, pt.short_gpu_months);
    }
  }
  return csv;
}

nlohmann::ordered_json MonthOrNull(const Scenario& s, int64_t t) {
  return t >= 0 ? nlohmann::ordered_json(s.MonthName(static_cast<int32_t>(t))) : nlohmann::ordered_json(nullptr);
}

std::string PlanTimeAxisText(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const std::vector<int32_t> axis = PlanPeriods(p.input);
  if (axis.size() < 2 || static_cast<int32_t>(axis.size()) - 1 == s.months) return "";
  const int64_t by_month = std::min<int64_t>(p.input.monthly_months, s.months);
  const int64_t by_quarter = std::min<int64_t>(by_month + p.input.quarterly_months, s.months);
  std::vector<std::string> parts;
  auto to = [&](int64_t end) { return s.MonthName(static_cast<int32_t>(end - 1)); };
  if (by_month > 0) parts.push_back("by month to " + to(by_month));
  if (by_quarter > by_month) parts.push_back("by quarter to " + to(by_quarter));
  if (by_quarter < s.months) parts.push_back("by year to " + to(s.months));
  std::string o;
  for (const std::string& part : parts) o += (o.empty() ? "" : ", then ") + part;
  return fmt::format("{} ({} periods; a contract's step starts one)", o, axis.size() - 1);
}

nlohmann::ordered_json PlanSummaryJson(const PlanRun& p, bool timing) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  const PlanFigures f = SummarizePlan(p);
  const NpvBreakdown npv = BreakDownNpv(p);
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.plan/2";
  j["scenario"] = s.name;
  j["start"] = s.MonthName(0);
  j["months"] = s.months;
  j["solver"] = {{"name", "glpk"},
                 {"optimal", r.optimal},
                 {"stopped_by", r.stopped_by},
                 {"nodes", r.nodes},
                 {"gap", r.gap},
                 {"columns", r.columns},
                 {"rows", r.rows},
                 {"integer_columns", r.integer_columns}};
  if (const std::string axis = PlanTimeAxisText(p); !axis.empty()) {
    // Only on a coarser time axis than months (PlanInput::monthly_months).
    j["solver"]["time_axis"] = {{"periods", PlanPeriods(p.input).size() - 1},
                                {"monthly_months", std::min(p.input.monthly_months, s.months)},
                                {"quarterly_months", std::min<int64_t>(p.input.quarterly_months, s.months)},
                                {"text", axis}};
  }
  if (timing) j["solver"]["wall_seconds"] = p.wall_seconds;
  j["discount_rate"] = p.input.discount_rate;
  j["npv_usd"] = npv.total;
  j["plan_npv_usd"] = r.npv_usd;
  j["payroll_npv_usd"] = npv.payroll_saved - npv.severance;
  j["npv_breakdown"] = {{"contract_revenue_usd", npv.contract_revenue},
                        {"on_demand_revenue_usd", npv.on_demand_revenue},
                        {"capex_usd", -npv.capex},
                        {"energy_usd", -npv.energy},
                        {"book_value_usd", npv.book_value},
                        {"payroll_saved_usd", npv.payroll_saved},
                        {"severance_usd", -npv.severance}};
  j["capex_usd"] = r.capex_usd;
  j["revenue_usd"] = r.revenue_usd;
  j["energy_usd"] = r.energy_usd;
  j["residual_usd"] = r.residual_usd;
  j["first_full_month"] = MonthOrNull(s, r.first_full_month);
  j["solve_for_payroll"] = p.solve_for_payroll;
  j["roles_cut"] = f.roles_cut;
  j["payroll_saved_usd_per_year"] = f.payroll_saved_per_year;
  j["severance_usd"] = f.severance_usd;
  j["peak_gpus_in_service"] = f.peak_gpus;
  j["mw_in_service_at_start"] = f.mw_at_start;
  j["mw_in_service_at_end"] = f.mw_at_end;
  j["peak_mw_needed"] = f.peak_mw_needed;
  j["phases_started"] = f.phases_started;
  if (f.has_cash) {
    j["lowest_cash_usd"] = f.lowest_cash_usd;
    j["lowest_cash_month"] = s.MonthName(f.lowest_cash_month);
    j["cash_floor_usd"] = s.finance.min_cash_usd;
    j["largest_cash_breach_usd"] = f.largest_breach_usd;
  }
  nlohmann::ordered_json contracts = nlohmann::ordered_json::array();
  for (const PlanContractFigures& c : f.contracts) {
    nlohmann::ordered_json cj;
    cj["name"] = c.name;
    cj["peak_gpus"] = c.peak_gpus;
    cj["usd_per_gpu_hour"] = c.usd_per_gpu_hour;
    cj["revenue_usd"] = c.revenue_usd;
    cj["short_months"] = c.short_months;
    cj["short_gpu_months"] = c.short_gpu_months;
    nlohmann::ordered_json shorts = nlohmann::ordered_json::array();
    for (const PlanShortfall& sf : r.shortfalls) {
      if (p.input.contracts[static_cast<size_t>(sf.contract)].name != c.name) continue;
      shorts.push_back({{"month", s.MonthName(sf.month)},
                        {"gpus", sf.gpus},
                        {"lead_time", sf.lead_time},
                        {"power", sf.power},
                        {"cash", sf.cash}});
    }
    cj["shortfalls"] = shorts;
    contracts.push_back(cj);
  }
  j["contracts"] = contracts;
  nlohmann::ordered_json limits = nlohmann::ordered_json::array();
  for (const PlanCapexYear& y : f.capex_years) {
    limits.push_back({{"year", y.label}, {"limit_usd", y.limit_usd}, {"plan_capex_usd", y.plan_usd}});
  }
  j["capex_limits"] = limits;
  return j;
}

std::string FormatPlanSummaryJson(const PlanRun& p, bool timing) { return PlanSummaryJson(p, timing).dump(2) + "\n"; }

std::string FormatPlanHuman(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  std::string o;
  o += fmt::format("rackscale plan: {} - {} to {} ({} months)\n", s.name, s.MonthName(0), s.MonthName(s.months - 1), s.months);
  o += fmt::format("  solver       GLPK, {} columns ({} integer), {} rows: {}\n", Count(static_cast<double>(r.columns)),
                   Count(static_cast<double>(r.integer_columns)), Count(static_cast<double>(r.rows)),
                   r.optimal ? fmt::format("proved within {:.2g}% of the optimum", std::max(r.gap, 1e-9) * 100)
                             : fmt::format("best plan when the {} stopped the search ({} nodes), at most {:.2f}% from optimal",
                                           r.stopped_by, r.nodes, r.gap * 100));
  if (const std::string axis = PlanTimeAxisText(p); !axis.empty()) o += fmt::format("  time axis    {}\n", axis);
  o += fmt::format("  NPV          {} at {:.1f}%/yr: the plan {} (revenue {}, capex {}, energy {}, book value left {}) + payroll saved net of severance {}\n",
                   Money(TotalNpv(p)), p.input.discount_rate * 100, Money(r.npv_usd), Money(r.revenue_usd), Money(r.capex_usd),
                   Money(r.energy_usd), Money(r.residual_usd), Money(PayrollNpv(p)));
  for (size_t k = 0; k < p.input.contracts.size(); ++k) {
    const PlanContract& c = p.input.contracts[k];
    int64_t peak = 0;
    for (int64_t g : c.contracted_gpus) peak = std::max(peak, g);
    std::vector<const PlanShortfall*> mine;
    for (const PlanShortfall& f : r.shortfalls) {
      if (f.contract == static_cast<int32_t>(k)) mine.push_back(&f);
    }
    if (mine.empty()) {
      o += fmt::format("  contract     {}: {} GPUs at ${:.2f}/GPU-h, every delivery met on time\n", c.name, Count(static_cast<double>(peak)),
                       c.usd_per_gpu_month / kHoursPerMonth);
    } else {
      const PlanShortfall* worst = *std::max_element(mine.begin(), mine.end(), [](auto* a, auto* b) { return a->gpus < b->gpus; });
      o += fmt::format("  contract     {}: {} GPUs; SHORT in {} months ({} to {}), worst {} GPUs in {} ({})\n", c.name,
                       Count(static_cast<double>(peak)), mine.size(), s.MonthName(mine.front()->month), s.MonthName(mine.back()->month),
                       Count(worst->gpus), s.MonthName(worst->month), Binding(*worst));
    }
  }
  if (!p.input.on_demand.gpus.empty()) {
    double want = 0, got = 0;
    for (size_t t = 0; t < p.input.on_demand.gpus.size(); ++t) {
      want += p.input.on_demand.gpus[t];
      got += r.on_demand_served[t];
    }
    o += fmt::format("  on-demand    {:.0f}% of demand served ({} of {} GPU-months)\n", want > 0 ? 100 * got / want : 0,
                     Count(got), Count(want));
  }
  o += fmt::format("  full from    {}\n", r.first_full_month >= 0 ? s.MonthName(static_cast<int32_t>(r.first_full_month)) : "never within the horizon");
  double mw_end = 0, need_peak = 0;
  int64_t phases = 0;
  for (size_t k = 0; k < s.sites.size(); ++k) {
    mw_end += r.mw_in_service[k].back();
    for (int64_t n : r.phases_started[k]) phases += n;
  }
  for (int32_t t = 0; t < s.months; ++t) {
    double need = 0;
    for (size_t k = 0; k < s.sites.size(); ++k) need += r.mw_used[k][static_cast<size_t>(t)];
    need_peak = std::max(need_peak, need);
  }
  o += fmt::format("  power        {} phase{} started; {:.0f} MW in service at the end, peak need {:.0f} MW\n", phases,
                   phases == 1 ? "" : "s", mw_end, need_peak);
  int64_t peak = 0;
  for (int64_t g : r.gpus_in_service) peak = std::max(peak, g);
  std::string hw;
  for (size_t h = 0; h < s.hardware.size(); ++h) {
    int64_t n = 0;
    for (const auto& site : r.domains_ordered[h]) {
      for (int64_t x : site) n += x;
    }
    if (n > 0) hw += fmt::format("{}{} {}", hw.empty() ? "" : ", ", Count(static_cast<double>(n)), s.hardware[h].name);
  }
  o += fmt::format("  hardware     {} ordered; peak {} GPUs in service\n", hw.empty() ? "nothing" : hw, Count(static_cast<double>(peak)));
  if (!r.cash_by_month.empty()) {
    const auto it = std::min_element(r.cash_by_month.begin(), r.cash_by_month.end());
    double breach = 0;
    for (double b : r.cash_breach_by_month) breach = std::max(breach, b);
    o += fmt::format("  cash         lowest {} in {} (floor {}){}\n", Money(*it),
                     s.MonthName(static_cast<int32_t>(it - r.cash_by_month.begin())), Money(s.finance.min_cash_usd),
                     breach > 0.5 ? fmt::format("; BELOW THE FLOOR by up to {}", Money(breach)) : "");
  }
  if (!p.input.capex_limits.empty()) {
    std::string line = "  capex        by year, plan of available:";
    std::string binding;
    for (const PlanCapexLimit& l : p.input.capex_limits) {
      double spent = 0;
      for (int32_t t = l.first_month; t <= std::min(l.last_month, s.months - 1); ++t) spent += r.capex_by_month[static_cast<size_t>(t)];
      std::string item = fmt::format(" {} {}/{}", l.label, Money(spent), Money(l.usd));
      if (line.size() + item.size() > 110) {
        o += line + "\n";
        line = "              ";
      }
      line += item;
      if (l.usd > 0 && spent > l.usd * 0.999) binding += (binding.empty() ? "" : ", ") + l.label;
    }
    o += line + (binding.empty() ? "" : fmt::format(" (binding: {})", binding)) + "\n";
  }
  int64_t cut = 0;
  double sev = 0;
  for (const LayoffWave& w : s.layoffs) {
    cut += w.count;
    sev += static_cast<double>(w.count) * w.severance_usd_per_person;
  }
  if (p.solve_for_payroll) {
    double breach = 0;
    for (double b : r.cash_breach_by_month) breach = std::max(breach, b);
    if (breach > 0.5) {
      // The lever weighs the contracts above the floor: a cut cannot pay
      // for what comes due before its savings do.
      o += fmt::format("  payroll      NO cut keeps cash above the floor while meeting the contracts as well as possible: with "
                       "{} roles cut, cash still falls {} below it (the scenario's waves cut {})\n",
                       Count(static_cast<double>(r.roles_cut)), Money(breach), Count(static_cast<double>(cut)));
    } else {
      o += fmt::format("  payroll      smallest cut that keeps cash above the floor and meets the contracts: {} roles "
                       "(the scenario's waves cut {})\n",
                       Count(static_cast<double>(r.roles_cut)), Count(static_cast<double>(cut)));
    }
  } else if (!s.groups.empty()) {
    double saved = 0;
    for (const LayoffWave& w : s.layoffs) saved += static_cast<double>(w.count) * s.groups[static_cast<size_t>(w.group)].usd_per_person_year;
    o += fmt::format("  payroll      {} roles cut in {} wave{}: {}/yr saved, {} severance\n", Count(static_cast<double>(cut)),
                     s.layoffs.size(), s.layoffs.size() == 1 ? "" : "s", Money(saved), Money(sev));
  }
  // Labor to compute, for the first contract's first hardware (labor.csv has every type).
  const auto labor = LaborToCompute(s);
  if (!labor.empty()) {
    std::string hw_name = labor.front().hardware;
    if (!s.contracts.empty() && !s.contracts.front().hardware.empty()) {
      hw_name = s.hardware[static_cast<size_t>(s.contracts.front().hardware.front())].name;
    }
    o += fmt::format("  labor->compute  a year of payroll buys, in {} with the power to run them (every type: labor.csv):\n", hw_name);
    for (const LaborRow& l : labor) {
      if (l.hardware != hw_name) continue;
      o += fmt::format("    {:>7} roles ({:>18}, {}/yr): {:>9} GPUs = {} domains, {:.0f} MW; {:.1f} contract-months\n",
                       Count(static_cast<double>(l.roles)), l.label, Money(l.usd_per_year), Count(l.gpus), Count(l.domains),
                       l.facility_mw, l.contract_months);
    }
  }
  return o;
}

}  // namespace rackscale
