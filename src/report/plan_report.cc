#include "report/plan_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rackscale {
namespace {

constexpr double kHoursPerMonth = 8760.0 / 12.0;
constexpr double kDaysPerMonth = 365.0 / 12.0;

std::string Money(double usd) { return FormatUsd(usd); }
std::string Count(double v) { return FormatCount(v); }

std::string Num(double v) { return fmt::format("{:.6g}", v); }

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

double PayrollNpv(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const double monthly = std::pow(1.0 + p.input.discount_rate, 1.0 / 12.0);
  double npv = 0;
  if (p.solve_for_payroll) {
    const PlanPayroll& l = p.input.payroll;
    for (int32_t t = 0; t < s.months; ++t) {
      double flow = 0;
      if (t > l.month) flow += static_cast<double>(p.result.roles_cut) * l.saving_usd_per_role_month;
      if (t == l.month) flow -= static_cast<double>(p.result.roles_cut) * l.severance_usd_per_role;
      npv += flow * std::pow(monthly, -t);
    }
    return npv;
  }
  const std::vector<double> payroll = PayrollByMonth(s);
  const std::vector<double> severance = SeveranceByMonth(s);
  double start = 0;
  for (const WorkforceGroup& g : s.groups) start += static_cast<double>(g.headcount) * g.usd_per_person_year / 12.0;
  for (int32_t t = 0; t < s.months; ++t) {
    npv += (start - payroll[static_cast<size_t>(t)] - severance[static_cast<size_t>(t)]) * std::pow(monthly, -t);
  }
  return npv;
}

std::string FormatPlanCsv(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  const std::vector<double> payroll = PayrollByMonth(s);
  const std::vector<double> severance = SeveranceByMonth(s);
  std::string out =
      "month,date,gpus_contracted,gpus_served_contracts,gpus_short,on_demand_demand,on_demand_served,"
      "gpus_in_service,mw_in_service,mw_needed,phases_started,domains_ordered,capex_usd,revenue_usd,"
      "energy_usd,depreciation_usd,payroll_usd,severance_usd,other_cash_flow_usd,cash_usd,cash_breach_usd\n";
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
    out += fmt::format("{},{},{},{},{},{},{},{},{:.3f},{:.3f},{},{},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f}\n",
                       t, s.MonthName(t), ContractedTotal(p, t), std::llround(served), std::llround(ShortAt(p, t)),
                       std::llround(demand), std::llround(r.on_demand_served[u]), r.gpus_in_service[u], mw, need,
                       phases, orders, r.capex_by_month[u], r.revenue_by_month[u], r.energy_by_month[u],
                       r.depreciation_by_month[u], payroll[u], severance[u], other,
                       r.cash_by_month.empty() ? 0.0 : r.cash_by_month[u],
                       r.cash_breach_by_month.empty() ? 0.0 : r.cash_breach_by_month[u]);
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

std::string FormatLaborCsv(const std::vector<LaborRow>& rows) {
  std::string out = "roles,label,usd_per_year,hardware,domains,gpus,facility_mw,contract_months,revenue_usd_per_year\n";
  for (const LaborRow& r : rows) {
    out += fmt::format("{},{},{:.0f},{},{:.1f},{:.0f},{:.2f},{:.2f},{:.0f}\n", r.roles, r.label, r.usd_per_year, r.hardware,
                       r.domains, r.gpus, r.facility_mw, r.contract_months, r.revenue_usd_per_year);
  }
  return out;
}

std::string FormatPlanSummaryJson(const PlanRun& p, bool timing) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  nlohmann::ordered_json j;
  j["schema"] = "rackscale.plan/1";
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
  if (timing) j["solver"]["wall_seconds"] = p.wall_seconds;
  j["npv_usd"] = std::round(TotalNpv(p));
  j["plan_npv_usd"] = std::round(r.npv_usd);
  j["payroll_npv_usd"] = std::round(PayrollNpv(p));
  j["capex_usd"] = std::round(r.capex_usd);
  j["revenue_usd"] = std::round(r.revenue_usd);
  j["energy_usd"] = std::round(r.energy_usd);
  j["residual_usd"] = std::round(r.residual_usd);
  j["first_full_month"] = r.first_full_month >= 0 ? nlohmann::ordered_json(s.MonthName(static_cast<int32_t>(r.first_full_month)))
                                                   : nlohmann::ordered_json(nullptr);
  j["solve_for_payroll"] = p.solve_for_payroll;
  j["roles_cut"] = p.solve_for_payroll ? r.roles_cut : [&] {
    int64_t n = 0;
    for (const LayoffWave& w : s.layoffs) n += w.count;
    return n;
  }();
  int64_t peak = 0;
  for (int64_t g : r.gpus_in_service) peak = std::max(peak, g);
  j["peak_gpus_in_service"] = peak;
  double mw_built = 0;
  for (const auto& site : r.mw_in_service) mw_built += site.empty() ? 0 : site.back();
  j["mw_in_service_at_end"] = std::round(mw_built * 10) / 10;
  if (!r.cash_by_month.empty()) {
    const auto it = std::min_element(r.cash_by_month.begin(), r.cash_by_month.end());
    j["lowest_cash_usd"] = std::round(*it);
    j["lowest_cash_month"] = s.MonthName(static_cast<int32_t>(it - r.cash_by_month.begin()));
    double breach = 0;
    for (double b : r.cash_breach_by_month) breach = std::max(breach, b);
    j["largest_cash_breach_usd"] = std::round(breach);
  }
  nlohmann::ordered_json contracts = nlohmann::ordered_json::array();
  for (size_t k = 0; k < p.input.contracts.size(); ++k) {
    const PlanContract& c = p.input.contracts[k];
    nlohmann::ordered_json cj;
    cj["name"] = c.name;
    int64_t peak_c = 0;
    for (int64_t g : c.contracted_gpus) peak_c = std::max(peak_c, g);
    cj["peak_gpus"] = peak_c;
    cj["usd_per_gpu_hour"] = c.usd_per_gpu_month / kHoursPerMonth;
    double rev = 0, short_gpu_months = 0;
    int64_t short_months = 0;
    for (size_t t = 0; t < r.contract_served[k].size(); ++t) rev += r.contract_served[k][t] * c.usd_per_gpu_month;
    nlohmann::ordered_json shorts = nlohmann::ordered_json::array();
    for (const PlanShortfall& f : r.shortfalls) {
      if (f.contract != static_cast<int32_t>(k)) continue;
      ++short_months;
      short_gpu_months += f.gpus;
      shorts.push_back({{"month", s.MonthName(f.month)},
                        {"gpus", f.gpus},
                        {"lead_time", f.lead_time},
                        {"power", f.power},
                        {"cash", f.cash}});
    }
    cj["revenue_usd"] = std::round(rev);
    cj["short_months"] = short_months;
    cj["short_gpu_months"] = short_gpu_months;
    cj["shortfalls"] = shorts;
    contracts.push_back(cj);
  }
  j["contracts"] = contracts;
  nlohmann::ordered_json limits = nlohmann::ordered_json::array();
  for (const PlanCapexLimit& l : p.input.capex_limits) {
    double spent = 0;
    for (int32_t t = l.first_month; t <= std::min(l.last_month, s.months - 1); ++t) spent += r.capex_by_month[static_cast<size_t>(t)];
    limits.push_back({{"year", l.label}, {"limit_usd", std::round(l.usd)}, {"plan_capex_usd", std::round(spent)}});
  }
  j["capex_limits"] = limits;
  return j.dump(2) + "\n";
}

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

// ---------------------------------------------------------------------------
// The simulator's inputs.

namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string CatalogToml(const Fleet& f) {
  std::string o;
  for (const AcceleratorType& a : f.accelerators) {
    o += fmt::format("[accelerators.{}]\nmemory_gb = {}\nbusy_watts = {}\nidle_watts = {}\nprice_usd = {}\n"
                     "failures_per_year = {}\nspeed = {}\nlife_years = {}\n\n",
                     Quote(a.name), Num(a.memory_gb), Num(a.busy_watts), Num(a.idle_watts), Num(a.price_usd),
                     Num(a.failures_per_year), Num(a.speed), Num(a.life_years));
  }
  for (const NodeType& n : f.node_types) {
    o += fmt::format("[nodes.{}]\ncpu_milli = {}\nmemory_mib = {}\ngpus = {}\n", Quote(n.name), n.cpu_milli, n.memory_mib, n.gpus);
    if (n.accelerator >= 0) o += fmt::format("accelerator = {}\n", Quote(f.accelerators[static_cast<size_t>(n.accelerator)].name));
    o += fmt::format("busy_watts = {}\nidle_watts = {}\n\n", Num(n.busy_watts), Num(n.idle_watts));
  }
  for (const DomainType& d : f.domain_types) {
    o += fmt::format("[domains.{}]\nnode = {}\nnodes = {}\n\n", Quote(d.name), Quote(f.node_types[static_cast<size_t>(d.node_type)].name), d.nodes);
  }
  return o;
}

}  // namespace

Result<SimInputs> BuildSimInputs(const PlanRun& p) {
  const Scenario& s = Sc(p);
  const PlanResult& r = p.result;
  const SimulateSpec& sim = s.simulate;
  const int32_t w0 = sim.start_month, w1 = sim.start_month + sim.months;
  SimInputs out;
  out.days = sim.months * kDaysPerMonth;
  auto day_of = [&](int32_t month) { return std::max(0.0, (month - w0) * kDaysPerMonth); };
  std::string fleet = fmt::format("# The fleet plan '{}' has in service in {} .. {}, scaled by {} (written by rackscale run).\n\n",
                                  s.name, s.MonthName(w0), s.MonthName(w1 - 1), Num(sim.scale));
  fleet += CatalogToml(s.catalog);
  // Scaled domain counts carry their rounding remainders so that small
  // orders are not all lost.
  double carry = 0;
  std::vector<int64_t> dedicated_capacity(s.hardware.size(), 0);  // simulated domains at the window's end, per type
  const size_t W = static_cast<size_t>(w1 - w0);
  std::vector<double> online_gpus(W, 0);  // simulated GPUs in service, by window month
  bool any_site = false;
  for (size_t k = 0; k < s.sites.size(); ++k) {
    std::string pools;
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
        pools += fmt::format("  [[sites.pools]]  # {} {} ordered {}\n  domain = {}\n  count = {}\n  per_block = 32\n", n,
                             hw.name, s.MonthName(t), Quote(s.catalog.domain_types[static_cast<size_t>(hw.domain_type)].name), count);
        if (on > w0) pools += fmt::format("  online_day = {}\n", Num(day_of(on)));
        if (off < w1) pools += fmt::format("  retire_day = {}\n", Num(day_of(off)));
        pools += "\n";
      }
    }
    if (pools.empty()) continue;
    any_site = true;
    const PowerSite& site = s.sites[k];
    const double cap = r.mw_in_service[k][static_cast<size_t>(w1 - 1)] * sim.scale;
    fleet += fmt::format("[[sites]]\nname = {}\npower_cap_mw = {}\npue = {}\nusd_per_mwh = {}\n\n{}", Quote(site.name), Num(cap),
                         Num(site.pue), Num(site.usd_per_mwh), pools);
  }
  if (!any_site) {
    return Error::InvalidInput(s.source, 0, "simulate",
                               fmt::format("the plan has no domains in service in {} .. {} at scale {}: move simulate.start "
                                           "later or raise simulate.scale",
                                           s.MonthName(w0), s.MonthName(w1 - 1), Num(sim.scale)));
  }
  out.fleet_toml = fleet;

  // Tenants: each contract's tenant holds dedicated domains as its
  // deliveries ramp (month by month within the window), split over the
  // hardware it may use in proportion to what is in service; on-demand
  // tenants share the rest.
  std::string ten = "# Tenants of the simulated months (written by rackscale run).\n\n";
  std::map<std::string, double> contract_gpus;  // tenant -> simulated GPUs at the window's end
  std::map<std::string, std::vector<double>> contract_by_month;  // tenant -> its dedicated GPUs, by window month
  std::vector<int64_t> used(s.hardware.size(), 0);
  for (size_t c = 0; c < s.contracts.size(); ++c) {
    const ContractSpec& ct = s.contracts[c];
    std::vector<int32_t> allowed = ct.hardware;
    if (allowed.empty()) {
      for (size_t h = 0; h < s.hardware.size(); ++h) allowed.push_back(static_cast<int32_t>(h));
    }
    std::string dedicated;
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
          dedicated += fmt::format("  [[tenants.dedicated]]\n  domain_type = {}\n  domains = {}\n  start_day = {}\n  end_day = {}\n  lend = true\n\n",
                                   Quote(dtype), i.domains, Num(day_of(i.from)), Num(day_of(until)));
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
    ten += fmt::format("[[tenants]]\nname = {}\nweight = 4\nreserved_usd_per_gpu_hour = {}\non_demand_usd_per_gpu_hour = {}\n\n{}",
                       Quote(ct.tenant), Num(ct.usd_per_gpu_hour), Num(ct.usd_per_gpu_hour), dedicated);
  }
  const int32_t od_tenants = static_cast<int32_t>(sim.on_demand_tenants);
  for (int32_t i = 0; i < od_tenants; ++i) {
    ten += fmt::format("[[tenants]]\nname = \"od{}\"\non_demand_usd_per_gpu_hour = {}\nspot_usd_per_gpu_hour = {}\n\n", i + 1,
                       Num(s.on_demand.usd_per_gpu_hour), Num(s.on_demand.usd_per_gpu_hour * 0.4));
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
    ten += fmt::format("[[services]]\nname = {}\ntenant = {}\nrate = \"{}\"\npeak_hour = 14\ntrough_hour = 4\ntrough_ratio = 0.35\n"
                       "gpus_per_replica = {}\ntokens_per_s_per_replica = {}\ntokens_per_request = 1366\nbatch_slots = 256\n"
                       "slo_ms = 2000\nmin_replicas = 1\nmax_replicas = {}\ntarget_utilization = 0.7\nstartup_s = 300\n\n",
                       Quote(tenant + "-inference"), Quote(tenant), Num(peak_rate), rack->gpus_per_domain, Num(per_replica), replicas);
  }
  out.tenants_toml = ten;

  // The workload: each contract tenant's training (gangs up to
  // max_gang_gpus), and on-demand tenants shaped like public GPU-cluster
  // traces (Philly, Helios, Acme; docs/traces.md), at the loads the
  // scenario names.
  int64_t fleet_gpus = 0;
  for (size_t h = 0; h < s.hardware.size(); ++h) fleet_gpus += dedicated_capacity[h] * s.hardware[h].gpus_per_domain;
  out.gpus = fleet_gpus;
  double contract_total = 0;
  for (const auto& [tenant, gpus] : contract_gpus) contract_total += gpus;
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
      AiGenParams g;
      g.days = month_days;
      g.tenants = 1;
      g.cpu_fraction = 0;
      g.gang_fraction = 0.05;
      g.max_gang = std::max({256, domain_gpus, std::min<int32_t>(sim.max_gang_gpus, static_cast<int32_t>(gpus / 2))});
      g.preemptible_fraction = 0;
      g.domain_gpus = domain_gpus;
      g.load = std::max(0.01, sim.contract_load * (1 - sim.inference_share * 0.6));
      g.capacity_gpus = static_cast<int64_t>(gpus);
      g.jobs = std::clamp<int64_t>(static_cast<int64_t>(gpus * month_days * 0.05), 50, std::max<int64_t>(50, jobs_per_month / 4));
      g.seed = seed++;
      auto part = GenerateAi(g);
      if (!part) return part.error();
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
  out.workload = std::move(w);
  out.note = fmt::format("{} .. {} at scale {}: {} GPUs ({} contracted), {} jobs", s.MonthName(w0), s.MonthName(w1 - 1),
                         Num(sim.scale), Count(static_cast<double>(fleet_gpus)), Count(contract_total),
                         Count(static_cast<double>(out.workload.jobs.size())));
  return out;
}

}  // namespace rackscale
