// libFuzzer target past the readers: a fleet TOML, a tenants TOML and an AI
// workload CSV, separated by lines "%%", run end to end through the fleet
// simulation (policies, power, failures and checkpoints picked by the input)
// and the report writers. Any bytes give outputs or an Error with a message;
// no output holds nan or inf where a number belongs. Small bounds keep each
// input fast: at most 4,096 nodes and 64 jobs.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/fleet.h"
#include "report/fleet_report.h"
#include "sim/fleet_sim.h"
#include "sim/services.h"
#include "workload/ai_trace.h"

namespace {

bool HasNonFinite(const std::string& text) {
  for (const char* bad : {"nan", "inf", "NaN", "Inf"}) {
    if (text.find(bad) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace rackscale;
  std::string_view all(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3];
  size_t n = 0, pos = 0;
  while (n < 3) {
    const size_t sep = all.find("\n%%\n", pos);
    parts[n++] = all.substr(pos, sep == std::string_view::npos ? std::string_view::npos : sep - pos);
    if (sep == std::string_view::npos) break;
    pos = sep + 4;
  }
  if (n < 3) return 0;
  // A valid fleet may ask for 10^8 nodes: numbers of six digits or more in
  // the fleet are skipped to stay within the fuzzer's memory.
  int run = 0;
  for (char c : parts[0]) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    if (run >= 6) return 0;
  }
  auto fleet = ParseFleetToml(parts[0], "fleet.toml");
  if (!fleet.ok()) {
    if (fleet.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (fleet->nodes.size() > 4096) return 0;
  FleetSimOptions o;
  if (!parts[1].empty()) {
    auto t = ParseTenantsToml(parts[1], "tenants.toml");
    if (!t.ok()) {
      if (t.error().message.empty()) __builtin_trap();
      return 0;
    }
    o.tenants = std::move(*t);
    auto services = LoadServices(o.tenants, "tenants.toml");
    if (!services.ok()) {
      if (services.error().message.empty()) __builtin_trap();
      return 0;
    }
    o.services = std::move(*services);
  }
  auto w = ParseAiCsv(parts[2], "workload.csv", true);
  if (!w.ok()) {
    if (w.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (w->jobs.size() > 64) return 0;
  // The options come from the input's first byte, so the fuzzer explores them.
  const uint8_t k = size > 0 ? data[0] : 0;
  o.policy = static_cast<FleetQueuePolicy>(k % 3);
  o.power = static_cast<PowerPolicy>((k / 3) % 3);
  o.failures = (k & 0x10) != 0;
  o.checkpoint_interval = (k & 0x20) ? kAutoCheckpoint : (k & 0x40) ? 3600 : 0;
  o.checkpoint_cost = 60;
  o.restart_cost = 120;
  o.timeseries_step = (k & 0x80) ? 3600 : 0;
  auto r = SimulateFleet(*fleet, &*w, o);
  if (!r.ok()) {
    if (r.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (r->outcomes.size() != w->jobs.size()) __builtin_trap();
  FleetRunInfo info;
  info.timing = false;
  for (const std::string& out : {FormatFleetJobsCsv(*w, *r), FormatTenantsCsv(*r), FormatSitesCsv(*r),
                                 FormatTimeseriesCsv(*r), FormatFleetSummaryJson(*w, *r, info)}) {
    if (HasNonFinite(out)) __builtin_trap();
  }
  return 0;
}
