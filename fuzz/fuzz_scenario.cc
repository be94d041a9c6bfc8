// libFuzzer target for the planning-scenario reader: any bytes give a
// scenario or an Error with a message and a line inside the text. A scenario
// that parses must also turn into the planner's program (one PlanSite per
// site, one PlanHardware per hardware option) and take a --vary knob. The
// solver itself is not run: a MILP per input is far too slow for fuzzing.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "plan/scenario.h"

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
  return 0;
}
