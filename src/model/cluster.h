// Cluster descriptions. For now: a flat pool of N identical slots, written
// "flat:N" on the command line.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "model/units.h"

namespace rackscale {

struct FlatCluster {
  SlotCount slots = 0;
};

// Parses "flat:N" with 1 <= N <= 2^40. `source` names the argument in errors.
Result<FlatCluster> ParseClusterSpec(std::string_view spec, const std::string& source);

}  // namespace rackscale
