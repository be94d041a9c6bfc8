// libFuzzer target for the LLM request-trace readers (Azure CSV and Mooncake
// JSON lines): any bytes give a trace or an Error with a message; a trace
// has non-negative token counts and times from 0; a demand curve built from
// it has finite, non-negative rates.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "workload/llm_trace.h"

namespace {

void Check(const rackscale::Result<rackscale::LlmTrace>& t) {
  if (!t.ok()) {
    if (t.error().message.empty()) __builtin_trap();
    return;
  }
  for (const rackscale::LlmRequest& r : t->requests) {
    if (r.input_tokens < 0 || r.output_tokens < 0 || !(r.t_s >= 0) || !std::isfinite(r.t_s)) {
      __builtin_trap();
    }
  }
  rackscale::DemandOptions o;
  o.duration_s = 3600;
  auto c = rackscale::TraceDemand(*t, o);
  if (!c.ok()) {
    if (c.error().message.empty()) __builtin_trap();
    return;
  }
  for (double x : c->tokens_per_s) {
    if (!(x >= 0) || !std::isfinite(x)) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(rackscale::ParseAzureLlmCsv(text, "fuzz.csv"));
  Check(rackscale::ParseMooncakeJsonl(text, "fuzz.jsonl"));
  return 0;
}
