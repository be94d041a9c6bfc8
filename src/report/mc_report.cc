#include "report/mc_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "base/file.h"
#include "report/plan_report.h"

namespace rackscale {
namespace {

using json = nlohmann::json;

json Legend(const std::string& title) {
  json l = {{"orient", "top"}, {"direction", "horizontal"}, {"labelLimit", 0}};
  l["title"] = title.empty() ? json(nullptr) : json(title);
  return l;
}

}  // namespace

HtmlReport McReport(const McRun& r) {
  const nlohmann::ordered_json sum = McSummaryJson(r);
  const McIdentity& id = r.id;
  const int64_t ok = sum["plans"]["ok"].get<int64_t>();
  HtmlReport rep;
  rep.title = fmt::format("Monte Carlo: {}", id.scenario);
  const bool full = r.begin == 0 && r.end == id.draws;
  rep.subtitle = fmt::format("{}, seed {}: each draw re-plans the scenario with its uncertain inputs drawn from their distributions",
                             full ? fmt::format("{} draws", id.draws) : fmt::format("draws {}..{} of {}", r.begin, r.end - 1, id.draws),
                             id.seed);
  HtmlSection sec;
  sec.title = "Uncertainty";
  sec.paragraphs.push_back(fmt::format(
      "{} of {} draws were planned ({} failed; mc_draws.csv says why). Percentiles are nearest-rank: P of n draws is the value "
      "of rank ceil(P/100 x n) in ascending order; a draw in which full delivery never comes ranks last.",
      ok, r.draws.size(), sum["plans"]["failed"].get<int64_t>()));
  if (ok > 0) {
    const auto& n = sum["npv_usd"];
    rep.headline.push_back({"NPV P50", FormatUsd(n["p50"].get<double>())});
    rep.headline.push_back({"NPV P10 .. P90", FormatUsd(n["p10"].get<double>()) + " .. " + FormatUsd(n["p90"].get<double>())});
    const auto& f = sum["first_full_month"];
    rep.headline.push_back({"full delivery P50", f["p50"].get<std::string>()});
    rep.headline.push_back({"full delivery P90", f["p90"].get<std::string>()});
    for (const auto& c : sum["contracts"]) {
      rep.headline.push_back({fmt::format("P({} on time)", c["name"].get<std::string>()),
                              fmt::format("{:.0f}%", 100 * c["p_met_on_time"].get<double>())});
    }
    // NPV histogram with the percentile rules.
    json npv = json::array();
    for (const McDraw& d : r.draws) {
      if (d.ok) npv.push_back({{"draw", d.index}, {"npv", d.npv_usd / 1e9}});
    }
    json rules = json::array();
    for (const char* p : {"p10", "p50", "p90"}) {
      std::string name = p;
      std::transform(name.begin(), name.end(), name.begin(), ::toupper);
      rules.push_back({{"percentile", name}, {"npv", n[p].get<double>() / 1e9}});
    }
    json hist = {
        {"width", "container"},
        {"height", 240},
        {"layer",
         json::array(
             {{{"data", {{"values", npv}}},
               {"mark", {{"type", "bar"}, {"color", "#8fa8c8"}}},
               {"encoding",
                {{"x", {{"field", "npv"}, {"type", "quantitative"}, {"bin", {{"maxbins", 30}}}, {"title", "NPV ($B)"}}},
                 {"y", {{"aggregate", "count"}, {"type", "quantitative"}, {"title", "draws"}, {"axis", {{"tickMinStep", 1}}}}}}}},
              {{"data", {{"values", rules}}},
               {"mark", {{"type", "rule"}, {"strokeWidth", 2}, {"strokeDash", json::array({5, 3})}}},
               {"encoding",
                {{"x", {{"field", "npv"}, {"type", "quantitative"}}},
                 {"color", {{"field", "percentile"}, {"type", "nominal"}, {"title", "percentile"},
                            {"sort", json::array({"P10", "P50", "P90"})}, {"legend", Legend("percentile")}}},
                 {"tooltip", json::array({{{"field", "percentile"}, {"title", "percentile"}},
                                          {{"field", "npv"}, {"format", ",.2f"}, {"title", "NPV ($B)"}}})}}}}})}};
    sec.charts.push_back({"mc-npv", "NPV across the draws",
                          "How many draws' plans have each NPV (the plan's plus the payroll's, $B); dashed rules mark P10, P50 and P90.",
                          hist});
    // P(contract met on time).
    json met = json::array();
    for (const auto& c : sum["contracts"]) {
      met.push_back({{"contract", c["name"].get<std::string>()}, {"p", c["p_met_on_time"].get<double>()},
                     {"met", c["met_on_time"].get<int64_t>()}, {"draws", ok}});
    }
    if (!met.empty()) {
      json bars = {{"width", "container"},
                   {"height", {{"step", 28}}},
                   {"data", {{"values", met}}},
                   {"mark", "bar"},
                   {"encoding",
                    {{"y", {{"field", "contract"}, {"type", "nominal"}, {"title", nullptr}, {"axis", {{"labelLimit", 0}}}}},
                     {"x", {{"field", "p"}, {"type", "quantitative"}, {"title", "P(met on time)"}, {"scale", {{"domain", json::array({0, 1})}}},
                            {"axis", {{"format", ".0%"}}}}},
                     {"tooltip", json::array({{{"field", "contract"}, {"title", "contract"}},
                                              {{"field", "p"}, {"format", ".1%"}, {"title", "P(met on time)"}},
                                              {{"field", "met"}, {"title", "draws met"}},
                                              {{"field", "draws"}, {"title", "draws planned"}}})}}}};
      sec.charts.push_back({"mc-contracts", "Each contract met on time",
                            "The share of draws whose plan serves the contract in full in every month of its term (no month short).", bars});
    }
    // First month of full delivery by draw.
    std::map<int64_t, int64_t> months;
    for (const McDraw& d : r.draws) {
      if (d.ok) ++months[d.first_full_month < 0 ? std::numeric_limits<int64_t>::max() : d.first_full_month];
    }
    json mv = json::array(), order = json::array();
    const int32_t y0 = std::stoi(id.start.substr(0, 4)), m0 = std::stoi(id.start.substr(5, 2));
    for (const auto& [t, count] : months) {
      const std::string name = t == std::numeric_limits<int64_t>::max()
                                   ? "never"
                                   : fmt::format("{:04}-{:02}", (y0 * 12 + m0 - 1 + t) / 12, (y0 * 12 + m0 - 1 + t) % 12 + 1);
      mv.push_back({{"month", name}, {"draws", count}});
      order.push_back(name);
    }
    json when = {{"width", "container"},
                 {"height", 200},
                 {"data", {{"values", mv}}},
                 {"mark", "bar"},
                 {"encoding",
                  {{"x", {{"field", "month"}, {"type", "ordinal"}, {"sort", order}, {"title", "first month of full delivery"},
                          {"axis", {{"labelAngle", 0}}}}},
                   {"y", {{"field", "draws"}, {"type", "quantitative"}, {"title", "draws"}, {"axis", {{"tickMinStep", 1}}}}},
                   {"tooltip", json::array({{{"field", "month"}, {"title", "month"}}, {{"field", "draws"}, {"title", "draws"}}})}}}};
    sec.charts.push_back({"mc-delivery", "First month of full delivery",
                          "How many draws' plans first deliver every contract in full (and keep it) in each month; never: not within the "
                          "horizon.",
                          when});
    HtmlTable t;
    t.title = "Outcomes";
    t.header = {"figure", "P10", "P50", "P90", "mean"};
    t.rows.push_back({"NPV", FormatUsd(n["p10"].get<double>()), FormatUsd(n["p50"].get<double>()), FormatUsd(n["p90"].get<double>()),
                      FormatUsd(n["mean"].get<double>())});
    t.rows.push_back({"first month of full delivery", f["p10"].get<std::string>(), f["p50"].get<std::string>(), f["p90"].get<std::string>(),
                      fmt::format("never in {:.0f}%", 100 * f["never_share"].get<double>())});
    sec.tables.push_back(t);
  }
  HtmlTable in;
  in.title = "Inputs drawn";
  in.header = {"input", "key", "distribution", "base", "drawn P10", "P50", "P90"};
  for (const auto& x : sum["inputs"]) {
    const auto& d = x["drawn"];
    auto g = [&](const char* p) { return d.is_null() ? std::string("-") : fmt::format("{:.4g}", d[p].get<double>()); };
    in.rows.push_back({x["label"].get<std::string>(), x["key"].get<std::string>(), x["dist"].get<std::string>(),
                       fmt::format("{:.4g}", x["base"].get<double>()), g("p10"), g("p50"), g("p90")});
  }
  in.note = "Each draw applies the inputs to a copy of the scenario in this order, as `--vary` does; lead times and slips round to whole months.";
  sec.tables.push_back(in);
  rep.sections.push_back(sec);
  return rep;
}

Status WriteMonteCarlo(const McRun& r, const std::string& dir) {
  auto out = OutputDir::Open(dir);  // all or nothing
  if (!out) return out.error();
  for (const auto& [name, text] : std::vector<std::pair<std::string, std::string>>{
           {"mc_draws.csv", FormatMcDrawsCsv(r)}, {"mc_summary.json", FormatMcSummaryJson(r)}, {"mc_report.html", RenderHtmlReport(McReport(r))}}) {
    if (Status st = (*out)->Write(name, text); !st) return st;
  }
  return (*out)->Commit();
}

}  // namespace rackscale
