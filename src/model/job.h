// A rigid batch job as the flat-pool simulator sees it.
#pragma once

#include <cstdint>

#include "model/units.h"

namespace rackscale {

struct Job {
  JobId id = 0;
  Seconds submit = 0;
  Seconds runtime = 0;    // actual run time
  Seconds requested = 0;  // requested wall time as written in the log; <= 0 if unknown
  SlotCount size = 0;
  TenantId tenant = 0;    // index into Workload::tenants; 0 = the default tenant
  int64_t line = 0;       // line of the input file it came from (for messages)

  // The scheduler's estimate: the requested time if positive, else the
  // runtime, and never less than the runtime (docs/semantics.md).
  Seconds Walltime() const {
    Seconds w = requested > 0 ? requested : runtime;
    return w < runtime ? runtime : w;
  }
};

// How a job left the simulation.
enum class JobStatus : uint8_t {
  kDone,      // ran to completion
  kRejected,  // valid but larger than the cluster: could never run
  kInvalid,   // size <= 0 or runtime <= 0
  kUnfinished,  // fleet: still waiting when nothing else could happen
};

const char* JobStatusName(JobStatus s);

}  // namespace rackscale
