// Shared helpers for the test suite.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "model/job.h"
#include "sched/flat_scheduler.h"
#include "sim/flat_sim.h"
#include "sim/fleet_sim.h"
#include "workload/trace.h"

namespace rackscale::testing {

// The directory of the public traces: $RACKSCALE_TRACES, else ../shared/traces
// beside the source tree. Returns "" if the file `relative` is not there.
std::string TracePath(const std::string& relative);

// Why a trace test skips, and how to get the file. If $RACKSCALE_REQUIRE_TRACES
// is set (CI), the test fails instead of skipping.
#define RACKSCALE_REQUIRE_TRACE(var, relative)                                           \
  std::string var = ::rackscale::testing::TracePath(relative);                          \
  if (var.empty()) {                                                                   \
    if (::rackscale::testing::TracesRequired()) {                                       \
      FAIL() << "trace " << relative << " not found and RACKSCALE_REQUIRE_TRACES is set"; \
    }                                                                                  \
    GTEST_SKIP() << "trace " << relative                                               \
                 << " not found; set RACKSCALE_TRACES or run scripts/fetch-traces.sh";  \
  }
bool TracesRequired();

// A workload from (id, submit, runtime, size, requested) tuples.
struct J {
  JobId id;
  Seconds submit, runtime;
  SlotCount size;
  Seconds requested = 0;
};
Workload MakeWorkload(const std::vector<J>& jobs);

// Runs the simulator; returns id -> start time (-1 rejected, -2 invalid).
std::map<JobId, Seconds> Starts(const Workload& w, SlotCount slots, QueuePolicy policy);

// The reference: the flat-pool semantics of docs/semantics.md written as plainly as
// possible (quadratic time), independent of the scheduler core's indexes.
// Returns start times parallel to w.jobs (-1 rejected, -2 invalid).
std::vector<Seconds> ReferenceStarts(const Workload& w, SlotCount slots, QueuePolicy policy);

// Hex SHA-256 of a byte string.
std::string Sha256Hex(const std::string& data);

// Runs a shell command; returns its exit status and captures stdout+stderr.
int RunCommand(const std::string& cmd, std::string* output);

// A fresh temporary directory for this test.
std::string TempDir();

// The bytes of a file ("" if it cannot be read).
std::string Slurp(const std::string& path);

// An inference service "chat" of `tenant` on a rate curve ("T:R,..."),
// 5,000 tokens/s per replica of `gpus_per_replica` GPUs, 1,000 tokens per
// request, `min_replicas` to `max_replicas`. A curve that does not parse is
// a test failure (and an empty demand).
FleetService RateCurveService(const std::string& tenant, int32_t gpus_per_replica, int32_t min_replicas,
                              int32_t max_replicas, const std::string& rate);

}  // namespace rackscale::testing
