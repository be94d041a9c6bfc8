#include "sched/fleet_policy.h"

#include <algorithm>
#include <cmath>

namespace rackscale {

double YoungDalyInterval(double mtbf_s, double cost_s) {
  if (!(mtbf_s > 0) || !(cost_s > 0)) return 0;
  return std::sqrt(2 * mtbf_s * cost_s);
}

double CheckpointInterval(const Fleet& fleet, const AiJob& job, int32_t node, const CheckpointSettings& s,
                          bool replica) {
  if (job.gpus <= 0 || replica) return 0;
  // The job's own interval, else the fleet's.
  const double want = job.checkpoint != kCheckpointDefault ? job.checkpoint : s.interval;
  double interval = want > 0 ? want : 0;
  if (want == kCheckpointAuto && s.cost > 0) {
    // Young/Daly from the job's MTBF on the accelerators it got.
    const NodeType& nt = fleet.node_type(node);
    double rate = nt.accelerator >= 0 ? fleet.accelerators[static_cast<size_t>(nt.accelerator)].failures_per_year : 0;
    if (rate <= 0) rate = s.default_failure_rate;
    const double mtbf = kSecondsPerYear / (rate * std::max(1, job.gpus));
    interval = YoungDalyInterval(mtbf, s.cost);
  }
  return interval;
}

double ThrottleSpeed(double cap_w, double static_w, double dynamic_w) {
  if (cap_w <= 0 || dynamic_w <= 0) return 1;
  return std::clamp((cap_w - static_w) / dynamic_w, kMinSpeed, 1.0);
}

SparePool::SparePool(const Fleet& fleet) : fleet_(fleet) {
  for (size_t d = 0; d < fleet.domains.size(); ++d) {
    const Domain& dom = fleet.domains[d];
    if (!dom.spare) continue;
    all_.push_back(static_cast<int32_t>(d));
    free_[{static_cast<size_t>(fleet.site_of_domain(static_cast<int32_t>(d))), dom.type}].push_back(
        static_cast<int32_t>(d));
  }
  for (auto& [key, v] : free_) std::reverse(v.begin(), v.end());  // lowest id on top
}

SparePool::Key SparePool::KeyOf(int32_t n) const {
  const int32_t dom = fleet_.nodes[static_cast<size_t>(n)].domain;
  return {static_cast<size_t>(fleet_.site_of_domain(dom)), fleet_.domains[static_cast<size_t>(dom)].type};
}

int32_t SparePool::OnFailure(int32_t n) {
  const Key key = KeyOf(n);
  auto sp = free_.find(key);
  if (sp == free_.end() || sp->second.empty()) return -1;
  const int32_t d = sp->second.back();
  sp->second.pop_back();
  owed_[key].push_back(d);
  return d;
}

int32_t SparePool::OnRepair(int32_t n, const FleetScheduler& sched) {
  const Key key = KeyOf(n);
  auto ow = owed_.find(key);
  if (ow == owed_.end()) return -1;
  auto& v = ow->second;
  for (size_t k = 0; k < v.size(); ++k) {
    const int32_t d = v[k];
    if (sched.index().domain_free(d) != fleet_.domains[static_cast<size_t>(d)].gpus) continue;
    free_[key].push_back(d);
    v.erase(v.begin() + static_cast<std::ptrdiff_t>(k));
    return d;
  }
  return -1;
}

}  // namespace rackscale
