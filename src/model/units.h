// Names that say the unit. Simulated time is integer seconds throughout.
#pragma once

#include <cstdint>

namespace rackscale {

using Seconds = int64_t;    // simulated time or a duration, in seconds
using SlotCount = int64_t;  // processors / GPUs / slots of a flat pool
using JobId = int64_t;      // the id a workload gives a job
using TenantId = uint32_t;  // index into a workload's tenant table

inline constexpr Seconds kSecondsPerHour = 3600;

}  // namespace rackscale
