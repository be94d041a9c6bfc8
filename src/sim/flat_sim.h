// The discrete-event simulation of a flat pool driven by a workload trace.
//
// Semantics (docs/semantics.md): jobs with size <= 0 or
// runtime <= 0 are invalid, jobs larger than the pool are rejected; both are
// counted, never dropped. At each distinct event time t, every job ending at
// t frees its slots, then every job submitted at t joins the queue in
// (submit, id) order, then one scheduling pass runs (FlatScheduler).
//
// Deterministic: the result depends only on the workload and the options.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "model/job.h"
#include "sched/flat_scheduler.h"
#include "workload/trace.h"

namespace rackscale {

struct SimProgress {
  Seconds now;          // simulated time reached
  Seconds first, last;  // submit range of the valid jobs
  int64_t finished;     // jobs that have ended
  int64_t total;        // jobs that will run
};

struct FlatSimOptions {
  SlotCount slots = 0;
  QueuePolicy policy = QueuePolicy::kEasy;
  // Called now and then (about every 2^16 events) and once at the end.
  std::function<void(const SimProgress&)> progress;
};

struct JobOutcome {
  JobStatus status = JobStatus::kInvalid;
  Seconds start = 0;  // valid when status == kDone; end = start + runtime
};

struct FlatSimResult {
  std::vector<JobOutcome> outcomes;  // parallel to Workload::jobs
  int64_t events = 0;      // arrivals + completions processed
  int64_t passes = 0;      // scheduling passes (distinct event times)
  int64_t backfilled = 0;  // jobs started by backfilling
};

// Runs the simulation. Requires options.slots >= 1. Fails (kInvalidInput)
// only if the workload could drive the clock past 2^62 s (the latest end is
// at most the latest submit plus the sum of all runtimes) or holds more than
// 2^32 - 1 runnable jobs.
Result<FlatSimResult> SimulateFlat(const Workload& w, const FlatSimOptions& options);

}  // namespace rackscale
