#include "sim/reliability.h"

#include <algorithm>
#include <cassert>
#include <cmath>

namespace rackscale {

double DalyExpectedEttr(double tau_s, double cost_s, double restart_s, double mtbf_s) {
  if (!(tau_s > 0) || !(cost_s >= 0) || !(restart_s >= 0) || !(mtbf_s > 0)) return 0;
  // Expected wall time of one interval-plus-checkpoint segment. expm1 keeps
  // the precision when (tau + C) << M, the usual case.
  const double segment =
      mtbf_s * std::exp(restart_s / mtbf_s) * std::expm1((tau_s + cost_s) / mtbf_s);
  if (!std::isfinite(segment) || !(segment > 0)) return 0;
  return tau_s / segment;
}

Attempt::Attempt(const CheckpointPolicy& policy, double total_work_s, double committed_work_s,
                 bool restart, double start_s)
    : cost_s_(policy.cost_s),
      restart_s_(restart ? policy.restart_s : 0),
      total_work_s_(total_work_s),
      committed_work_s_(committed_work_s),
      restart_(restart),
      start_s_(start_s) {
  assert(total_work_s > committed_work_s && committed_work_s >= 0);
  assert(policy.cost_s >= 0 && policy.restart_s >= 0);
  const double remaining = total_work_s - committed_work_s;
  if (policy.checkpoints()) {
    interval_s_ = policy.interval_s;
    // The tolerance keeps work that is a multiple of the interval up to
    // rounding (committed work is a sum of intervals) from growing a sliver
    // of a final piece, and with it a spurious checkpoint.
    pieces_ = std::max(1.0, std::ceil(remaining / interval_s_ - 1e-9));
  } else {
    interval_s_ = remaining;  // one piece: nothing is ever committed before the end
    pieces_ = 1;
  }
  end_s_ = start_s_ + restart_s_ + remaining + (pieces_ - 1) * cost_s_;
}

AttemptUsage Attempt::Usage(double t) const {
  AttemptUsage u;
  u.committed_work_s = committed_work_s_;
  if (t >= end_s_) {
    u.phase = AttemptPhase::kDone;
    u.committed_work_s = total_work_s_;
    u.work_s = total_work_s_ - committed_work_s_;
    u.checkpoint_s = (pieces_ - 1) * cost_s_;
    u.restart_s = restart_s_;
    return u;
  }
  double e = std::max(0.0, t - start_s_);
  if (restart_ && e < restart_s_) {
    u.phase = AttemptPhase::kRestart;
    u.restart_s = e;
    return u;
  }
  u.restart_s = restart_s_;
  e -= restart_s_;
  // k whole work+checkpoint periods are behind t; the attempt has
  // pieces - 1 of them, then the final piece (t < end, so it is unfinished).
  const double period = interval_s_ + cost_s_;
  double k = std::clamp(std::floor(e / period), 0.0, pieces_ - 1);
  double offset = std::max(0.0, e - k * period);
  if (offset >= period && k < pieces_ - 1) {  // floor() one short through rounding
    k += 1;
    offset = std::max(0.0, offset - period);
  }
  u.phase = offset < interval_s_ || k == pieces_ - 1 ? AttemptPhase::kWork
                                                     : AttemptPhase::kCheckpoint;
  u.work_s = k * interval_s_;
  u.checkpoint_s = k * cost_s_;
  u.wasted_s = offset;  // the piece's work so far, and its partial checkpoint if any
  u.committed_work_s = committed_work_s_ + u.work_s;
  return u;
}

ExponentialFailures::ExponentialFailures(double failures_per_accelerator_year,
                                         int64_t accelerators)
    : mtbf_s_(kSecondsPerYear /
              (failures_per_accelerator_year * static_cast<double>(accelerators))),
      accelerators_(accelerators) {
  assert(failures_per_accelerator_year > 0 && accelerators >= 1);
}

ExponentialFailures ExponentialFailures::FromMtbf(double mtbf_s) {
  assert(mtbf_s > 0);
  return ExponentialFailures(mtbf_s);
}

SingleJobRun SimulateSingleJobEttr(double total_work_s, const CheckpointPolicy& policy,
                                   double mtbf_s, Rng& rng, int64_t max_interruptions) {
  const ExponentialFailures failures = ExponentialFailures::FromMtbf(mtbf_s);
  SingleJobRun r;
  double now = 0, committed = 0;
  bool restart = false;
  for (;;) {
    const Attempt attempt(policy, total_work_s, committed, restart, now);
    // Memoryless: the draw may start afresh with each attempt.
    const double failure = failures.NextFailure(now, rng);
    const bool fails = failure < attempt.end_s();
    const AttemptUsage u = attempt.Usage(fails ? failure : attempt.end_s());
    r.work_s += u.work_s;
    r.checkpoint_s += u.checkpoint_s;
    r.restart_s += u.restart_s;
    r.wasted_s += u.wasted_s;
    if (!fails) {
      now = attempt.end_s();
      r.completed = true;
      r.work_s = total_work_s;  // the same up to rounding; exact in the ratio
      break;
    }
    now = failure;
    committed = u.committed_work_s;
    restart = true;
    if (++r.interruptions >= max_interruptions) break;
  }
  r.wall_s = now;
  r.lost_s = r.wall_s - r.work_s;
  r.ettr = r.wall_s > 0 ? r.work_s / r.wall_s : 0;
  return r;
}

}  // namespace rackscale
