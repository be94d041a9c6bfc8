// The simulator's inputs for the months a scenario simulates
// ([simulate], docs/scenario.md "From plan to simulation"), built as data
// from a solved plan: the fleet the plan has in service then (scaled by
// simulate.scale), its tenants (each contract's tenant on dedicated
// clusters as its deliveries ramp, with an inference service; on-demand
// tenants), and a generated workload. `rackscale run` simulates these values
// directly and writes them as sim/fleet.toml, sim/tenants.toml and
// sim/workload.csv, which `rackscale sim` reads back to the same inputs.
#pragma once

#include <cstdint>
#include <string>

#include "model/fleet.h"
#include "plan/plan_run.h"
#include "workload/ai_trace.h"

namespace rackscale {

struct SimInputs {
  FleetSpec fleet;
  TenantsConfig tenants;
  AiWorkload workload;
  double days = 0;              // the window simulated, from day 0
  int64_t gpus = 0;             // simulated GPUs in service at the window's end
  int64_t contracted_gpus = 0;  // of them, held by contract tenants
  std::string note;             // "2026-10 .. 2026-12 at scale 0.02: 7,448 GPUs (...), N jobs"
};

// Fails (naming the scenario's [simulate]) when the plan has nothing in
// service in the window at the scenario's scale.
Result<SimInputs> BuildSimInputs(const PlanRun& p);

// The domains a contract tenant's largest gang leaves free for failures:
// the 0.99 quantile of the number of nodes under repair at once among
// `domains` domains (Poisson, mean domains x failures_per_domain_year /
// year x repair_s); at most `domains`.
int64_t FailureHeadroomDomains(int64_t domains, double failures_per_domain_year, double repair_s);

}  // namespace rackscale
