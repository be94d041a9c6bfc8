// FlatScheduler: the queue policies for a flat pool of identical slots.
//
// This is the pure scheduler core of docs/semantics.md (DESIGN.md, "Flat-pool semantics"): it
// holds the queue and the running set and, when asked for a pass at time
// `now`, says which jobs start. It has no clock, no files and no events of
// its own; the simulator (and later the control plane) drives it:
//
//   at each distinct event time t:
//     Finish() every job that ends at t;
//     Submit() every job submitted at t, in (submit, id) order;
//     Schedule(t) once.
//
// Policies, chosen by name:
//   fifo  start jobs from the head while the head fits; stop at the first
//         that does not.
//   easy  the fifo pass; then, if the head still waits, its shadow time is
//         the earliest estimated end (start + walltime) of the running jobs,
//         in (end, id) order, at which the free slots reach the head's size;
//         extra = slots free at the shadow time (free now plus those of
//         every running job with estimated end <= shadow) minus the head's
//         size. Each later job, in queue order, starts now if it fits the free
//         slots and either now + walltime <= shadow, or size <= extra (then
//         extra -= size).
//
// Cost: Submit, Finish and each started job O(log n); the shadow time
// O(log n) through EndIndex; the backfill scan visits only queue subtrees
// that may hold a candidate (QueueIndex).
//
// Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "model/units.h"
#include "sched/end_index.h"
#include "sched/queue_index.h"

namespace rackscale {

enum class QueuePolicy { kFifo, kEasy };

// "fifo" or "easy". `source` names the argument in errors.
Result<QueuePolicy> ParseQueuePolicy(std::string_view name, const std::string& source);
const char* QueuePolicyName(QueuePolicy p);

class FlatScheduler {
 public:
  // A job's place in the queue, handed out by Submit in arrival order
  // (0, 1, 2, ...). It names the job in every later call.
  using Ticket = uint32_t;

  FlatScheduler(SlotCount capacity, QueuePolicy policy);

  // Pre-sizes the internal arrays for `jobs` submissions (optional).
  void Reserve(size_t jobs);

  // Appends a job to the tail of the queue. Requires 1 <= size <= capacity()
  // and walltime >= 1 (the caller rejects other jobs).
  Ticket Submit(SlotCount size, Seconds walltime);

  // A running job ended: its slots are free again.
  void Finish(Ticket t);

  // One scheduling pass at time `now` (no earlier than any previous pass).
  // Appends the tickets of the jobs it starts, in the order they start.
  void Schedule(Seconds now, std::vector<Ticket>* started);

  SlotCount capacity() const { return capacity_; }
  SlotCount free_slots() const { return free_; }
  size_t queued() const { return queued_; }
  size_t running() const { return running_; }
  // Counters for benchmarks: backfilled starts so far.
  int64_t backfilled() const { return backfilled_; }

 private:
  enum class State : uint8_t { kWaiting, kRunning, kDone };
  struct Entry {
    SlotCount size;
    Seconds walltime;
    Seconds est_end;  // valid while running
    State state;
  };
  void Start(Ticket t, Seconds now, std::vector<Ticket>* started);
  void Backfill(Seconds now, std::vector<Ticket>* started);

  const SlotCount capacity_;
  const QueuePolicy policy_;
  SlotCount free_;
  std::vector<Entry> entries_;  // by ticket
  Ticket head_ = 0;             // no waiting job has a smaller ticket
  size_t queued_ = 0;
  size_t running_ = 0;
  int64_t backfilled_ = 0;
  QueueIndex queue_;  // EASY only
  EndIndex ends_;     // EASY only
};

}  // namespace rackscale
