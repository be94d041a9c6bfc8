// libFuzzer target for the planning-scenario reader: any bytes give a
// scenario or an Error with a message and a line inside the text. A scenario
// that parses must also turn into the planner's program (one PlanSite per
// site, one PlanHardware per hardware option) and take a --vary knob; a
// small one (at most 24 months, 2 sites, 2 hardware types, 2 contracts) is
// solved (0.5 s limit) and written.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plan/plan_run.h"
#include "plan/scenario.h"
#include "report/plan_report.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  int64_t lines = 1;
  for (char c : text) lines += c == '\n' ? 1 : 0;
  auto s = rackscale::ParseScenario(text, "fuzz.toml");
  if (!s.ok()) {
    const rackscale::Error& e = s.error();
    if (e.message.empty() || e.line < 0 || e.line > lines) __builtin_trap();
    return 0;
  }
  rackscale::PlanInput in = rackscale::ToPlanInput(*s, rackscale::PlanOptions{});
  if (in.months <= 0 || in.months != s->months) __builtin_trap();
  if (in.sites.size() != s->sites.size() || in.hardware.size() != s->hardware.size()) __builtin_trap();
  if (in.contracts.size() != s->contracts.size()) __builtin_trap();
  for (const auto& c : in.contracts) {
    if (c.contracted_gpus.size() != static_cast<size_t>(in.months)) __builtin_trap();
  }
  rackscale::Scenario copy = *s;
  if (!rackscale::SetScenarioValue(copy, "finance.discount_rate", 0.05).ok()) __builtin_trap();
  if (copy.finance.discount_rate != 0.05) __builtin_trap();
  // Small scenarios go on through the solver (its own CheckPlan refuses a
  // broken plan) and the plan's writers: no nan or inf in what is written.
  if (s->months <= 24 && s->sites.size() <= 2 && s->hardware.size() <= 2 && s->contracts.size() <= 2) {
    rackscale::PlanOptions o;
    o.time_limit_s = 0.5;
    auto p = rackscale::SolveScenario(*s, o);
    if (!p.ok()) {
      if (p.error().message.empty()) __builtin_trap();
      return 0;
    }
    for (const std::string& out : {rackscale::FormatPlanCsv(*p), rackscale::FormatPlanSitesCsv(*p),
                                   rackscale::FormatPlanOrdersCsv(*p), rackscale::FormatPlanSummaryJson(*p, false)}) {
      for (const char* bad : {"nan", "inf"}) {
        if (out.find(bad) != std::string::npos) __builtin_trap();
      }
    }
  }
  return 0;
}
