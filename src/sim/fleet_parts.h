// The parts the fleet simulator's event loop drives, each with its own
// tests: node failures and repairs, and capacity dates. (Dedicated windows
// live in the scheduler core, FleetScheduler::ApplyWindows; the policies in
// sched/fleet_policy.h; the money and time series in sim/fleet_ledger.h.)
#pragma once

#include <cmath>
#include <cstdint>
#include <queue>
#include <vector>

#include "base/random.h"
#include "model/ai_job.h"
#include "model/fleet.h"

namespace rackscale {

// Node failures: a Poisson process over all GPU nodes, each failing at its
// accelerators' failures_per_year times its GPUs (default_rate for types
// that give none); the caller thins draws on nodes that are down or out of
// service. Repairs come back `repair` seconds after a failure. All draws
// come from one Rng seeded here, so the same seed gives the same failures.
class FailureProcess {
 public:
  // enabled false: no failures ever.
  FailureProcess(const Fleet& fleet, bool enabled, double default_rate, Seconds repair, uint64_t seed);
  // The next failure, in integer seconds (the continuous draw rounded up);
  // INT64_MAX if none.
  Seconds next_failure() const { return next_ < 9e18 ? static_cast<Seconds>(std::ceil(next_)) : INT64_MAX; }
  // Draws the node of the failure due now and moves to the next one: -1 if
  // the draw found no node.
  int32_t TakeFailure();
  // Schedules node n's repair after a failure at `now`.
  void ScheduleRepair(int32_t n, Seconds now) { repairs_.push({now + std::max<Seconds>(1, repair_), n}); }
  // The next repair's time (INT64_MAX: none), and taking it.
  Seconds next_repair() const { return repairs_.empty() ? INT64_MAX : repairs_.top().first; }
  int32_t TakeRepair();

 private:
  Rng rng_;
  std::vector<double> type_rate_per_s_;
  std::vector<std::vector<int32_t>> nodes_of_type_;
  double total_rate_ = 0;
  double next_ = INFINITY;
  Seconds repair_;
  std::priority_queue<std::pair<Seconds, int32_t>, std::vector<std::pair<Seconds, int32_t>>, std::greater<>> repairs_;
};

// Capacity dates: domains delivered after the start (Domain::online > 0)
// come into service then, retired ones (Domain::retire >= 0) go out. Spare
// domains have no dates (sched/fleet_policy.h SparePool).
class CapacityCalendar {
 public:
  explicit CapacityCalendar(const Fleet& fleet);
  struct Change {
    Seconds t;
    int32_t domain;
    bool online;
  };
  // Domains out of service at the start: delivered later, or spares.
  const std::vector<bool>& offline_at_start() const { return offline_; }
  Seconds next() const { return next_ < changes_.size() ? changes_[next_].t : INT64_MAX; }
  // The changes due at `now` (in time, then domain order), consumed.
  std::vector<Change> Take(Seconds now);

 private:
  std::vector<Change> changes_;
  size_t next_ = 0;
  std::vector<bool> offline_;
};

}  // namespace rackscale
