// report.html of `rackscale run`: the plan's charts (power, GPUs, capex and
// payroll, cash), the simulation's (utilization, idle reserved GPUs,
// failures and ETTR), the sensitivity tornado and the tables behind them.
// Every chart is a Vega-Lite spec with its data inline.
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "base/file.h"
#include "base/text.h"
#include "report/plan_report.h"

namespace rackscale {
namespace {

using json = nlohmann::json;

std::string Money(double usd) { return FormatUsd(usd); }
std::string Count(double v) { return FormatCount(v); }

// A small CSV (no quoting: the simulator's own outputs) as rows of fields.
struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Col(const std::string& name) const {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  }
  double Num(const std::vector<std::string>& row, int col) const {
    if (col < 0 || static_cast<size_t>(col) >= row.size() || row[static_cast<size_t>(col)].empty()) return 0;
    return std::strtod(row[static_cast<size_t>(col)].c_str(), nullptr);
  }
};

// The simulator's own CSV outputs (no quoting), read with the readers'
// file and line helpers; a missing file reads as empty.
Csv ReadCsv(const std::string& path) {
  Csv c;
  auto text = ReadFileMaybeGz(path);
  if (!text) return c;
  LineCursor lines(*text);
  std::string_view line;
  while (lines.Next(&line)) {
    std::vector<std::string> fields;
    size_t start = 0;
    while (true) {
      const size_t comma = line.find(',', start);
      fields.emplace_back(line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (lines.line_no() == 1) {
      c.header = std::move(fields);
    } else {
      c.rows.push_back(std::move(fields));
    }
  }
  return c;
}

json LineChart(const json& values, const std::string& x, const std::string& xtitle, const std::string& ytitle,
               const std::string& series, const std::string& yfield = "value") {
  return json{{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
              {"width", "container"},
              {"height", 260},
              {"data", {{"values", values}}},
              {"mark", {{"type", "line"}, {"interpolate", "step-after"}}},
              {"encoding",
               {{"x", {{"field", x}, {"type", "temporal"}, {"title", xtitle}}},
                {"y", {{"field", yfield}, {"type", "quantitative"}, {"title", ytitle}}},
                {"color", {{"field", series}, {"type", "nominal"}, {"title", nullptr}, {"legend", {{"orient", "top"}}}}},
                {"tooltip", json::array({{{"field", x}, {"type", "temporal"}},
                                         {{"field", series}, {"type", "nominal"}},
                                         {{"field", yfield}, {"type", "quantitative"}, {"format", ",.0f"}}})}}}};
}

std::string Date(const Scenario& s, int32_t t) { return s.MonthName(t) + "-01"; }

}  // namespace

HtmlReport BuildRunReport(const PlanRun& p, const std::string& sim_dir, const std::vector<SensitivityRow>& sensitivity) {
  const Scenario& s = *p.scenario;
  const PlanResult& r = p.result;
  const PlanInput& in = p.input;
  HtmlReport rep;
  rep.title = fmt::format("rackscale: {}", s.name);
  rep.subtitle = fmt::format("{} to {}, {} months. {}", s.MonthName(0), s.MonthName(s.months - 1), s.months, s.description);
  int64_t peak = 0;
  for (int64_t g : r.gpus_in_service) peak = std::max(peak, g);
  double mw_end = 0;
  for (const auto& site : r.mw_in_service) mw_end += site.back();
  int64_t cut = 0;
  for (const LayoffWave& w : s.layoffs) cut += w.count;
  rep.headline = {
      {"NPV", Money(TotalNpv(p))},
      {"Full delivery from", r.first_full_month >= 0 ? s.MonthName(static_cast<int32_t>(r.first_full_month)) : "never"},
      {"Peak GPUs in service", Count(static_cast<double>(peak))},
      {"Power at the end", fmt::format("{:.0f} MW", mw_end)},
      {"Capex", Money(r.capex_usd)},
      {p.solve_for_payroll ? "Smallest payroll cut" : "Roles cut", Count(static_cast<double>(p.solve_for_payroll ? r.roles_cut : cut))},
  };

  // --- In brief: the findings in words, for a board.
  {
    HtmlSection brief;
    brief.title = "In brief";
    for (size_t k = 0; k < in.contracts.size(); ++k) {
      const PlanContract& c = in.contracts[k];
      int64_t peak_c = 0;
      for (int64_t g : c.contracted_gpus) peak_c = std::max(peak_c, g);
      int months_short = 0;
      double worst = 0;
      std::string why;
      for (const PlanShortfall& f : r.shortfalls) {
        if (f.contract != static_cast<int32_t>(k) || f.gpus <= 0.001 * static_cast<double>(c.contracted_gpus[static_cast<size_t>(f.month)])) continue;
        ++months_short;
        if (f.gpus > worst) {
          worst = f.gpus;
          why.clear();
          for (const char* w : {f.lead_time ? "lead time" : "", f.power ? "power" : "", f.cash ? "cash" : ""}) {
            if (*w) why += (why.empty() ? "" : " and ") + std::string(w);
          }
          if (why.empty()) why = "cost (meeting it would cost more than it earns and saves in penalties)";
        }
      }
      brief.paragraphs.push_back(
          months_short == 0
              ? fmt::format("The {} contract ({} GPUs at ${:.2f} per GPU-hour) is met on every deadline.", c.name,
                            Count(static_cast<double>(peak_c)), c.usd_per_gpu_month * 12 / 8760)
              : fmt::format("The {} contract ({} GPUs) falls short in {} months, by up to {} GPUs; what binds then: {}.", c.name,
                            Count(static_cast<double>(peak_c)), months_short, Count(worst), why));
    }
    int64_t phases = 0;
    for (const auto& site : r.phases_started) {
      for (int64_t n : site) phases += n;
    }
    double mw0 = 0;
    for (const auto& site : r.mw_in_service) mw0 += site.front();
    brief.paragraphs.push_back(fmt::format(
        "It takes {} of capex over the {} months ({} in the first 15 months) and {} new power phase{}, from {:.0f} MW free "
        "at the start to {:.0f} MW; peak GPUs in service reach {}.",
        Money(r.capex_usd), s.months, Money([&] {
          double c = 0;
          for (int32_t t = 0; t < std::min(15, s.months); ++t) c += r.capex_by_month[static_cast<size_t>(t)];
          return c;
        }()),
        phases, phases == 1 ? "" : "s", mw0, mw_end, Count(static_cast<double>(peak))));
    if (!r.cash_by_month.empty()) {
      const auto it = std::min_element(r.cash_by_month.begin(), r.cash_by_month.end());
      double breach = 0;
      for (double b : r.cash_breach_by_month) breach = std::max(breach, b);
      brief.paragraphs.push_back(
          breach > 0.5 ? fmt::format("Cash falls below the {} floor, by up to {}: the plan is not funded as it stands.",
                                     Money(s.finance.min_cash_usd), Money(breach))
                       : fmt::format("Cash stays above the {} floor; its lowest point is {} in {}.", Money(s.finance.min_cash_usd),
                                     Money(*it), s.MonthName(static_cast<int32_t>(it - r.cash_by_month.begin()))));
    }
    double worst_breach = 0;
    for (double b : r.cash_breach_by_month) worst_breach = std::max(worst_breach, b);
    if (p.solve_for_payroll && worst_breach > 0.5) {
      brief.paragraphs.push_back(fmt::format(
          "No payroll reduction keeps cash above the floor while meeting the contracts as well as they can be met: with {} "
          "roles cut, cash still falls {} below it, because what comes due before the savings arrive cannot wait.",
          Count(static_cast<double>(r.roles_cut)), Money(worst_breach)));
    } else if (p.solve_for_payroll) {
      brief.paragraphs.push_back(fmt::format(
          "The smallest payroll reduction that keeps cash above the floor while meeting the contracts is {} roles{}.",
          Count(static_cast<double>(r.roles_cut)), r.roles_cut == 0 ? ": the plan needs no layoffs to be funded" : ""));
    } else if (cut > 0) {
      const auto labor = LaborToCompute(s);
      double gpus = 0;
      std::string hw;
      for (const LaborRow& l : labor) {
        if (l.roles == cut && (hw.empty() || hw == l.hardware)) {
          gpus = l.gpus;
          hw = l.hardware;
        }
      }
      brief.paragraphs.push_back(fmt::format(
          "The {} roles cut save {} a year of payroll (after {} of severance); a year of that payroll buys about {} {} GPUs "
          "with the power to run them. Whether the plan needed the cuts: rerun with --solve-for payroll.",
          Count(static_cast<double>(cut)), Money([&] {
            double saved = 0;
            for (const LayoffWave& w : s.layoffs) saved += static_cast<double>(w.count) * s.groups[static_cast<size_t>(w.group)].usd_per_person_year;
            return saved;
          }()),
          Money([&] {
            double sev = 0;
            for (const LayoffWave& w : s.layoffs) sev += static_cast<double>(w.count) * w.severance_usd_per_person;
            return sev;
          }()),
          Count(gpus), hw));
    }
    brief.paragraphs.push_back(fmt::format(
        "NPV at {:.1f}% a year: {} ({} from the plan, {} of payroll saved net of severance). {}", in.discount_rate * 100,
        Money(TotalNpv(p)), Money(r.npv_usd), Money(PayrollNpv(p)),
        r.optimal ? fmt::format("The plan is proved within {:.2g}% of the optimum.", std::max(r.gap, 1e-9) * 100)
                  : fmt::format("The plan is the best the search found before its {} ({} nodes); it is at most {:.1f}% from the "
                                "optimum.", r.stopped_by, r.nodes, r.gap * 100)));
    rep.sections.push_back(brief);
  }

  // --- The plan.
  HtmlSection plan;
  plan.title = "The plan";
  plan.paragraphs.push_back(fmt::format(
      "GLPK solved a monthly mixed-integer program with {} columns ({} integer) and {} rows: {}. "
      "It chooses when to start power phases at each site and how many domains of each hardware type to order, to "
      "serve the contracts by their deadlines and on-demand demand, maximising NPV at {:.1f}%/yr under the capex "
      "limits and the cash floor.",
      Count(static_cast<double>(r.columns)), Count(static_cast<double>(r.integer_columns)), Count(static_cast<double>(r.rows)),
      r.optimal ? fmt::format("proved within {:.2g}% of the optimum", std::max(r.gap, 1e-9) * 100)
                : fmt::format("the best plan found before the {} stopped the search, at most {:.2f}% from optimal", r.stopped_by,
                              r.gap * 100),
      in.discount_rate * 100));
  {
    json v = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      double mw = 0, need = 0;
      for (size_t k = 0; k < s.sites.size(); ++k) {
        mw += r.mw_in_service[k][static_cast<size_t>(t)];
        need += r.mw_used[k][static_cast<size_t>(t)];
      }
      v.push_back({{"month", Date(s, t)}, {"series", "MW in service (built)"}, {"value", mw}});
      v.push_back({{"month", Date(s, t)}, {"series", "MW needed by the GPUs in service"}, {"value", need}});
    }
    plan.charts.push_back({"power", "Power built vs needed",
                           "Facility MW in service at all sites (initial power plus phases after their lead time) against "
                           "the MW the domains in service draw at full load times PUE.",
                           LineChart(v, "month", "month", "MW", "series")});
  }
  {
    json v = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      int64_t contracted = 0;
      double served = 0;
      for (size_t k = 0; k < in.contracts.size(); ++k) {
        contracted += in.contracts[k].contracted_gpus[static_cast<size_t>(t)];
        served += r.contract_served[k][static_cast<size_t>(t)];
      }
      v.push_back({{"month", Date(s, t)}, {"series", "GPUs installed"}, {"value", r.gpus_in_service[static_cast<size_t>(t)]}});
      v.push_back({{"month", Date(s, t)}, {"series", "GPUs contracted"}, {"value", contracted}});
      v.push_back({{"month", Date(s, t)}, {"series", "contracted GPUs delivered"}, {"value", served}});
      if (!in.on_demand.gpus.empty()) {
        v.push_back({{"month", Date(s, t)}, {"series", "on-demand demand"}, {"value", in.on_demand.gpus[static_cast<size_t>(t)]}});
      }
    }
    plan.charts.push_back({"gpus", "GPUs installed vs contracted",
                           "GPUs in service each month against the contracts' deliveries (a step is due from its deadline) "
                           "and the on-demand demand.",
                           LineChart(v, "month", "month", "GPUs", "series")});
  }
  {
    const std::vector<double> payroll = PayrollByMonth(s);
    json v = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      v.push_back({{"month", Date(s, t)}, {"series", "capex (this plan)"}, {"value", r.capex_by_month[static_cast<size_t>(t)] / 1e9}});
      v.push_back({{"month", Date(s, t)}, {"series", "payroll (workforce groups)"}, {"value", payroll[static_cast<size_t>(t)] / 1e9}});
      v.push_back({{"month", Date(s, t)}, {"series", "revenue (this plan)"}, {"value", r.revenue_by_month[static_cast<size_t>(t)] / 1e9}});
    }
    json spec = LineChart(v, "month", "month", "$B per month", "series");
    spec["encoding"]["tooltip"][2]["format"] = ",.2f";
    plan.charts.push_back({"capex-payroll", "Capex vs payroll",
                           "Monthly capex of the plan (power phases and domains, paid when ordered) beside the payroll of the "
                           "scenario's workforce groups after each layoff wave, and the plan's revenue.",
                           spec});
  }
  if (!r.cash_by_month.empty()) {
    json v = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      v.push_back({{"month", Date(s, t)}, {"cash", r.cash_by_month[static_cast<size_t>(t)] / 1e9},
                   {"floor", s.finance.min_cash_usd / 1e9},
                   {"flow", (t == 0 ? r.cash_by_month[0] - s.finance.starting_cash_usd
                                    : r.cash_by_month[static_cast<size_t>(t)] - r.cash_by_month[static_cast<size_t>(t - 1)]) / 1e9}});
    }
    json spec = {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
                 {"width", "container"},
                 {"height", 260},
                 {"data", {{"values", v}}},
                 {"encoding", {{"x", {{"field", "month"}, {"type", "temporal"}, {"title", "month"}}}}},
                 {"layer",
                  json::array({{{"mark", {{"type", "bar"}, {"opacity", 0.5}}},
                                {"encoding", {{"y", {{"field", "flow"}, {"type", "quantitative"}, {"title", "$B"}}},
                                              {"color", {{"datum", "net cash flow in the month"}, {"legend", {{"orient", "top"}}}}}}}},
                               {{"mark", {{"type", "line"}}},
                                {"encoding", {{"y", {{"field", "cash"}, {"type", "quantitative"}}},
                                              {"color", {{"datum", "cash balance"}}},
                                              {"tooltip", json::array({{{"field", "month"}, {"type", "temporal"}},
                                                                       {{"field", "cash"}, {"type", "quantitative"}, {"format", ",.1f"}}})}}}},
                               {{"mark", {{"type", "rule"}, {"strokeDash", json::array({4, 4})}}},
                                {"encoding", {{"y", {{"field", "floor"}, {"type", "quantitative"}}},
                                              {"color", {{"datum", "cash floor"}}}}}}})}};
    plan.charts.push_back({"cash", "Cash flow",
                           "The company's cash balance: baseline operating cash flow, payroll saved by the layoffs less "
                           "severance, other capex, and this plan's revenue, capex and energy; the dashed line is the floor.",
                           spec});
  }
  // Shortfalls.
  {
    HtmlTable t;
    t.title = "Months a contract falls short";
    t.header = {"contract", "from", "to", "months", "worst GPUs short", "binding"};
    for (size_t k = 0; k < in.contracts.size(); ++k) {
      // Runs of consecutive months.
      const PlanShortfall* run_start = nullptr;
      const PlanShortfall* prev = nullptr;
      double worst = 0;
      std::string why;
      auto flush = [&]() {
        if (run_start == nullptr) return;
        t.rows.push_back({in.contracts[k].name, s.MonthName(run_start->month), s.MonthName(prev->month),
                          std::to_string(prev->month - run_start->month + 1), Count(worst), why});
      };
      for (const PlanShortfall& f : r.shortfalls) {
        if (f.contract != static_cast<int32_t>(k)) continue;
        if (prev == nullptr || f.month != prev->month + 1) {
          flush();
          run_start = &f;
          worst = 0;
          why.clear();
        }
        if (f.gpus > worst) {
          worst = f.gpus;
          std::vector<std::string> w;
          if (f.lead_time) w.push_back("lead time");
          if (f.power) w.push_back("power");
          if (f.cash) w.push_back("cash");
          if (w.empty()) w.push_back("cost");
          why.clear();
          for (size_t i = 0; i < w.size(); ++i) why += (i ? " + " : "") + w[i];
        }
        prev = &f;
      }
      flush();
    }
    if (t.rows.empty()) t.note = "Every contract is met in every month of its term.";
    plan.tables.push_back(t);
  }
  {
    HtmlTable t;
    t.title = "Capex by calendar year";
    t.header = {"year", "available to the plan", "plan capex", "used"};
    for (const PlanCapexLimit& l : in.capex_limits) {
      double spent = 0;
      for (int32_t m = l.first_month; m <= std::min(l.last_month, s.months - 1); ++m) spent += r.capex_by_month[static_cast<size_t>(m)];
      t.rows.push_back({l.label, Money(l.usd), Money(spent), l.usd > 0 ? fmt::format("{:.0f}%", 100 * spent / l.usd) : "-"});
    }
    t.note = "The scenario's limit on total capex in the year, less the other capex of its months.";
    if (!t.rows.empty()) plan.tables.push_back(t);
  }
  {
    HtmlTable t;
    t.title = "Orders by hardware and site";
    t.header = {"hardware", "site", "domains", "GPUs", "first order", "last order"};
    for (size_t h = 0; h < s.hardware.size(); ++h) {
      for (size_t k = 0; k < s.sites.size(); ++k) {
        int64_t n = 0;
        int32_t first = -1, last = -1;
        for (int32_t m = 0; m < s.months; ++m) {
          const int64_t x = r.domains_ordered[h][k][static_cast<size_t>(m)];
          if (x == 0) continue;
          n += x;
          if (first < 0) first = m;
          last = m;
        }
        if (n == 0) continue;
        t.rows.push_back({s.hardware[h].name, s.sites[k].name, Count(static_cast<double>(n)),
                          Count(static_cast<double>(n * s.hardware[h].gpus_per_domain)), s.MonthName(first), s.MonthName(last)});
      }
    }
    plan.tables.push_back(t);
  }
  rep.sections.push_back(plan);

  // --- Labor to compute.
  {
    HtmlSection labor;
    labor.title = "Labor to compute";
    labor.paragraphs.push_back(
        "What a year of payroll buys at the scenario's prices: domains of each hardware type with the power to run them "
        "(at the cheapest site's $/MW), their GPUs and facility MW, and how many months of the first contract's full "
        "GPU count those GPUs cover in a year.");
    HtmlTable t;
    t.title = "What N roles a year buy";
    t.header = {"roles", "", "payroll / yr", "hardware", "domains (racks)", "GPUs", "MW", "contract-months", "revenue / yr at contract price"};
    for (const LaborRow& l : LaborToCompute(s)) {
      t.rows.push_back({Count(static_cast<double>(l.roles)), l.label, Money(l.usd_per_year), l.hardware, Count(l.domains),
                        Count(l.gpus), fmt::format("{:.1f}", l.facility_mw), fmt::format("{:.1f}", l.contract_months),
                        Money(l.revenue_usd_per_year)});
    }
    labor.tables.push_back(t);
    rep.sections.push_back(labor);
  }

  // --- Sensitivity.
  if (!sensitivity.empty()) {
    HtmlSection sens;
    sens.title = "Sensitivity";
    sens.paragraphs.push_back(
        "Each bar re-plans the scenario with one input at the low and at the high end of its range, the others at base. "
        "Bars are sorted by the swing in NPV.");
    std::vector<SensitivityRow> sorted = sensitivity;
    std::stable_sort(sorted.begin(), sorted.end(), [](const SensitivityRow& a, const SensitivityRow& b) {
      return std::fabs(a.npv_high - a.npv_low) > std::fabs(b.npv_high - b.npv_low);
    });
    json v = json::array(), m = json::array();
    for (const SensitivityRow& row : sorted) {
      v.push_back({{"input", row.key}, {"end", "low"}, {"value", row.low}, {"delta", (row.npv_low - row.npv_base) / 1e9}});
      v.push_back({{"input", row.key}, {"end", "high"}, {"value", row.high}, {"delta", (row.npv_high - row.npv_base) / 1e9}});
      auto shift = [&](int64_t x) { return x < 0 || row.full_base < 0 ? json(nullptr) : json(x - row.full_base); };
      m.push_back({{"input", row.key}, {"end", "low"}, {"value", row.low}, {"delta", shift(row.full_low)}});
      m.push_back({{"input", row.key}, {"end", "high"}, {"value", row.high}, {"delta", shift(row.full_high)}});
    }
    json order = json::array();
    for (const SensitivityRow& row : sorted) order.push_back(row.key);
    auto tornado = [&](const json& values, const std::string& title, const std::string& fmtstr) {
      return json{{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
                  {"width", "container"},
                  {"height", {{"step", 28}}},
                  {"data", {{"values", values}}},
                  {"mark", "bar"},
                  {"encoding",
                   {{"y", {{"field", "input"}, {"type", "nominal"}, {"sort", order}, {"title", nullptr}}},
                    {"x", {{"field", "delta"}, {"type", "quantitative"}, {"title", title}}},
                    {"yOffset", {{"field", "end"}, {"sort", json::array({"low", "high"})}}},
                    {"color", {{"field", "end"}, {"type", "nominal"}, {"title", "input at"}, {"sort", json::array({"low", "high"})},
                               {"legend", {{"orient", "top"}}}}},
                    {"tooltip", json::array({{{"field", "input"}}, {{"field", "end"}}, {{"field", "value"}, {"title", "input value"}},
                                             {{"field", "delta"}, {"format", fmtstr}}})}}}};
    };
    sens.charts.push_back({"tornado-npv", "NPV tornado", "Change in NPV ($B) from the base plan at each end of each range.",
                           tornado(v, "change in NPV ($B)", ",.2f")});
    sens.charts.push_back({"tornado-delivery", "First month of full delivery",
                           "Months later (+) or earlier (-) than the base plan that every contract is met from; a missing bar "
                           "means never within the horizon at that end.",
                           tornado(m, "months vs base", "d")});
    HtmlTable t;
    t.title = "Ranges";
    t.header = {"input", "base", "low", "NPV at low", "high", "NPV at high", "full delivery low / high"};
    for (const SensitivityRow& row : sorted) {
      auto mn = [&](int64_t x) { return x >= 0 ? s.MonthName(static_cast<int32_t>(x)) : std::string("never"); };
      t.rows.push_back({row.key, fmt::format("{:g}", row.base), fmt::format("{:g}", row.low), Money(row.npv_low),
                        fmt::format("{:g}", row.high), Money(row.npv_high), mn(row.full_low) + " / " + mn(row.full_high)});
    }
    sens.tables.push_back(t);
    rep.sections.push_back(sens);
  }

  // --- The simulated months.
  if (!sim_dir.empty()) {
    HtmlSection sim;
    sim.title = "The simulated fleet";
    const Csv ts = ReadCsv(sim_dir + "/timeseries.csv");
    const int c_hour = ts.Col("hour"), c_scope = ts.Col("scope");
    const int c_online = ts.Col("gpus_online"), c_busy = ts.Col("gpus_busy"), c_failed = ts.Col("gpus_failed");
    const int c_res = ts.Col("gpus_reserved"), c_res_idle = ts.Col("gpus_reserved_idle");
    const int c_power = ts.Col("power_mw"), c_cap = ts.Col("power_cap_mw");
    struct Day {
      double online = 0, busy = 0, failed = 0, reserved = 0, reserved_idle = 0, power = 0, cap = 0;
      int hours = 0;
    };
    std::map<int64_t, Day> days;
    std::map<int64_t, int> site_hours;
    for (const auto& row : ts.rows) {
      if (c_scope < 0 || static_cast<size_t>(c_scope) >= row.size()) continue;
      const int64_t day = static_cast<int64_t>(ts.Num(row, c_hour) / 24);
      Day& d = days[day];
      const std::string& scope = row[static_cast<size_t>(c_scope)];
      if (scope == "site") {
        d.online += ts.Num(row, c_online);
        d.busy += ts.Num(row, c_busy);
        d.failed += ts.Num(row, c_failed);
        d.power += ts.Num(row, c_power);
        d.cap += ts.Num(row, c_cap);
        ++site_hours[day];
      } else if (scope == "tenant") {
        d.reserved += ts.Num(row, c_res);
        d.reserved_idle += ts.Num(row, c_res_idle);
      }
    }
    const double sites_n = std::max<double>(1, static_cast<double>(s.sites.size()));
    json util = json::array(), idle = json::array(), fail = json::array(), power = json::array();
    const int32_t w0 = s.simulate.start_month;
    for (const auto& [day, d] : days) {
      const double n = std::max(1, site_hours[day]);
      const double online = d.online / n * sites_n, busy = d.busy / n * sites_n;
      util.push_back({{"day", day}, {"series", "GPU utilization"}, {"value", online > 0 ? busy / online : 0}});
      idle.push_back({{"day", day}, {"series", "reserved GPUs"}, {"value", d.reserved / n * sites_n}});
      idle.push_back({{"day", day}, {"series", "reserved GPUs idle"}, {"value", d.reserved_idle / n * sites_n}});
      fail.push_back({{"day", day}, {"series", "GPUs down (failed, in repair)"}, {"value", d.failed / n * sites_n}});
      power.push_back({{"day", day}, {"series", "facility MW drawn"}, {"value", d.power / n * sites_n}});
      power.push_back({{"day", day}, {"series", "MW cap"}, {"value", d.cap / n * sites_n}});
    }
    auto daychart = [&](const json& values, const std::string& ytitle, const std::string& fmtstr) {
      return json{{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
                  {"width", "container"},
                  {"height", 220},
                  {"data", {{"values", values}}},
                  {"mark", "line"},
                  {"encoding",
                   {{"x", {{"field", "day"}, {"type", "quantitative"}, {"title", fmt::format("day from {}", s.MonthName(w0))}}},
                    {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", ytitle}}},
                    {"color", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"legend", {{"orient", "top"}}}}},
                    {"tooltip", json::array({{{"field", "day"}}, {{"field", "series"}}, {{"field", "value"}, {"format", fmtstr}}})}}}};
    };
    json util_spec = daychart(util, "share of online GPUs busy", ".1%");
    util_spec["encoding"]["y"]["axis"] = {{"format", "%"}};
    sim.charts.push_back({"utilization", "Utilization", "Daily mean share of the online GPUs that jobs and inference replicas hold.", util_spec});
    sim.charts.push_back({"idle-reserved", "Idle reserved GPUs",
                          "GPUs of the contract tenants' dedicated clusters, and those of them idle (lent GPUs count as busy).",
                          daychart(idle, "GPUs", ",.0f")});
    sim.charts.push_back({"failures", "Failures", "GPUs down for repair after node failures, daily mean.", daychart(fail, "GPUs", ",.0f")});
    sim.charts.push_back({"sim-power", "Power against the caps", "Facility draw of all simulated sites against the sum of their caps.",
                          daychart(power, "MW", ",.1f")});
    const Csv tenants = ReadCsv(sim_dir + "/tenants.csv");
    {
      const int c_t = tenants.Col("tenant"), c_ettr = tenants.Col("ettr"), c_int = tenants.Col("interruptions");
      const int c_wait = tenants.Col("mean_wait_s"), c_done = tenants.Col("done"), c_jobs = tenants.Col("jobs");
      const int c_rev = tenants.Col("revenue_usd"), c_idle = tenants.Col("idle_reserved_cost_usd");
      json ettr = json::array();
      HtmlTable t;
      t.title = "Tenants in the simulated months";
      t.header = {"tenant", "jobs", "done", "mean wait (s)", "interruptions", "ETTR", "revenue", "idle reserved cost"};
      for (const auto& row : tenants.rows) {
        if (c_t < 0 || row.empty()) continue;
        const std::string name = row[static_cast<size_t>(c_t)];
        ettr.push_back({{"tenant", name}, {"ettr", tenants.Num(row, c_ettr)}});
        t.rows.push_back({name, Count(tenants.Num(row, c_jobs)), Count(tenants.Num(row, c_done)), Count(tenants.Num(row, c_wait)),
                          Count(tenants.Num(row, c_int)), fmt::format("{:.3f}", tenants.Num(row, c_ettr)), Money(tenants.Num(row, c_rev)),
                          Money(tenants.Num(row, c_idle))});
      }
      json spec = {{"$schema", "https://vega.github.io/schema/vega-lite/v5.json"},
                   {"width", "container"},
                   {"height", {{"step", 22}}},
                   {"data", {{"values", ettr}}},
                   {"mark", "bar"},
                   {"encoding",
                    {{"y", {{"field", "tenant"}, {"type", "nominal"}, {"title", nullptr}}},
                     {"x", {{"field", "ettr"}, {"type", "quantitative"}, {"title", "effective training time ratio"},
                            {"scale", {{"domain", json::array({0, 1})}}}}},
                     {"tooltip", json::array({{{"field", "tenant"}}, {{"field", "ettr"}, {"format", ".3f"}}})}}}};
      sim.charts.push_back({"ettr", "ETTR by tenant",
                            "Work done over the GPU wall time from first start to end of the tenants' finished GPU jobs, "
                            "with failures, checkpoints and restarts.",
                            spec});
      sim.tables.push_back(t);
    }
    sim.paragraphs.push_back(fmt::format(
        "The simulator ran the fleet the plan has in service in {} .. {} (scaled by {:g}; its inputs are in sim/: "
        "fleet.toml, tenants.toml, workload.csv, and can be rerun with `rackscale sim`). Contract tenants hold dedicated "
        "clusters as their deliveries ramp, run training gangs and inference services on them, and lend idle GPUs; "
        "on-demand tenants share the rest. Nodes fail at their accelerators' rates and jobs restart from checkpoints.",
        s.MonthName(w0), s.MonthName(w0 + s.simulate.months - 1), s.simulate.scale));
    rep.sections.push_back(sim);
  }
  return rep;
}

}  // namespace rackscale
