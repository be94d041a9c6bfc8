// Inference services of a tenants file ([[services]], docs/inference.md) as
// the fleet simulator runs them: each service's demand curve from its
// request trace (a path relative to the tenants file) or its rate curve,
// `count` copies with their days shifted by stagger_hours.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "model/fleet.h"
#include "sim/fleet_sim.h"

namespace rackscale {

// Errors name `tenants_file`, the service's line and its key
// ("services[I].FIELD", as the tenants reader names them), or the trace file
// at fault.
Result<std::vector<FleetService>> LoadServices(const TenantsConfig& cfg, const std::string& tenants_file);

}  // namespace rackscale
