#include "plan/sensitivity.h"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "base/text.h"

namespace rackscale {

Result<VaryRange> ParseVaryRange(const std::string& text, const Scenario& s) {
  auto bad = [&](std::string m) { return Error::InvalidInput("--vary", 0, text, std::move(m)); };
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return bad("expected KEY=LOW:HIGH[:STEPS]");
  VaryRange v;
  v.text = text;
  v.key = text.substr(0, eq);
  std::vector<std::string> parts;
  std::stringstream ss(text.substr(eq + 1));
  for (std::string x; std::getline(ss, x, ':');) parts.push_back(x);
  if (parts.size() < 2 || parts.size() > 3) return bad("expected KEY=LOW:HIGH[:STEPS]");
  auto low = ParseDouble(parts[0]);
  auto high = ParseDouble(parts[1]);
  if (!low || !high || !std::isfinite(*low) || !std::isfinite(*high)) return bad("LOW and HIGH must be finite numbers");
  v.low = *low;
  v.high = *high;
  if (parts.size() == 3) {
    auto st = ParseDouble(parts[2]);
    if (!st || !(*st >= 2 && *st <= 50) || std::floor(*st) != *st) return bad("STEPS must be an integer from 2 to 50");
    v.steps = static_cast<int32_t>(*st);
  }
  auto base = GetScenarioValue(s, v.key);
  if (!base) {
    Error e = base.error();
    e.source = "--vary";
    e.field = text;
    return e;
  }
  for (int32_t i = 0; i < v.steps; ++i) {
    Scenario copy = s;
    if (Status st = SetScenarioValue(copy, v.key, v.Value(i)); !st) {
      Error e = st.error();
      e.source = "--vary";
      e.field = text;
      return e;
    }
  }
  return v;
}

std::string DescribeScenarioKey(const std::string& key) {
  const auto dot = key.find('.');
  const auto last = key.rfind('.');
  const std::string head = key.substr(0, dot);
  const std::string field = key.substr(last + 1);
  const std::string mid = last > dot && dot != std::string::npos ? key.substr(dot + 1, last - dot - 1) : "";
  const std::string where = mid == "*" ? "every" : mid;
  if (head == "hardware" && field == "usd_per_domain_scale") return "hardware price (x base)";
  if (head == "hardware" && field == "lead_months") return fmt::format("{} hardware delivery lead time (months)", where);
  if (head == "hardware" && field == "usd_per_domain") return fmt::format("{} price per domain ($)", where);
  if (head == "hardware" && field == "lead_slip_months") {
    return mid == "*" ? "hardware delivery slip (months)" : fmt::format("{} delivery slip (months)", mid);
  }
  if (head == "sites" && field == "lead_slip_months") {
    return mid == "*" ? "power lead-time slip at every site (months)" : fmt::format("power lead-time slip at {} (months)", mid);
  }
  if (head == "contracts" && field == "gpus_scale") {
    return mid == "*" ? "every contract's size (x base)" : fmt::format("contract {} size (x base)", mid);
  }
  if (head == "sites" && field == "lead_months") {
    return mid == "*" ? "power lead time at every site (months)" : fmt::format("power lead time at {} (months)", mid);
  }
  if (head == "sites" && field == "max_phases") {
    return mid == "*" ? "power phases available at every site" : fmt::format("power phases available at {}", mid);
  }
  if (key == "layoffs.scale") return "layoffs (x the scenario's waves)";
  if (key == "finance.discount_rate") return "discount rate (per year)";
  if (key == "on_demand.growth_per_year") return "on-demand growth (per year)";
  if (key == "on_demand.usd_per_gpu_hour") return "on-demand price ($/GPU-hour)";
  std::string out = key;
  for (char& c : out) {
    if (c == '_') c = ' ';
  }
  return out;
}

Result<std::vector<SensitivityRow>> RunSensitivity(const PlanRun& base, const PlanOptions& o,
                                                   const std::vector<VaryRange>& ranges,
                                                   const std::function<void(int, int, const std::string&)>& progress) {
  const Scenario& s = *base.scenario;
  std::vector<SensitivityRow> rows;
  int done = 0, total = 0;
  for (const VaryRange& v : ranges) total += v.steps;
  for (const VaryRange& v : ranges) {
    SensitivityRow row;
    row.key = v.key;
    row.label = DescribeScenarioKey(v.key);
    row.base = *GetScenarioValue(s, v.key);
    row.npv_base = TotalNpv(base);
    row.full_base = base.result.first_full_month;
    for (int32_t i = 0; i < v.steps; ++i) {
      const double x = v.Value(i);
      Scenario copy = s;
      if (Status st = SetScenarioValue(copy, v.key, x); !st) return st.error();
      if (progress) progress(done, total, fmt::format("{} = {}", v.key, x));
      auto q = SolveScenario(copy, o, &base.result);
      if (!q) return q.error();
      SensitivityPoint pt;
      pt.value = x;
      pt.npv_usd = TotalNpv(*q);
      pt.first_full_month = q->result.first_full_month;
      pt.capex_usd = q->result.capex_usd;
      for (const PlanShortfall& f : q->result.shortfalls) pt.short_gpu_months += f.gpus;
      row.points.push_back(pt);
      ++done;
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace rackscale
