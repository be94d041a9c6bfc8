// Failures and checkpoints of one job: the closed-form core that the fleet
// simulator calls, and a Monte-Carlo single-job simulator built only from it.
//
// Semantics (docs/reliability.md): a job alternates `interval` seconds of
// work and a checkpoint of `cost` seconds. A failure may strike at any moment
// (during work, a checkpoint or a restart); each failure costs a restart of
// `restart` seconds and resumes from the last COMPLETED checkpoint. The first
// attempt starts without a restart. The job ends as soon as its total work W
// is done: no checkpoint follows the final piece of work. Productive time is
// W; ETTR = W / (completion time - first start).
//
// Times and durations here are double seconds: failure times are continuous
// draws, and rounding them to the fleet simulator's integer clock is that
// simulator's decision (it rounds an attempt's end up, see Attempt::end_s).
//
// Everything is pure and deterministic: randomness comes only from the Rng
// the caller passes. Thread-safety: values only; no shared state.
#pragma once

#include <cstdint>

#include "base/random.h"
#include "sched/fleet_policy.h"  // kSecondsPerYear, kH100FailuresPerAcceleratorYear, YoungDalyInterval

namespace rackscale {


struct CheckpointPolicy {
  double interval_s = 0;  // work between checkpoints; <= 0: no checkpoints at all
  double cost_s = 0;      // time one checkpoint takes
  double restart_s = 0;   // time from a failure until work resumes

  // Without checkpoints a failure loses all progress since the job started.
  bool checkpoints() const { return interval_s > 0; }
};


// Daly's exact expectation of ETTR for these semantics, failures exponential
// with mean M: tau / (M e^(R/M) (e^((tau+C)/M) - 1)). It counts a checkpoint
// after every piece of work, the last one too, so it is the limit for
// W >> tau. Needs tau > 0, C >= 0, R >= 0, M > 0; returns 0 otherwise or
// where the expected time overflows.
double DalyExpectedEttr(double tau_s, double cost_s, double restart_s, double mtbf_s);

// Where a moment of an attempt falls.
enum class AttemptPhase : uint8_t { kRestart, kWork, kCheckpoint, kDone };

// How an attempt spent its time from its start to a moment t (a failure, or
// its end). The durations add up to t - start.
struct AttemptUsage {
  AttemptPhase phase = AttemptPhase::kWork;  // what was going on at t
  double committed_work_s = 0;  // the job's checkpointed work at t, all attempts
  double work_s = 0;        // productive: work made durable in this attempt
  double checkpoint_s = 0;  // checkpoints that completed
  double restart_s = 0;     // the restart, or the part of it before t
  double wasted_s = 0;      // work since the last checkpoint + a partial checkpoint

  double elapsed_s() const { return work_s + checkpoint_s + restart_s + wasted_s; }
  // Everything but productive work: what a failure-free job without
  // checkpoints would not have spent.
  double lost_s() const { return checkpoint_s + restart_s + wasted_s; }
};

// One attempt: a run of a job from its last checkpoint until it completes or
// fails. Its timeline, measured from start_s, is
//   [restart R, if restart] then work tau, ckpt C, work tau, ckpt C, ...,
//   final piece of work (<= tau), no checkpoint
// with tau measured from the committed work, so every piece but the last is a
// full interval. O(1) in time and space whatever the number of intervals:
// positions come from floor divisions, not from walking the segments.
class Attempt {
 public:
  // total_work_s > committed_work_s >= 0; policy durations >= 0.
  Attempt(const CheckpointPolicy& policy, double total_work_s, double committed_work_s,
          bool restart, double start_s);

  double start_s() const { return start_s_; }
  // When the attempt completes if nothing fails:
  //   start + [R] + remaining work + (pieces - 1) C.
  // A simulator on an integer clock schedules the end at ceil(end_s()).
  double end_s() const { return end_s_; }
  // Complete pieces of work the attempt is made of (checkpoints: pieces - 1).
  double pieces() const { return pieces_; }

  // The split of [start, t] for t in [start, end]: at a failure at t, the
  // job resumes with Usage(t).committed_work_s. Only completed checkpoints
  // count; a failure during the restart or a checkpoint commits nothing new.
  // A checkpoint completing exactly at t counts as completed. t is clamped to
  // [start, end]; Usage(end_s()) is the completed attempt (phase kDone,
  // committed_work_s = total work).
  AttemptUsage Usage(double t) const;

 private:
  double interval_s_, cost_s_, restart_s_;  // interval_s_ = remaining work if no checkpoints
  double total_work_s_, committed_work_s_;
  bool restart_;
  double start_s_, end_s_, pieces_;
};

// Failures of a set of accelerators that each fail at a constant rate: their
// superposition is one Poisson process with the summed rate, so the time to
// the next failure of the set is one exponential draw with mean
// MTBF_set = MTBF_accelerator / n, and (the rates being equal) each of the n
// is equally likely to be the one that failed. Memoryless: a draw may start
// at any moment, e.g. when a job (re)starts, whatever happened before.
class ExponentialFailures {
 public:
  // rate: failures per accelerator-year (> 0); accelerators >= 1.
  ExponentialFailures(double failures_per_accelerator_year, int64_t accelerators);
  // A set given directly by its MTBF (> 0), as one accelerator.
  static ExponentialFailures FromMtbf(double mtbf_s);

  double mtbf_s() const { return mtbf_s_; }
  int64_t accelerators() const { return accelerators_; }
  // Expected failures of the set in `duration_s`.
  double ExpectedFailures(double duration_s) const { return duration_s / mtbf_s_; }

  // The time of the set's next failure after `now`.
  double NextFailure(double now_s, Rng& rng) const { return now_s + rng.Exponential(mtbf_s_); }
  // Which accelerator of the set failed, in [0, accelerators).
  int64_t PickFailed(Rng& rng) const {
    return static_cast<int64_t>(rng.Below(static_cast<uint64_t>(accelerators_)));
  }

 private:
  explicit ExponentialFailures(double mtbf_s) : mtbf_s_(mtbf_s), accelerators_(1) {}
  double mtbf_s_;
  int64_t accelerators_;
};

struct SingleJobRun {
  bool completed = false;     // false: stopped at max_interruptions
  int64_t interruptions = 0;  // failures suffered
  double wall_s = 0;          // completion time - first start
  double work_s = 0;          // W (the work done, if not completed)
  double checkpoint_s = 0, restart_s = 0, wasted_s = 0;
  double lost_s = 0;          // wall_s - work_s = checkpoint + restart + wasted
  double ettr = 0;            // work_s / wall_s
};

// One job of `total_work_s` of work on a set with exponential failures of
// mean `mtbf_s`, from time 0 until it completes: Attempt for the timeline,
// ExponentialFailures for the failures, nothing else, so that it checks the
// code the fleet simulator runs. Cost: O(interruptions).
SingleJobRun SimulateSingleJobEttr(double total_work_s, const CheckpointPolicy& policy,
                                   double mtbf_s, Rng& rng,
                                   int64_t max_interruptions = 100'000'000);

}  // namespace rackscale
