#include "sim/fleet_parts.h"

#include <algorithm>

#include "sched/fleet_policy.h"

namespace rackscale {

FailureProcess::FailureProcess(const Fleet& fleet, bool enabled, double default_rate, Seconds repair, uint64_t seed)
    : rng_(seed), repair_(repair) {
  type_rate_per_s_.assign(fleet.node_types.size(), 0);
  nodes_of_type_.resize(fleet.node_types.size());
  if (enabled) {
    for (size_t i = 0; i < fleet.nodes.size(); ++i) {
      nodes_of_type_[static_cast<size_t>(fleet.nodes[i].type)].push_back(static_cast<int32_t>(i));
    }
    for (size_t t = 0; t < fleet.node_types.size(); ++t) {
      const NodeType& nt = fleet.node_types[t];
      if (nt.gpus == 0 || nt.accelerator < 0) continue;
      double rate = fleet.accelerators[static_cast<size_t>(nt.accelerator)].failures_per_year;
      if (rate <= 0) rate = default_rate;
      type_rate_per_s_[t] = rate * nt.gpus / kSecondsPerYear;
      total_rate_ += type_rate_per_s_[t] * static_cast<double>(nodes_of_type_[t].size());
    }
  }
  next_ = total_rate_ > 0 ? rng_.Exponential(1.0 / total_rate_) : INFINITY;
}

int32_t FailureProcess::TakeFailure() {
  next_ += rng_.Exponential(1.0 / total_rate_);
  double u = rng_.Uniform() * total_rate_;
  for (size_t t = 0; t < type_rate_per_s_.size(); ++t) {
    const double here = type_rate_per_s_[t] * static_cast<double>(nodes_of_type_[t].size());
    if (u < here || t + 1 == type_rate_per_s_.size()) {
      if (nodes_of_type_[t].empty()) continue;
      return nodes_of_type_[t][rng_.Below(nodes_of_type_[t].size())];
    }
    u -= here;
  }
  return -1;
}

int32_t FailureProcess::TakeRepair() {
  const int32_t n = repairs_.top().second;
  repairs_.pop();
  return n;
}

CapacityCalendar::CapacityCalendar(const Fleet& fleet) : offline_(fleet.domains.size(), false) {
  for (size_t d = 0; d < fleet.domains.size(); ++d) {
    const Domain& dom = fleet.domains[d];
    if (dom.spare) {
      offline_[d] = true;
      continue;
    }
    if (dom.online > 0) {
      offline_[d] = true;
      changes_.push_back({dom.online, static_cast<int32_t>(d), true});
    }
    if (dom.retire >= 0) changes_.push_back({dom.retire, static_cast<int32_t>(d), false});
  }
  std::sort(changes_.begin(), changes_.end(),
            [](const Change& a, const Change& b) { return a.t != b.t ? a.t < b.t : a.domain < b.domain; });
}

std::vector<CapacityCalendar::Change> CapacityCalendar::Take(Seconds now) {
  std::vector<Change> out;
  while (next_ < changes_.size() && changes_[next_].t == now) out.push_back(changes_[next_++]);
  return out;
}

}  // namespace rackscale
