// The fleet policies around the scheduler core that used to live inside the
// simulator: spare domains standing in for failed nodes, throttling a site
// to its power cap, the checkpoint interval a job's attempt uses, and which
// replicas of a service to ask for or let go. Pure code: no clock (time is
// an argument), no files, deterministic; the simulator and the control
// plane both call these, so the simulator's verdict on a policy is the
// server's behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "model/ai_job.h"
#include "model/fleet.h"
#include "sched/fleet_scheduler.h"

namespace rackscale {

inline constexpr double kSecondsPerYear = 365.0 * 86400.0;

// Unexpected interruptions per accelerator-year of H100s in the Llama 3 405B
// run: 419 over 16,384 GPUs x 54 days (docs/reliability.md).
inline constexpr double kH100FailuresPerAcceleratorYear = 0.173;

// Young's first-order optimum sqrt(2 M C): the `auto` interval for a job of
// MTBF M (accelerator MTBF / accelerators held) and checkpoint cost C.
// Needs mtbf_s > 0 and cost_s > 0 (with free checkpoints the optimum is 0,
// which a CheckpointPolicy reads as "never"); returns 0 otherwise.
double YoungDalyInterval(double mtbf_s, double cost_s);

// Checkpoints of GPU jobs.
struct CheckpointSettings {
  double interval = 0;  // the fleet's default: 0 none, kCheckpointAuto Young/Daly, else seconds
  double cost = 0;      // one checkpoint, seconds
  double default_failure_rate = kH100FailuresPerAcceleratorYear;  // per accelerator-year, where the type gives none
};

// The interval an attempt of `job` uses on the accelerators of `node` (0:
// none): the job's own choice, else the fleet's; `auto` is Young/Daly from
// the MTBF of the job's GPUs on that accelerator (it needs a positive cost).
// CPU-only jobs and replicas (`replica`) keep no checkpoints.
double CheckpointInterval(const Fleet& fleet, const AiJob& job, int32_t node, const CheckpointSettings& s,
                          bool replica = false);

// Throttle: the speed at which a capped site's work runs so that its draw
// (static + dynamic x speed) stays at its cap, in [kMinSpeed, 1]; 1 with no
// cap or no dynamic draw. Watts at the facility.
inline constexpr double kMinSpeed = 0.05;
double ThrottleSpeed(double cap_w, double static_w, double dynamic_w);

// Spare domains: out of service until a node of their site and domain type
// fails; then one stands in (the lowest-numbered first), and goes back when
// a repair of that site and type finds one of those standing in idle.
class SparePool {
 public:
  explicit SparePool(const Fleet& fleet);
  // Every spare domain (they start out of service).
  const std::vector<int32_t>& spares() const { return all_; }
  // Node n failed: the spare to bring into service, or -1.
  int32_t OnFailure(int32_t n);
  // Node n was repaired: a spare standing in for its site and type that is
  // idle now (fully free in `sched`) to take out of service, or -1.
  int32_t OnRepair(int32_t n, const FleetScheduler& sched);

 private:
  using Key = std::pair<size_t, int32_t>;  // (site, domain type)
  Key KeyOf(int32_t n) const;
  const Fleet& fleet_;
  std::vector<int32_t> all_;
  std::map<Key, std::vector<int32_t>> free_, owed_;
};

// A service's replicas as jobs of the core: refs [first, first + count),
// the lowest asked for first. Plan turns the autoscaler's wanted count into
// what to submit, withdraw (waiting ones, highest first) and stop (running
// ones, highest first), and records it.
class ReplicaSet {
 public:
  ReplicaSet(uint32_t first, int32_t count) : first_(first), wanted_(static_cast<size_t>(count), 0) {}
  struct Actions {
    std::vector<uint32_t> submit, withdraw, stop;
  };
  // `running(ref)`: whether the replica runs now.
  template <typename Running>
  Actions Plan(int32_t want, Running running);
  int32_t asked() const { return asked_; }
  bool wanted(uint32_t ref) const { return wanted_[ref - first_] != 0; }

 private:
  uint32_t first_;
  std::vector<uint8_t> wanted_;
  int32_t asked_ = 0;
};

template <typename Running>
ReplicaSet::Actions ReplicaSet::Plan(int32_t want, Running running) {
  Actions a;
  const size_t n = wanted_.size();
  // More: ask for the lowest replicas not asked for. Fewer: withdraw the
  // highest waiting ones, then stop the highest running ones.
  for (size_t i = 0; i < n && asked_ < want; ++i) {
    if (wanted_[i]) continue;
    wanted_[i] = 1;
    ++asked_;
    a.submit.push_back(first_ + static_cast<uint32_t>(i));
  }
  for (size_t i = n; i-- > 0 && asked_ > want;) {
    if (!wanted_[i] || running(first_ + static_cast<uint32_t>(i))) continue;
    wanted_[i] = 0;
    --asked_;
    a.withdraw.push_back(first_ + static_cast<uint32_t>(i));
  }
  for (size_t i = n; i-- > 0 && asked_ > want;) {
    if (!wanted_[i] || !running(first_ + static_cast<uint32_t>(i))) continue;
    wanted_[i] = 0;
    --asked_;
    a.stop.push_back(first_ + static_cast<uint32_t>(i));
  }
  return a;
}

}  // namespace rackscale
