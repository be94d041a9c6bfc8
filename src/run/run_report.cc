// report.html of `rackscale run`: what a board and a capacity engineer ask of
// a plan (is each contract met, what it costs, what binds, where the power
// and the GPUs go, what it does to cash, what moves the answer) and of the
// simulated months (how busy the fleet is, what failures cost, what the
// contract tenants' reserved GPUs do). Every chart is a Vega-Lite spec with
// its data inline and the rules that trace its points to the written files.
#include "run/run_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "report/fleet_report.h"
#include "report/plan_report.h"
#include "report/writers.h"
#include "run/main_job.h"

namespace rackscale {
namespace {

using json = nlohmann::json;

std::string Money(double usd) { return FormatUsd(usd); }
std::string Count(double v) { return FormatCount(v); }

// A value of a data-src reference: '&', '=', '#', '%' and '?' escaped.
std::string Enc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&' || c == '=' || c == '#' || c == '%' || c == '?' || c == ' ') {
      o += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    } else {
      o += c;
    }
  }
  return o;
}
// "summary.json#/plan/npv_usd"
std::string JsonSrc(const std::string& file, const std::string& pointer) { return file + "#" + pointer; }
// "plan.csv?date=2026-10#cash_usd"
std::string CsvSrc(const std::string& file, const std::vector<std::pair<std::string, std::string>>& keys,
                   const std::string& column) {
  std::string o = file;
  for (size_t i = 0; i < keys.size(); ++i) o += (i ? "&" : "?") + Enc(keys[i].first) + "=" + Enc(keys[i].second);
  return o + "#" + column;
}

// A source rule of a chart (html_report.h): the points with `where` come
// from `file`'s rows matching `match`, as the weighted sum of `columns`.
json CsvRule(const std::string& file, const json& where, const json& match, const json& columns, const std::string& field) {
  return json{{"where", where}, {"file", file}, {"match", match}, {"columns", columns}, {"field", field}};
}
json JsonRule(const std::string& file, const json& where, const std::string& pointer, double weight, const std::string& field) {
  return json{{"where", where}, {"file", file}, {"pointer", pointer}, {"weight", weight}, {"field", field}};
}

// A first-of-month date for a temporal axis.
std::string Date(const Scenario& s, int32_t t) { return s.MonthName(t) + "-01"; }

// An x encoding of months over years: a tick a year, labelled with the year.
json MonthAxis(const std::string& field = "month", const std::string& title = "month") {
  return json{{"field", field},
              {"type", "temporal"},
              {"timeUnit", "utcyearmonth"},
              {"title", title},
              {"axis", {{"format", "%Y"}, {"tickCount", {{"interval", "year"}, {"step", 1}}}, {"labelAngle", 0}}}};
}
// An x encoding of days inside a few months: a tick a month, with its year.
json DayAxis(const std::string& title) {
  return json{{"field", "date"},
              {"type", "temporal"},
              {"timeUnit", "utcyearmonthdate"},
              {"title", title},
              {"axis", {{"format", "%b %Y"}, {"tickCount", {{"interval", "month"}, {"step", 1}}}, {"labelAngle", 0}}}};
}

json Legend(const std::string& title = "") {
  json l = {{"orient", "top"}, {"direction", "horizontal"}, {"labelLimit", 0}, {"columns", 2}};
  l["title"] = title.empty() ? json(nullptr) : json(title);
  return l;
}

// A line chart of long-format data {x, series, value}, in months.
json MonthLines(const json& values, const std::string& ytitle, const std::string& fmtstr, const json& sort,
                const json& dash = json()) {
  json enc = {{"x", MonthAxis()},
              {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", ytitle}}},
              {"color", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"sort", sort}, {"legend", Legend()}}},
              {"tooltip", json::array({{{"field", "month"}, {"type", "temporal"}, {"timeUnit", "utcyearmonth"}, {"title", "month"}},
                                       {{"field", "series"}, {"type", "nominal"}, {"title", "series"}},
                                       {{"field", "value"}, {"type", "quantitative"}, {"format", fmtstr}, {"title", ytitle}}})}};
  if (!dash.is_null()) enc["strokeDash"] = dash;
  return json{{"width", "container"},
              {"height", 260},
              {"data", {{"values", values}}},
              {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 2}}},
              {"encoding", enc}};
}

json DayLines(const json& values, const std::string& xtitle, const std::string& ytitle, const std::string& fmtstr,
              const json& sort) {
  return json{{"width", "container"},
              {"height", 220},
              {"data", {{"values", values}}},
              {"mark", {{"type", "line"}, {"strokeWidth", 2}}},
              {"encoding",
               {{"x", DayAxis(xtitle)},
                {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", ytitle}}},
                {"color", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"sort", sort}, {"legend", Legend()}}},
                {"tooltip", json::array({{{"field", "date"}, {"type", "temporal"}, {"timeUnit", "utcyearmonthdate"}, {"title", "day"}},
                                         {{"field", "series"}, {"type", "nominal"}, {"title", "series"}},
                                         {{"field", "value"}, {"type", "quantitative"}, {"format", fmtstr}, {"title", ytitle}}})}}}};
}

std::string MonthOr(const Scenario& s, int64_t t, const char* never) {
  return t >= 0 ? s.MonthName(static_cast<int32_t>(t)) : std::string(never);
}

std::string Hours(double seconds) {
  const double h = seconds / 3600;
  return h >= 48 ? fmt::format("{:.1f} d", h / 24) : fmt::format("{:.1f} h", h);
}

void AddInBrief(const RunResult& run, const PlanFigures& f, HtmlReport& rep) {
  const PlanRun& p = run.plan;
  const Scenario& s = *p.scenario;
  const PlanResult& r = p.result;
  HtmlSection brief;
  brief.title = "In brief";
  for (const PlanContractFigures& c : f.contracts) {
    if (c.short_months == 0) {
      brief.paragraphs.push_back(fmt::format("The {} contract ({} GPUs at ${:.2f} per GPU-hour) is met on every deadline.", c.name,
                                             Count(static_cast<double>(c.peak_gpus)), c.usd_per_gpu_hour));
      continue;
    }
    std::vector<std::string> why;
    if (c.worst->lead_time) why.push_back("lead time");
    if (c.worst->power) why.push_back("power");
    if (c.worst->cash) why.push_back("cash");
    std::string w;
    for (size_t i = 0; i < why.size(); ++i) w += (i ? " and " : "") + why[i];
    if (w.empty()) w = "cost (meeting it would cost more than it earns and saves in penalties)";
    brief.paragraphs.push_back(fmt::format("The {} contract ({} GPUs) falls short in {} months from {} to {}, by up to {} GPUs in {}; what binds then: {}.",
                                           c.name, Count(static_cast<double>(c.peak_gpus)), c.short_months, s.MonthName(c.first_short),
                                           s.MonthName(c.last_short), Count(c.worst->gpus), s.MonthName(c.worst->month), w));
  }
  double capex15 = 0;
  for (int32_t t = 0; t < std::min(15, s.months); ++t) capex15 += r.capex_by_month[static_cast<size_t>(t)];
  brief.paragraphs.push_back(fmt::format(
      "It takes {} of capex over the {} months ({} in the first 15) and {} new power phase{}, from {:.0f} MW in service at the "
      "start to {:.0f} MW at the end; GPUs in service peak at {}.",
      Money(r.capex_usd), s.months, Money(capex15), f.phases_started, f.phases_started == 1 ? "" : "s", f.mw_at_start, f.mw_at_end,
      Count(static_cast<double>(f.peak_gpus))));
  if (f.has_cash) {
    brief.paragraphs.push_back(
        f.largest_breach_usd > 0.5
            ? fmt::format("Cash falls below the {} floor, by up to {}: the plan is not funded as it stands.", Money(s.finance.min_cash_usd),
                          Money(f.largest_breach_usd))
            : fmt::format("Cash stays above the {} floor; its lowest point is {} in {}.", Money(s.finance.min_cash_usd),
                          Money(f.lowest_cash_usd), s.MonthName(f.lowest_cash_month)));
  }
  if (p.solve_for_payroll && f.largest_breach_usd > 0.5) {
    brief.paragraphs.push_back(fmt::format(
        "No payroll reduction keeps cash above the floor while meeting the contracts as well as they can be met: with {} roles cut, "
        "cash still falls {} below it, because what comes due before the savings arrive cannot wait.",
        Count(static_cast<double>(f.roles_cut)), Money(f.largest_breach_usd)));
  } else if (p.solve_for_payroll) {
    brief.paragraphs.push_back(fmt::format(
        "The smallest payroll reduction that keeps cash above the floor while meeting the contracts is {} roles{}.",
        Count(static_cast<double>(f.roles_cut)), f.roles_cut == 0 ? ": the plan needs no layoffs to be funded" : ""));
  } else if (f.roles_cut > 0) {
    double gpus = 0;
    std::string hw;
    for (const LaborRow& l : LaborToCompute(s)) {
      if (l.roles == f.roles_cut && (hw.empty() || hw == l.hardware)) {
        gpus = l.gpus;
        hw = l.hardware;
      }
    }
    brief.paragraphs.push_back(fmt::format(
        "The {} roles cut save {} a year of payroll (after {} of severance); a year of that payroll buys about {} {} GPUs with the "
        "power to run them. Whether the plan needed the cuts: rerun with --solve-for payroll.",
        Count(static_cast<double>(f.roles_cut)), Money(f.payroll_saved_per_year), Money(f.severance_usd), Count(gpus), hw));
  }
  const NpvBreakdown npv = BreakDownNpv(p);
  const std::string axis = PlanTimeAxisText(p);
  brief.paragraphs.push_back(fmt::format(
      "NPV at {:.1f}% a year: {} ({} from the plan, {} of payroll saved net of severance). {}", p.input.discount_rate * 100,
      Money(npv.total), Money(r.npv_usd), Money(npv.payroll_saved - npv.severance),
      (r.optimal ? fmt::format("The plan is proved within {:.2g}% of the optimum", std::max(r.gap, 1e-9) * 100)
                 : fmt::format("The plan is the best the search found before its {} ({} nodes); it is at most {:.1f}% from the optimum",
                               r.stopped_by, r.nodes, r.gap * 100)) +
          (axis.empty() ? std::string(".") : " of a program planned " + axis + ".")));
  if (run.sim) {
    const FleetSummary& fs = run.sim->summary;
    brief.paragraphs.push_back(fmt::format(
        "Simulated at {:g}x scale over {} .. {}, the fleet's GPUs are {:.1f}% busy (of their time in service), training keeps {:.1f}% "
        "of its GPU time as progress through {} node failures (ETTR), and inference meets its latency target for {:.1f}% of the demand.",
        s.simulate.scale, s.MonthName(s.simulate.start_month), s.MonthName(s.simulate.start_month + s.simulate.months - 1),
        100 * fs.gpu_utilization, 100 * fs.ettr, Count(static_cast<double>(fs.node_failures)), 100 * fs.inference_slo_attainment));
  }
  rep.sections.push_back(brief);
}

void AddPlan(const RunResult& run, const PlanFigures& f, HtmlReport& rep) {
  const PlanRun& p = run.plan;
  const Scenario& s = *p.scenario;
  const PlanResult& r = p.result;
  const PlanInput& in = p.input;
  const std::string axis = PlanTimeAxisText(p);
  HtmlSection plan;
  plan.title = "The plan";
  plan.paragraphs.push_back(fmt::format(
      "GLPK solved a {} with {} columns ({} integer) and {} rows: {}. It chooses when to start power "
      "phases at each site and how many domains of each hardware type to order, to serve the contracts by their deadlines and "
      "on-demand demand, maximising NPV at {:.1f}%/yr under the capex limits and the cash floor. Month by month: plan.csv, "
      "plan_sites.csv, plan_orders.csv.",
      axis.empty() ? std::string("monthly mixed-integer program") : "mixed-integer program planned " + axis,
      Count(static_cast<double>(r.columns)), Count(static_cast<double>(r.integer_columns)), Count(static_cast<double>(r.rows)),
      r.optimal ? fmt::format("proved within {:.2g}% of the optimum", std::max(r.gap, 1e-9) * 100)
                : fmt::format("the best plan found before the {} stopped the search, at most {:.2f}% from optimal", r.stopped_by, r.gap * 100),
      in.discount_rate * 100));

  // Power built against need, per site.
  {
    json v = json::array();
    std::vector<size_t> shown;
    for (size_t k = 0; k < s.sites.size(); ++k) {
      double most = 0;
      for (int32_t t = 0; t < s.months; ++t) most = std::max({most, r.mw_in_service[k][static_cast<size_t>(t)], r.mw_used[k][static_cast<size_t>(t)]});
      if (most > 0) shown.push_back(k);
    }
    json sites = json::array();
    for (size_t k : shown) {
      sites.push_back(s.sites[k].name);
      for (int32_t t = 0; t < s.months; ++t) {
        const size_t u = static_cast<size_t>(t);
        v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"site", s.sites[k].name}, {"series", "MW built (in service)"},
                     {"value", r.mw_in_service[k][u]}});
        v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"site", s.sites[k].name}, {"series", "MW needed by its GPUs"},
                     {"value", r.mw_used[k][u]}});
      }
    }
    const json sort = json::array({"MW built (in service)", "MW needed by its GPUs"});
    json spec = {{"data", {{"values", v}}},
                 {"columns", 2},
                 {"facet", {{"field", "site"}, {"type", "nominal"}, {"title", nullptr}, {"sort", sites}, {"header", {{"labelFontSize", 12}, {"labelFontWeight", "bold"}}}}},
                 {"spec",
                  {{"width", 250},
                   {"height", 130},
                   {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 2}}},
                   {"encoding",
                    {{"x", MonthAxis("month", "")},
                     {"y", {{"field", "value"}, {"type", "quantitative"}, {"title", "MW"}}},
                     {"color", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"sort", sort}, {"legend", Legend()}}},
                     {"strokeDash", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"sort", sort}, {"legend", Legend()},
                                     {"scale", {{"range", json::array({json::array({1, 0}), json::array({5, 3})})}}}}},
                     {"tooltip", json::array({{{"field", "site"}, {"title", "site"}},
                                              {{"field", "month"}, {"type", "temporal"}, {"timeUnit", "utcyearmonth"}, {"title", "month"}},
                                              {{"field", "series"}, {"title", "series"}},
                                              {{"field", "value"}, {"type", "quantitative"}, {"format", ",.1f"}, {"title", "MW"}}})}}}}},
                 {"resolve", {{"scale", {{"y", "independent"}}}}}};
    HtmlChart c{"power-sites", "Power built vs needed, by site",
                "Facility MW in service at each site (power free at the start plus phases after their lead time) against the MW its "
                "domains in service draw at full load times PUE. Each panel has its own scale.",
                spec};
    c.source = json::array({CsvRule("plan_sites.csv", {{"series", "MW built (in service)"}}, {{"date", "date"}, {"site", "site"}},
                                    {{"mw_in_service", 1}}, "value"),
                            CsvRule("plan_sites.csv", {{"series", "MW needed by its GPUs"}}, {{"date", "date"}, {"site", "site"}},
                                    {{"mw_used", 1}}, "value")});
    plan.charts.push_back(c);
  }
  // GPUs in service by hardware type against the contracts.
  {
    json v = json::array();
    json hw_names = json::array();
    for (size_t h = 0; h < s.hardware.size(); ++h) {
      bool any = false;
      for (const auto& site : r.domains_in_service[h]) {
        for (int64_t x : site) any = any || x > 0;
      }
      if (!any) continue;
      hw_names.push_back(s.hardware[h].name);
      for (int32_t t = 0; t < s.months; ++t) {
        int64_t g = 0;
        for (const auto& site : r.domains_in_service[h]) g += site[static_cast<size_t>(t)];
        v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", s.hardware[h].name},
                     {"value", g * s.hardware[h].gpus_per_domain}});
      }
    }
    json lines = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      int64_t contracted = 0;
      for (const PlanContract& c : in.contracts) contracted += c.contracted_gpus[static_cast<size_t>(t)];
      lines.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "GPUs contracted"}, {"value", contracted}});
      if (!in.on_demand.gpus.empty()) {
        lines.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "GPUs contracted + on-demand demand"},
                         {"value", static_cast<double>(contracted) + in.on_demand.gpus[static_cast<size_t>(t)]}});
      }
    }
    json all = v;
    for (const json& x : lines) all.push_back(x);
    json area_series = hw_names;
    json spec = {
        {"width", "container"},
        {"height", 280},
        {"data", {{"values", all}}},
        {"layer",
         json::array(
             {{{"transform", json::array({{{"filter", {{"field", "series"}, {"oneOf", area_series}}}}})},
               {"mark", {{"type", "area"}, {"interpolate", "step-after"}, {"opacity", 0.85}}},
               {"encoding",
                {{"x", MonthAxis()},
                 {"y", {{"field", "value"}, {"type", "quantitative"}, {"stack", "zero"}, {"title", "GPUs"}}},
                 {"color", {{"field", "series"}, {"type", "nominal"}, {"title", "in service"}, {"sort", area_series}, {"legend", Legend("in service")}}},
                 {"tooltip", json::array({{{"field", "month"}, {"type", "temporal"}, {"timeUnit", "utcyearmonth"}, {"title", "month"}},
                                          {{"field", "series"}, {"title", "hardware"}},
                                          {{"field", "value"}, {"type", "quantitative"}, {"format", ",.0f"}, {"title", "GPUs"}}})}}}},
              {{"transform", json::array({{{"filter", {{"not", {{"field", "series"}, {"oneOf", area_series}}}}}}})},
               {"mark", {{"type", "line"}, {"interpolate", "step-after"}, {"strokeWidth", 2.5}, {"color", "#111827"}}},
               {"encoding",
                {{"x", MonthAxis()},
                 {"y", {{"field", "value"}, {"type", "quantitative"}}},
                 {"strokeDash", {{"field", "series"}, {"type", "nominal"}, {"title", "needed"}, {"legend", Legend("needed")},
                                 {"scale", {{"range", json::array({json::array({6, 3}), json::array({2, 2})})}}}}},
                 {"tooltip", json::array({{{"field", "month"}, {"type", "temporal"}, {"timeUnit", "utcyearmonth"}, {"title", "month"}},
                                          {{"field", "series"}, {"title", "series"}},
                                          {{"field", "value"}, {"type", "quantitative"}, {"format", ",.0f"}, {"title", "GPUs"}}})}}}}})},
        {"resolve", {{"legend", {{"color", "independent"}, {"strokeDash", "independent"}}}}}};
    HtmlChart c{"gpus", "GPUs in service by hardware type, against the contracts",
                "GPUs in service each month, stacked by hardware type, against the GPUs the contracts require (a step is due from its "
                "deadline) and that plus the on-demand demand.",
                spec};
    c.source = json::array({CsvRule("plan.csv", {{"series", "GPUs contracted"}}, {{"date", "date"}}, {{"gpus_contracted", 1}}, "value"),
                            CsvRule("plan.csv", {{"series", "GPUs contracted + on-demand demand"}}, {{"date", "date"}},
                                    {{"gpus_contracted", 1}, {"on_demand_demand", 1}}, "value")});
    for (const json& name : hw_names) {
      c.source.push_back(CsvRule("plan_orders.csv", {{"series", name}}, {{"date", "date"}, {"series", "hardware"}},
                                 {{"gpus_in_service", 1}}, "value"));
    }
    plan.charts.push_back(c);
  }
  // The order and power-phase timeline.
  {
    json v = json::array();
    json lanes = json::array();
    for (size_t k = 0; k < s.sites.size(); ++k) {
      bool any = false;
      for (int32_t t = 0; t < s.months; ++t) {
        const int64_t n = r.phases_started[k][static_cast<size_t>(t)];
        if (n == 0) continue;
        any = true;
        v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"site", s.sites[k].name}, {"kind", "power phases started"},
                     {"lane", "power at " + s.sites[k].name}, {"amount", n}});
      }
      if (any) lanes.push_back("power at " + s.sites[k].name);
    }
    for (size_t h = 0; h < s.hardware.size(); ++h) {
      for (size_t k = 0; k < s.sites.size(); ++k) {
        bool any = false;
        for (int32_t t = 0; t < s.months; ++t) {
          const int64_t n = r.domains_ordered[h][k][static_cast<size_t>(t)];
          if (n == 0) continue;
          any = true;
          v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"site", s.sites[k].name}, {"hardware", s.hardware[h].name},
                       {"kind", "domains ordered"}, {"lane", s.hardware[h].name + " at " + s.sites[k].name}, {"amount", n}});
        }
        if (any) lanes.push_back(s.hardware[h].name + " at " + s.sites[k].name);
      }
    }
    json spec = {{"width", "container"},
                 {"height", {{"step", 26}}},
                 {"data", {{"values", v}}},
                 {"mark", {{"type", "point"}, {"filled", true}, {"opacity", 0.8}}},
                 {"encoding",
                  {{"x", [] {
                      json x = MonthAxis();
                      x["scale"] = {{"padding", 14}};  // the first month's circles clear the lane labels
                      return x;
                    }()},
                   {"y", {{"field", "lane"}, {"type", "nominal"}, {"sort", lanes}, {"title", nullptr}, {"axis", {{"labelLimit", 0}}}}},
                   {"size", {{"condition", {{"test", "datum.kind === 'power phases started'"}, {"value", 160}}},
                             {"field", "amount"}, {"type", "quantitative"}, {"title", "domains"}, {"legend", nullptr},
                             {"scale", {{"range", json::array({30, 600})}}}}},
                   {"shape", {{"field", "kind"}, {"type", "nominal"}, {"title", nullptr}, {"legend", Legend()},
                              {"scale", {{"domain", json::array({"domains ordered", "power phases started"})},
                                         {"range", json::array({"circle", "triangle-up"})}}}}},
                   {"color", {{"field", "kind"}, {"type", "nominal"}, {"title", nullptr}, {"legend", Legend()},
                              {"scale", {{"domain", json::array({"domains ordered", "power phases started"})}}}}},
                   {"tooltip", json::array({{{"field", "lane"}, {"title", "what"}},
                                            {{"field", "month"}, {"type", "temporal"}, {"timeUnit", "utcyearmonth"}, {"title", "month"}},
                                            {{"field", "amount"}, {"type", "quantitative"}, {"format", ",.0f"}, {"title", "count"}}})}}}};
    HtmlChart c{"timeline", "Order and power-phase timeline",
                "Each circle is a month in which the plan orders domains of a hardware type for a site (they arrive after the "
                "hardware's lead time), its area growing with the count; each triangle a month in which it starts power phases at a "
                "site (in service after the site's lead time). Hover for the counts.",
                spec};
    c.source = json::array({CsvRule("plan_sites.csv", {{"kind", "power phases started"}}, {{"date", "date"}, {"site", "site"}},
                                    {{"phases_started", 1}}, "amount"),
                            CsvRule("plan_orders.csv", {{"kind", "domains ordered"}}, {{"date", "date"}, {"site", "site"}, {"hardware", "hardware"}},
                                    {{"domains_ordered", 1}}, "amount")});
    if (!v.empty()) plan.charts.push_back(c);
  }
  // Revenue by source, capex and payroll.
  {
    const RevenueBySource rev = RevenueBySourceByMonth(p);
    const std::vector<double> payroll = PayrollByMonth(s);
    json v = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      const size_t u = static_cast<size_t>(t);
      double contract = 0;
      for (const auto& c : rev.contract) contract += c[u];
      v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "contract revenue"}, {"value", contract / 1e9}});
      v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "on-demand revenue"}, {"value", rev.on_demand[u] / 1e9}});
    }
    json spec = {{"width", "container"},
                 {"height", 240},
                 {"data", {{"values", v}}},
                 {"mark", {{"type", "area"}, {"interpolate", "step-after"}, {"opacity", 0.85}}},
                 {"encoding",
                  {{"x", MonthAxis()},
                   {"y", {{"field", "value"}, {"type", "quantitative"}, {"stack", "zero"}, {"title", "$B per month"}}},
                   {"color", {{"field", "series"}, {"type", "nominal"}, {"title", nullptr}, {"legend", Legend()}}},
                   {"tooltip", json::array({{{"field", "month"}, {"type", "temporal"}, {"timeUnit", "utcyearmonth"}, {"title", "month"}},
                                            {{"field", "series"}, {"title", "source"}},
                                            {{"field", "value"}, {"type", "quantitative"}, {"format", ",.3f"}, {"title", "$B"}}})}}}};
    HtmlChart c{"revenue", "Revenue by source",
                "Monthly revenue of the plan, stacked: the contracts' GPUs delivered at their price, and on-demand GPUs served at "
                "the billed share of the list price.",
                spec};
    c.source = json::array({CsvRule("plan.csv", {{"series", "contract revenue"}}, {{"date", "date"}}, {{"contract_revenue_usd", 1e-9}}, "value"),
                            CsvRule("plan.csv", {{"series", "on-demand revenue"}}, {{"date", "date"}}, {{"on_demand_revenue_usd", 1e-9}}, "value")});
    plan.charts.push_back(c);

    json w = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      const size_t u = static_cast<size_t>(t);
      w.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "capex of the plan"}, {"value", r.capex_by_month[u] / 1e9}});
      w.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "payroll of the workforce"}, {"value", payroll[u] / 1e9}});
      w.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "revenue of the plan"}, {"value", r.revenue_by_month[u] / 1e9}});
    }
    HtmlChart c2{"capex-payroll", "Capex vs payroll",
                 "Monthly capex of the plan (power phases and domains, paid when ordered) beside the payroll of the scenario's "
                 "workforce after each layoff wave, and the plan's revenue.",
                 MonthLines(w, "$B per month", ",.3f", json::array({"capex of the plan", "payroll of the workforce", "revenue of the plan"}))};
    c2.source = json::array({CsvRule("plan.csv", {{"series", "capex of the plan"}}, {{"date", "date"}}, {{"capex_usd", 1e-9}}, "value"),
                             CsvRule("plan.csv", {{"series", "payroll of the workforce"}}, {{"date", "date"}}, {{"payroll_usd", 1e-9}}, "value"),
                             CsvRule("plan.csv", {{"series", "revenue of the plan"}}, {{"date", "date"}}, {{"revenue_usd", 1e-9}}, "value")});
    plan.charts.push_back(c2);
  }
  // Cash: with and without the plan against the floor, and the plan's effect.
  if (f.has_cash) {
    const std::vector<double> without = CashWithoutPlan(p);
    json v = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      const size_t u = static_cast<size_t>(t);
      v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "cash with the plan"}, {"value", r.cash_by_month[u] / 1e9}});
      v.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "cash without the plan"}, {"value", without[u] / 1e9}});
    }
    json spec = MonthLines(v, "$B", ",.2f", json::array({"cash with the plan", "cash without the plan"}));
    json lines = spec;
    lines.erase("width");
    lines.erase("height");
    lines.erase("data");
    spec = {{"width", "container"},
            {"height", 260},
            {"data", {{"values", v}}},
            {"layer", json::array({lines,
                                   {{"mark", {{"type", "rule"}, {"strokeDash", json::array({6, 4})}, {"color", "#b91c1c"}, {"strokeWidth", 1.5}}},
                                    {"encoding", {{"y", {{"datum", s.finance.min_cash_usd / 1e9}, {"type", "quantitative"}}}}}},
                                   {{"mark", {{"type", "text"}, {"align", "left"}, {"dx", 4}, {"dy", -7}, {"color", "#b91c1c"}}},
                                    {"encoding", {{"y", {{"datum", s.finance.min_cash_usd / 1e9}, {"type", "quantitative"}}},
                                                  {"x", {{"value", 0}}},
                                                  {"text", {{"value", fmt::format("cash floor {}", Money(s.finance.min_cash_usd))}}}}}}})}};
    HtmlChart c{"cash", "Cash with and without the plan",
                "The company's cash balance month by month: with the plan, and without its revenue, capex and energy (baseline operating "
                "cash flow, payroll saved by the layoffs less severance, other capex). The dashed red line is the cash floor.",
                spec};
    c.source = json::array({CsvRule("plan.csv", {{"series", "cash with the plan"}}, {{"date", "date"}}, {{"cash_usd", 1e-9}}, "value"),
                            CsvRule("plan.csv", {{"series", "cash without the plan"}}, {{"date", "date"}}, {{"cash_without_plan_usd", 1e-9}}, "value")});
    plan.charts.push_back(c);

    json e = json::array();
    for (int32_t t = 0; t < s.months; ++t) {
      const size_t u = static_cast<size_t>(t);
      e.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "cumulative: cash with minus without the plan"},
                   {"value", (r.cash_by_month[u] - without[u]) / 1e9}});
      e.push_back({{"month", Date(s, t)}, {"date", s.MonthName(t)}, {"series", "in the month: revenue - capex - energy"},
                   {"value", (r.revenue_by_month[u] - r.capex_by_month[u] - r.energy_by_month[u]) / 1e9}});
    }
    HtmlChart c2{"cash-effect", "The plan's effect on cash",
                 "What the plan adds to (or takes from) cash: its revenue less capex and energy in each month, and the running total, "
                 "which is the gap between the two lines above. It dips while capex leads revenue.",
                 MonthLines(e, "$B", ",.2f", json::array({"cumulative: cash with minus without the plan", "in the month: revenue - capex - energy"}))};
    c2.source = json::array({CsvRule("plan.csv", {{"series", "cumulative: cash with minus without the plan"}}, {{"date", "date"}},
                                     {{"cash_usd", 1e-9}, {"cash_without_plan_usd", -1e-9}}, "value"),
                             CsvRule("plan.csv", {{"series", "in the month: revenue - capex - energy"}}, {{"date", "date"}},
                                     {{"revenue_usd", 1e-9}, {"capex_usd", -1e-9}, {"energy_usd", -1e-9}}, "value")});
    plan.charts.push_back(c2);
  }
  // NPV, term by term.
  {
    const NpvBreakdown b = BreakDownNpv(p);
    struct Term {
      const char* label;
      double amount;
      const char* key;
    };
    const std::vector<Term> terms = {{"contract revenue", b.contract_revenue, "contract_revenue_usd"},
                                     {"on-demand revenue", b.on_demand_revenue, "on_demand_revenue_usd"},
                                     {"capex", -b.capex, "capex_usd"},
                                     {"energy", -b.energy, "energy_usd"},
                                     {"book value left", b.book_value, "book_value_usd"},
                                     {"payroll saved", b.payroll_saved, "payroll_saved_usd"},
                                     {"severance", -b.severance, "severance_usd"}};
    json v = json::array();
    json order = json::array();
    double run_total = 0;
    for (const Term& t : terms) {
      const double start = run_total;
      run_total += t.amount;
      v.push_back({{"term", t.label}, {"amount", t.amount / 1e9}, {"start", start / 1e9}, {"end", run_total / 1e9},
                   {"kind", t.amount >= 0 ? "adds" : "takes"}});
      order.push_back(t.label);
    }
    v.push_back({{"term", "NPV"}, {"amount", b.total / 1e9}, {"start", 0}, {"end", b.total / 1e9}, {"kind", "total"}});
    order.push_back("NPV");
    json spec = {{"width", "container"},
                 {"height", 260},
                 {"data", {{"values", v}}},
                 {"mark", {{"type", "bar"}}},
                 {"encoding",
                  {{"x", {{"field", "term"}, {"type", "nominal"}, {"sort", order}, {"title", nullptr}, {"axis", {{"labelAngle", 0}, {"labelLimit", 0}}}}},
                   {"y", {{"field", "start"}, {"type", "quantitative"}, {"title", "$B (discounted)"}}},
                   {"y2", {{"field", "end"}}},
                   {"color", {{"field", "kind"}, {"type", "nominal"}, {"title", nullptr},
                              {"scale", {{"domain", json::array({"adds", "takes", "total"})}, {"range", json::array({"#16a34a", "#dc2626", "#2563eb"})}}},
                              {"legend", Legend()}}},
                   {"tooltip", json::array({{{"field", "term"}, {"title", "term"}}, {{"field", "amount"}, {"format", ",.2f"}, {"title", "$B"}}})}}}};
    HtmlChart c{"npv", "NPV, term by term",
                fmt::format("How the NPV of {} adds up: each term discounted at {:.1f}%/yr to the first month (book value from the horizon); "
                            "the plan's terms, then the payroll's.",
                            Money(b.total), in.discount_rate * 100),
                spec};
    c.source = json::array();
    for (const Term& t : terms) {
      c.source.push_back(JsonRule("summary.json", {{"term", t.label}}, std::string("/plan/npv_breakdown/") + t.key, 1e-9, "amount"));
    }
    c.source.push_back(JsonRule("summary.json", {{"term", "NPV"}}, "/plan/npv_usd", 1e-9, "amount"));
    plan.charts.push_back(c);
    HtmlTable t;
    t.title = "NPV breakdown";
    t.header = {"term", "discounted"};
    for (const Term& x : terms) {
      t.rows.push_back({x.label, Money(x.amount)});
      t.sources.push_back({"", JsonSrc("summary.json", std::string("/plan/npv_breakdown/") + x.key)});
    }
    t.rows.push_back({"NPV", Money(b.total)});
    t.sources.push_back({"", JsonSrc("summary.json", "/plan/npv_usd")});
    plan.tables.push_back(t);
  }
  // Shortfalls.
  {
    HtmlTable t;
    t.title = "Months a contract falls short";
    t.header = {"contract", "from", "to", "months", "worst GPUs short", "binding"};
    for (size_t k = 0; k < in.contracts.size(); ++k) {
      const PlanShortfall* run_start = nullptr;
      const PlanShortfall* prev = nullptr;
      double worst = 0;
      std::string why;
      auto flush = [&]() {
        if (run_start == nullptr) return;
        t.rows.push_back({in.contracts[k].name, s.MonthName(run_start->month), s.MonthName(prev->month),
                          std::to_string(prev->month - run_start->month + 1), Count(worst), why});
      };
      for (const PlanShortfall& sf : r.shortfalls) {
        if (sf.contract != static_cast<int32_t>(k)) continue;
        if (prev == nullptr || sf.month != prev->month + 1) {
          flush();
          run_start = &sf;
          worst = 0;
        }
        if (sf.gpus > worst) {
          worst = sf.gpus;
          std::vector<std::string> w;
          if (sf.lead_time) w.push_back("lead time");
          if (sf.power) w.push_back("power");
          if (sf.cash) w.push_back("cash");
          if (w.empty()) w.push_back("cost");
          why.clear();
          for (size_t i = 0; i < w.size(); ++i) why += (i ? " + " : "") + w[i];
        }
        prev = &sf;
      }
      flush();
    }
    if (t.rows.empty()) t.note = "Every contract is met in every month of its term.";
    plan.tables.push_back(t);
  }
  if (!f.capex_years.empty()) {
    HtmlTable t;
    t.title = "Capex by calendar year";
    t.header = {"year", "available to the plan", "plan capex", "used"};
    for (size_t i = 0; i < f.capex_years.size(); ++i) {
      const PlanCapexYear& y = f.capex_years[i];
      t.rows.push_back({y.label, Money(y.limit_usd), Money(y.plan_usd), y.limit_usd > 0 ? fmt::format("{:.0f}%", 100 * y.plan_usd / y.limit_usd) : "-"});
      t.sources.push_back({"", JsonSrc("summary.json", fmt::format("/plan/capex_limits/{}/limit_usd", i)),
                           JsonSrc("summary.json", fmt::format("/plan/capex_limits/{}/plan_capex_usd", i)), ""});
    }
    t.note = "The scenario's limit on total capex in the year, less the other capex of its months.";
    plan.tables.push_back(t);
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
        t.sources.push_back({"", "", CsvSrc("plan_orders.csv", {{"site", s.sites[k].name}, {"hardware", s.hardware[h].name}}, "domains_ordered"),
                             "", "", ""});
      }
    }
    t.note = "Domains cells are the sum of plan_orders.csv's domains_ordered over the months.";
    plan.tables.push_back(t);
  }
  rep.sections.push_back(plan);
}

void AddLabor(const Scenario& s, HtmlReport& rep) {
  const auto rows = LaborToCompute(s);
  if (rows.empty()) return;
  HtmlSection labor;
  labor.title = "Labor to compute";
  labor.paragraphs.push_back(
      "What a year of payroll buys at the scenario's prices: domains of each hardware type with the power to run them (at the "
      "cheapest site's $/MW), their GPUs and facility MW, how many months of the first contract's peak GPUs those GPUs cover in a "
      "year, and their revenue for a year at the contract's price (labor.csv).");
  HtmlTable t;
  t.title = "What N roles a year buy";
  t.header = {"roles", "which", "payroll / yr", "hardware", "domains", "GPUs", "facility MW", "contract-months", "revenue / yr"};
  for (const LaborRow& l : rows) {
    t.rows.push_back({Count(static_cast<double>(l.roles)), l.label, Money(l.usd_per_year), l.hardware, Count(l.domains), Count(l.gpus),
                      fmt::format("{:.1f}", l.facility_mw), fmt::format("{:.1f}", l.contract_months), Money(l.revenue_usd_per_year)});
    const std::vector<std::pair<std::string, std::string>> key = {{"roles", std::to_string(l.roles)}, {"hardware", l.hardware}};
    t.sources.push_back({"", "", CsvSrc("labor.csv", key, "usd_per_year"), "", CsvSrc("labor.csv", key, "domains"),
                         CsvSrc("labor.csv", key, "gpus"), CsvSrc("labor.csv", key, "facility_mw"),
                         CsvSrc("labor.csv", key, "contract_months"), CsvSrc("labor.csv", key, "revenue_usd_per_year")});
  }
  labor.tables.push_back(t);
  rep.sections.push_back(labor);
}

void AddSensitivity(const RunResult& run, HtmlReport& rep) {
  if (run.sensitivity.empty()) return;
  const Scenario& s = *run.scenario;
  HtmlSection sens;
  sens.title = "Sensitivity";
  sens.paragraphs.push_back(
      "Each pair of bars re-plans the scenario with one input at the low and at the high end of its range, the others at base; "
      "inputs are sorted by the swing in NPV (sensitivity.csv has every step).");
  std::vector<size_t> order(run.sensitivity.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const SensitivityRow& x = run.sensitivity[a];
    const SensitivityRow& y = run.sensitivity[b];
    return std::fabs(x.high().npv_usd - x.low().npv_usd) > std::fabs(y.high().npv_usd - y.low().npv_usd);
  });
  auto label = [](const SensitivityRow& row) { return fmt::format("{} (base {:g})", row.label, row.base); };
  json v = json::array(), m = json::array(), names = json::array();
  for (size_t i : order) {
    const SensitivityRow& row = run.sensitivity[i];
    names.push_back(label(row));
    for (const auto& [end, pt] : {std::pair<const char*, const SensitivityPoint*>{"low", &row.low()}, {"high", &row.high()}}) {
      const std::string at = fmt::format("{} ({:g})", end, pt->value);
      v.push_back({{"input", label(row)}, {"key", row.key}, {"end", end}, {"value", pt->value}, {"at", at},
                   {"delta", (pt->npv_usd - row.npv_base) / 1e9}, {"npv", pt->npv_usd / 1e9}});
      const bool known = pt->first_full_month >= 0 && row.full_base >= 0;
      m.push_back({{"input", label(row)}, {"key", row.key}, {"end", end}, {"value", pt->value}, {"at", at},
                   {"delta", known ? json(pt->first_full_month - row.full_base) : json(nullptr)},
                   {"full_month", pt->first_full_month}, {"full", MonthOr(s, pt->first_full_month, "never")}});
    }
  }
  auto tornado = [&](const json& values, const std::string& xtitle, const std::string& fmtstr) {
    return json{{"width", "container"},
                {"height", {{"step", 22}}},
                {"data", {{"values", values}}},
                {"mark", "bar"},
                {"encoding",
                 {{"y", {{"field", "input"}, {"type", "nominal"}, {"sort", names}, {"title", nullptr}, {"axis", {{"labelLimit", 0}}}}},
                  {"x", {{"field", "delta"}, {"type", "quantitative"}, {"title", xtitle}}},
                  {"yOffset", {{"field", "end"}, {"sort", json::array({"low", "high"})}}},
                  {"color", {{"field", "end"}, {"type", "nominal"}, {"title", "input at its"}, {"sort", json::array({"low", "high"})},
                             {"legend", Legend("input at its")}}},
                  {"tooltip", json::array({{{"field", "input"}, {"title", "input"}}, {{"field", "at"}, {"title", "at"}},
                                           {{"field", "delta"}, {"format", fmtstr}, {"title", xtitle}}})}}}};
  };
  HtmlChart npv{"tornado-npv", "NPV tornado", "Change in NPV from the base plan, in $B, with each input at the low and the high end of its range.",
                tornado(v, "change in NPV ($B)", ",.2f")};
  npv.source = json::array({CsvRule("sensitivity.csv", json::object(), {{"key", "key"}, {"value", "value"}}, {{"npv_usd", 1e-9}}, "npv")});
  sens.charts.push_back(npv);
  json full_spec = tornado(m, "months later than the base plan", "d");
  full_spec["encoding"]["x"]["axis"] = {{"tickMinStep", 1}, {"format", "d"}};
  HtmlChart full{"tornado-delivery", "First month of full delivery",
                 "Months later (+) or earlier (-) than the base plan from which every contract is met; no bar: the same month, or "
                 "never within the horizon at that end (the table says which).",
                 full_spec};
  full.source = json::array({CsvRule("sensitivity.csv", json::object(), {{"key", "key"}, {"value", "value"}},
                                     {{"first_full_month", 1}}, "full_month")});
  sens.charts.push_back(full);
  HtmlTable t;
  t.title = "Ranges";
  t.header = {"input", "base", "low", "NPV at low", "high", "NPV at high", "full delivery at low / high"};
  for (size_t i : order) {
    const SensitivityRow& row = run.sensitivity[i];
    t.rows.push_back({row.label, fmt::format("{:g}", row.base), fmt::format("{:g}", row.low().value), Money(row.low().npv_usd),
                      fmt::format("{:g}", row.high().value), Money(row.high().npv_usd),
                      MonthOr(s, row.low().first_full_month, "never") + " / " + MonthOr(s, row.high().first_full_month, "never")});
    const size_t k = i;
    t.sources.push_back({"", "", JsonSrc("summary.json", fmt::format("/sensitivity/{}/points/0/value", k)),
                         JsonSrc("summary.json", fmt::format("/sensitivity/{}/points/0/npv_usd", k)),
                         JsonSrc("summary.json", fmt::format("/sensitivity/{}/points/{}/value", k, row.points.size() - 1)),
                         JsonSrc("summary.json", fmt::format("/sensitivity/{}/points/{}/npv_usd", k, row.points.size() - 1)), ""});
  }
  t.note = fmt::format("Base NPV {}; base full delivery {}.", Money(TotalNpv(run.plan)), MonthOr(s, run.plan.result.first_full_month, "never"));
  sens.tables.push_back(t);
  rep.sections.push_back(sens);
}

void AddSimulation(const RunResult& run, HtmlReport& rep) {
  if (!run.sim) return;
  const Scenario& s = *run.scenario;
  const SimRun& sim = *run.sim;
  const FleetSummary& f = sim.summary;
  const int32_t w0 = s.simulate.start_month;
  HtmlSection sec;
  sec.title = "The simulated months";
  sec.paragraphs.push_back(fmt::format(
      "The simulator ran the fleet the plan has in service in {} .. {} at {:g}x scale ({} GPUs, {} of them contracted; {} jobs), {} "
      "days from {}. Contract tenants hold "
      "dedicated clusters as their deliveries ramp, run training gangs and an inference service on them and lend idle GPUs; "
      "on-demand tenants share the rest. Nodes fail at their accelerators' rates and jobs restart from Young/Daly checkpoints. Its "
      "inputs and outputs are in sim/; in that folder, `{}` repeats the simulation exactly.",
      s.MonthName(w0), s.MonthName(w0 + s.simulate.months - 1), s.simulate.scale, Count(static_cast<double>(sim.inputs.gpus)),
      Count(static_cast<double>(sim.inputs.contracted_gpus)), Count(static_cast<double>(sim.inputs.workload.jobs.size())),
      fmt::format("{:.1f}", sim.inputs.days), CalendarDay(s, w0, 0), SimRerunCommand(s, sim.inputs.days)));
  sec.paragraphs.push_back(
      "Utilization here is one figure everywhere: the GPU time held by jobs and inference replicas over the GPU time of the GPUs in "
      "service (delivered and not retired, up or down for repair), over the simulated window. Jobs still running at the window's "
      "end finish afterwards; their drain is counted in jobs.csv but not in the charts or the utilization.");
  {
    HtmlTable t;
    t.title = "Headline figures of the simulation";
    t.header = {"figure", "value", "what it measures"};
    const std::string j = "sim/summary.json";
    auto row = [&](std::string name, std::string value, const std::string& pointer, std::string what) {
      t.rows.push_back({std::move(name), std::move(value), std::move(what)});
      t.sources.push_back({"", JsonSrc(j, pointer), ""});
    };
    row("GPU utilization", fmt::format("{:.1f}%", 100 * f.gpu_utilization), "/gpu_utilization",
        "busy GPU-hours over GPU-hours in service, in the window");
    row("GPU-hours in service", Count(f.online_gpu_hours), "/online_gpu_hours", "GPUs delivered and not retired, times hours, in the window");
    row("GPU-hours busy", Count(f.busy_gpu_hours), "/busy_gpu_hours", "held by jobs and inference replicas, in the window");
    row("jobs done", Count(static_cast<double>(f.done)), "/done", fmt::format("of {} submitted in the window", Count(static_cast<double>(f.jobs))));
    row("mean wait", Hours(f.mean_wait_s), "/mean_wait", "submit to first start, done jobs");
    row("ETTR", fmt::format("{:.3f}", f.ettr), "/ettr", "work over GPU wall time from first start to end, done GPU jobs");
    row("node failures", Count(static_cast<double>(f.node_failures)), "/node_failures", "GPU nodes failed, each out for the repair time");
    row("job interruptions", Count(static_cast<double>(f.interruptions)), "/interruptions", "attempts ended by a node failure");
    if (!sim.result.services.empty()) {
      row("inference SLO attainment", fmt::format("{:.1f}%", 100 * f.inference_slo_attainment), "/inference_slo_attainment",
          "share of the demand served within the latency target");
    }
    row("revenue", Money(f.revenue_usd), "/revenue_usd", "reserved GPUs at contract price, other GPU-hours at their tenants' prices");
    row("energy", fmt::format("{:.0f} MWh", f.energy_mwh), "/energy_mwh", "facility energy (IT power times PUE)");
    t.note = "Values from sim/summary.json, which summary.json holds under simulation.summary.";
    sec.tables.push_back(t);
  }
  rep.sections.push_back(sec);
  sec = HtmlSection{};
  sec.title = "The simulated months, day by day";
  sec.paragraphs.push_back(fmt::format(
      "Daily means of the hourly time series over the window (sim/daily.csv, from sim/timeseries.csv), then the tenants. Days "
      "are counted from {}; the simulator's months are 365/12 days long.",
      CalendarDay(s, w0, 0)));
  // Daily means over the window, from the hourly time series.
  const std::vector<DailyRow>& days = sim.daily;
  const std::string xtitle = fmt::format("day (window from {})", CalendarDay(s, w0, 0));
  json util = json::array(), idle = json::array(), down = json::array(), power = json::array();
  for (size_t i = 0; i < days.size(); ++i) {
    const DailyRow& d = days[i];
    const std::string& date = sim.daily_dates[i];
    util.push_back({{"date", date}, {"day", d.day}, {"series", "GPU utilization"}, {"value", d.Utilization()}});
    idle.push_back({{"date", date}, {"day", d.day}, {"series", "reserved GPUs"}, {"value", d.gpus_reserved}});
    idle.push_back({{"date", date}, {"day", d.day}, {"series", "reserved GPUs idle"}, {"value", d.gpus_reserved_idle}});
    down.push_back({{"date", date}, {"day", d.day}, {"series", "GPUs in service"}, {"value", d.gpus_online}});
    down.push_back({{"date", date}, {"day", d.day}, {"series", "GPUs down (failed, in repair)"}, {"value", d.gpus_failed}});
    power.push_back({{"date", date}, {"day", d.day}, {"series", "facility MW drawn"}, {"value", d.power_mw}});
    power.push_back({{"date", date}, {"day", d.day}, {"series", "MW cap (sum of the sites')"}, {"value", d.power_cap_mw}});
  }
  auto daily_rule = [](const std::string& series, const json& columns) {
    return CsvRule("sim/daily.csv", {{"series", series}}, {{"day", "day"}}, columns, "value");
  };
  {
    json spec = DayLines(util, xtitle, "share of GPUs in service busy", ".1%", json::array({"GPU utilization"}));
    spec["encoding"]["y"]["axis"] = {{"format", "%"}};
    spec["encoding"]["y"]["scale"] = {{"domain", json::array({0, 1})}};
    HtmlChart c{"utilization", "Utilization by day",
                fmt::format("Daily mean share of the GPUs in service held by jobs and inference replicas; over the window: {:.1f}%.",
                            100 * f.gpu_utilization),
                spec};
    c.source = json::array({daily_rule("GPU utilization", {{"gpu_utilization", 1}})});
    sec.charts.push_back(c);
  }
  {
    HtmlChart c{"idle-reserved", "Reserved GPUs, and those idle",
                "GPUs of the contract tenants' dedicated clusters (daily mean) and those of them idle; GPUs lent to other tenants count "
                "as busy.",
                DayLines(idle, xtitle, "GPUs", ",.0f", json::array({"reserved GPUs", "reserved GPUs idle"}))};
    c.source = json::array({daily_rule("reserved GPUs", {{"gpus_reserved", 1}}), daily_rule("reserved GPUs idle", {{"gpus_reserved_idle", 1}})});
    sec.charts.push_back(c);
  }
  {
    HtmlChart c{"failures", "GPUs in service and down for repair",
                "Daily mean GPUs in service at all simulated sites, and of them those down after node failures.",
                DayLines(down, xtitle, "GPUs", ",.0f", json::array({"GPUs in service", "GPUs down (failed, in repair)"}))};
    c.source = json::array({daily_rule("GPUs in service", {{"gpus_online", 1}}), daily_rule("GPUs down (failed, in repair)", {{"gpus_failed", 1}})});
    sec.charts.push_back(c);
  }
  {
    HtmlChart c{"sim-power", "Power against the caps",
                "Daily mean facility draw of all simulated sites against the sum of their caps (the plan's MW in service at the "
                "window's end, scaled).",
                DayLines(power, xtitle, "MW", ",.2f", json::array({"facility MW drawn", "MW cap (sum of the sites')"}))};
    c.source = json::array({daily_rule("facility MW drawn", {{"power_mw", 1}}), daily_rule("MW cap (sum of the sites')", {{"power_cap_mw", 1}})});
    sec.charts.push_back(c);
  }
  {
    json ettr = json::array();
    HtmlTable t;
    t.title = "Tenants in the simulated months";
    t.header = {"tenant", "jobs", "done", "mean wait", "interruptions", "ETTR", "revenue", "idle reserved cost"};
    std::vector<const TenantStats*> tenants;
    for (const TenantStats& x : sim.result.tenants) {
      if (x.jobs > 0 || x.dedicated_gpus > 0) tenants.push_back(&x);
    }
    std::stable_sort(tenants.begin(), tenants.end(), [](const TenantStats* a, const TenantStats* b) { return a->name < b->name; });
    for (const TenantStats* x : tenants) {
      const std::string name = x->name.empty() ? "(none)" : x->name;
      const double ettr_v = x->ettr_wall_gpu_seconds > 0 ? x->ettr_work_gpu_seconds / x->ettr_wall_gpu_seconds : 0;
      if (x->ettr_wall_gpu_seconds > 0) ettr.push_back({{"tenant", name}, {"ettr", ettr_v}});
      t.rows.push_back({name, Count(static_cast<double>(x->jobs)), Count(static_cast<double>(x->done)),
                        Hours(x->done ? x->wait_sum / static_cast<double>(x->done) : 0), Count(static_cast<double>(x->interruptions)),
                        fmt::format("{:.3f}", ettr_v), Money(x->revenue_usd), Money(x->idle_reserved_cost_usd)});
      const std::vector<std::pair<std::string, std::string>> key = {{"tenant", name}};
      t.sources.push_back({"", CsvSrc("sim/tenants.csv", key, "jobs"), CsvSrc("sim/tenants.csv", key, "done"),
                           CsvSrc("sim/tenants.csv", key, "mean_wait_s"), CsvSrc("sim/tenants.csv", key, "interruptions"),
                           CsvSrc("sim/tenants.csv", key, "ettr"), CsvSrc("sim/tenants.csv", key, "revenue_usd"),
                           CsvSrc("sim/tenants.csv", key, "idle_reserved_cost_usd")});
    }
    json spec = {{"width", "container"},
                 {"height", {{"step", 22}}},
                 {"data", {{"values", ettr}}},
                 {"mark", "bar"},
                 {"encoding",
                  {{"y", {{"field", "tenant"}, {"type", "nominal"}, {"title", nullptr}, {"axis", {{"labelLimit", 0}}}}},
                   {"x", {{"field", "ettr"}, {"type", "quantitative"}, {"title", "effective training time ratio (work / GPU wall time)"},
                          {"scale", {{"domain", json::array({0, 1})}}}}},
                   {"tooltip", json::array({{{"field", "tenant"}, {"title", "tenant"}}, {{"field", "ettr"}, {"format", ".3f"}, {"title", "ETTR"}}})}}}};
    HtmlChart c{"ettr", "ETTR by tenant",
                "Work done over the GPU wall time from first start to end of each tenant's finished GPU jobs, with failures, "
                "checkpoints and restarts; 1 would be no time lost.",
                spec};
    c.source = json::array({CsvRule("sim/tenants.csv", json::object(), {{"tenant", "tenant"}}, {{"ettr", 1}}, "ettr")});
    sec.charts.push_back(c);
    t.note = "Waits in hours (h) or days (d); sim/tenants.csv has them in seconds.";
    sec.tables.push_back(t);
  }
  rep.sections.push_back(sec);
}

}  // namespace

HtmlReport BuildRunReport(const RunResult& run) {
  const PlanRun& p = run.plan;
  const Scenario& s = *p.scenario;
  const PlanResult& r = p.result;
  const PlanFigures f = SummarizePlan(p);
  HtmlReport rep;
  rep.title = fmt::format("rackscale: {}", s.name);
  rep.subtitle = fmt::format("{} to {}, {} months. {}", s.MonthName(0), s.MonthName(s.months - 1), s.months, s.description);
  auto card = [&](std::string label, std::string value, std::string source) {
    rep.headline.emplace_back(std::move(label), std::move(value));
    rep.headline_sources.push_back(std::move(source));
  };
  card("NPV", Money(TotalNpv(p)), JsonSrc("summary.json", "/plan/npv_usd"));
  card("Full delivery from", MonthOr(s, r.first_full_month, "never"), JsonSrc("summary.json", "/plan/first_full_month"));
  card("Peak GPUs in service", Count(static_cast<double>(f.peak_gpus)), JsonSrc("summary.json", "/plan/peak_gpus_in_service"));
  card("Power at the end", fmt::format("{:.0f} MW", f.mw_at_end), JsonSrc("summary.json", "/plan/mw_in_service_at_end"));
  card("Capex", Money(r.capex_usd), JsonSrc("summary.json", "/plan/capex_usd"));
  card(p.solve_for_payroll ? "Smallest payroll cut" : "Roles cut", Count(static_cast<double>(f.roles_cut)), JsonSrc("summary.json", "/plan/roles_cut"));
  if (run.sim) {
    card("Simulated GPU utilization", fmt::format("{:.1f}%", 100 * run.sim->summary.gpu_utilization),
         JsonSrc("summary.json", "/simulation/summary/gpu_utilization"));
    card("Simulated ETTR", fmt::format("{:.3f}", run.sim->summary.ettr), JsonSrc("summary.json", "/simulation/summary/ettr"));
  }
  AddInBrief(run, f, rep);
  AddPlan(run, f, rep);
  AddLabor(s, rep);
  AddSensitivity(run, rep);
  AddSimulation(run, rep);
  return rep;
}

}  // namespace rackscale
